"""What the engine must know about a dialect, declared by its provider as data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Traits:
    """How a dialect counts prompt tokens (see :mod:`mockllm.core.tokens`) and how its
    tool-call ids look."""

    anthropic_tokens: bool = False
    """Count prompts with Anthropic's per-message overheads (system prompt included)."""
    tool_call_id_prefix: str = "call_"
    openai_model_names: bool = False
    """Unknown model names get the tiktoken encoding their OpenAI-style name implies."""
