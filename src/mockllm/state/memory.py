"""Counters kept in process memory (one worker); other back-ends implement the same
:class:`CounterStore` protocol."""

from __future__ import annotations

import threading
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


class MemoryCounters:
    """A :class:`CounterStore` in a dict; thread-safe."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def advance(self, key: str, length: int) -> int:
        with self._lock:
            count, last_length = self._values.get(key, (0, 0))
            count = 1 if length < last_length else count + 1
            self._values[key] = (count, length)
            return count

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
