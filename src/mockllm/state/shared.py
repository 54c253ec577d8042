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

**A read that can wait** (:func:`defer`): a read whose result only matters when it is an
error or a refusal (the request bucket's unit, most often there) can be kept with the run
while the handler goes on, as if it were granted; it is then performed together with the
next read when that one can join it (:func:`fetch`'s ``join``: the request and token
buckets in one script call, one round trip and one run fewer), else alone before the next
read, or when the run ends. A run that ended (an answer or an error) while a read waited is
kept as it is when the read was granted (it would run the same way again), and run again
when it was not (the refusal, or the 503 of a back-end out of reach, is then the answer).
Code that would show what the read decides (:func:`settle`) or wait in an ``await`` must
have it performed first.

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
    docstring). A ``BaseException``: no ``except Exception`` on the way swallows it.
    ``parts`` is how many results ``op`` gives (2 for a read joined to a deferred one: the
    back-end's result is then the list of them, shorter when the first one stopped it)."""

    def __init__(self, op: Op, parts: int = 1) -> None:
        super().__init__(op.kind)
        self.op = op
        self.parts = parts


@dataclass(slots=True)
class Deferred:
    """A read kept with the run (:func:`defer`): ``op``, and ``matters``, which says whether
    a result of it changes what the run did as if it were granted."""

    op: Op
    matters: Callable[[Any], bool]


@dataclass(slots=True)
class Run:
    """The shared-state operations of one request: the results known so far, in the order
    they were asked for, the position of the next one, the writes of the current run and
    the read it deferred (:func:`defer`)."""

    results: list[Any] = field(default_factory=list)
    position: int = 0
    writes: list[Op] = field(default_factory=list)
    deferred: Deferred | None = None


DEFERRED: Any = object()
"""What :func:`defer` returns while the result waits."""


def _run(op: Op) -> Run:
    facts = outcome.current()
    run = facts.state if facts is not None else None
    if run is None:
        raise RuntimeError(f"shared state read ({op.kind}) outside a request")
    assert isinstance(run, Run)
    return run


def _known(run: Run) -> Any:
    position = run.position
    run.position = position + 1
    found = run.results[position]
    if isinstance(found, BaseException):
        raise found
    return found


def fetch(op: Op, join: Callable[[Op], Op | None] | None = None) -> Any:
    """The result of ``op`` for the request being served: known when a previous run asked
    for it (an exception kept as a result is raised); else :class:`NeedsState`. While a read
    waits (:func:`defer`), that one is asked for first: joined to ``op`` when ``join`` (given
    the waiting read) returns the operation doing both, else alone. Outside a request (no
    :class:`Run`), a ``RuntimeError``."""
    run = _run(op)
    if run.position < len(run.results):
        return _known(run)
    waiting = run.deferred
    if waiting is not None:
        joined = join(waiting.op) if join is not None else None
        if joined is not None:
            raise NeedsState(joined, 2)
        raise NeedsState(waiting.op)
    raise NeedsState(op)


def defer(op: Op, matters: Callable[[Any], bool]) -> Any:
    """The result of ``op`` when a previous run got it (as :func:`fetch`); else
    :data:`DEFERRED`: ``op`` waits with the run, which goes on as if it were granted (see
    the module docstring). ``matters(result)`` is true for a result that changes what the
    run does (a refusal). With a read already waiting, that one is asked for first."""
    run = _run(op)
    if run.position < len(run.results):
        return _known(run)
    if run.deferred is not None:
        raise NeedsState(run.deferred.op)
    run.deferred = Deferred(op, matters)
    return DEFERRED


def settle() -> None:
    """Have the read waiting with the request's run (:func:`defer`), if any, performed now:
    before what it decides is shown or the handler waits."""
    facts = outcome.current()
    run = facts.state if facts is not None else None
    if run is not None and run.deferred is not None:
        raise NeedsState(run.deferred.op)


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
            run.deferred = None
            try:
                answer = await attempt()
            except NeedsState as need:
                try:
                    result = await backend.perform(need.op)
                except MockError as exc:
                    result = exc
                if need.parts > 1 and not isinstance(result, BaseException):
                    run.results.extend(result)
                else:
                    run.results.append(result)
                restart()
                continue
            except Exception:
                if not await _granted(backend, run):
                    restart()
                    continue
                raise
            if await _granted(backend, run):
                return answer
            restart()  # a result that never reached its client: dropped
    finally:  # the run that completed (an answer or an error): its writes count
        facts.state = None
        for op in run.writes:
            backend.write(op)


async def _granted(backend: Backend, run: Run) -> bool:
    """Whether the run that just ended stands: no read waited, or the one that waited was
    granted. Else its result is kept and the handler must run again."""
    waiting = run.deferred
    if waiting is None:
        return True
    run.deferred = None
    try:
        result = await backend.perform(waiting.op)
    except MockError as exc:
        result = exc
    if not isinstance(result, BaseException) and not waiting.matters(result):
        return True
    run.results.append(result)
    return False


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
    "DEFERRED",
    "Backend",
    "Deferred",
    "NeedsState",
    "Op",
    "Run",
    "fetch",
    "defer",
    "resolving",
    "settle",
    "stage",
    "ttl_ms",
    "unavailable",
]
