"""The services a request handler may use, built once per app by the factory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from .core.limits import Limits
from .core.models import ModelRegistry
from .core.tokens import Tokenizer
from .engine import Engine
from .journal import Journal
from .metrics import Metrics
from .pacing import Pacer
from .realism import Realism
from .rules.store import ConfigStore
from .serving import Hooks
from .settings import Settings
from .state.shared import Backend

if TYPE_CHECKING:
    from .providers.base import ProviderRegistry
    from .wire import Handler, HttpCall, Result

T = TypeVar("T")

Intercept = Callable[["HttpCall", "Handler"], Awaitable["Result"]]
"""See :attr:`Services.intercept`."""


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
    states: dict[str, Any] = field(default_factory=dict)
    """The per-app state the providers declared (``Provider.state``), by name."""
    hooks: Hooks = field(default_factory=Hooks)
    """The request validators and stages on the serving path (:mod:`mockllm.serving`)."""
    pacer: Pacer = field(default_factory=Pacer)
    """The one scheduler that paces every stream with latency (:mod:`mockllm.pacing`)."""
    intercept: Intercept | None = None
    """What answers a provider route's request instead of its handler, given the call and
    the handler (which it may run): replayed cassettes or the recording proxy
    (:mod:`mockllm.cassettes`); None: the handlers answer."""
    journal: Journal = field(default_factory=Journal)
    """The requests served (:mod:`mockllm.journal`), ``GET /-/requests``."""
    realism: Realism = field(default_factory=Realism)
    """Fault attempts, draw counts, rate-limit buckets, generation slots
    (:mod:`mockllm.realism`)."""
    backend: Backend = field(default_factory=Backend)
    """Where the state requests build up is kept (:mod:`mockllm.state.shared`): memory,
    or shared by every worker and replica (``--state redis://...``)."""
    metrics: Metrics = field(default_factory=Metrics)
    """The Prometheus metrics, ``GET /metrics`` (:mod:`mockllm.metrics`); ``reset()``
    leaves them alone."""

    @property
    def models(self) -> ModelRegistry:
        """The model catalogue in force (the built-ins merged with the config's ``models:``;
        swapped when the config reloads)."""
        return self.store.current.models

    def state(self, name: str, kind: type[T] | None = None) -> T:
        """The per-app state object called ``name`` (declared by a provider's ``state``);
        with ``kind``, checked to be of that type. KeyError when no provider declared it."""
        value = self.states[name]
        if kind is not None and not isinstance(value, kind):
            raise TypeError(f"state {name!r} is {type(value).__name__}, not {kind.__name__}")
        return value  # type: ignore[no-any-return]

    @classmethod
    def build_states(cls, providers: ProviderRegistry, limits: Limits) -> dict[str, Any]:
        """Each provider's declared state, built once: the app factory's job."""
        states: dict[str, Any] = {}
        for provider in providers:
            for name, factory in provider.state.items():
                if name in states:
                    raise ValueError(f"state {name!r} is declared by two providers")
                states[name] = factory(limits)
        return states

    def stats(self) -> dict[str, int]:
        """Sizes of what the server keeps across requests (bounded by :attr:`limits`), and
        the asyncio tasks alive: what a soak test watches for growth. Every provider state
        with a ``stats()`` method adds its figures as ``<state name>.<figure>`` (e.g.
        ``openai.responses.entries``, ``openai.responses.bytes``)."""
        import asyncio

        counters = self.engine.counters
        try:
            tasks = len(asyncio.all_tasks())
        except RuntimeError:  # no running loop (called outside the server)
            tasks = 0
        stats = {
            "asyncio_tasks": tasks,
            "sequence_counters": len(counters),
            "token_cache_entries": self.engine.token_cache[0],
            "token_cache_bytes": self.engine.token_cache[1],
            "config_reloads": self.store.reloads,
        }
        stats.update(self.realism.stats())
        stats.update((k, v) for k, v in self.backend.describe().items() if isinstance(v, int))
        stats.update({f"journal.{k}": v for k, v in self.journal.stats().items()})
        for name, value in self.states.items():
            report = getattr(value, "stats", None)
            if callable(report):
                stats.update((f"{name}.{figure}", int(n)) for figure, n in report().items())
        return stats

    def reset(self) -> list[str]:
        """Reset the state that requests build up, leaving the config in force: sequence
        counters start over, and every provider state with a ``clear()`` method is cleared.
        Returns the names of what was reset."""
        self.engine.counters.clear()
        self.realism.clear()
        self.journal.clear()
        self.store.clear_added()
        done = ["sequence_counters", "fault_counters", "rate_limits", "journal", "runtime_rules"]
        for name, value in self.states.items():
            clear = getattr(value, "clear", None)
            if callable(clear):
                clear()
                done.append(name)
        return done
