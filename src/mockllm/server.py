"""How mockllm is served by uvicorn: one set of options for ``mockllm serve`` and for
:class:`mockllm.testing.MockServer`, and the HTTP protocol that guards the connections.

uvicorn's own HTTP/1.1 protocols read request headers without a size limit and without a
deadline: a client that sends its headers a byte at a time (or never finishes them) holds a
connection, and a file descriptor, for ever, and a client that sends 10 MB of headers has
them buffered in memory. :class:`GuardedHttpToolsProtocol` (and :class:`GuardedH11Protocol`
when httptools is not installed) adds, per connection:

* a **header budget** (``limits.max_header_bytes``, ``MOCKLLM_LIMIT_MAX_HEADER_BYTES``): the
  bytes of a request's line and headers, counted as they arrive and before the parser buffers
  them. Past it the client gets ``431 Request Header Fields Too Large`` and the connection is
  closed; at most one read (256 KiB) beyond the budget is ever held.
* a **header deadline** (``limits.header_timeout_seconds``): a connection's first request
  must have its complete line and headers within that time of the connection being made; a
  later request on a kept-alive connection within that time of its first bytes. Otherwise
  the connection is closed (with a ``408`` when part of a request had arrived).

Idle kept-alive connections are closed by uvicorn after ``limits.keep_alive_seconds``
(``timeout_keep_alive``). The checks cost one integer subtraction and comparison per read
while a request's headers are incomplete, and one timer per connection (one more per
kept-alive request whose headers take more than one read).

The httptools protocol's request cycles (:class:`JoinedHeadCycle`) write a response's head
in C rather than header by header, and a whole answer's head and body in one write (one
system call and one TCP segment instead of two), at the end of the event loop's round of
callbacks (:class:`HeldHead`): the answers of one round leave together, waking the client
side once. The bytes on the wire, and their order, are uvicorn's.

The httptools protocol also holds the **fast lane** (:mod:`mockllm.fastlane`): a kept-alive
HTTP/1.1 ``POST`` to one of the app's lane routes (``MockLLMApp.lanes``) is read whole
before any ASGI request is made for it, then offered to the lane; what the lane answers is
written as a whole answer is, and anything else (the lane declines, the body grows past
its limit, the server shuts down meanwhile) becomes uvicorn's request cycle with the body
read so far, as if it had been made when the headers were complete.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import re
import socket
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import orjson
import uvicorn
from uvicorn.server import ServerState

from .core.limits import Limits
from .settings import Settings

if TYPE_CHECKING:
    from .fastlane import LaneRoute

log = logging.getLogger("mockllm.connections")

HttpImplementation = Literal["auto", "httptools", "h11"]
"""Which HTTP/1.1 parser serves: ``auto`` is httptools when it is installed, else h11."""

LINGER_BYTES = 1024 * 1024
"""After a 431, bytes of the refused request still read (and dropped) so that the client,
which may still be sending, can read the answer before the connection closes."""
LINGER_SECONDS = 1.0
"""After a 431, how long the connection may linger (reading and dropping) at most."""

_DEFAULT = Limits()

try:
    import httptools  # noqa: F401  # the C parser; h11 (pure Python) is the fallback
except ImportError:  # pragma: no cover - uvicorn[standard] installs it
    HAVE_HTTPTOOLS = False
else:
    HAVE_HTTPTOOLS = True


def _error_response(
    status: int, reason: str, message: str, default_headers: list[tuple[bytes, bytes]]
) -> bytes:
    """A complete HTTP/1.1 response ``status`` with a JSON error body and
    ``connection: close``, as bytes for ``transport.write``."""
    body = orjson.dumps({"error": {"message": message, "type": "invalid_request_error"}})
    lines = [f"HTTP/1.1 {status} {reason}\r\n".encode("ascii")]
    lines += [name + b": " + value + b"\r\n" for name, value in default_headers]
    lines.append(
        b"content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
        % len(body)
    )
    lines.append(body)
    return b"".join(lines)


def _too_large_message(max_header_bytes: int) -> str:
    return (
        f"mockllm: the request line and headers exceed {max_header_bytes} bytes "
        "(MOCKLLM_LIMIT_MAX_HEADER_BYTES)."
    )


def _timeout_message(seconds: float) -> str:
    return (
        f"mockllm: the request line and headers were not complete within {seconds:g} s "
        "(MOCKLLM_LIMIT_HEADER_TIMEOUT_SECONDS)."
    )


class _Guard:
    """The state and actions shared by both guarded protocols; the subclasses decide when a
    request's head is open (being received) and feed the parser."""

    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    server_state: ServerState
    client: tuple[str, int] | None

    cycle: Any

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        max_header_bytes: int = _DEFAULT.max_header_bytes,
        header_timeout: float = _DEFAULT.header_timeout_seconds,
    ) -> None:
        """uvicorn's protocol arguments, then the header budget and deadline (defaults:
        :class:`~mockllm.core.limits.Limits`; :func:`uvicorn_options` binds the settings)."""
        super().__init__(config, server_state, app_state, _loop)  # type: ignore[call-arg]
        self._guard_init(max_header_bytes, header_timeout)

    def _guard_init(self, max_header_bytes: int, header_timeout: float) -> None:
        self.max_header_bytes = max_header_bytes
        self.header_timeout = header_timeout
        # Budget left for the head being received (reset when a request has been read).
        self._head_left = max_header_bytes
        self._head_timer: asyncio.TimerHandle | None = None
        self._linger_timer: asyncio.TimerHandle | None = None
        self._refused = False  # a 431 was sent: what follows is read and dropped
        self._dropped = 0

    def _request_in_progress(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        timer = self._head_timer
        if timer is not None:
            timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        transport = self.transport
        if transport.is_closing():
            return
        if self._request_in_progress():
            # A pipelined request began while the previous one is still being answered:
            # give it the full time again rather than cut the answer in progress.
            self._arm_head_timer()
            return
        if self._head_left != self.max_header_bytes:  # part of a request arrived
            log.info(
                "closed a connection from %s: request headers incomplete after %g s",
                _peer(self.client),
                self.header_timeout,
            )
            transport.write(
                _error_response(
                    408,
                    "Request Timeout",
                    _timeout_message(self.header_timeout),
                    self.server_state.default_headers,
                )
            )
        transport.close()

    def _refuse_head(self) -> None:
        """Answer 431 and stop parsing: what the client still sends is dropped (up to
        :data:`LINGER_BYTES`, for :data:`LINGER_SECONDS`), then the connection closes."""
        self._refused = True
        self._disarm_head_timer()
        transport = self.transport
        log.warning(
            "431: request headers from %s larger than %d bytes (MOCKLLM_LIMIT_MAX_HEADER_BYTES)",
            _peer(self.client),
            self.max_header_bytes,
        )
        if self._request_in_progress():
            # Pipelined behind an answer still being written: a 431 cannot be put on the
            # wire in order, so the connection just closes.
            transport.close()
            return
        transport.write(
            _error_response(
                431,
                "Request Header Fields Too Large",
                _too_large_message(self.max_header_bytes),
                self.server_state.default_headers,
            )
        )
        if transport.can_write_eof():
            transport.write_eof()  # the client reads the answer, then the end of it
        self._linger_timer = self.loop.call_later(LINGER_SECONDS, transport.close)

    def _drop(self, data: bytes) -> None:
        self._dropped += len(data)
        if self._dropped > LINGER_BYTES:
            self.transport.close()

    def _guard_lost(self) -> None:
        self._disarm_head_timer()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "a client"


class HeldHead:
    """A connection's transport as its protocol and request cycles see it: the head of a
    whole answer (one with ``content-length``), once :attr:`head` holds it, goes out with
    the first write of the body, or before the connection closes: the same bytes on the
    wire, one write (one system call, one TCP segment) instead of two.

    With ``loop``, that write of a whole answer is itself deferred to the end of the
    loop's current round of callbacks (``call_soon``): the answers made in one round go
    out together, after the round's work, so the client side is woken once per round
    rather than once per answer. Any other write, ``write_eof`` and ``close`` write what
    is pending first: the connection's bytes keep their order. Anything else is the
    transport's."""

    __slots__ = ("transport", "head", "pending", "loop")

    JOIN_BYTES = 64 * 1024
    """Largest body joined to the head in one buffer; a larger one is written after it
    (at once)."""

    def __init__(
        self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        self.transport = transport
        self.loop = loop
        self.head: bytes | None = None
        self.pending: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.pending is not None:
            self.flush()
        head = self.head
        if head is not None:
            self.head = None
            if len(data) <= self.JOIN_BYTES:
                joined = b"".join((head, data))
                if self.loop is None:
                    self.transport.write(joined)
                else:
                    self.pending = joined
                    self.loop.call_soon(self.flush)
                return
            self.transport.write(head)
        self.transport.write(data)

    def write_later(self, data: bytes) -> None:
        """Write ``data``, a whole answer, as a whole answer's write is deferred: at the
        end of the loop's round (at once without ``loop``), after what is pending."""
        pending = self.pending
        if pending is not None:
            self.pending = pending + data
        elif self.loop is None:
            self.transport.write(data)
        else:
            self.pending = data
            self.loop.call_soon(self.flush)

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def flush(self) -> None:
        """Write the deferred answer, if any (nothing once the connection is closing)."""
        pending = self.pending
        if pending is not None:
            self.pending = None
            if not self.transport.is_closing():
                self.transport.write(pending)

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def close(self) -> None:
        self.flush()
        head = self.head
        if head is not None:
            self.head = None
            self.transport.write(head)
        self.transport.close()

    def drop(self) -> None:
        """Forget what is held or pending (the connection is lost)."""
        self.head = self.pending = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


_HEADER_LINES = re.compile(
    rb"(?:[^\x00-\x1f\x7f()<>@,;:\[\]={} \t\\\"A-Z]*: [^\x00-\x08\x0a-\x1f\x7f]*\r\n)*"
)
"""Header lines as uvicorn writes them when it accepts them: a name without a character
its ``HEADER_RE`` refuses (nor an upper-case letter: uvicorn would lower it), a value
without one its ``HEADER_VALUE_RE`` refuses."""
_CONTENT_LENGTH = b"\ncontent-length: "


def response_head(
    message: Any, default_headers: list[tuple[bytes, bytes]], status_lines: dict[int, bytes]
) -> tuple[bytes, int | None] | None:
    """The status line and header lines (without the closing blank line) that uvicorn's
    httptools cycle writes for the ``http.response.start`` ``message``, and the value of
    its first ``content-length`` (None: none); None when the fast way does not apply
    (any header it would refuse, lower or treat specially: uvicorn's own ``send`` then
    writes, or refuses, the head). Computed in C: one join, one match."""
    try:
        pairs = default_headers + list(message.get("headers", ()))
        status_line = status_lines[message["status"]]
        if not pairs:
            return None
        head = b"".join((status_line, b"\r\n".join(map(b": ".join, pairs)), b"\r\n"))
    except Exception:
        return None
    if (
        _HEADER_LINES.fullmatch(head, len(status_line)) is None
        or head.count(b"\n") != len(pairs) + 1  # a CR LF inside a name or value
    ):
        return None
    if b"\ntransfer-encoding: " in head or b"\nconnection: " in head:
        return None
    at = head.find(_CONTENT_LENGTH)
    if at < 0:
        return head, None
    start = at + len(_CONTENT_LENGTH)
    try:
        length = int(head[start : head.index(b"\r", start)].decode())
    except ValueError:
        return None
    return head, length


_prefixes: dict[int, tuple[list[tuple[bytes, bytes]], bytes | None]] = {}


def answer_prefix(
    default_headers: list[tuple[bytes, bytes]], status_lines: dict[int, bytes]
) -> bytes | None:
    """The status line and the server's own header lines of a 200 answer, as a request
    cycle writes them before an answer's headers (uvicorn's ``default_headers``: the date
    and ``server``, made anew every second); None when uvicorn would write them otherwise
    (a header it lowers, refuses or treats itself). Remembered for the list given."""
    found = _prefixes.get(200)
    if found is not None and found[0] is default_headers:
        return found[1]
    prefix: bytes | None = status_lines[200]
    if default_headers:
        made = response_head({"status": 200, "headers": []}, default_headers, status_lines)
        prefix = made[0] if made is not None and made[1] is None else None
    _prefixes[200] = (default_headers, prefix)
    return prefix


def _lanes_of(app: Any) -> Any:
    """The fast lane's routes of ``app`` (:attr:`mockllm.app.MockLLMApp.lanes`), through
    uvicorn's proxy-headers middleware (which changes nothing the lane reads); None when
    the app is not mockllm's or another middleware wraps it."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    while type(app) is ProxyHeadersMiddleware:
        app = app.app
    lanes = getattr(app, "lanes", None)
    return lanes or None


if HAVE_HTTPTOOLS:
    from uvicorn.protocols.http.httptools_impl import (
        STATUS_LINE,
        HttpToolsProtocol,
        RequestResponseCycle,
    )
    from uvicorn.protocols.utils import get_client_addr

    # The parent's methods, called directly: cheaper than super() on the per-request path.
    _feed = HttpToolsProtocol.data_received
    _headers_complete = HttpToolsProtocol.on_headers_complete
    _message_complete = HttpToolsProtocol.on_message_complete
    _on_body = HttpToolsProtocol.on_body
    _cycle_send = RequestResponseCycle.send

    def _forwarded(headers: list[tuple[bytes, bytes]]) -> bool:
        """Whether ``headers`` hold one that uvicorn's proxy-headers middleware reads."""
        return any(name.startswith(b"x-forwarded-") for name, _ in headers)

    class JoinedHeadCycle(RequestResponseCycle):
        """uvicorn's httptools request cycle, writing the head of a response in C
        (:func:`response_head`) and, for a whole answer (``content-length``), in the same
        write as its body (:class:`HeldHead`). What reaches the wire is what uvicorn
        writes; whatever the fast way does not cover is uvicorn's own ``send``."""

        async def send(self, message: Any) -> None:
            if (
                self.response_started
                or self.access_log
                or self.disconnected
                or self.flow.write_paused
                or message["type"] != "http.response.start"
            ):
                return await _cycle_send(self, message)
            found = response_head(message, self.default_headers, STATUS_LINE)
            if found is None:
                return await _cycle_send(self, message)
            head, length = found
            self.response_started = True
            self.waiting_for_100_continue = False
            if length is not None:
                self.expected_content_length = length
                self.chunked_encoding = False
            if not self.keep_alive:
                head += b"connection: close\r\n"
            status = message["status"]
            if self.chunked_encoding is None and self.scope["method"] != "HEAD":
                if status not in (204, 304):
                    self.chunked_encoding = True
                    head += b"transfer-encoding: chunked\r\n"
            head += b"\r\n"
            transport: Any = self.transport
            if (
                self.chunked_encoding is False
                and type(transport) is HeldHead
                and self.scope["method"] != "HEAD"
            ):
                transport.head = head  # written with the body
            else:
                transport.write(head)

    class GuardedHttpToolsProtocol(_Guard, HttpToolsProtocol):
        """uvicorn's httptools protocol with a header budget and a header deadline (see the
        module docstring). ``max_header_bytes`` and ``header_timeout`` default to
        :class:`~mockllm.core.limits.Limits`' defaults; :func:`uvicorn_options` binds the
        values of the settings."""

        # True from a request's last byte (or the connection's start) to the next
        # request's complete headers: the bytes read are counted (set per instance).
        _in_head = True
        # Keep-alive: when the connection's last answer was completed (None: a request is
        # in progress), and the one timer that checks it (see on_response_complete).
        _idle_since: float | None = None
        _idle_timer: asyncio.TimerHandle | None = None
        # The fast lane (mockllm.fastlane): the app's lane routes by request target (None:
        # none), the lane route of the request being read (None: it is not a lane
        # request, or no longer), and that request's body so far.
        _lanes: Mapping[bytes, LaneRoute] | None = None
        _lane: LaneRoute | None = None
        _lane_body = b""

        def _request_in_progress(self) -> bool:
            return self._lane is not None or super()._request_in_progress()

        def shutdown(self) -> None:
            if self._lane is not None:  # the serving path answers it, then closes
                self._leave_lane()
            super().shutdown()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            # Every write of the connection, the protocol's and its cycles', goes through
            # the held head's transport, so that a deferred answer keeps its place.
            self._held = HeldHead(transport, self.loop)
            self.transport = self._held  # type: ignore[assignment]
            self._arm_head_timer()
            if not self.root_path and self.limit_concurrency is None:
                self._lanes = _lanes_of(self.app)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._lane is not None:  # mid-body: the serving path sees the disconnect
                self._leave_lane()
            self._guard_lost()
            self._held.drop()
            if self._idle_timer is not None:
                self._idle_timer.cancel()
                self._idle_timer = None
            super().connection_lost(exc)

        def _unset_keepalive_if_required(self) -> None:
            # uvicorn cancels its keep-alive timer here (each read, each answer): the
            # connection is busy, which the timer finds out when it fires.
            self._idle_since = None

        def on_response_complete(self) -> None:
            """uvicorn's, but a kept-alive connection goes idle without a timer made and
            cancelled per request: one timer per connection, armed when none is, checks
            when it fires whether the connection has been idle ``timeout_keep_alive``
            seconds (then closes it, as uvicorn does), is busy (then the next answer arms
            it again) or became idle later (then it waits the time left)."""
            self.server_state.total_requests += 1
            if self.transport.is_closing():
                return
            self._idle_since = None
            self.flow.resume_reading()
            if self.pipeline:
                cycle, app = self.pipeline.pop()
                self._start_asgi_task(cycle, app)
                return
            self._idle_since = self.loop.time()
            if self._idle_timer is None:
                self._idle_timer = self.loop.call_later(self.timeout_keep_alive, self._idle)

        def _idle(self) -> None:
            self._idle_timer = None
            since = self._idle_since
            if since is None or self.transport.is_closing():
                return
            left = since + self.timeout_keep_alive - self.loop.time()
            if left > 0:
                self._idle_timer = self.loop.call_later(left, self._idle)
            else:
                self.timeout_keep_alive_handler()

        def data_received(self, data: bytes) -> None:
            if not self._in_head:
                if self._refused:
                    self._drop(data)
                else:
                    _feed(self, data)
                return
            left = self._head_left - len(data)
            if left < 0:
                self._over_budget(data)
                return
            self._head_left = left  # before parsing: a complete request resets it
            _feed(self, data)
            if (
                self._head_left != self.max_header_bytes
                and self._in_head
                and self._head_timer is None
                and not self.transport.is_closing()
            ):
                # A kept-alive connection's next request began and its headers are not
                # complete in this read: they have header_timeout from now.
                self._arm_head_timer()

        def _over_budget(self, data: bytes) -> None:
            """``data`` is more than the head's budget: parse what the budget allows; when
            the headers are complete within it, parse the rest normally, else refuse."""
            left = self._head_left
            self._head_left = 0
            if left:
                _feed(self, data[:left])
                if self.transport.is_closing() or self._refused:
                    return
            # Complete headers either ended the head (_in_head False) or, with the whole
            # request, reset the budget for the next one.
            if self._in_head and self._head_left == 0:
                self._in_head = False
                self._refuse_head()
                return
            self.data_received(data[left:])

        def on_headers_complete(self) -> None:
            self._in_head = False
            if self._head_timer is not None:
                self._disarm_head_timer()
            lanes = self._lanes
            if lanes is not None:
                route = lanes.get(self.url)
                if route is not None and self._lane_takes() and route.admits(self.headers):
                    self._lane = route
                    self._lane_body = b""
                    return
            self._start_cycle()

        def _lane_takes(self) -> bool:
            """Whether the request whose headers are complete may wait for the lane: a
            kept-alive HTTP/1.1 ``POST``, no ``100-continue`` to answer, no upgrade, no
            answer in progress or queued on the connection, nothing the connection's
            writes wait for, and, when the access log is on, no ``x-forwarded-*`` header
            (uvicorn's proxy-headers middleware would change the client it logs)."""
            parser = self.parser
            cycle = self.cycle
            return (
                parser.get_method() == b"POST"
                and not self.expect_100_continue
                and (cycle is None or cycle.response_complete)
                and not self.pipeline
                and not (self.access_log and _forwarded(self.headers))
                and not self.flow.write_paused
                and parser.get_http_version() == "1.1"
                and parser.should_keep_alive()
                and not parser.should_upgrade()
            )

        def _start_cycle(self) -> None:
            """uvicorn's request cycle for the request whose headers are complete (its
            ASGI task started, or queued behind the answer in progress)."""
            _headers_complete(self)
            cycle = self.cycle
            if type(cycle) is RequestResponseCycle:  # not an upgrade: the cycle just made
                cycle.__class__ = JoinedHeadCycle  # its transport is the held head's

        def _leave_lane(self) -> None:
            """The lane request being read takes the serving path: its cycle, with the
            body read so far."""
            self._lane = None
            body, self._lane_body = self._lane_body, b""
            self._start_cycle()
            if body:
                _on_body(self, body)

        def on_body(self, body: bytes) -> None:
            route = self._lane
            if route is None:
                _on_body(self, body)
                return
            self._lane_body += body
            if len(self._lane_body) > route.max_body:
                self._leave_lane()

        def on_message_complete(self) -> None:
            route = self._lane
            if route is not None:
                self._lane_complete(route)
            else:
                _message_complete(self)
            self._in_head = True
            self._head_left = self.max_header_bytes

        def _lane_complete(self, route: LaneRoute) -> None:
            """The lane request is complete: the lane's answer, written as a whole answer
            is (at the end of the round), or the serving path's."""
            answer = None
            prefix = answer_prefix(self.server_state.default_headers, STATUS_LINE)
            if prefix is not None:
                try:
                    answer = route.answer(self.headers, self._lane_body, prefix)
                except Exception:
                    log.exception(
                        "fast lane: error in POST %s; the serving path answers", route.path
                    )
            if answer is None:
                self._leave_lane()
                _message_complete(self)
                return
            self._lane = None
            self._lane_body = b""
            if self.access_log:  # the line uvicorn's cycle logs as it starts an answer
                self.access_logger.info(
                    '%s - "%s %s HTTP/%s" %d',
                    get_client_addr(self.scope),
                    "POST",
                    route.path,
                    "1.1",
                    200,
                )
            self._held.write_later(answer)
            self.on_response_complete()


@functools.cache
def _guarded_h11_protocol() -> type[asyncio.Protocol]:
    """:class:`GuardedH11Protocol`, defined on first use: h11 (pure Python) is imported only
    when it serves (httptools not installed, or ``http="h11"`` asked for)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(_Guard, H11Protocol):
        """uvicorn's h11 protocol (the fallback when httptools is not installed) with the same
        header budget and deadline as :class:`GuardedHttpToolsProtocol`. h11's own
        ``h11_max_incomplete_event_size`` is set to the same budget by :func:`uvicorn_options`."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_head_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._guard_lost()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._refused:
                self._drop(data)
                return
            if self.conn.their_state is not h11.IDLE:  # a body, or data pipelined behind one
                super().data_received(data)
                self._after_read()
                return
            left = self._head_left - len(data)
            if left >= 0:
                self._head_left = left
                super().data_received(data)
            else:
                left = self._head_left
                self._head_left = 0
                if left:
                    super().data_received(data[:left])
                    if self.transport.is_closing():
                        return
                if self.conn.their_state is h11.IDLE:
                    self._refuse_head()
                    return
                super().data_received(data[left:])
            self._after_read()

        def _after_read(self) -> None:
            if self.transport.is_closing():
                return
            if self.conn.their_state is not h11.IDLE:  # the headers are complete
                self._head_left = self.max_header_bytes
                self._disarm_head_timer()
            elif self._head_timer is None and self._head_left != self.max_header_bytes:
                self._arm_head_timer()

    # Found by pickle (worker processes get the protocol factory pickled) as a module global.
    GuardedH11Protocol.__qualname__ = "GuardedH11Protocol"
    return GuardedH11Protocol


if TYPE_CHECKING:
    GuardedH11Protocol: type[asyncio.Protocol]
    """uvicorn's h11 protocol with the guards (see :func:`_guarded_h11_protocol`)."""
else:

    def __getattr__(name: str) -> Any:
        if name == "GuardedH11Protocol":
            return _guarded_h11_protocol()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def protocol_class(http: HttpImplementation = "auto") -> type[asyncio.Protocol]:
    """The guarded protocol class for ``http``: httptools' unless ``h11`` is asked for or
    httptools is not installed (asking for ``httptools`` then raises ``RuntimeError``)."""
    if http == "h11":
        return _guarded_h11_protocol()
    if HAVE_HTTPTOOLS:
        return GuardedHttpToolsProtocol
    if http == "httptools":
        raise RuntimeError("httptools is not installed")
    return _guarded_h11_protocol()  # pragma: no cover


def protocol_factory(limits: Limits, http: HttpImplementation = "auto") -> Callable[..., Any]:
    """What uvicorn's ``http=`` option takes: the guarded protocol class with ``limits``'
    header budget and deadline bound (a :func:`functools.partial`, which pickles, so worker
    processes get it too)."""
    cls: Callable[..., asyncio.Protocol] = protocol_class(http)
    return functools.partial(
        cls,
        max_header_bytes=limits.max_header_bytes,
        header_timeout=limits.header_timeout_seconds,
    )


class _EagerListener:
    """A listening TCP socket that accepts every pending connection each time it is
    readable. uvloop (libuv) accepts one connection per turn of the event loop, so a burst
    of new connections to a busy server (a load test opening 64 at once) waits one turn
    each, hundreds of milliseconds for the last; here the whole backlog is taken at once.
    Quacks like the ``asyncio.Server`` uvicorn expects (``sockets``, ``close``,
    ``wait_closed``)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        listener: socket.socket,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
    ) -> None:
        self._loop = loop
        self._listener = listener
        self._factory = protocol_factory
        self._closed = False
        self.sockets = [listener]
        loop.add_reader(listener.fileno(), self._accept)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    # Out of descriptors: stop accepting for a moment rather than spin.
                    self._loop.remove_reader(self._listener.fileno())
                    self._loop.call_later(0.1, self._resume)
                return
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._loop.create_task(self._connect(conn))

    async def _connect(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._factory, conn)
        except OSError:
            conn.close()

    def _resume(self) -> None:
        if not self._closed:
            self._loop.add_reader(self._listener.fileno(), self._accept)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._loop.remove_reader(self._listener.fileno())
            self._listener.close()

    async def wait_closed(self) -> None:
        return None

    def is_serving(self) -> bool:
        return not self._closed


def _eager_loop_class() -> type[asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # no uvloop on this platform: uvicorn's default loop
        return None

    class EagerLoop(uvloop.Loop):
        """uvloop, with a listener that accepts a whole burst of connections at once
        (:class:`_EagerListener`) when uvicorn binds a host and port itself."""

        async def create_server(  # type: ignore[override]
            self,
            protocol_factory: Callable[[], asyncio.BaseProtocol],
            host: str | None = None,
            port: int | None = None,
            *,
            sock: socket.socket | None = None,
            backlog: int = 100,
            ssl: Any = None,
            **kw: Any,
        ) -> Any:
            if ssl is not None or sock is not None or host is None or port is None:
                create: Any = super().create_server
                return await create(
                    protocol_factory, host, port, sock=sock, backlog=backlog, ssl=ssl, **kw
                )
            listener = _bound_early.pop((host, port), None)
            if listener is None:
                listener = socket.create_server((host, port), backlog=backlog)
            else:
                listener.listen(backlog)
            listener.setblocking(False)
            return _EagerListener(self, listener, protocol_factory)

    return EagerLoop


_bound_early: dict[tuple[str, int], socket.socket] = {}
"""Sockets that :func:`listen_early` bound, by the address uvicorn will ask for."""


def listen_early(host: str, port: int) -> Callable[[], None]:
    """Listen on ``host:port`` now, before uvicorn starts: the listener that uvicorn then
    asks :data:`EAGER_LOOP` for at that address takes this socket over. A client that
    connects meanwhile (one polling for the server's start) waits in the listen queue and
    is answered as soon as the server serves, instead of being refused and trying again a
    poll interval later. Returns what closes the socket if no listener took it (call it
    once uvicorn has returned). Binds nothing without uvloop, or when the address cannot
    be bound now: uvicorn then binds it, and reports why it cannot."""
    key = (host, port)

    def forget() -> None:
        unused = _bound_early.pop(key, None)
        if unused is not None:
            unused.close()

    if EAGER_LOOP is not None and key not in _bound_early:
        try:
            _bound_early[key] = socket.create_server(key)
        except OSError:
            pass
    return forget


EAGER_LOOP = _eager_loop_class()
"""uvloop's loop class with the eager listener (None without uvloop); uvicorn's ``loop``
option names it as ``mockllm.server:EAGER_LOOP``."""


def uvicorn_options(settings: Settings, *, http: HttpImplementation = "auto") -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config`` / ``uvicorn.run`` serving ``settings``:
    address, log level, the guarded HTTP protocol (:func:`protocol_factory`), uvloop with
    a listener that accepts a burst of connections at once (:data:`EAGER_LOOP`), the
    keep-alive timeout, h11's header budget, no WebSocket, a 5 s graceful shutdown.

    Callers add what only they know: the app (or factory), ``workers``, ``log_config``. Both
    ``mockllm serve`` and :class:`mockllm.testing.MockServer` serve with these, so the
    connection limits tested are the ones served.
    """
    limits = Limits.from_settings(settings)
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": settings.log_level in ("debug", "trace"),
        "http": protocol_factory(limits, http),
        "loop": "mockllm.server:EAGER_LOOP" if EAGER_LOOP is not None else "auto",
        "ws": "none",  # no dialect speaks WebSocket: do not import a WebSocket library
        "timeout_keep_alive": limits.keep_alive_seconds,
        "h11_max_incomplete_event_size": limits.max_header_bytes,
        "timeout_graceful_shutdown": 5,
    }


__all__ = [
    "GuardedH11Protocol",
    "GuardedHttpToolsProtocol",
    "HttpImplementation",
    "listen_early",
    "protocol_class",
    "protocol_factory",
    "uvicorn_options",
]
