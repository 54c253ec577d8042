"""Anthropic's built-in model catalogue (ids, aliases, limits, capabilities)."""

from __future__ import annotations

from ...core.models import ModelInfo

_CAPS = frozenset({"streaming", "tools", "vision", "json_schema"})
_THINKING = _CAPS | {"reasoning"}


def _m(
    id: str, alias: str, name: str, output: int, created: int, caps: frozenset[str] = _THINKING
) -> ModelInfo:
    return ModelInfo(
        id=id,
        provider="anthropic",
        display_name=name,
        aliases=(alias,) if alias else (),
        context_window=200_000,
        max_output_tokens=output,
        capabilities=caps,
        tokenizer="o200k_base",
        created=created,
        owned_by="anthropic",
    )


# Ids the current anthropic SDK lists, with the 128k output limit the current Vercel AI SDK
# gives them (context windows are stated defaults; override under `models:`), then the
# dated releases.
_RECENT = (
    ("claude-opus-5-5", "Claude Opus 5.5"),
    ("claude-sonnet-5-5", "Claude Sonnet 5.5"),
    ("claude-haiku-5-5", "Claude Haiku 5.5"),
    ("claude-fable-5-2", "Claude Fable 5.2"),
    ("claude-mythos-5-2", "Claude Mythos 5.2"),
    ("claude-fable-5-1", "Claude Fable 5.1"),
    ("claude-mythos-5-1", "Claude Mythos 5.1"),
    ("claude-opus-5", "Claude Opus 5"),
    ("claude-sonnet-5", "Claude Sonnet 5"),
    ("claude-fable-5", "Claude Fable 5"),
    ("claude-mythos-5", "Claude Mythos 5"),
    ("claude-opus-4-8", "Claude Opus 4.8"),
    ("claude-opus-4-7", "Claude Opus 4.7"),
    ("claude-opus-4-6", "Claude Opus 4.6"),
    ("claude-sonnet-4-6", "Claude Sonnet 4.6"),
)

MODELS: tuple[ModelInfo, ...] = tuple(
    _m(id, "", name, 128_000, 1_767_225_600) for id, name in _RECENT
) + (
    _m("claude-opus-4-5-20251101", "claude-opus-4-5", "Claude Opus 4.5", 64_000, 1_761_955_200),
    _m(
        "claude-sonnet-4-5-20250929",
        "claude-sonnet-4-5",
        "Claude Sonnet 4.5",
        64_000,
        1_759_104_000,
    ),
    _m("claude-haiku-4-5-20251001", "claude-haiku-4-5", "Claude Haiku 4.5", 64_000, 1_759_276_800),
    _m("claude-opus-4-1-20250805", "claude-opus-4-1", "Claude Opus 4.1", 32_000, 1_754_352_000),
    _m("claude-opus-4-20250514", "claude-opus-4-0", "Claude Opus 4", 32_000, 1_747_180_800),
    _m("claude-sonnet-4-20250514", "claude-sonnet-4-0", "Claude Sonnet 4", 64_000, 1_747_180_800),
    _m(
        "claude-3-7-sonnet-20250219",
        "claude-3-7-sonnet-latest",
        "Claude Sonnet 3.7",
        64_000,
        1_739_923_200,
    ),
    _m(
        "claude-3-5-haiku-20241022",
        "claude-3-5-haiku-latest",
        "Claude Haiku 3.5",
        8_192,
        1_729_555_200,
        _CAPS,
    ),
    _m("claude-3-haiku-20240307", "", "Claude Haiku 3", 4_096, 1_709_769_600, _CAPS),
)
