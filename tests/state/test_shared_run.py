"""How synchronous code reads a shared state (mockllm.state.shared): a handler runs again as
each result arrives, gets the results in the order it asked, and only the run that completes
has its writes queued."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mockllm.core import outcome
from mockllm.core.errors import MockError
from mockllm.state.shared import Backend, Op, fetch, resolving, stage, unavailable


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
        return self.values[op.keys[0]]


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
