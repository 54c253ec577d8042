"""Counters kept in process memory (one worker); other back-ends implement the same
:class:`CounterStore` protocol."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol


class CounterStore(Protocol):
    """Sequence counters, one per (rule, conversation) key, advanced atomically."""

    def advance(self, key: str, length: int) -> int:
        """Count one more turn of conversation ``key`` and return the count (1 for the
        first turn). ``length`` is the number of messages the request carries: a request
        with fewer messages than the previous one under ``key`` starts the conversation
        over (a client never shortens a conversation it continues, so this is a rerun),
        and the count restarts at 1."""
        ...

    def clear(self) -> None:
        """Forget every counter."""
        ...

    def __len__(self) -> int:
        """How many counters are kept."""
        ...


def counter_key(key: str) -> bytes:
    """The fixed-size digest a counter is stored under: keys hold whole header values or
    prompts, which must not be kept."""
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class MemoryCounters:
    """A :class:`CounterStore` in a dict; thread-safe and bounded.

    At most ``max_entries`` counters are kept (the least recently advanced is dropped
    first), and a counter idle for ``ttl_seconds`` is forgotten (its conversation starts
    over). Keys are kept as 16-byte digests, so memory is bounded by the count alone.

    Not a :class:`~mockllm.state.bounded.BoundedMap`: every advance makes its counter both
    the newest and the most recently used, and nothing is counted in bytes, so one ordered
    dict of tuples does what the map does with two orders and an entry object, in about 60%
    of the time on this hot path (measured: 1.3 against 2.2 µs an advance).
    """

    def __init__(
        self,
        max_entries: int = 100_000,
        ttl_seconds: float = 3600.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._values: OrderedDict[bytes, tuple[int, int, float]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def __len__(self) -> int:
        return len(self._values)

    def advance(self, key: str, length: int) -> int:
        digest = counter_key(key)
        with self._lock:
            now = self._clock()
            values = self._values
            # Oldest first: drop the idle ones from the front (amortised O(1)).
            while values:
                oldest, (_c, _l, used) = next(iter(values.items()))
                if now - used < self.ttl_seconds:
                    break
                del values[oldest]
            count, last_length, _used = values.pop(digest, (0, 0, now))
            count = 1 if length < last_length else count + 1
            values[digest] = (count, length, now)
            while len(values) > self.max_entries:
                values.popitem(last=False)
            return count

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
