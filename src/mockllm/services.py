"""The services a request handler may use, built once per app by the factory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .core.limits import Limits
from .core.tokens import Tokenizer
from .engine import Engine
from .rules.store import ConfigStore
from .settings import Settings

if TYPE_CHECKING:
    from .providers.base import ProviderRegistry


@dataclass(frozen=True, slots=True)
class Services:
    """Engine, config store, tokenizer, settings, the loaded providers and the budgets
    (:class:`~mockllm.core.limits.Limits`) of one app."""

    settings: Settings
    store: ConfigStore
    tokenizer: Tokenizer
    engine: Engine
    providers: ProviderRegistry
    limits: Limits

    def stats(self) -> dict[str, int]:
        """Sizes of what the server keeps across requests (bounded by :attr:`limits`), and
        the asyncio tasks alive: what a soak test watches for growth."""
        import asyncio

        counters = self.engine.counters
        try:
            tasks = len(asyncio.all_tasks())
        except RuntimeError:  # no running loop (called outside the server)
            tasks = 0
        return {
            "asyncio_tasks": tasks,
            "sequence_counters": len(counters),
            "token_cache_entries": self.engine.token_cache[0],
            "token_cache_bytes": self.engine.token_cache[1],
            "config_reloads": self.store.reloads,
        }

    def reset(self) -> list[str]:
        """Reset the state that requests build up, leaving the config in force: sequence
        counters start over. Returns the names of what was reset."""
        self.engine.counters.clear()
        return ["sequence_counters"]
