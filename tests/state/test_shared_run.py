"""How synchronous code reads a shared state (mockllm.state.shared): a handler runs again as
each result arrives, gets the results in the order it asked, and only the run that completes
has its writes queued."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mockllm.core import outcome
from mockllm.core.errors import MockError
from mockllm.state.shared import (
    DEFERRED,
    Backend,
    Op,
    defer,
    fetch,
    resolving,
    settle,
    stage,
    unavailable,
)


class FakeShared(Backend):
    """A shared back-end answering from a dict, counting what it performs."""

    shared = True
    url = "fake://"

    def __init__(self, values: dict[str, Any], down: bool = False) -> None:
        self.values = values
        self.down = down
        self.performed: list[Op] = []
        self.written: list[Op] = []

    def write(self, op: Op) -> None:
        self.written.append(op)

    async def perform(self, op: Op) -> Any:
        self.performed.append(op)
        if self.down:
            raise unavailable(self.url, ConnectionError("refused"))
        if op.kind == "both":  # a read joined to the one that waited: both results
            return [self.values[key] for key in op.keys]
        return self.values[op.keys[0]]


def refused(result: Any) -> bool:
    return bool(result == "refused")


def both(waiting: Op) -> Op:
    return Op("both", (waiting.keys[0], "b"))


def serve(backend: Backend, handler: Any) -> Any:
    async def run() -> Any:
        facts, token = outcome.begin()
        try:
            return await resolving(backend, handler, facts.restart)
        finally:
            outcome.end(token)

    return asyncio.run(run())


def test_a_handler_gets_every_result_in_order_and_runs_once_per_missing_one() -> None:
    backend = FakeShared({"a": 1, "b": 2})
    runs = []

    async def handler() -> int:
        runs.append(1)
        facts = outcome.current()
        assert facts is not None
        facts.fault("noted once per run")
        first = fetch(Op("get", ("a",)))
        stage(backend, Op("put", ("written-between",)))
        second = fetch(Op("get", ("b",)))
        stage(backend, Op("put", ("written-last",)))
        assert facts.faults == ["noted once per run"]  # what a discarded run noted is gone
        return int(first) * 10 + int(second)

    assert serve(backend, handler) == 12
    assert len(runs) == 3  # two results to wait for, then the run that completes
    assert [op.keys[0] for op in backend.performed] == ["a", "b"]
    # the writes of the completing run only, each once
    assert [op.keys[0] for op in backend.written] == ["written-between", "written-last"]


def test_an_unreachable_backend_is_the_503_raised_where_the_result_is_read() -> None:
    backend = FakeShared({}, down=True)

    async def handler() -> Any:
        return fetch(Op("get", ("a",)))

    with pytest.raises(MockError) as caught:
        serve(backend, handler)
    assert caught.value.status == 503
    assert caught.value.code == "state_unavailable"
    assert "refused" in caught.value.message
    assert caught.value.headers["retry-after"] == "1"


def test_the_memory_backend_runs_a_handler_once_and_reads_nothing() -> None:
    backend = Backend()
    runs = []

    async def handler() -> str:
        runs.append(1)
        return "answer"

    assert serve(backend, handler) == "answer"
    assert runs == [1]
    assert backend.counters("seq", 10, 60.0, None).advance("k", 1) == 1


def test_a_shared_read_outside_a_request_is_an_error_not_a_silent_default() -> None:
    with pytest.raises(RuntimeError, match="outside a request"):
        fetch(Op("get", ("a",)))


def test_a_deferred_read_is_performed_with_the_next_read_that_joins_it() -> None:
    backend = FakeShared({"a": "granted", "b": 2})
    runs = []

    async def handler() -> tuple[Any, Any]:
        runs.append(1)
        first = defer(Op("get", ("a",)), refused)
        second = fetch(Op("get", ("b",)), both)
        stage(backend, Op("put", ("written",)))
        return first, second

    assert serve(backend, handler) == ("granted", 2)
    assert len(runs) == 2  # one read for both, then the run that completes
    assert [op.kind for op in backend.performed] == ["both"]
    assert [op.keys[0] for op in backend.written] == ["written"]


def test_a_deferred_read_that_cannot_join_is_performed_first_alone() -> None:
    backend = FakeShared({"a": "granted", "b": 2})
    runs = []

    async def handler() -> tuple[Any, Any]:
        runs.append(1)
        first = defer(Op("get", ("a",)), refused)
        return first, fetch(Op("get", ("b",)))

    assert serve(backend, handler) == ("granted", 2)
    assert len(runs) == 3
    assert [op.keys[0] for op in backend.performed] == ["a", "b"]


def test_a_run_ending_while_a_read_waits_stands_when_the_read_is_granted() -> None:
    backend = FakeShared({"a": "granted"})
    runs = []

    async def handler() -> str:
        runs.append(1)
        found = defer(Op("get", ("a",)), refused)
        if found == "refused":
            return "refused"
        raise MockError("invalid_request", "an error that does not depend on the read")

    with pytest.raises(MockError, match="does not depend"):
        serve(backend, handler)
    assert len(runs) == 1  # it would run the same way again: not run again
    assert [op.keys[0] for op in backend.performed] == ["a"]

    async def answers() -> Any:
        runs.append(1)
        found = defer(Op("get", ("a",)), refused)
        return "answer" if found is DEFERRED or found == "granted" else found

    runs.clear()
    assert serve(backend, answers) == "answer"
    assert len(runs) == 1


def test_a_run_ending_while_a_read_waits_runs_again_when_the_read_is_refused() -> None:
    backend = FakeShared({"a": "refused"})
    runs = []

    async def handler() -> str:
        runs.append(1)
        found = defer(Op("get", ("a",)), refused)
        if found == "refused":
            return "the refusal"
        stage(backend, Op("put", ("discarded",)))
        raise MockError("invalid_request", "what a granted read would have led to")

    assert serve(backend, handler) == "the refusal"
    assert len(runs) == 2
    assert backend.written == []  # the writes of the run that was run again are dropped


def test_settle_performs_a_waiting_read_before_what_it_decides_is_shown() -> None:
    backend = FakeShared({"a": "refused"})
    runs = []

    async def handler() -> str:
        runs.append(1)
        found = defer(Op("get", ("a",)), refused)
        settle()
        return f"shown: {found}"

    assert serve(backend, handler) == "shown: refused"
    assert len(runs) == 2
    assert [op.keys[0] for op in backend.performed] == ["a"]


def test_a_deferred_read_of_an_unreachable_backend_is_the_503_where_it_was_asked() -> None:
    backend = FakeShared({}, down=True)
    asked = []

    async def handler() -> Any:
        found = defer(Op("get", ("a",)), refused)
        asked.append(found)
        return fetch(Op("get", ("b",)), both)

    with pytest.raises(MockError) as caught:
        serve(backend, handler)
    assert caught.value.status == 503
    assert asked == [DEFERRED]  # the second run raised where the deferred read was asked
    assert [op.kind for op in backend.performed] == ["both"]
