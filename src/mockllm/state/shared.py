"""The state a server group keeps across requests, behind one interface with two
back-ends: :class:`Backend` (process memory, the default: each worker keeps its own) and
:class:`~mockllm.state.redis_backend.RedisBackend` (``--state redis://...``: every worker
and replica shares one state).

What goes through it: sequence counters, the draw counts that seed latency, first-N fault
counters, rate-limit buckets, the journal and the rules' hit counts, the rules added over
HTTP, and the provider states that can be shared (stored Responses).

**How synchronous code reads a shared state.** The serving path is synchronous between
its awaits (decode, admission, the engine, settlement), while a shared back-end answers over
the network. A shared back-end's objects read with :func:`fetch`: the first time a request
asks for an operation's result it is not known, so :func:`fetch` raises
:class:`NeedsState`; the HTTP layer (:func:`resolving`) performs the operation, keeps its
result in the request's :class:`Run`, and runs the handler again, which now gets the result
from the run, in the order asked, and goes on to the next operation. A handler is
deterministic up to its first await that waits (the latency of a whole answer, the pacing of
a stream), and every shared read happens before that, so the runs agree. Writes
(:meth:`Backend.write`) are kept with the run and queued only by the run that completes;
the HTTP layer flushes them before the last byte of the answer, so what a request changed
is visible to every replica by the time its client has the answer.

The memory back-end never raises :class:`NeedsState`: its objects are the plain in-process
ones, and a request costs nothing more.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ..core import outcome
from ..core.errors import MockError, retry_headers
from .memory import CounterStore, MemoryCounters

if TYPE_CHECKING:
    from ..journal import Journal
    from ..realism.quotas import Quotas
    from ..services import Services

log = logging.getLogger("mockllm.state")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Op:
    """One operation on a shared back-end: ``kind`` (the back-end's name for it), the
    ``keys`` it touches and its ``args``."""

    kind: str
    keys: tuple[str, ...] = ()
    args: tuple[Any, ...] = ()


class NeedsState(BaseException):  # noqa: N818 - a signal, not an error
    """Raised by :func:`fetch` when the result of ``op`` is not known yet (see the module
    docstring). A ``BaseException``: no ``except Exception`` on the way swallows it."""

    def __init__(self, op: Op) -> None:
        super().__init__(op.kind)
        self.op = op


@dataclass(slots=True)
class Run:
    """The shared-state operations of one request: the results known so far, in the order
    they were asked for, the position of the next one, and the writes of the current run."""

    results: list[Any] = field(default_factory=list)
    position: int = 0
    writes: list[Op] = field(default_factory=list)


def fetch(op: Op) -> Any:
    """The result of ``op`` for the request being served: known when a previous run asked
    for it (an exception kept as a result is raised); else :class:`NeedsState`. Outside a
    request (no :class:`Run`), a ``RuntimeError``."""
    facts = outcome.current()
    run = facts.state if facts is not None else None
    if run is None:
        raise RuntimeError(f"shared state read ({op.kind}) outside a request")
    position = run.position
    if position < len(run.results):
        run.position = position + 1
        found = run.results[position]
        if isinstance(found, BaseException):
            raise found
        return found
    raise NeedsState(op)


def unavailable(where: str, exc: BaseException) -> MockError:
    """The error answer when the state back-end at ``where`` cannot be reached: a 503 in
    the dialect's envelope, with ``retry-after``."""
    reason = (str(exc) or type(exc).__name__).rstrip(".")
    return MockError(
        "server",
        f"mockllm's shared state ({where}) is unavailable: {reason}. Retry when it is back.",
        status=503,
        code="state_unavailable",
        headers=retry_headers(1),
    )


class Backend:
    """The memory back-end: every object is the in-process one (each worker keeps its
    own), nothing is fetched or flushed. A shared back-end overrides every method."""

    shared = False
    """Whether workers and replicas share this state."""
    url = "memory"
    """What the state is, as ``--state`` took it (secrets removed)."""
    namespace = "mockllm"
    """The prefix of every key (``MOCKLLM_STATE_NAMESPACE``)."""

    def key(self, *parts: str) -> str:
        """The key of ``parts`` in this back-end's namespace (``mockllm:kv:...``)."""
        return ":".join((self.namespace, *parts))

    @property
    def pending(self) -> bool:
        """Whether writes wait to be flushed."""
        return False

    def counters(
        self, space: str, max_entries: int, ttl_seconds: float, scope: Callable[[], str] | None
    ) -> CounterStore:
        """Counters of one kind (``space``: ``seq``, ``attempt``, ``draw``): bounded to
        ``max_entries``, forgotten after ``ttl_seconds`` idle. ``scope`` gives a part of
        the key that changes when the counters must start over (the rules in force)."""
        return MemoryCounters(max_entries, ttl_seconds)

    def quotas(self) -> Quotas:
        """The rate-limit buckets."""
        from ..realism.quotas import Quotas

        return Quotas()

    def journal(self, capacity: int) -> Journal:
        """The request journal, keeping the newest ``capacity`` entries."""
        from ..journal import Journal

        return Journal(capacity)

    def write(self, op: Op) -> None:
        """Queue ``op``, a write (a shared back-end's)."""
        raise NotImplementedError

    async def perform(self, op: Op) -> Any:
        """The result of ``op`` (a shared back-end's)."""
        raise NotImplementedError

    async def flush(self) -> None:
        """Send the writes queued (none here)."""

    async def start(self, services: Services) -> None:
        """Connect and follow the other replicas (the app's lifespan start)."""

    async def stop(self) -> None:
        """Stop following and disconnect (the lifespan's end)."""

    async def reset(self) -> None:
        """Forget what requests built up in the shared state (``POST /-/reset``); the
        in-process part is :meth:`Services.reset`'s."""

    async def ready(self) -> str | None:
        """None when the back-end answers; else why not (``GET /-/ready`` is a 503)."""
        return None

    async def rules_changed(self, kind: str, text: str) -> None:
        """A ``PUT`` (``kind`` ``replace``) or ``POST`` (``add``) of ``/-/rules`` was applied
        here: tell the other replicas (a shared back-end's)."""

    def describe(self) -> Mapping[str, Any]:
        """What ``GET /-/stats`` shows of the back-end."""
        return {"state": self.url}


def ttl_ms(seconds: float) -> int:
    """A time to live in milliseconds, as a shared back-end takes it: at least 1, and a
    year for an infinite one."""
    if not math.isfinite(seconds):
        return 365 * 86_400_000
    return max(1, int(seconds * 1000))


async def resolving(
    backend: Backend, attempt: Callable[[], Awaitable[T]], restart: Callable[[], None]
) -> T:
    """``attempt()``, run again each time it raised :class:`NeedsState` once the
    operation it asked for is performed (``restart()`` first: what a run noted is
    forgotten). With the memory back-end, ``attempt()`` once. The writes of the run that
    completes are queued; a back-end that cannot be reached makes the attempt raise the 503
    of :func:`unavailable` (kept as the operation's result)."""
    if not backend.shared:
        return await attempt()
    facts = outcome.current()
    if facts is None:
        return await attempt()
    run = facts.state = Run()
    try:
        while True:
            run.position = 0
            run.writes.clear()
            try:
                return await attempt()
            except NeedsState as need:
                try:
                    result = await backend.perform(need.op)
                except MockError as exc:
                    result = exc
                run.results.append(result)
                restart()
    finally:  # the run that completed (an answer or an error): its writes count
        facts.state = None
        for op in run.writes:
            backend.write(op)


def stage(backend: Backend, op: Op) -> None:
    """Write ``op`` through ``backend``: kept with the request's run while one is going
    (queued only if that run completes), else queued now."""
    facts = outcome.current()
    run = facts.state if facts is not None else None
    if run is not None:
        run.writes.append(op)
    else:
        backend.write(op)


__all__ = [
    "Backend",
    "NeedsState",
    "Op",
    "Run",
    "fetch",
    "resolving",
    "stage",
    "ttl_ms",
    "unavailable",
]
