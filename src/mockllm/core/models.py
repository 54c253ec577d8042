"""Model catalogue: what each model id is, as data.

Providers contribute their built-in :class:`ModelInfo` entries; the config file may add or
override entries. A :class:`ModelRegistry` is an immutable instance built by the app
factory (and rebuilt on config reload), never a module-level singleton.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

CAPABILITIES = frozenset({"streaming", "tools", "vision", "json_schema", "reasoning", "embeddings"})


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One model: id, owner, limits and capabilities.

    ``tokenizer`` names the encoding used for token counts (``o200k_base``,
    ``cl100k_base``); ``created`` is a unix timestamp shown in model listings.
    """

    id: str
    provider: str
    display_name: str = ""
    aliases: tuple[str, ...] = ()
    context_window: int = 128_000
    max_output_tokens: int = 16_384
    capabilities: frozenset[str] = frozenset({"streaming", "tools"})
    tokenizer: str = "o200k_base"
    created: int = 1_700_000_000
    owned_by: str = ""

    def supports(self, capability: str) -> bool:
        return capability in self.capabilities


def _default_provider(
    model_id: str,
    models: Mapping[tuple[str, str], ModelInfo],
    owners: Sequence[tuple[str, str]],
) -> str:
    """The provider of a config ``models:`` entry that names none: the provider that
    already has that id, else the first whose declared prefix it starts with (``owners``:
    ``(prefix, provider)`` pairs in priority order), else the provider of the last pair
    when its prefix is empty (the default), else the first built-in model's provider."""
    having = [provider for provider, id in models if id == model_id]
    if having:
        return having[0]
    for prefix, provider in owners:
        if prefix and model_id.startswith(prefix):
            return provider
    if owners and not owners[-1][0]:
        return owners[-1][1]
    return next(iter(models))[0] if models else ""


@dataclass(frozen=True)
class ModelRegistry:
    """Lookup of models by id or alias, per provider. Immutable once built."""

    models: tuple[ModelInfo, ...]
    _index: dict[tuple[str, str], ModelInfo] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for info in self.models:
            for name in (info.id, *info.aliases):
                self._index.setdefault((info.provider, name), info)

    @classmethod
    def build(
        cls,
        builtins: Iterable[ModelInfo],
        overrides: Iterable[Mapping[str, Any]] = (),
        owners: Sequence[tuple[str, str]] = (),
    ) -> ModelRegistry:
        """Catalogue = ``builtins``, with each override merged into the entry of the same
        provider and id (or appended as a new model). An override that names no provider
        gets one from ``owners`` (``(prefix, provider)`` pairs in priority order; a pair
        with an empty prefix, last, names the provider of everything else)."""
        models: dict[tuple[str, str], ModelInfo] = {(m.provider, m.id): m for m in builtins}
        for entry in overrides:
            values = dict(entry)
            if not values.get("provider"):
                values["provider"] = _default_provider(str(values["id"]), models, owners)
            key = (str(values["provider"]), str(values["id"]))
            if "capabilities" in values:
                values["capabilities"] = frozenset(values["capabilities"])
            if "aliases" in values:
                values["aliases"] = tuple(values["aliases"])
            base = models.get(key)
            models[key] = replace(base, **values) if base else ModelInfo(**values)
        return cls(tuple(models.values()))

    def get(self, provider: str, name: str) -> ModelInfo | None:
        """The model ``name`` (id or alias) of ``provider``, or None if unknown."""
        return self._index.get((provider, name))

    def for_provider(self, provider: str) -> list[ModelInfo]:
        """All models of ``provider``, in catalogue order."""
        return [m for m in self.models if m.provider == provider]
