"""A map kept across requests within three bounds (count, bytes, age), and the store of the
app's :class:`~mockllm.core.limits.Limits` built on it: what the stored Responses and the
stored Chat Completions each are."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..core.limits import Limits

V = TypeVar("V")

DEFAULT_CAPACITY = 10_000
"""How many values a :class:`BoundedStore` keeps at most unless told."""


@dataclass(slots=True)
class _Entry(Generic[V]):
    value: V
    size: int
    created: float


class BoundedMap(Generic[V]):
    """Values by ``str`` key, bounded by count, bytes and age.

    Bounds (public attributes; a change applies from the next ``put`` or ``resize``):

    * ``capacity``: at most that many entries (at least 1, else :class:`ValueError`);
    * ``max_bytes``: the sizes given to :meth:`put` add up to at most that; an entry bigger
      than the whole bound is not kept at all;
    * ``ttl_seconds``: an entry kept that long (by ``clock``, since its ``put``; using it
      does not make it younger) is expired: :meth:`get` does not return it, and it is
      forgotten by :meth:`get`, :meth:`put`, :meth:`values` and :meth:`expire`.

    Two orders: *recency* (a ``put`` or a ``get`` makes an entry the most recently used)
    decides eviction, *insertion* (a ``put``, even of a key already kept, makes an entry
    the newest) decides listing (:meth:`values`, oldest first) and expiry. A ``put`` first
    forgets the entry of the same key, then the expired entries, then refuses a value
    bigger than ``max_bytes``; it keeps the value and forgets the least recently used
    entries while the map is over ``capacity`` or ``max_bytes`` (never the value it has
    just kept). :meth:`resize` may forget entries the same way, the resized one included.

    ``on_leave(key, value)`` is called exactly once for every entry that leaves, however it
    leaves (:meth:`delete`, expiry, eviction, replacement by a ``put`` of its key,
    :meth:`clear`), after it is removed (``len`` and :attr:`bytes` no longer count it):
    where an owner updates what it derives from the entries. It must not change the map.

    ``clock`` (``time.monotonic`` by default; a test passes its own) must never go back.
    Not thread-safe: an owner on the event loop needs no lock, one shared between threads
    holds its own. Every operation is O(1), but for what it forgets and :meth:`values`.
    """

    def __init__(
        self,
        capacity: int,
        max_bytes: int,
        ttl_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_leave: Callable[[str, V], None] | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self.on_leave = on_leave
        self._bytes = 0
        self._used: OrderedDict[str, _Entry[V]] = OrderedDict()  # least recently used first
        # oldest first; an OrderedDict, as a dict whose front entries were deleted takes
        # time in proportion to them to find its first one
        self._created: OrderedDict[str, _Entry[V]] = OrderedDict()

    @property
    def bytes(self) -> int:
        """The sizes of the entries kept, added up."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._created)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` is kept (an expired entry not yet forgotten is)."""
        return key in self._created

    def get(self, key: str) -> V | None:
        """The value of ``key``, now the most recently used; None when it is not kept or
        is expired (then it is forgotten)."""
        entry = self._created.get(key)
        if entry is None:
            return None
        if self.clock() - entry.created >= self.ttl_seconds:
            self.delete(key)
            return None
        self._used.move_to_end(key)
        return entry.value

    def put(self, key: str, value: V, size: int) -> float | None:
        """Keep ``value`` under ``key``, counted as ``size`` bytes, as the newest and most
        recently used entry (see the class for what it forgets). Returns when it was kept
        (by ``clock``); None when it is bigger than ``max_bytes`` and so not kept."""
        self.delete(key)
        now = self.clock()
        self._expire(now)
        if size > self.max_bytes:
            return None
        entry = _Entry(value, size, now)
        self._used[key] = entry
        self._created[key] = entry
        self._bytes += size
        self._shrink()
        return now

    def resize(self, key: str, size: int) -> None:
        """Count the entry of ``key`` (when kept) as ``size`` bytes from now on, then
        forget the least recently used entries while the map is over a bound. Its recency
        and age are unchanged."""
        entry = self._created.get(key)
        if entry is None:
            return
        self._bytes += size - entry.size
        entry.size = size
        self._shrink()

    def delete(self, key: str) -> bool:
        """Forget the entry of ``key``; False when it was not kept."""
        entry = self._created.pop(key, None)
        if entry is None:
            return False
        del self._used[key]
        self._bytes -= entry.size
        if self.on_leave is not None:
            self.on_leave(key, entry.value)
        return True

    def clear(self) -> None:
        """Forget every entry."""
        left = list(self._created.items())
        self._used.clear()
        self._created.clear()
        self._bytes = 0
        if self.on_leave is not None:
            for key, entry in left:
                self.on_leave(key, entry.value)

    def expire(self) -> None:
        """Forget the expired entries."""
        self._expire(self.clock())

    def values(self) -> list[V]:
        """The values kept, in insertion order (oldest first), the expired ones forgotten
        first. Recency is unchanged."""
        self.expire()
        return [entry.value for entry in self._created.values()]

    def _expire(self, now: float) -> None:
        # Oldest first: the expired ones are at the front (amortised O(1)).
        created = self._created
        while created:
            key, entry = next(iter(created.items()))
            if now - entry.created < self.ttl_seconds:
                return
            self.delete(key)

    def _shrink(self) -> None:
        used = self._used
        while used and (len(used) > self.capacity or self._bytes > self.max_bytes):
            self.delete(next(iter(used)))


class BoundedStore(Generic[V]):
    """Values by id in a :class:`BoundedMap` bounded by ``capacity`` and the app's
    ``limits`` (``store_max_bytes``, ``store_ttl_seconds``; the attribute can be replaced):
    the part the stores of one app share (stored Responses, stored Chat Completions; each
    is bounded on its own). A subclass adds how its values are sized, kept and read, and
    overrides :meth:`_left` to keep what it derives from them in step.

    Per-app state (``Provider.state``): ``clear()`` is ``POST /-/reset``'s, ``stats()``
    shows in ``GET /-/stats``.
    """

    def __init__(
        self,
        capacity: int = DEFAULT_CAPACITY,
        limits: Limits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = limits or Limits()
        self._entries: BoundedMap[V] = BoundedMap(
            capacity,
            self._limits.store_max_bytes,
            self._limits.store_ttl_seconds,
            clock=clock,
            on_leave=self._left,
        )

    @property
    def limits(self) -> Limits:
        """The bounds in force (``store_max_bytes``, ``store_ttl_seconds``)."""
        return self._limits

    @limits.setter
    def limits(self, limits: Limits) -> None:
        self._limits = limits
        self._entries.max_bytes = limits.store_max_bytes
        self._entries.ttl_seconds = limits.store_ttl_seconds

    @property
    def capacity(self) -> int:
        """How many values are kept at most."""
        return self._entries.capacity

    @capacity.setter
    def capacity(self, capacity: int) -> None:
        self._entries.capacity = capacity

    @property
    def bytes(self) -> int:
        """The bytes the kept values are counted for."""
        return self._entries.bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: str) -> V | None:
        """The stored value, marked as recently used; None when unknown, deleted,
        forgotten or expired."""
        return self._entries.get(key)

    def delete(self, key: str) -> bool:
        """Forget a value; False when it was not stored."""
        return self._entries.delete(key)

    def clear(self) -> None:
        """Forget every value (``POST /-/reset``)."""
        self._entries.clear()

    def stats(self) -> dict[str, int]:
        """``entries`` kept and the ``bytes`` they are counted for (``GET /-/stats``)."""
        return {"entries": len(self._entries), "bytes": self._entries.bytes}

    def _left(self, key: str, value: V) -> None:
        """The map's ``on_leave`` (see :class:`BoundedMap`): what a subclass does when a
        value leaves, however it leaves. Nothing here."""
