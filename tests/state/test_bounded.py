"""The bounded map behind the stores: count, bytes and age bounds, least recently used
forgotten first, listed in insertion order, the leave hook called once for every entry that
leaves, and an injected clock."""

from __future__ import annotations

import pytest

from mockllm.core.limits import Limits
from mockllm.state.bounded import DEFAULT_CAPACITY, BoundedMap, BoundedStore


class Clock:
    """A clock a test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def bounded(
    capacity: int = 10, max_bytes: int = 1000, ttl_seconds: float = 60.0
) -> tuple[BoundedMap[str], Clock, list[tuple[str, str]]]:
    """A map on a hand-moved clock that records what leaves it."""
    clock = Clock()
    left: list[tuple[str, str]] = []
    entries: BoundedMap[str] = BoundedMap(
        capacity,
        max_bytes,
        ttl_seconds,
        clock=clock,
        on_leave=lambda key, value: left.append((key, value)),
    )
    return entries, clock, left


def test_get_put_delete_and_clear() -> None:
    entries, _clock, left = bounded()
    assert entries.get("a") is None and "a" not in entries and len(entries) == 0
    assert entries.put("a", "A", 10) == 1000.0  # when it was kept, by the clock
    entries.put("b", "B", 20)
    assert entries.get("a") == "A" and "b" in entries and len(entries) == 2
    assert entries.bytes == 30
    assert entries.delete("a") and not entries.delete("a")
    assert entries.bytes == 20 and left == [("a", "A")]
    entries.put("c", "C", 5)
    entries.clear()
    assert len(entries) == 0 and entries.bytes == 0 and entries.values() == []
    assert left == [("a", "A"), ("b", "B"), ("c", "C")]


def test_bounded_by_count_least_recently_used_first() -> None:
    entries, _clock, left = bounded(capacity=3)
    for key in "abc":
        entries.put(key, key.upper(), 1)
    assert entries.get("a") == "A"  # a is now the most recently used: b is the least
    entries.put("d", "D", 1)
    assert left == [("b", "B")] and len(entries) == 3
    entries.put("e", "E", 1)
    assert left == [("b", "B"), ("c", "C")]
    assert [key for key in "abcde" if key in entries] == ["a", "d", "e"]


def test_a_put_of_a_kept_key_replaces_it_as_the_newest() -> None:
    entries, _clock, left = bounded(capacity=2)
    entries.put("a", "A", 10)
    entries.put("b", "B", 10)
    entries.put("a", "A2", 30)
    assert left == [("a", "A")]  # the replaced value leaves, once
    assert entries.values() == ["B", "A2"] and entries.bytes == 40
    entries.put("c", "C", 1)  # b is now the least recently used
    assert left[-1] == ("b", "B") and entries.values() == ["A2", "C"]


def test_bounded_by_bytes() -> None:
    entries, _clock, left = bounded(max_bytes=100)
    for key in "abcd":
        entries.put(key, key.upper(), 30)
    assert entries.bytes == 90 and left == [("a", "A")]
    entries.get("b")
    entries.put("e", "E", 50)  # c and d (least recently used) make room; b stays
    assert entries.values() == ["B", "E"] and entries.bytes == 80
    assert left == [("a", "A"), ("c", "C"), ("d", "D")]


def test_a_value_bigger_than_the_byte_bound_is_not_kept() -> None:
    entries, _clock, left = bounded(max_bytes=100)
    entries.put("a", "A", 60)
    assert entries.put("huge", "H", 101) is None
    assert "huge" not in entries and entries.values() == ["A"] and left == []
    assert entries.put("a", "A2", 101) is None  # the old value of its key is gone too
    assert len(entries) == 0 and entries.bytes == 0 and left == [("a", "A")]
    assert entries.put("exact", "X", 100) is not None and entries.bytes == 100


def test_the_value_just_kept_is_never_the_one_evicted() -> None:
    entries, _clock, _left = bounded(capacity=1, max_bytes=10)
    for key in "abc":
        entries.put(key, key.upper(), 10)
        assert entries.values() == [key.upper()]


def test_bounded_by_age_on_the_injected_clock() -> None:
    entries, clock, left = bounded(ttl_seconds=60)
    entries.put("old", "O", 1)
    clock.now += 30
    entries.put("new", "N", 1)
    clock.now += 29.5
    assert entries.get("old") == "O"  # 59.5 s: still young, and now the most recent
    clock.now += 0.5  # old is 60 s old: expired, although just used
    assert entries.get("old") is None and left == [("old", "O")]
    assert entries.get("new") == "N"
    clock.now += 30
    assert "new" in entries  # not yet forgotten: nothing has looked since it expired
    assert entries.values() == [] and left[-1] == ("new", "N") and entries.bytes == 0


def test_a_put_forgets_the_expired_first() -> None:
    entries, clock, left = bounded(capacity=3, ttl_seconds=60)
    entries.put("a", "A", 1)
    clock.now += 10
    entries.put("b", "B", 1)
    entries.get("a")  # most recently used, but still the oldest
    clock.now += 55  # a is 65 s old, b 55 s
    entries.put("c", "C", 1)
    assert left == [("a", "A")] and entries.values() == ["B", "C"]
    clock.now += 100
    entries.expire()
    assert len(entries) == 0 and [key for key, _ in left] == ["a", "b", "c"]


def test_values_are_listed_in_insertion_order_not_recency() -> None:
    entries, _clock, _left = bounded()
    for key in "abc":
        entries.put(key, key.upper(), 1)
    entries.get("a")
    entries.get("b")
    assert entries.values() == ["A", "B", "C"]
    entries.put("a", "A", 1)  # a put makes its key the newest
    assert entries.values() == ["B", "C", "A"]


def test_resize_counts_the_new_size_and_may_evict() -> None:
    entries, _clock, left = bounded(max_bytes=100)
    entries.put("a", "A", 30)
    entries.put("b", "B", 30)
    entries.resize("a", 50)
    assert entries.bytes == 80 and left == [] and entries.values() == ["A", "B"]
    entries.resize("a", 80)  # over the bound: a, the least recently used, goes
    assert entries.values() == ["B"] and left == [("a", "A")] and entries.bytes == 30
    entries.put("c", "C", 30)
    assert entries.get("b") == "B"  # b is now the most recently used
    entries.resize("b", 80)  # c makes room
    assert entries.values() == ["B"] and left[-1] == ("c", "C") and entries.bytes == 80
    entries.resize("b", 101)  # bigger than the whole bound: it goes too
    assert len(entries) == 0 and entries.bytes == 0 and left[-1] == ("b", "B")
    entries.resize("unknown", 10)  # no such entry: nothing changes
    assert entries.bytes == 0


def test_bounds_can_change() -> None:
    entries, _clock, left = bounded(capacity=5)
    for key in "abcde":
        entries.put(key, key.upper(), 10)
    entries.capacity = 2
    entries.max_bytes = 25
    entries.put("f", "F", 5)
    assert entries.values() == ["E", "F"] and [key for key, _ in left] == ["a", "b", "c", "d"]


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        BoundedMap(0, 100, 60.0)


def test_without_a_hook_entries_just_leave() -> None:
    entries: BoundedMap[int] = BoundedMap(1, 100, 60.0)
    entries.put("a", 1, 10)
    entries.put("b", 2, 10)
    assert entries.values() == [2]
    entries.clear()
    assert len(entries) == 0


class Recording(BoundedStore[str]):
    """A store that records the keys that leave it (its ``_left`` hook)."""

    def __init__(self, capacity: int, limits: Limits, clock: Clock) -> None:
        super().__init__(capacity, limits, clock=clock)
        self.left: list[str] = []

    def _left(self, key: str, value: str) -> None:
        self.left.append(key)


def test_a_store_is_bounded_by_the_apps_limits_and_reports_its_stats() -> None:
    clock = Clock()
    store = Recording(3, Limits(store_max_bytes=100, store_ttl_seconds=60), clock)
    left = store.left
    assert store.capacity == 3 and store.limits.store_max_bytes == 100
    assert BoundedStore[str]().capacity == DEFAULT_CAPACITY == 10_000
    store._entries.put("a", "A", 40)
    store._entries.put("b", "B", 40)
    assert store.stats() == {"entries": 2, "bytes": 80} and store.bytes == 80
    store.limits = Limits(store_max_bytes=50, store_ttl_seconds=10)  # applies from the next put
    store._entries.put("c", "C", 10)
    assert left == ["a"] and store.stats() == {"entries": 2, "bytes": 50}
    clock.now += 10
    assert store.get("b") is None and "c" in store and len(store) == 1
    assert store.delete("c") and not store.delete("c")
    store._entries.put("d", "D", 1)
    store.clear()
    assert store.stats() == {"entries": 0, "bytes": 0} and left == ["a", "b", "c", "d"]
