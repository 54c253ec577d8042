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

Every command has a timeout (``MOCKLLM_STATE_TIMEOUT``, seconds): a Redis that is gone or
stuck makes the requests that need it get a 503 in their dialect's envelope, and the next
request after it is back is served as usual. ``GET /-/ready`` is a 503 meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from ..core.errors import MockError
from ..journal import Entry, Journal, select
from ..realism.quotas import Account, Quotas, QuotaView, _limited
from ..rules.schema import RateLimits
from .memory import counter_key
from .shared import Backend, Op, fetch, stage, unavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

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
local take = ARGV[1] == 'take'
local n = (#ARGV - 2) / 4
local levels = {}
local short = 0
for i = 1, n do
  local b = 2 + (i - 1) * 4
  local f = ARGV[b + 1]
  local limit = tonumber(ARGV[b + 2])
  local window = tonumber(ARGV[b + 3])
  local amount = tonumber(ARGV[b + 4])
  local v = redis.call('HMGET', KEYS[1], f .. ':l', f .. ':s')
  local level = tonumber(v[1])
  local stamp = tonumber(v[2])
  if level == nil then level = limit end
  if stamp == nil then stamp = now end
  if now > stamp then
    level = level + (now - stamp) * limit / window
    if level > limit then level = limit end
  end
  levels[i] = level
  if take and short == 0 and amount > 0 and level < amount then short = i end
end
local out = {tostring(short), string.format('%.6f', now)}
for i = 1, n do
  local b = 2 + (i - 1) * 4
  if short == 0 then levels[i] = levels[i] - tonumber(ARGV[b + 4]) end
  local level = string.format('%.17g', levels[i])
  redis.call('HSET', KEYS[1], ARGV[b + 1] .. ':l', level, ARGV[b + 1] .. ':s',
    string.format('%.6f', now))
  out[#out + 1] = level
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return out
"""
"""Refill an account's buckets to Redis's now, then (``take``) take the amounts from all
of them or, when one is short, from none, naming it; or (``charge``) take them even below
zero. Returns the short bucket (0: none), now, and every bucket's level."""

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

BUCKET_TTL_MS = 2 * 86_400_000
"""How long an idle account's buckets are kept (they are full again by then)."""


def _sha(script: str) -> str:
    return hashlib.sha1(script.encode()).hexdigest()  # noqa: S324 - Redis names scripts so


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


class RedisBackend(Backend):
    """The state shared through the Redis at ``url`` under ``namespace`` (see the module
    docstring); ``timeout`` bounds every command (seconds)."""

    shared = True

    def __init__(self, url: str, namespace: str = "mockllm", timeout: float = 2.0) -> None:
        from redis.asyncio import Redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.url = public_url(url)
        self.namespace = namespace
        self.timeout = timeout
        self.client: Redis = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=30,
        )
        self._queue: list[Op] = []
        self._inflight: set[asyncio.Task[None]] = set()
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
        return bool(self._queue) or bool(self._inflight)

    def write(self, op: Op) -> None:
        self._queue.append(op)
        if len(self._queue) == 1:  # flushed soon even if no answer waits for it
            with contextlib.suppress(RuntimeError):  # no running loop: the next flush
                asyncio.get_running_loop().call_soon(self._send_queued)

    async def perform(self, op: Op) -> Any:
        try:
            return await self._perform(op)
        except Exception as exc:  # redis's ConnectionError, TimeoutError, ResponseError
            raise self._failed(exc) from None

    async def _perform(self, op: Op) -> Any:
        client = self.client
        kind = op.kind
        if kind == "advance":
            return int(await self._script(ADVANCE, op.keys, op.args))
        if kind == "take":
            return await self._script(BUCKETS, op.keys, ("take", *op.args))
        if kind == "get":
            return await client.get(op.keys[0])
        if kind == "delete":  # a key, and its id in an index when given
            if len(op.keys) > 1:
                await client.zrem(op.keys[1], op.args[0])
            return bool(await client.delete(op.keys[0]))
        if kind == "list":  # the values of an index's ids, oldest first (the kept ones)
            index, prefix = op.keys
            ids = await client.zrange(index, 0, -1)
            if not ids:
                return []
            names = [_bytes(i).decode() for i in ids if isinstance(i, bytes | str)]
            values = await client.mget([prefix + name for name in names])
            return [v for v in values if v is not None]
        raise ValueError(f"unknown shared-state operation {kind!r}")

    async def _script(self, script: str, keys: Iterable[str], args: Iterable[Any]) -> Any:
        from redis.exceptions import NoScriptError

        keys, args = tuple(keys), tuple(args)
        try:
            return await self.client.evalsha(_sha(script), len(keys), *keys, *args)
        except NoScriptError:  # a new or restarted Redis: EVAL caches it
            return await self.client.eval(script, len(keys), *keys, *args)

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

    # --- writes ---------------------------------------------------------------------------

    def _send_queued(self) -> None:
        if not self._queue:
            return
        ops, self._queue = self._queue, []
        task = asyncio.ensure_future(self._send(ops))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def flush(self) -> None:
        self._send_queued()
        if self._down_since is not None:  # sent, not waited for: no answer waits a timeout
            return
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def _send(self, ops: list[Op]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for op in ops:
            kind = op.kind
            if kind == "charge":
                pipe.eval(BUCKETS, len(op.keys), *op.keys, "charge", *op.args)
            elif kind == "journal":
                pipe.eval(JOURNAL, len(op.keys), *op.keys, *op.args)
            elif kind == "put":  # a value with its TTL; with an index, its id listed too
                key, value, ttl = op.keys[0], op.args[0], max(1, int(op.args[1]))
                pipe.set(key, value, px=ttl)
                if len(op.keys) > 1:
                    index, member, score = op.keys[1], op.args[2], float(op.args[3])
                    pipe.zadd(index, {member: score})
                    pipe.zremrangebyscore(index, "-inf", score - ttl / 1000)
                    pipe.pexpire(index, ttl)
            elif kind == "delete":
                pipe.delete(*op.keys)
            else:
                log.error("unknown shared-state write %r", kind)
        try:
            await pipe.execute()
        except Exception as exc:
            self._failed(exc)
            log.warning("shared state: %d writes lost (%s)", len(ops), exc)
        else:
            self._back()

    # --- the server's life -----------------------------------------------------------------

    async def start(self, services: Services) -> None:
        self._services = services
        try:  # the rules put or added over HTTP, before the first request is served
            await asyncio.wait_for(self._sync_rules(), self.timeout)
        except Exception as exc:  # Redis away: the follower applies them once it is back
            self._failed(exc)
        self._follower = asyncio.create_task(self._follow(), name="mockllm-state-follow")

    async def stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        with contextlib.suppress(Exception):
            await self.flush()
        with contextlib.suppress(Exception):
            await self.client.aclose()

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
    """The buckets of one (API key, model) as Redis last reported them."""

    __slots__ = ("key", "at", "pairs")

    def __init__(self, limits: RateLimits, model: str, key: str) -> None:
        super().__init__(limits, 0.0, model)
        self.key = key
        self.at = time.time()
        self.pairs = [(kind, b) for kind, found in self.buckets.items() for b in found]


class RedisQuotas(Quotas):
    """:class:`~mockllm.realism.quotas.Quotas` whose buckets are in Redis, refilled and
    taken atomically on Redis's clock."""

    def __init__(self, backend: RedisBackend) -> None:
        super().__init__()
        self.backend = backend
        self._digests: dict[int, tuple[RateLimits, str]] = {}

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
        digest = counter_key(f"{key}\x00{model}").hex()
        name = self.backend.key("rl", self._limits_digest(limits), digest)
        return SharedAccount(limits, model, name)

    def _args(self, account: SharedAccount, amounts: Mapping[str, float]) -> list[Any]:
        args: list[Any] = [BUCKET_TTL_MS]
        for kind, bucket in account.pairs:
            args += [f"{kind}:{int(bucket.window)}", bucket.limit, bucket.window]
            args.append(amounts.get(kind, 0))
        return args

    def _take(self, account: Account, amounts: Mapping[str, float]) -> None:
        assert isinstance(account, SharedAccount)
        found = fetch(Op("take", (account.key,), tuple(self._args(account, amounts))))
        short, now, *levels = (float(x) for x in found)
        account.at = now
        for (_kind, bucket), level in zip(account.pairs, levels, strict=False):
            bucket.level, bucket.stamp = level, now
        if short:
            kind, bucket = account.pairs[int(short) - 1]
            amount = amounts[kind]
            raise _limited(kind, bucket, amount, account.model, bucket.wait(amount))

    def take_request(self, account: Account) -> None:
        self._take(account, {"requests": 1})

    def take(self, account: Account, prompt_tokens: int) -> None:
        if prompt_tokens > 0:
            self._take(account, {"tokens": prompt_tokens, "input_tokens": prompt_tokens})

    def charge(self, account: Account, output_tokens: int) -> QuotaView:
        assert isinstance(account, SharedAccount)
        for bucket in account.tokens:
            bucket.level -= output_tokens
        for bucket in account.output_tokens:
            bucket.level -= output_tokens
        if output_tokens > 0:
            amounts = {"tokens": output_tokens, "output_tokens": output_tokens}
            op = Op("charge", (account.key,), tuple(self._args(account, amounts)))
            stage(self.backend, op)
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
    "RedisQuotas",
    "SharedAccount",
    "SharedEntry",
    "public_url",
]
