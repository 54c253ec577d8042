"""Gemini's built-in model catalogue (ids, limits, capabilities, generation methods).

Ids are those the installed google-genai SDK names (its model enums and examples) plus the
long-lived 2.x releases. Limits are the published ones where known (1,048,576 input tokens
and 65,536 output tokens for 2.5 and later, 8,192 output for 2.0); ids whose limits are not
published to us get those same stated defaults (override them under ``models:`` with
``provider: gemini``).

Tokens are counted with ``o200k_base``: Gemini's tokenizer is not available offline, so
counts are a deterministic approximation, consistent between ``countTokens`` and
``usageMetadata``, not the count the real service would give.
"""

from __future__ import annotations

from ...core.models import ModelInfo

_CHAT = frozenset({"streaming", "tools", "vision", "json_schema"})
_THINKING = _CHAT | {"reasoning"}
_EMBED = frozenset({"embeddings"})

GENERATE_METHODS = ("generateContent", "countTokens", "createCachedContent", "batchGenerateContent")
EMBED_METHODS = ("embedContent", "countTextTokens", "countTokens", "asyncBatchEmbedContent")

EMBEDDING_DIMENSIONS: dict[str, int] = {
    "text-embedding-004": 768,
    "gemini-embedding-001": 3072,
    "gemini-embedding-2": 3072,
}
"""Default (and maximum) output dimensionality of the built-in embedding models."""


def default_dimensions(model: str) -> int:
    """The vector size of ``model`` when the request gives no ``outputDimensionality``:
    768 for ``text-embedding-*`` and unknown models, 3072 for ``gemini-embedding-*``."""
    if model in EMBEDDING_DIMENSIONS:
        return EMBEDDING_DIMENSIONS[model]
    return 3072 if model.startswith("gemini-embedding") else 768


def _chat(
    id: str,
    name: str,
    output: int = 65_536,
    caps: frozenset[str] = _THINKING,
) -> ModelInfo:
    return ModelInfo(
        id=id,
        provider="gemini",
        display_name=name,
        context_window=1_048_576,
        max_output_tokens=output,
        capabilities=caps,
        tokenizer="o200k_base",
        owned_by="google",
    )


def _embedding(id: str, name: str, input_limit: int) -> ModelInfo:
    return ModelInfo(
        id=id,
        provider="gemini",
        display_name=name,
        context_window=input_limit,
        max_output_tokens=1,
        capabilities=_EMBED,
        tokenizer="o200k_base",
        owned_by="google",
    )


MODELS: tuple[ModelInfo, ...] = (
    _chat("gemini-4-argon", "Gemini 4 Argon"),
    _chat("gemini-4-carbon", "Gemini 4 Carbon"),
    _chat("gemini-4-hydrogen", "Gemini 4 Hydrogen"),
    _chat("gemini-4-neon", "Gemini 4 Neon"),
    _chat("gemini-3.8-flash", "Gemini 3.8 Flash"),
    _chat("gemini-3.7-flash", "Gemini 3.7 Flash"),
    _chat("gemini-3.6-flash", "Gemini 3.6 Flash"),
    _chat("gemini-3.5-flash", "Gemini 3.5 Flash"),
    _chat("gemini-3.5-flash-lite", "Gemini 3.5 Flash-Lite"),
    _chat("gemini-3.1-pro-preview", "Gemini 3.1 Pro Preview"),
    _chat("gemini-3.1-flash-lite", "Gemini 3.1 Flash-Lite"),
    _chat("gemini-3-pro-preview", "Gemini 3 Pro Preview"),
    _chat("gemini-3-flash-preview", "Gemini 3 Flash Preview"),
    _chat("gemini-flash-latest", "Gemini Flash Latest"),
    _chat("gemini-flash-lite-latest", "Gemini Flash-Lite Latest"),
    _chat("gemini-pro-latest", "Gemini Pro Latest"),
    _chat("gemini-2.5-pro", "Gemini 2.5 Pro"),
    _chat("gemini-2.5-flash", "Gemini 2.5 Flash"),
    _chat("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite"),
    _chat("gemini-2.0-flash", "Gemini 2.0 Flash", 8_192, _CHAT),
    _chat("gemini-2.0-flash-001", "Gemini 2.0 Flash 001", 8_192, _CHAT),
    _chat("gemini-2.0-flash-lite", "Gemini 2.0 Flash-Lite", 8_192, _CHAT),
    _embedding("gemini-embedding-2", "Gemini Embedding 2", 8_192),
    _embedding("gemini-embedding-001", "Gemini Embedding 001", 2_048),
    _embedding("text-embedding-004", "Text Embedding 004", 2_048),
)
