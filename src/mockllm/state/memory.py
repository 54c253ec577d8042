"""Counters kept in process memory (one worker); other back-ends implement the same
:class:`CounterStore` protocol."""

from __future__ import annotations

import threading
from typing import Protocol


class CounterStore(Protocol):
    """Named counters, incremented atomically."""

    def incr(self, key: str) -> int:
        """Add one to counter ``key`` (absent: 0) and return the new value."""
        ...

    def clear(self) -> None:
        """Forget every counter."""
        ...


class MemoryCounters:
    """A :class:`CounterStore` in a dict; thread-safe."""

    def __init__(self) -> None:
        self._values: dict[str, int] = {}
        self._lock = threading.Lock()

    def incr(self, key: str) -> int:
        with self._lock:
            value = self._values.get(key, 0) + 1
            self._values[key] = value
            return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
