"""Shared mutable state kept across requests: sequence counters, behind one small
interface (:mod:`.memory`), and the bounded map the per-app stores are built on
(:mod:`.bounded`)."""

from .bounded import BoundedMap, BoundedStore
from .memory import CounterStore, MemoryCounters

__all__ = ["BoundedMap", "BoundedStore", "CounterStore", "MemoryCounters"]
