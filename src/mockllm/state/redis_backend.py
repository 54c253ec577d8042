"""The Redis back-end of the shared state (``--state redis://host:port/db``): every worker
and replica that names the same Redis and namespace behaves as one server.

Keys live under ``<namespace>:`` (``MOCKLLM_STATE_NAMESPACE``, ``mockllm`` by default):

* ``seq:<rules digest>:<key digest>``, ``attempt:...``, ``draw:...``: counters (a hash of
  the count and the conversation's length), advanced by one Lua script, expiring after
  their idle time (``limit_counters_ttl_seconds``); a new config gives new sequence keys;
* ``rl:<digest of key, model, limits>``: the rate-limit buckets of one API key and model (a
  hash of level and stamp per bucket), refilled and taken by one Lua script on Redis's
  clock, so two replicas never both spend the last unit; expiring after two days idle;
* ``journal`` (a list capped at ``journal_size``), ``journal:id`` (the entry ids),
  ``hits`` (a hash of each rule's hit count);
* ``kv:<name>:<id>``: provider states that share (stored Responses), with their TTL;
* ``rules:<file digest>:base``, ``rules:<file digest>:added``, ``rules:version``: the
  rules ``PUT`` or ``POST`` to ``/-/rules`` over the config file of that digest (a replica
  with another file does not apply them); the channel ``events`` tells the replicas to apply
  them (or to reset).

**How requests talk to Redis.** The reads and writes of the serving path (counters,
buckets, the journal, stored responses) do not take a connection each: they wait in one
queue, and a *lane* (one of :data:`LANES` connections of their own) sends everything
queued as one pipeline, reads its replies and takes the next batch, so concurrent requests
share their round trips, however many they are. The scripts are sent by their SHA
(``EVALSHA``), loaded once (again after a ``NOSCRIPT``: a Redis restarted or flushed).
Everything else (``GET /-/requests``, resets, rules, ``/-/ready``, the subscription to the
other replicas' events) goes through a bounded pool of :data:`POOL_SIZE` connections, where
a caller finding none free waits for one (at most the state timeout).

Every exchange has a timeout (``MOCKLLM_STATE_TIMEOUT``, seconds): a Redis that is gone or
stuck makes the requests that need it get a 503 in their dialect's envelope, and the next
request after it is back is served as usual. ``GET /-/ready`` is a 503 meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import orjson
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..core.errors import MockError
from ..journal import Entry, Journal, select
from ..realism.quotas import Account, Bucket, Quotas, QuotaView, _limited
from ..rules.schema import RateLimits
from .memory import counter_key
from .shared import DEFERRED, Backend, Op, defer, fetch, settle, stage, unavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.connection import AbstractConnection

    from ..services import Services

log = logging.getLogger("mockllm.state")

ADVANCE = """
local v = redis.call('HMGET', KEYS[1], 'n', 'len')
local n = tonumber(v[1])
local last = tonumber(v[2])
local length = tonumber(ARGV[1])
if n == nil or length < last then n = 1 else n = n + 1 end
redis.call('HSET', KEYS[1], 'n', n, 'len', length)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return n
"""
"""Count one more turn of a conversation (see :meth:`CounterStore.advance`)."""

BUCKETS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local mode = ARGV[1]
local stride = 4
if mode == 'take2' then stride = 5 end
local n = (#ARGV - 2) / stride
if n == 0 then return {'0', string.format('%.6f', now)} end
local names = {}
for i = 1, n do
  local f = ARGV[2 + (i - 1) * stride + 1]
  names[2 * i - 1] = f .. ':l'
  names[2 * i] = f .. ':s'
end
local v = redis.call('HMGET', KEYS[1], unpack(names))
local levels = {}
for i = 1, n do
  local b = 2 + (i - 1) * stride
  local limit = tonumber(ARGV[b + 2])
  local window = tonumber(ARGV[b + 3])
  local level = tonumber(v[2 * i - 1])
  local stamp = tonumber(v[2 * i])
  if level == nil then level = limit end
  if stamp == nil then stamp = now end
  if now > stamp then
    level = level + (now - stamp) * limit / window
    if level > limit then level = limit end
  end
  levels[i] = level
end
local at = string.format('%.6f', now)
local out = {}
local function take(offset, check)
  local short = 0
  if check then
    for i = 1, n do
      local amount = tonumber(ARGV[2 + (i - 1) * stride + offset])
      if amount > 0 and levels[i] < amount then
        short = i
        break
      end
    end
  end
  out[#out + 1] = tostring(short)
  if #out == 1 then out[2] = at end
  for i = 1, n do
    if short == 0 then levels[i] = levels[i] - tonumber(ARGV[2 + (i - 1) * stride + offset]) end
    out[#out + 1] = string.format('%.17g', levels[i])
  end
  return short
end
local short = take(4, mode ~= 'charge')
if mode == 'take2' and short == 0 then take(5, true) end
local values = {}
for i = 1, n do
  values[4 * i - 3] = names[2 * i - 1]
  values[4 * i - 2] = string.format('%.17g', levels[i])
  values[4 * i - 1] = names[2 * i]
  values[4 * i] = at
end
redis.call('HSET', KEYS[1], unpack(values))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return out
"""
"""Refill an account's buckets to Redis's now, then (``take``) take the amounts from all
of them or, when one is short, from none, naming it; or (``charge``) take them even below
zero; or (``take2``) take a first set of amounts as ``take`` does and, when none was short,
a second one the same way (the request bucket, then the prompt's tokens: two takes in one
call). Returns the short bucket (0: none), now, and every bucket's level after the take;
for ``take2`` with the first take granted, then the second's short bucket and levels. One
``HMGET`` and one ``HSET`` for all the buckets."""

JOURNAL = """
local id = redis.call('INCR', KEYS[2])
if tonumber(ARGV[2]) > 0 then
  redis.call('RPUSH', KEYS[1], id .. '\\31' .. ARGV[1])
  redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
end
if ARGV[3] ~= '' then redis.call('HINCRBY', KEYS[3], ARGV[3], 1) end
return id
"""
"""Keep a journal entry (its id taken here) and count its rule's hit."""


def _sha(script: str) -> str:
    return hashlib.sha1(script.encode()).hexdigest()  # noqa: S324 - Redis names scripts so


SCRIPTS = {_sha(script): script for script in (ADVANCE, BUCKETS, JOURNAL)}
"""The Lua scripts by SHA (what ``EVALSHA`` names them by)."""
ADVANCE_SHA, BUCKETS_SHA, JOURNAL_SHA = SCRIPTS

BUCKET_TTL_MS = 2 * 86_400_000
"""How long an idle account's buckets are kept (they are full again by then)."""

LANES = 2
"""Connections of a process that carry the serving path's reads and writes, each with one
pipeline in flight at a time (see the module docstring)."""
POOL_SIZE = 8
"""Connections of a process for everything else (admin reads, resets, rules, the events
subscription, which keeps one); a caller finding none free waits for one."""


def public_url(url: str) -> str:
    """``url`` without its password (what logs and ``/-/stats`` show)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


_ENCODED: tuple[dict[Any, bytes], dict[Any, bytes], dict[Any, bytes]] = ({}, {}, {})
"""Arguments already encoded, by type (``str``, ``int``, ``float``: 60 and 60.0 are sent
apart): most recur from request to request (script SHAs, bucket names, limits)."""


def _pack(commands: Iterable[Sequence[Any]]) -> bytes:
    """``commands`` as RESP, one after the other (what redis-py's encoder sends: ``str`` in
    UTF-8, numbers by their ``repr``)."""
    strs, ints, floats = _ENCODED
    out: list[bytes] = []
    append = out.append
    for command in commands:
        append(b"*%d\r\n" % len(command))
        for arg in command:
            kind = type(arg)
            if kind is bytes:
                append(b"$%d\r\n%s\r\n" % (len(arg), arg))
                continue
            if kind is str and len(arg) <= 256:
                known = strs
            elif kind is int:
                known = ints
            elif kind is float:
                known = floats
            else:  # not kept: a long text, a subclass, or what cannot be sent (TypeError)
                append(_encoded(arg))
                continue
            found = known.get(arg)
            if found is None:
                if len(known) >= 4096:
                    known.clear()
                found = known[arg] = _encoded(arg)
            append(found)
    return b"".join(out)


def _encoded(arg: Any) -> bytes:
    """One argument as a RESP bulk string."""
    if isinstance(arg, bytes):
        data = bytes(arg)
    elif isinstance(arg, str):
        data = str.encode(arg)
    elif isinstance(arg, int) and not isinstance(arg, bool):
        data = int.__repr__(arg).encode()
    elif isinstance(arg, float):
        data = float.__repr__(arg).encode()
    else:
        raise TypeError(f"cannot send {type(arg).__name__} to Redis")
    return b"$%d\r\n%s\r\n" % (len(data), data)


class _NoReply(Exception):  # noqa: N818 - a signal
    """The connection failed (``error``) as the jobs were sent or before any reply came:
    found closed, as a connection that was idle is when Redis restarted or closed it (its
    ``timeout``); the jobs never reached Redis."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _is_noscript(reply: Any) -> bool:
    return isinstance(reply, NoScriptError)


class Job:
    """One command of the queue: a read (``reply``: the future that gets its reply, or the
    exception that stopped it) or a write (``reply`` None; ``what`` names it in the log)."""

    __slots__ = ("command", "reply", "what")

    def __init__(
        self, command: tuple[Any, ...], reply: asyncio.Future[Any] | None, what: str = "read"
    ) -> None:
        self.command = command
        self.reply = reply
        self.what = what


class Lane:
    """One connection carrying batches (see the module docstring), its task, and the
    future that wakes it when it waits for jobs."""

    __slots__ = ("connection", "task", "wake")

    def __init__(self, connection: AbstractConnection) -> None:
        self.connection = connection
        self.task: asyncio.Task[None] | None = None
        self.wake: asyncio.Future[None] | None = None


class Batch:
    """The jobs one lane sends in one pipeline; ``done`` when it was answered or failed."""

    __slots__ = ("jobs", "writes", "done")

    def __init__(self, jobs: list[Job], writes: int, done: asyncio.Future[None] | None) -> None:
        self.jobs = jobs
        self.writes = writes
        self.done = done


class RedisBackend(Backend):
    """The state shared through the Redis at ``url`` under ``namespace`` (see the module
    docstring); ``timeout`` bounds every exchange (seconds)."""

    shared = True

    def __init__(self, url: str, namespace: str = "mockllm", timeout: float = 2.0) -> None:
        from redis.asyncio import BlockingConnectionPool, Redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.url = public_url(url)
        self.namespace = namespace
        self.timeout = timeout
        self.pool = BlockingConnectionPool.from_url(
            url,
            max_connections=POOL_SIZE,
            timeout=timeout,  # the wait for a free connection
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=30,
        )
        self.client: Redis = Redis(connection_pool=self.pool)
        self._queue: list[Job] = []
        self._queued_writes = 0
        self._next_done: asyncio.Future[None] | None = None  # the next batch's, if waited for
        self._writing: set[asyncio.Future[None]] = set()  # batches in flight with writes
        self._lanes: list[Lane] = []  # every lane started
        self._idle: list[Lane] = []  # the lanes waiting for jobs
        self._waking = False  # a lane was told to take the queue and has not yet
        self._follower: asyncio.Task[None] | None = None
        self._services: Services | None = None
        self._base_text: str | None = None  # the shared PUT applied here
        self._added_texts: list[str] = []  # the shared POSTs applied here, oldest first
        self._version: bytes | None = None
        self._file: str | None = None  # the digest of the config file the rules are over
        self._down_since: float | None = None
        self.errors = 0

    # --- what the serving path uses ------------------------------------------------------

    def counters(
        self, space: str, max_entries: int, ttl_seconds: float, scope: Callable[[], str] | None
    ) -> RedisCounters:
        return RedisCounters(self, space, ttl_seconds, scope)

    def quotas(self) -> RedisQuotas:
        return RedisQuotas(self)

    def journal(self, capacity: int) -> RedisJournal:
        return RedisJournal(self, capacity)

    @property
    def pending(self) -> bool:
        return self._queued_writes > 0 or bool(self._writing)

    def may_defer(self) -> bool:
        """Whether a request's unit of the request buckets may wait to be taken with its
        prompt's tokens (:func:`~mockllm.state.shared.defer`). Not with a load model, whose
        queue a request may wait in between (a refused request must not wait there first),
        nor in strict mode, where the engine logs the requests no rule matches (a refused
        request must not log it)."""
        services = self._services
        if services is None:
            return False
        config = services.store.current.config
        return config.behaviour.load is None and not config.settings.strict

    def write(self, op: Op) -> None:
        kind = op.kind
        keys, args = op.keys, op.args
        if kind == "charge":
            self._push(Job(("EVALSHA", BUCKETS_SHA, 1, *keys, "charge", *args), None, kind))
        elif kind == "journal":
            self._push(Job(("EVALSHA", JOURNAL_SHA, len(keys), *keys, *args), None, kind))
        elif kind == "put":  # a value with its TTL; with an index, its id listed too
            key, value, ttl = keys[0], args[0], max(1, int(args[1]))
            self._push(Job(("SET", key, value, "PX", ttl), None, kind))
            if len(keys) > 1:
                index, member, score = keys[1], args[2], float(args[3])
                self._push(Job(("ZADD", index, score, member), None, kind))
                expired = score - ttl / 1000
                self._push(Job(("ZREMRANGEBYSCORE", index, "-inf", expired), None, kind))
                self._push(Job(("PEXPIRE", index, ttl), None, kind))
        elif kind == "delete":
            self._push(Job(("DEL", *keys), None, kind))
        else:
            log.error("unknown shared-state write %r", kind)

    async def perform(self, op: Op) -> Any:
        try:
            return await self._perform(op)
        except MockError:
            raise
        except Exception as exc:  # redis's ConnectionError, TimeoutError, ResponseError
            raise self._failed(exc) from None

    async def _perform(self, op: Op) -> Any:
        kind = op.kind
        keys, args = op.keys, op.args
        if kind == "advance":
            return int(await self._read(("EVALSHA", ADVANCE_SHA, len(keys), *keys, *args)))
        if kind == "take":
            return await self._read(("EVALSHA", BUCKETS_SHA, 1, *keys, "take", *args))
        if kind == "take2":  # two takes: a list of their results (one when the first failed)
            found = await self._read(("EVALSHA", BUCKETS_SHA, 1, *keys, "take2", *args))
            n = (len(args) - 1) // 5
            first, second = found[: n + 2], found[n + 2 :]
            if float(first[0]) or not second:
                return [first]
            return [first, [second[0], first[1], *second[1:]]]
        if kind == "get":
            return await self._read(("GET", keys[0]))
        client = self.client
        if kind == "delete":  # a key, and its id in an index when given
            if len(keys) > 1:
                await client.zrem(keys[1], args[0])
            return bool(await client.delete(keys[0]))
        if kind == "list":  # the values of an index's ids, oldest first (the kept ones)
            index, prefix = keys
            ids = await client.zrange(index, 0, -1)
            if not ids:
                return []
            names = [_bytes(i).decode() for i in ids if isinstance(i, bytes | str)]
            values = await client.mget([prefix + name for name in names])
            return [v for v in values if v is not None]
        raise ValueError(f"unknown shared-state operation {kind!r}")

    def _failed(self, exc: BaseException) -> MockError:
        self.errors += 1
        if self._down_since is None:
            self._down_since = time.monotonic()
            log.error("shared state %s unavailable: %s", self.url, exc)
        return unavailable(self.url, exc)

    def _back(self) -> None:
        if self._down_since is not None:
            down = time.monotonic() - self._down_since
            log.warning("shared state %s is back after %.1f s", self.url, down)
            self._down_since = None

    # --- the queue and its lanes ----------------------------------------------------------

    async def _read(self, command: tuple[Any, ...]) -> Any:
        """The reply of ``command``, sent with whatever else is queued."""
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._push(Job(command, reply))
        found = await reply
        if isinstance(found, Exception):
            raise found
        return found

    def _push(self, job: Job) -> None:
        self._queue.append(job)
        if job.reply is None:
            self._queued_writes += 1
        if not self._waking:
            self._wake()

    def _wake(self) -> None:
        """Have a lane take the queue: an idle one, a new one, or (all busy) the first one
        done with its batch. It takes it on the loop's next round, with the jobs that the
        other requests of this round queue meanwhile."""
        if self._idle:
            self._waking = True
            wake = self._idle.pop().wake
            if wake is not None and not wake.done():
                wake.set_result(None)
        elif len(self._lanes) < LANES:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no running loop: the next flush sends it
                return
            self._waking = True
            kwargs = {**self.pool.connection_kwargs, "socket_timeout": None}  # see _exchange
            lane = Lane(self.pool.connection_class(**kwargs))  # connected on first use
            lane.task = loop.create_task(self._carry(lane), name="mockllm-state-lane")
            self._lanes.append(lane)

    def _take_batch(self) -> Batch:
        self._waking = False
        jobs, self._queue = self._queue, []
        writes, self._queued_writes = self._queued_writes, 0
        done, self._next_done = self._next_done, None
        if writes and done is None:
            done = asyncio.get_running_loop().create_future()
        if done is not None:
            self._writing.add(done)
        return Batch(jobs, writes, done)

    async def _carry(self, lane: Lane) -> None:
        """What ``lane`` does for the process's life: send what is queued, batch after
        batch, then wait to be woken (:meth:`_wake`)."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                while self._queue:
                    batch = self._take_batch()
                    try:
                        await self._exchange(lane.connection, batch)
                    finally:
                        done = batch.done
                        if done is not None:
                            self._writing.discard(done)
                            if not done.done():
                                done.set_result(None)
                wake = lane.wake = loop.create_future()
                self._idle.append(lane)
                await wake
        except Exception:  # a bug: the lane goes, another one takes the queue
            log.exception("shared state: a connection's task failed")
            self._lanes.remove(lane)
            if lane in self._idle:
                self._idle.remove(lane)
            self._waking = False
            if self._queue:
                self._wake()
            with contextlib.suppress(Exception):
                await lane.connection.disconnect(nowait=True)

    async def _exchange(self, lane: AbstractConnection, batch: Batch) -> None:
        """One batch through ``lane``: the replies to their readers, the failed writes
        logged; all failed (and the reads queued meanwhile) when Redis cannot be reached.
        The whole exchange (connecting included) has the state timeout: ``lane`` has no
        timeout of its own per read or write (redis-py's costs a task for every write)."""
        jobs = batch.jobs
        try:
            try:
                async with asyncio.timeout(self.timeout):
                    replies = await self._round_trip(lane, jobs, reused=lane.is_connected)
            except TimeoutError:
                raise RedisTimeoutError(
                    f"no answer from {self.url} within {self.timeout:g} s"
                ) from None
        except Exception as exc:
            with contextlib.suppress(Exception):
                await lane.disconnect(nowait=True)
            if not isinstance(exc, RedisConnectionError | RedisTimeoutError | OSError):
                log.exception("shared state: unexpected error")
            if batch.writes:  # counted once for the batch; each read counts its own
                self._failed(exc)
                log.warning("shared state: %d writes lost (%s)", batch.writes, exc)
            # The reads queued while this one waited would wait as long: they fail too.
            queued = [job for job in self._queue if job.reply is not None]
            if queued:
                self._queue = [job for job in self._queue if job.reply is None]
            for job in (*jobs, *queued):
                if job.reply is not None and not job.reply.done():
                    job.reply.set_result(exc)
            return
        self._back()
        lost = 0
        for job, reply in zip(jobs, replies, strict=True):
            future = job.reply
            if future is not None:
                if not future.done():
                    future.set_result(reply)
            elif isinstance(reply, Exception):
                lost += 1
                log.warning("shared state: a write (%s) failed: %s", job.what, reply)
        if lost:
            self.errors += lost

    async def _round_trip(
        self, lane: AbstractConnection, jobs: list[Job], reused: bool
    ) -> list[Any]:
        """The replies to ``jobs`` (an error reply as a ``ResponseError``), sent through
        ``lane`` as one pipeline; the scripts loaded and the jobs they failed sent again
        after a ``NOSCRIPT``. A connection found closed before any reply (a Redis restarted
        while it was idle) is opened again once."""
        payload = _pack([job.command for job in jobs])
        try:
            replies = await self._send(lane, payload, len(jobs))
        except _NoReply as gone:
            if not reused:
                raise gone.error from None
            with contextlib.suppress(Exception):
                await lane.disconnect(nowait=True)
            try:
                replies = await self._send(lane, payload, len(jobs))
            except _NoReply as still:
                raise still.error from None
        missing = [i for i, reply in enumerate(replies) if _is_noscript(reply)]
        if missing:  # a new or restarted Redis: load the scripts, send those jobs again
            loads = [("SCRIPT", "LOAD", script) for script in SCRIPTS.values()]
            again = _pack([*loads, *(jobs[i].command for i in missing)])
            try:
                found = await self._send(lane, again, len(loads) + len(missing))
            except _NoReply as gone:
                raise gone.error from None
            for i, reply in zip(missing, found[len(loads) :], strict=True):
                replies[i] = reply
        return replies

    async def _send(self, lane: AbstractConnection, payload: bytes, count: int) -> list[Any]:
        """``payload`` (``count`` commands) sent, and their replies read."""
        try:
            await lane.send_packed_command(payload, check_health=False)
        except RedisConnectionError as exc:
            raise _NoReply(exc) from None
        replies: list[Any] = []
        for _ in range(count):
            try:
                replies.append(await lane.read_response())
            except ResponseError as exc:
                replies.append(exc)
            except RedisConnectionError as exc:
                if not replies:
                    raise _NoReply(exc) from None
                raise
        return replies

    async def flush(self) -> None:
        if not self.pending:
            return
        waits = list(self._writing)
        if self._queued_writes:
            done = self._next_done
            if done is None:
                done = self._next_done = asyncio.get_running_loop().create_future()
            waits.append(done)
            if not self._waking:
                self._wake()
        if self._down_since is not None:  # sent, not waited for: no answer waits a timeout
            return
        for done in waits:
            await done

    async def _load_scripts(self) -> None:
        pipe = self.client.pipeline(transaction=False)
        for script in SCRIPTS.values():
            pipe.script_load(script)
        await pipe.execute()

    # --- the server's life -----------------------------------------------------------------

    async def start(self, services: Services) -> None:
        self._services = services
        try:  # the rules put or added over HTTP, before the first request is served
            await asyncio.wait_for(self._sync_rules(), self.timeout)
            await asyncio.wait_for(self._load_scripts(), self.timeout)
        except Exception as exc:  # Redis away: the follower applies them once it is back
            self._failed(exc)
        self._follower = asyncio.create_task(self._follow(), name="mockllm-state-follow")

    async def stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), self.timeout)
        for lane in self._lanes:
            if lane.task is not None:
                lane.task.cancel()
                with contextlib.suppress(BaseException):
                    await lane.task
            with contextlib.suppress(Exception):
                await lane.connection.disconnect()
        self._lanes.clear()
        self._idle.clear()
        for job in self._queue:  # nothing answers them any more
            if job.reply is not None and not job.reply.done():
                job.reply.set_result(RedisConnectionError("the server is stopping"))
        self._queue.clear()
        with contextlib.suppress(Exception):
            await self.client.aclose()
        with contextlib.suppress(Exception):
            await self.pool.disconnect()

    async def ready(self) -> str | None:
        try:
            await self.client.ping()
        except Exception as exc:
            self._failed(exc)
            return f"shared state {self.url} unavailable: {exc}"
        self._back()
        return None

    def describe(self) -> Mapping[str, Any]:
        return {
            "state": self.url,
            "state_namespace": self.namespace,
            "state_errors": self.errors,
            "state_available": self._down_since is None,
        }

    async def reset(self) -> None:
        keep = {self.key("journal", "id"), self.key("rules", "version")}
        rules = self.key("rules", "")
        self._added_texts = []  # before the others hear of it (see rules_changed)
        try:
            await self.flush()
            batch: list[bytes] = []
            async for found in self.client.scan_iter(match=self.key("*"), count=1000):
                name = found.decode() if isinstance(found, bytes) else str(found)
                if name not in keep and not (name.startswith(rules) and name.endswith(":base")):
                    batch.append(found)
                if len(batch) >= 500:
                    await self.client.unlink(*batch)
                    batch = []
            if batch:
                await self.client.unlink(*batch)
            await self.client.incr(self.key("rules", "version"))
            await self.client.publish(self.key("events"), b"reset")
        except MockError:
            raise
        except Exception as exc:
            raise self._failed(exc) from None

    # --- rules added over HTTP ------------------------------------------------------------

    def _rules_key(self, part: str) -> str:
        """The key of the rules put (``base``) or added (``added``) over HTTP while the
        config file in force here was the one it is now: rules put or added over a file
        are dropped when the file changes (as on one server), and a replica started with
        another file (a new ConfigMap) does not apply them."""
        services = self._services
        digest = services.store.file_digest if services is not None else "-"
        if digest != self._file:
            self._file = digest
            self._base_text, self._added_texts, self._version = None, [], None
        return self.key("rules", digest, part)

    async def rules_changed(self, kind: str, text: str) -> None:
        base_key, added_key = self._rules_key("base"), self._rules_key("added")
        # What this replica applied is known before the others are told: its follower
        # then finds nothing new in its own change.
        before = (self._base_text, list(self._added_texts))
        if kind == "replace":
            self._base_text, self._added_texts = text, []
        else:
            self._added_texts.append(text)
        pipe = self.client.pipeline(transaction=True)
        if kind == "replace":
            pipe.set(base_key, text)
            pipe.delete(added_key)
        else:
            pipe.rpush(added_key, text)
        pipe.incr(self.key("rules", "version"))
        pipe.publish(self.key("events"), b"rules")
        try:
            await pipe.execute()
        except Exception as exc:
            self._base_text, self._added_texts = before
            raise self._failed(exc) from None

    async def _follow(self) -> None:
        """Apply the rules the other replicas put or add, and their resets: subscribed to
        the events channel, then (so nothing is missed) the rules read once; again after
        every reconnection."""
        channel = self.key("events")
        while True:
            pubsub = self.client.pubsub()
            try:
                await pubsub.subscribe(channel)
                await self._sync_rules()
                while True:
                    message = await pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=self.timeout / 2
                    )
                    services = self._services
                    reloaded = services is not None and services.store.file_digest != self._file
                    if message is not None or reloaded:  # rules put, added; a reset
                        await self._sync_rules()
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                raise
            except Exception as exc:
                self._failed(exc)
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                await asyncio.sleep(0.5)

    async def _sync_rules(self) -> None:
        services = self._services
        if services is None:
            return
        base_key, added_key = self._rules_key("base"), self._rules_key("added")
        pipe = self.client.pipeline(transaction=True)
        pipe.get(self.key("rules", "version"))
        pipe.get(base_key)
        pipe.lrange(added_key, 0, -1)
        version, base, added = await pipe.execute()
        if version == self._version and version is not None:
            return
        store = services.store
        if base is not None:
            text = base.decode("utf-8")
            if text != self._base_text:
                await asyncio.to_thread(store.replace, text, "PUT /-/rules")
                self._base_text, self._added_texts = text, []
        texts = [t.decode("utf-8") for t in added]
        if texts != self._added_texts:
            known = self._added_texts
            if texts[: len(known)] == known:
                new = texts[len(known) :]
            else:
                store.clear_added()
                new = texts
            for text in new:
                await asyncio.to_thread(store.add, text, "POST /-/rules")
            self._added_texts = texts
        self._version = version
        self._back()


class RedisCounters:
    """A :class:`~mockllm.state.memory.CounterStore` in Redis (``space`` names its keys);
    ``scope()`` is part of every key, so counters start over when it changes."""

    def __init__(
        self,
        backend: RedisBackend,
        space: str,
        ttl_seconds: float,
        scope: Callable[[], str] | None = None,
    ) -> None:
        self.backend = backend
        self.space = space
        self.ttl_ms = max(1, int(ttl_seconds * 1000))
        self.scope = scope

    def advance(self, key: str, length: int) -> int:
        digest = counter_key(key).hex()
        parts = (self.space, self.scope(), digest) if self.scope else (self.space, digest)
        found = fetch(Op("advance", (self.backend.key(*parts),), (length, self.ttl_ms)))
        return int(found)

    def clear(self) -> None:
        """Nothing here: a new config changes the keys (``scope``), and ``POST /-/reset``
        deletes them all (:meth:`RedisBackend.reset`)."""

    def __len__(self) -> int:
        return 0  # kept in Redis, not counted here


class SharedAccount(Account):
    """The buckets of one (API key, model) as Redis last reported them, made from its
    :class:`AccountShape` (``shape``)."""

    __slots__ = ("key", "at", "pairs", "fields")

    def __init__(self, shape: AccountShape) -> None:  # Account's fields, from the shape
        self.limits = shape.limits
        self.model = shape.model
        self.key = shape.key
        self.fields = shape.fields
        self.at = time.time()
        buckets: dict[str, list[Bucket]] = {kind: [] for kind in shape.kinds}
        pairs = []
        for kind, limit, window in shape.buckets:
            bucket = Bucket(limit, window, 0.0)
            buckets[kind].append(bucket)
            pairs.append((kind, bucket))
        self.buckets = buckets
        self.pairs = pairs
        self.requests, self.tokens = buckets["requests"], buckets["tokens"]
        self.input_tokens, self.output_tokens = buckets["input_tokens"], buckets["output_tokens"]
        self.all = tuple(bucket for _kind, bucket in pairs)

    def view(self, wall: float) -> QuotaView:
        settle()  # the request's unit, if it waits, taken first: the levels are shown
        return super().view(wall)


class AccountShape:
    """What the buckets of one (API key, model, limits) are: the Redis key, each bucket's
    kind, limit and window (as :class:`~mockllm.realism.quotas.Account` makes them) and
    the script's arguments naming them."""

    __slots__ = ("limits", "model", "key", "kinds", "buckets", "fields")

    def __init__(self, limits: RateLimits, model: str, key: str) -> None:
        made = Account(limits, 0.0, model)
        self.limits = limits
        self.model = model
        self.key = key
        self.kinds = tuple(made.buckets)
        self.buckets = tuple(
            (kind, b.limit, b.window) for kind, found in made.buckets.items() for b in found
        )
        self.fields = tuple(
            (kind, f"{kind}:{int(window)}", limit, window) for kind, limit, window in self.buckets
        )


def _refused(result: Any) -> bool:
    """Whether a take's result names a short bucket."""
    return bool(float(result[0]))


class RedisQuotas(Quotas):
    """:class:`~mockllm.realism.quotas.Quotas` whose buckets are in Redis, refilled and
    taken atomically on Redis's clock. A request's unit of the request buckets waits (see
    :func:`~mockllm.state.shared.defer`) to be taken in the same script call as its
    prompt's tokens."""

    def __init__(self, backend: RedisBackend) -> None:
        super().__init__()
        self.backend = backend
        self._digests: dict[int, tuple[RateLimits, str]] = {}
        self._shapes: dict[tuple[str, str, int], AccountShape] = {}

    def _limits_digest(self, limits: RateLimits) -> str:
        found = self._digests.get(id(limits))
        if found is None or found[0] is not limits:
            if len(self._digests) > 1024:
                self._digests.clear()
            text = orjson.dumps(limits.model_dump(), option=orjson.OPT_SORT_KEYS)
            found = (limits, hashlib.blake2b(text, digest_size=6).hexdigest())
            self._digests[id(limits)] = found
        return found[1]

    def _account(self, key: str, model: str, limits: RateLimits) -> Account:
        shapes = self._shapes
        shape = shapes.get((key, model, id(limits)))
        if shape is None or shape.limits is not limits:
            if len(shapes) >= 4096:
                shapes.clear()
            digest = counter_key(f"{key}\x00{model}").hex()
            name = self.backend.key("rl", self._limits_digest(limits), digest)
            shape = shapes[(key, model, id(limits))] = AccountShape(limits, model, name)
        return SharedAccount(shape)

    def _op(self, account: SharedAccount, amounts: Mapping[str, float]) -> Op:
        args: list[Any] = [BUCKET_TTL_MS]
        for kind, name, limit, window in account.fields:
            args += (name, limit, window, amounts.get(kind, 0))
        return Op("take", (account.key,), tuple(args))

    def _apply(self, account: SharedAccount, found: Any, amounts: Mapping[str, float]) -> None:
        short, now, *levels = (float(x) for x in found)
        account.at = now
        for (_kind, bucket), level in zip(account.pairs, levels, strict=False):
            bucket.level, bucket.stamp = level, now
        if short:
            kind, bucket = account.pairs[int(short) - 1]
            amount = amounts[kind]
            raise _limited(kind, bucket, amount, account.model, bucket.wait(amount))

    def take_request(self, account: Account) -> None:
        assert isinstance(account, SharedAccount)
        amounts = {"requests": 1}
        op = self._op(account, amounts)
        if self.backend.may_defer():
            found = defer(op, _refused)
            if found is DEFERRED:  # taken with the prompt's tokens (take)
                return
        else:
            found = fetch(op)
        self._apply(account, found, amounts)

    def take(self, account: Account, prompt_tokens: int) -> None:
        assert isinstance(account, SharedAccount)
        if prompt_tokens <= 0:
            settle()  # the request's unit, if it waits
            return
        amounts = {"tokens": prompt_tokens, "input_tokens": prompt_tokens}
        op = self._op(account, amounts)

        def join(waiting: Op) -> Op | None:
            """The request's unit and these tokens, taken in one call (``take2``)."""
            if waiting.kind != "take" or waiting.keys != op.keys:
                return None
            first, second = waiting.args, op.args
            if first[1::4] != second[1::4]:
                return None
            args: list[Any] = [first[0]]
            for i in range(1, len(first), 4):
                args += (*first[i : i + 4], second[i + 3])
            return Op("take2", op.keys, tuple(args))

        self._apply(account, fetch(op, join), amounts)

    def charge(self, account: Account, output_tokens: int) -> QuotaView:
        assert isinstance(account, SharedAccount)
        for bucket in account.tokens:
            bucket.level -= output_tokens
        for bucket in account.output_tokens:
            bucket.level -= output_tokens
        if output_tokens > 0:
            amounts = {"tokens": output_tokens, "output_tokens": output_tokens}
            op = self._op(account, amounts)
            stage(self.backend, Op("charge", op.keys, op.args))
        return QuotaView(account.buckets, account.at)

    def clear(self) -> None:
        """Nothing here: ``POST /-/reset`` deletes the buckets in Redis."""

    def stats(self) -> dict[str, int]:
        return {"entries": 0}


class SharedEntry:
    """A journal entry as Redis keeps it: the dict ``GET /-/requests`` shows, with the
    fields its filters read."""

    __slots__ = ("data", "id", "time", "model", "rule", "dialect", "path", "status", "stream")

    def __init__(self, entry_id: int, data: dict[str, Any]) -> None:
        self.time = float(data.pop("_t", 0.0))
        self.id = entry_id
        self.data = {"id": entry_id, **data}
        self.model = data.get("model")
        self.rule = data.get("rule")
        self.dialect = data.get("dialect")
        self.path = data.get("path")
        self.status = data.get("status")
        self.stream = data.get("stream")

    @property
    def conversation_key(self) -> str | None:
        found = self.data.get("conversation")
        return None if found is None else str(found)

    def as_dict(self) -> dict[str, Any]:
        return self.data


class RedisJournal(Journal):
    """The journal in a Redis list capped at ``capacity`` entries, hit counts in a hash:
    every replica's requests in one journal, ids in one sequence."""

    def __init__(self, backend: RedisBackend, capacity: int) -> None:
        super().__init__(capacity)
        self.backend = backend

    def add(self, entry: Entry) -> None:
        self.recorded += 1
        data = entry.as_dict()
        del data["id"]
        data["_t"] = entry.time
        backend = self.backend
        keys = (backend.key("journal"), backend.key("journal", "id"), backend.key("hits"))
        stage(backend, Op("journal", keys, (orjson.dumps(data), self.capacity, entry.rule or "")))

    def __len__(self) -> int:
        return 0

    async def fetch(
        self,
        filters: Mapping[str, str] | None = None,
        since: str | None = None,
        limit: int | None = None,
    ) -> list[Any]:
        backend = self.backend
        start = 0
        if limit is not None and not filters and not since:
            if limit <= 0:
                return []
            start = -limit
        try:
            await backend.flush()
            raw = await backend.client.lrange(backend.key("journal"), start, -1)
        except Exception as exc:
            raise backend._failed(exc) from None
        entries = []
        for item in raw:
            head, _, body = _bytes(item).partition(b"\x1f")
            entries.append(SharedEntry(int(head), orjson.loads(body)))
        return select(entries, filters, since, limit)

    async def hit_counts(self) -> Mapping[str, int]:
        backend = self.backend
        try:
            await backend.flush()
            raw = await backend.client.hgetall(backend.key("hits"))
        except Exception as exc:
            raise backend._failed(exc) from None
        return {_bytes(k).decode(): int(v) for k, v in raw.items()}

    async def forget(self) -> None:
        backend = self.backend
        try:
            await backend.flush()
            await backend.client.delete(backend.key("journal"), backend.key("hits"))
        except Exception as exc:
            raise backend._failed(exc) from None
        self.clear()


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


__all__ = [
    "RedisBackend",
    "RedisCounters",
    "RedisJournal",
    "AccountShape",
    "RedisQuotas",
    "SharedAccount",
    "SharedEntry",
    "public_url",
]
