"""How an answer reaches the socket: the guarded httptools protocol's request cycle
(:class:`mockllm.server.JoinedHeadCycle`) writes the same bytes as uvicorn's own cycle, and
a whole answer (``content-length``) in one write, head and body together; and a kept-alive
connection closes ``timeout_keep_alive`` seconds after its last answer, as uvicorn's does,
with one timer per connection rather than one per request.

Each case sends the same ASGI messages through uvicorn's ``RequestResponseCycle`` and
through mockllm's, over a transport that records its writes, and compares what each wrote,
what each raised and the state each left.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import pytest

from mockllm.server import HeldHead, JoinedHeadCycle, response_head
from mockllm.testing import MockServer

pytest.importorskip("httptools")

from uvicorn.protocols.http.flow_control import FlowControl  # noqa: E402
from uvicorn.protocols.http.httptools_impl import (  # noqa: E402
    STATUS_LINE,
    RequestResponseCycle,
)

DEFAULT_HEADERS = [(b"date", b"Wed, 02 Dec 2026 22:59:04 GMT"), (b"server", b"uvicorn")]


class Recorder:
    """A transport that keeps what is written to it."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def write_eof(self) -> None:
        self.writes.append(b"<eof>")

    def is_closing(self) -> bool:
        return self.closed


def _cycle(joined: bool, method: str, keep_alive: bool) -> tuple[Any, Recorder]:
    recorder = Recorder()
    transport: Any = HeldHead(recorder) if joined else recorder  # type: ignore[arg-type]
    cycle = RequestResponseCycle(
        scope={"type": "http", "method": method},  # type: ignore[typeddict-item]
        transport=transport,
        flow=FlowControl(recorder),  # type: ignore[arg-type]
        logger=logging.getLogger("test"),
        access_logger=logging.getLogger("test.access"),
        access_log=False,
        default_headers=DEFAULT_HEADERS,
        message_event=asyncio.Event(),
        expect_100_continue=False,
        keep_alive=keep_alive,
        on_response=lambda: None,
    )
    if joined:
        cycle.__class__ = JoinedHeadCycle
    return cycle, recorder


def _run(
    joined: bool, messages: list[dict[str, Any]], method: str = "POST", keep_alive: bool = True
) -> tuple[list[bytes], str | None, dict[str, Any]]:
    """The writes, the error (its type and words) and the final state of a cycle sent
    ``messages``; an error ends the cycle as uvicorn's ``run_asgi`` does (the transport is
    closed once the response has started)."""

    async def go() -> tuple[list[bytes], str | None, dict[str, Any]]:
        cycle, recorder = _cycle(joined, method, keep_alive)
        error = None
        try:
            for message in messages:
                await cycle.send(message)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if cycle.response_started:
                cycle.transport.close()
        state = {
            name: getattr(cycle, name)
            for name in (
                "response_started",
                "response_complete",
                "chunked_encoding",
                "expected_content_length",
                "keep_alive",
            )
        }
        state["closed"] = recorder.closed
        return recorder.writes, error, state

    return asyncio.run(go())


def start(headers: list[tuple[bytes, bytes]], status: int = 200) -> dict[str, Any]:
    return {"type": "http.response.start", "status": status, "headers": headers}


def body(data: Any = b"", more: bool = False) -> dict[str, Any]:
    return {"type": "http.response.body", "body": data, "more_body": more}


JSON = [(b"content-type", b"application/json"), (b"content-length", b"11")]

CASES: dict[str, tuple[list[dict[str, Any]], str, bool]] = {
    "json answer": ([start(JSON), body(b'{"a": true}')], "POST", True),
    "many headers": (
        [
            start([(b"x-ratelimit-remaining-%d" % i, b"%d" % i) for i in range(12)] + JSON),
            body(b'{"a": true}'),
        ],
        "POST",
        True,
    ),
    "body in pieces": ([start(JSON), body(b'{"a"', True), body(b": true}")], "POST", True),
    "empty first piece": ([start(JSON), body(b"", True), body(b'{"a": true}')], "POST", True),
    "memoryview body": ([start(JSON), body(memoryview(b'{"a": true}'))], "POST", True),
    "bytearray body": ([start(JSON), body(bytearray(b'{"a": true}'))], "POST", True),
    "large body": (
        [start([(b"content-length", b"200000")]), body(b"x" * 200_000)],
        "POST",
        True,
    ),
    "stream": (
        [start([(b"content-type", b"text/event-stream")]), body(b"data: 1\n\n", True), body()],
        "POST",
        True,
    ),
    "head request": ([start(JSON), body(b'{"a": true}')], "HEAD", True),
    "no keep-alive": ([start(JSON), body(b'{"a": true}')], "POST", False),
    "no keep-alive stream": ([start([]), body(b"x", True), body()], "POST", False),
    "204": ([start([], 204), body()], "POST", True),
    "304 with length": ([start([(b"content-length", b"0")], 304), body()], "GET", True),
    "upper-case names": (
        [start([(b"Content-Type", b"text/plain"), (b"Content-Length", b"2")]), body(b"ok")],
        "POST",
        True,
    ),
    "connection close": (
        [start([(b"connection", b"close"), (b"content-length", b"2")]), body(b"ok")],
        "POST",
        True,
    ),
    "transfer-encoding": (
        [start([(b"transfer-encoding", b"chunked")]), body(b"ok", True), body()],
        "POST",
        True,
    ),
    "two content-lengths": (
        [start([(b"content-length", b"2"), (b"content-length", b"5")]), body(b"ok")],
        "POST",
        True,
    ),
    "list pairs": ([start([[b"content-length", b"2"]]), body(b"ok")], "POST", True),  # type: ignore[list-item]
    "tab in a value": (
        [start([(b"x-a", b"a\tb"), (b"content-length", b"2")]), body(b"ok")],
        "POST",
        True,
    ),
    "non-ascii value": (
        [start([(b"x-a", b"caf\xe9"), (b"content-length", b"2")]), body(b"ok")],
        "POST",
        True,
    ),
    "empty value": ([start([(b"x-a", b""), (b"content-length", b"2")]), body(b"ok")], "POST", True),
    "bad header name": ([start([(b"x a", b"1")]), body()], "POST", True),
    "bad header value": ([start([(b"x-a", b"1\x01")]), body()], "POST", True),
    "header injected in a value": ([start([(b"x-a", b"1\r\nx-b: 2")]), body()], "POST", True),
    "header injected in a name": ([start([(b"x: 1\r\nx-b", b"2")]), body()], "POST", True),
    "bad name after bad value": (
        [start([(b"x-a", b"1\n"), (b"x b", b"2")]), body()],
        "POST",
        True,
    ),
    "bad content-length": ([start([(b"content-length", b"ten")]), body(b"x")], "POST", True),
    "content-length padded": ([start([(b"content-length", b" 2 ")]), body(b"ok")], "POST", True),
    "body longer than its length": ([start(JSON), body(b'{"a": true, "b": 1}')], "POST", True),
    "body shorter than its length": ([start(JSON), body(b"{}")], "POST", True),
    "str header": ([start([("x-a", "1")]), body()], "POST", True),  # type: ignore[list-item]
    "unknown status": ([start(JSON, 999), body(b'{"a": true}')], "POST", True),
    "body first": ([body(b"x")], "POST", True),
    "start twice": ([start(JSON), start(JSON)], "POST", True),
    "after the end": ([start(JSON), body(b'{"a": true}'), body(b"x")], "POST", True),
    "no headers key": ([{"type": "http.response.start", "status": 200}, body()], "POST", True),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_wire_sees_what_uvicorn_writes(name: str) -> None:
    messages, method, keep_alive = CASES[name]
    theirs, their_error, their_state = _run(False, messages, method, keep_alive)
    ours, our_error, our_state = _run(True, messages, method, keep_alive)
    assert b"".join(ours) == b"".join(theirs)
    assert our_error == their_error
    assert our_state == their_state


@pytest.mark.parametrize(
    "name", ["json answer", "many headers", "memoryview body", "no keep-alive", "304 with length"]
)
def test_a_whole_answer_is_one_write(name: str) -> None:
    messages, method, keep_alive = CASES[name]
    ours, _, _ = _run(True, messages, method, keep_alive)
    assert len(ours) == 1


def test_a_stream_head_is_written_before_its_body() -> None:
    async def go() -> None:
        cycle, recorder = _cycle(True, "POST", True)
        await cycle.send(start([(b"content-type", b"text/event-stream")]))
        assert len(recorder.writes) == 1 and recorder.writes[0].endswith(b"\r\n\r\n")

    asyncio.run(go())


def test_a_head_request_head_is_written_at_once() -> None:
    async def go() -> None:
        cycle, recorder = _cycle(True, "HEAD", True)
        await cycle.send(start(JSON))
        assert len(recorder.writes) == 1

    asyncio.run(go())


def test_a_held_head_goes_out_before_the_connection_closes() -> None:
    recorder = Recorder()
    held = HeldHead(recorder)  # type: ignore[arg-type]
    held.head = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"
    held.close()
    assert recorder.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"]
    assert recorder.closed and held.head is None


class SoonLoop:
    """A loop that runs its ``call_soon`` callbacks when told."""

    def __init__(self) -> None:
        self.soon: list[Any] = []

    def call_soon(self, callback: Any) -> None:
        self.soon.append(callback)

    def run(self) -> None:
        soon, self.soon = self.soon, []
        for callback in soon:
            callback()


def _deferring() -> tuple[HeldHead, SoonLoop, Recorder]:
    recorder, loop = Recorder(), SoonLoop()
    return HeldHead(recorder, loop), loop, recorder  # type: ignore[arg-type]


def test_a_whole_answer_goes_out_at_the_end_of_the_round() -> None:
    held, loop, recorder = _deferring()
    held.head = b"HEAD\r\n\r\n"
    held.write(b"body")
    assert recorder.writes == []
    loop.run()
    assert recorder.writes == [b"HEAD\r\n\r\nbody"]
    loop.run()
    assert recorder.writes == [b"HEAD\r\n\r\nbody"]


def test_what_follows_a_deferred_answer_keeps_its_place() -> None:
    held, loop, recorder = _deferring()
    held.head = b"H1 "
    held.write(b"one")
    held.write(b"more of one")  # the rest of a body in pieces
    held.head = b"H2 "  # the next (pipelined) answer
    held.write(b"two")
    held.write(b"431 of a third request")  # the protocol's own write
    held.write_eof()
    loop.run()
    assert recorder.writes == [
        b"H1 one",
        b"more of one",
        b"H2 two",
        b"431 of a third request",
        b"<eof>",
    ]
    held.head = b"H3 "
    held.write(b"three")
    held.close()
    assert recorder.writes[-1] == b"H3 three" and recorder.closed
    loop.run()
    assert recorder.writes[-1] == b"H3 three"


def test_a_large_answer_is_not_deferred() -> None:
    held, loop, recorder = _deferring()
    held.head = b"HEAD "
    held.write(b"x" * (HeldHead.JOIN_BYTES + 1))
    assert recorder.writes == [b"HEAD ", b"x" * (HeldHead.JOIN_BYTES + 1)]


def test_a_deferred_answer_is_dropped_with_its_connection() -> None:
    held, loop, recorder = _deferring()
    held.head = b"HEAD "
    held.write(b"body")
    held.drop()
    loop.run()
    assert recorder.writes == []
    held.head = b"HEAD "
    held.write(b"body")
    recorder.closed = True  # closed under it (the peer went away)
    loop.run()
    assert recorder.writes == []


def test_response_head_declines_what_uvicorn_treats_itself() -> None:
    assert response_head(start([(b"Content-Length", b"2")]), DEFAULT_HEADERS, STATUS_LINE) is None
    assert response_head(start([(b"connection", b"close")]), DEFAULT_HEADERS, STATUS_LINE) is None
    assert response_head(start([]), [], STATUS_LINE) is None
    head, length = response_head(start(JSON), DEFAULT_HEADERS, STATUS_LINE) or (b"", None)
    assert length == 11
    assert head == (
        b"HTTP/1.1 200 OK\r\ndate: Wed, 02 Dec 2026 22:59:04 GMT\r\nserver: uvicorn\r\n"
        b"content-type: application/json\r\ncontent-length: 11\r\n"
    )


def test_a_real_server_answers_whole_in_one_segment() -> None:
    """Over a socket: a chat completion's head and body come in the same read (one write;
    loopback delivers it whole), and the connection serves the next request."""
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        b"content-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
    )
    payload = b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}'
    with MockServer(config_text="responses:\n  hello: hi there\n") as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            for _ in range(2):
                sock.sendall(request % (len(payload), payload))
                data = sock.recv(65536)
                head, _, rest = data.partition(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                assert head.startswith(b"HTTP/1.1 200 OK")
                assert len(rest) == length and b"hi there" in rest


# --- keep-alive: one timer per connection ---------------------------------------------------


class FakeLoop:
    """A loop clock that only moves when told, and the timers armed on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[tuple[float, Any, FakeTimer]] = []
        self.armed = 0

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Any) -> FakeTimer:
        timer = FakeTimer()
        self.timers.append((self.now + delay, callback, timer))
        self.armed += 1
        return timer

    def advance(self, to: float) -> None:
        """Move the clock to ``to``, running the timers due on the way, in order."""
        while True:
            due = sorted(
                (t for t in self.timers if t[0] <= to and not t[2].cancelled), key=lambda t: t[0]
            )
            if not due:
                break
            when, callback, timer = due[0]
            self.timers.remove(due[0])
            self.now = when
            callback()
        self.now = to

    def pending(self) -> list[float]:
        return sorted(when for when, _, timer in self.timers if not timer.cancelled)


class FakeTimer:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


def _idle_protocol(keep_alive: float = 5.0) -> tuple[Any, FakeLoop, Recorder]:
    from collections import deque
    from types import SimpleNamespace

    from mockllm.server import GuardedHttpToolsProtocol

    protocol: Any = object.__new__(GuardedHttpToolsProtocol)
    loop, transport = FakeLoop(), Recorder()
    protocol.loop = loop
    protocol.transport = transport
    protocol.timeout_keep_alive = keep_alive
    protocol.server_state = SimpleNamespace(total_requests=0)
    protocol.flow = SimpleNamespace(resume_reading=lambda: None)
    protocol.pipeline = deque()
    return protocol, loop, transport


def test_an_idle_connection_closes_keep_alive_seconds_after_its_last_answer() -> None:
    protocol, loop, transport = _idle_protocol()
    protocol.on_response_complete()  # t = 0
    loop.advance(1.0)
    protocol._unset_keepalive_if_required()  # the next request arrives
    loop.advance(2.0)
    protocol.on_response_complete()  # ... and is answered: idle from t = 2
    assert loop.armed == 1  # the timer armed at t = 0 still stands
    loop.advance(6.9)
    assert not transport.closed  # the first timer found it idle for 3 s only: re-armed
    loop.advance(7.0)
    assert transport.closed
    assert protocol.server_state.total_requests == 2


def test_a_busy_connection_is_not_closed_and_its_next_answer_arms_the_timer() -> None:
    protocol, loop, transport = _idle_protocol()
    protocol.on_response_complete()
    loop.advance(1.0)
    protocol._unset_keepalive_if_required()  # a long request from t = 1
    loop.advance(20.0)
    assert not transport.closed and loop.pending() == []
    protocol.on_response_complete()
    assert loop.pending() == [25.0]
    loop.advance(25.0)
    assert transport.closed


def test_many_quick_requests_arm_few_timers() -> None:
    protocol, loop, transport = _idle_protocol()
    for request in range(1000):
        loop.advance(request * 0.01)
        protocol._unset_keepalive_if_required()
        protocol.on_response_complete()
    assert loop.armed <= 4 and not transport.closed
    loop.advance(9.99 + 5.0)
    assert transport.closed


def test_a_closing_connection_arms_no_timer() -> None:
    protocol, loop, transport = _idle_protocol()
    transport.closed = True
    protocol.on_response_complete()
    assert loop.armed == 0
