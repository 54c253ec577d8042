"""Shared mutable state (sequence counters), behind one small interface."""

from .memory import CounterStore, MemoryCounters

__all__ = ["CounterStore", "MemoryCounters"]
