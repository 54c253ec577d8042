"""What the engine must know about a dialect, declared by its provider as data.

The core names no vendor: a provider states how its service counts prompt tokens
(:class:`TokenCosts`), how its tool-call ids look, which tokenizer an unknown model name
implies, and which model ids are its own (for config entries that name no provider).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class TokenCosts:
    """The fixed token costs a service adds when it counts a conversation's prompt
    (see :meth:`mockllm.core.tokens.Tokenizer.count_messages`).

    Every message costs ``per_message`` plus its role and content, ``per_name`` more with a
    ``name``; a tool call ``per_message`` plus its name and arguments; an image
    ``image_low`` at ``detail: low`` and ``image_high`` otherwise; the reply is primed with
    ``reply_priming``. With ``system`` set, a system (or developer) message costs that plus
    its text instead of the per-message accounting. The defaults are OpenAI's chat
    accounting."""

    per_message: int = 3
    per_name: int = 1
    reply_priming: int = 3
    image_low: int = 85
    image_high: int = 765
    system: int | None = None


def _no_guess(model: str) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class Traits:
    """How a dialect counts prompt tokens (:attr:`tokens`), how its tool-call ids begin
    (:attr:`tool_call_id_prefix`), which encoding a model missing from the catalogue uses
    (:attr:`tokenizer_for`: an encoding name, or None for ``o200k_base``), and which
    model ids it owns by prefix (:attr:`model_prefixes`: a config ``models:`` entry that
    names no provider and starts with one of them is this dialect's)."""

    tokens: TokenCosts = field(default_factory=TokenCosts)
    tool_call_id_prefix: str = "call_"
    tokenizer_for: Callable[[str], str | None] = _no_guess
    model_prefixes: tuple[str, ...] = ()
