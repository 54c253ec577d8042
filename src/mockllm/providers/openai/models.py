"""OpenAI's built-in model catalogue (ids, aliases, limits, capabilities, embedding
sizes)."""

from __future__ import annotations

from ...core.models import ModelInfo

FINE_TUNED_PREFIX = "ft:"
"""How fine-tuned model ids start (``ft:gpt-4o-mini-2024-07-18:acme::9abc123``): the only
models an organization owns, and so the only ones it may delete."""

NATIVE_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
"""The embedding models' vector sizes."""
DEFAULT_DIMENSIONS = 1536
"""The vector size of an embedding model outside :data:`NATIVE_DIMENSIONS`."""
FIXED_DIMENSIONS = frozenset({"text-embedding-ada-002"})
"""Models that refuse ``dimensions``."""


_CHAT = frozenset({"streaming", "tools", "vision", "json_schema"})
_REASONING = _CHAT | {"reasoning"}


def _m(
    id: str,
    context: int,
    output: int,
    caps: frozenset[str] = _CHAT,
    *,
    aliases: tuple[str, ...] = (),
    tokenizer: str = "o200k_base",
    created: int = 1_715_367_049,
    owned_by: str = "system",
) -> ModelInfo:
    return ModelInfo(
        id=id,
        provider="openai",
        display_name=id,
        aliases=aliases,
        context_window=context,
        max_output_tokens=output,
        capabilities=caps,
        tokenizer=tokenizer,
        created=created,
        owned_by=owned_by,
    )


# Ids the current openai SDK lists whose limits are not published to us: stated defaults
# (400k context, 128k output), overridable under `models:` in the config.
_RECENT = (
    "gpt-6.2-astra",
    "gpt-6-astra",
    "gpt-6.2-sol",
    "gpt-6.1-sol",
    "gpt-6-sol",
    "gpt-6.1-terra",
    "gpt-6-luna",
    "gpt-5.6-sol",
    "gpt-5.6-terra",
    "gpt-5.6-luna",
    "gpt-5.5",
    "gpt-5.4",
    "gpt-5.4-mini",
    "gpt-5.4-nano",
    "gpt-5.2",
    "gpt-5.2-pro",
)

MODELS: tuple[ModelInfo, ...] = tuple(
    _m(id, 400_000, 128_000, _REASONING, created=1_767_225_600) for id in _RECENT
) + (
    _m(
        "gpt-5.1",
        400_000,
        128_000,
        _REASONING,
        aliases=("gpt-5.1-2025-11-13",),
        created=1_762_800_000,
    ),
    _m("gpt-5", 400_000, 128_000, _REASONING, aliases=("gpt-5-2025-08-07",), created=1_754_425_777),
    _m(
        "gpt-5-mini",
        400_000,
        128_000,
        _REASONING,
        aliases=("gpt-5-mini-2025-08-07",),
        created=1_754_425_867,
    ),
    _m(
        "gpt-5-nano",
        400_000,
        128_000,
        _REASONING,
        aliases=("gpt-5-nano-2025-08-07",),
        created=1_754_426_384,
    ),
    _m("gpt-4.1", 1_047_576, 32_768, aliases=("gpt-4.1-2025-04-14",), created=1_744_316_542),
    _m(
        "gpt-4.1-mini",
        1_047_576,
        32_768,
        aliases=("gpt-4.1-mini-2025-04-14",),
        created=1_744_318_173,
    ),
    _m(
        "gpt-4.1-nano",
        1_047_576,
        32_768,
        aliases=("gpt-4.1-nano-2025-04-14",),
        created=1_744_321_707,
    ),
    _m(
        "gpt-4o",
        128_000,
        16_384,
        aliases=("gpt-4o-2024-08-06", "gpt-4o-2024-11-20"),
        created=1_715_367_049,
    ),
    _m("gpt-4o-mini", 128_000, 16_384, aliases=("gpt-4o-mini-2024-07-18",), created=1_721_172_741),
    _m(
        "o4-mini",
        200_000,
        100_000,
        _REASONING,
        aliases=("o4-mini-2025-04-16",),
        created=1_744_225_351,
    ),
    _m("o3", 200_000, 100_000, _REASONING, aliases=("o3-2025-04-16",), created=1_744_225_308),
    _m(
        "o3-mini",
        200_000,
        100_000,
        _REASONING - {"vision"},
        aliases=("o3-mini-2025-01-31",),
        created=1_737_146_383,
    ),
    _m("o1", 200_000, 100_000, _REASONING, aliases=("o1-2024-12-17",), created=1_734_326_976),
    _m(
        "gpt-4-turbo",
        128_000,
        4_096,
        aliases=("gpt-4-turbo-2024-04-09",),
        tokenizer="cl100k_base",
        created=1_712_361_441,
    ),
    _m(
        "gpt-4",
        8_192,
        8_192,
        frozenset({"streaming", "tools"}),
        aliases=("gpt-4-0613",),
        tokenizer="cl100k_base",
        created=1_687_882_411,
        owned_by="openai",
    ),
    _m(
        "gpt-3.5-turbo",
        16_385,
        4_096,
        frozenset({"streaming", "tools"}),
        aliases=("gpt-3.5-turbo-0125",),
        tokenizer="cl100k_base",
        created=1_677_610_602,
        owned_by="openai",
    ),
    _m(
        "gpt-3.5-turbo-instruct",
        4_096,
        4_096,
        frozenset({"streaming"}),
        tokenizer="cl100k_base",
        created=1_692_901_427,
    ),
    _m(
        "davinci-002",
        16_384,
        16_384,
        frozenset({"streaming"}),
        tokenizer="cl100k_base",
        created=1_692_634_301,
    ),
    _m(
        "babbage-002",
        16_384,
        16_384,
        frozenset({"streaming"}),
        tokenizer="cl100k_base",
        created=1_692_634_615,
    ),
    _m(
        "text-embedding-3-small",
        8_191,
        1,
        frozenset({"embeddings"}),
        tokenizer="cl100k_base",
        created=1_705_948_997,
    ),
    _m(
        "text-embedding-3-large",
        8_191,
        1,
        frozenset({"embeddings"}),
        tokenizer="cl100k_base",
        created=1_705_953_180,
    ),
    _m(
        "text-embedding-ada-002",
        8_191,
        1,
        frozenset({"embeddings"}),
        tokenizer="cl100k_base",
        created=1_671_217_299,
        owned_by="openai-internal",
    ),
)


def guess_tokenizer(model: str) -> str:
    """The encoding an OpenAI model name outside the catalogue implies (tiktoken's own
    table of model names and prefixes); ``o200k_base`` when it implies neither
    ``o200k_base`` nor ``cl100k_base``."""
    import tiktoken.model

    try:
        name = tiktoken.model.encoding_name_for_model(model)
    except KeyError:
        return "o200k_base"
    return name if name in ("o200k_base", "cl100k_base") else "o200k_base"
