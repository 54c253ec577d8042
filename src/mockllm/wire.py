"""HTTP at the wire: the call a handler receives, the results it returns, and the ASGI
endpoint that runs a handler and guarantees a provider-shaped answer whatever happens.

Provider routes are raw ASGI endpoints rather than framework routes: the hot path reads the
body, runs the handler and writes bytes, with no per-request framework objects. Whatever the
handler raises, and whatever fails while its answer is serialized, becomes the provider's own
error envelope; a response is always completed and the connection stays usable.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson
from starlette.types import Message, Receive, Scope, Send

from .core import outcome
from .core.errors import MockError
from .core.events import UNPACED_WRITE_BYTES
from .core.ids import new_id
from .journal import Entry
from .realism.admission import GENERATING, off_path_faults
from .realism.faults import StreamCut
from .realism.quotas import check_key
from .state.shared import resolving

if TYPE_CHECKING:
    from .providers.base import Provider, RouteSpec
    from .services import Services

_dumps = orjson.dumps
_perf_counter = time.perf_counter

log = logging.getLogger("mockllm.wire")
request_log = logging.getLogger("mockllm.requests")
"""One line per answered request, at info level (``request_log`` setting; see
:func:`log_request`)."""


COALESCE_BYTES = UNPACED_WRITE_BYTES
"""Largest write of an unpaced stream's frames joined together: the size
:func:`mockllm.core.events.paced` already joins the dialects' frames to, applied here to
any other stream (a plugin's, a stored response replayed) by the same rule."""

SERVER_ERROR_MESSAGE = "The server had an error while processing your request. Sorry about that!"


_SCANNED_HEADERS = 16
"""Up to this many request headers, :meth:`RawHeaders.get` reads the raw list; past it
the headers are decoded into a dict once."""


class RawHeaders(Mapping[str, str]):
    """Request headers, decoded into a dict only when first looked at (most requests
    never look). Names are lower-case, as ASGI servers give them."""

    __slots__ = ("_raw", "_dict")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw
        self._dict: dict[str, str] | None = None

    def _decoded(self) -> dict[str, str]:
        if self._dict is None:
            self._dict = {k.decode("latin-1"): v.decode("latin-1") for k, v in self._raw}
        return self._dict

    def __getitem__(self, key: str) -> str:
        return self._decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __contains__(self, key: object) -> bool:
        return key in self._decoded()

    def get(self, key: str, default: Any = None) -> Any:
        # A look-up or two per request: read from the raw list (the last of repeated
        # names, as the decoded dict has it) rather than decode every header.
        if self._dict is None and len(self._raw) <= _SCANNED_HEADERS:
            try:
                name = key.encode("latin-1")
            except (AttributeError, UnicodeEncodeError):  # no header name decodes to it
                return default
            for raw_name, value in reversed(self._raw):
                if raw_name == name:
                    return value.decode("latin-1")
            return default
        return self._decoded().get(key, default)

    def raw(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (lower-case bytes), undecoded; None."""
        for key, value in self._raw:
            if key == name:
                return value
        return None

    def has_prefix(self, prefix: bytes) -> bool:
        """Whether a header name starts with ``prefix`` (lower-case bytes), undecoded."""
        return any(name.startswith(prefix) for name, _ in self._raw)

    def prefixed(self, prefix: bytes) -> dict[str, str]:
        """The headers whose names start with ``prefix`` (lower-case bytes), decoded; the
        others are not decoded."""
        return {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in self._raw
            if name.startswith(prefix)
        }


@dataclass(slots=True)
class HttpCall:
    """One HTTP request as a handler sees it. Header names are lower-case."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    path_params: Mapping[str, Any]
    body: bytes
    request_id: str
    services: Services
    started: float = field(default_factory=time.perf_counter)
    provider: Provider | None = None
    """The dialect that serves the request (set by the wire before the handler runs)."""
    first_byte: float = 0.0
    """When the first byte of the answer's body was written (``time.perf_counter``)."""

    def json(self) -> Any:
        """The body parsed as JSON; raises ``orjson.JSONDecodeError`` when it is not."""
        return orjson.loads(self.body)


@dataclass(slots=True)
class JsonResult:
    """A whole answer, JSON by default: ``body`` is serialized with orjson unless it is
    already bytes (then ``media_type`` says what it is)."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "application/json"


@dataclass(slots=True)
class StreamResult:
    """A streamed answer: each item of ``chunks`` is written and flushed as it comes.

    ``paced`` says the stream sleeps between chunks; such a stream stops early when the
    client disconnects (an unpaced one finishes in microseconds anyway), and ``cancel``,
    when given, is called at once then (a :class:`~mockllm.pacing.PacedStream`'s, which
    ends the wait for its next frame).
    """

    chunks: AsyncIterator[bytes]
    media_type: str = "text/event-stream; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    paced: bool = False
    cancel: Callable[[], None] | None = None


Result = JsonResult | StreamResult
Handler = Callable[[HttpCall], Awaitable[Result]]


_BAD_HEADER_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _encode_headers(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    """``headers`` as ASGI wants them; ValueError for a value the HTTP server would refuse
    to write (a control character: it would drop the connection instead)."""
    # isprintable() is the fast path (no control character at all), checked on all the
    # values at once; a tab is allowed.
    values = "".join(headers.values())
    if not values.isprintable():
        for value in headers.values():
            if not value.isprintable() and _BAD_HEADER_VALUE.search(value) is not None:
                raise ValueError(f"invalid header value {value!r}")
    if values.isascii() and "".join(headers).isascii():  # the same bytes, a cheaper call
        return [(k.encode(), v.encode()) for k, v in headers.items()]
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body; :class:`MockError` 413 once it grows past ``limit`` bytes."""
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if len(body) > limit:
            raise _too_large(limit)
        return body
    parts = [body]
    size = len(body)
    while message.get("more_body", False):
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        parts.append(chunk)
    return b"".join(parts)


def _too_large(limit: int) -> MockError:
    return MockError(
        "request_too_large", f"Request exceeds the maximum allowed size of {limit} bytes."
    )


def header_value(text: str) -> str:
    """``text`` made safe for an HTTP header: printable ASCII kept, the rest %-encoded."""
    if text.isascii() and text.isprintable():
        return text
    return quote(text, safe=" !#$&'()*+,-./:;=?@[]^_`{|}~")


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _server_error() -> MockError:
    return MockError("server", SERVER_ERROR_MESSAGE)


LAST_RESORT = orjson.dumps(
    {
        "error": {
            "message": SERVER_ERROR_MESSAGE,
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
)
"""The body of a 500 when even the provider's own error envelope cannot be built."""


def render_error(provider: Provider, error: MockError, call: HttpCall) -> JsonResult:
    """``error`` in the provider's envelope and words (``Provider.reword``); its 500 if
    rendering fails (a bug), and a generic JSON 500 if even that fails."""
    try:
        return provider.render_error(provider.reword(error), call)
    except Exception:
        log.exception("error while rendering an error of %s %s", call.method, call.path)
    try:
        return provider.render_error(_server_error(), call)
    except Exception:
        log.exception("error while rendering a server error of %s %s", call.method, call.path)
    return JsonResult(LAST_RESORT, 500)


Prepared = tuple[JsonResult, list[tuple[bytes, bytes]], bytes]


def _serialized(result: JsonResult) -> bytes:
    body = result.body
    return body if isinstance(body, bytes) else _dumps(body)


def _prepare_json(result: JsonResult, provider: Provider, call: HttpCall) -> Prepared:
    headers = provider.response_headers(call)
    if result.headers:
        headers.update(result.headers)
    body = result.body
    if not isinstance(body, bytes):
        body = _dumps(body)
    headers["content-type"] = result.media_type
    headers["content-length"] = str(len(body))
    return result, _encode_headers(headers), body


def _prepared(result: JsonResult, provider: Provider, call: HttpCall) -> Prepared:
    """The result to write (``result``, or the provider's 500 when something fails while
    building it: a body orjson cannot serialize, a header the HTTP server would refuse),
    its encoded headers and its body. Nothing is sent before this succeeds."""
    try:
        return _prepare_json(result, provider, call)
    except Exception:
        log.exception("error while serializing the answer to %s %s", call.method, call.path)
    fallback = render_error(provider, _server_error(), call)
    try:
        return _prepare_json(fallback, provider, call)
    except Exception:  # the provider's own headers fail: its envelope without them
        log.exception("error while serializing a server error of %s %s", call.method, call.path)
    try:
        body = _serialized(fallback)
    except Exception:
        log.exception("error while serializing a server error of %s %s", call.method, call.path)
        fallback, body = JsonResult(LAST_RESORT, 500), LAST_RESORT
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    return fallback, headers, body


def _stream_error(provider: Provider, error: MockError, call: HttpCall) -> bytes:
    """``error`` as the provider's in-stream event; a generic one if rendering fails."""
    try:
        return provider.stream_error(provider.reword(error), call)
    except Exception:
        log.exception("error while rendering a stream error of %s %s", call.method, call.path)
    try:
        return provider.stream_error(_server_error(), call)
    except Exception:
        log.exception("error while rendering a stream error of %s %s", call.method, call.path)
    return b"data: " + LAST_RESORT + b"\n\n"


async def send_result(
    send: Send,
    result: Result,
    provider: Provider,
    call: HttpCall,
    receive: Receive | None = None,
    finish: Callable[[Result], None] | None = None,
) -> Result:
    """Write ``result`` with the provider's standard headers and return what was written
    (the provider's 500 instead of a JSON answer that could not be serialized). An
    exception while streaming becomes the provider's in-stream error event and ends the
    stream cleanly: a response is always completed.

    ``finish`` runs with the result written just before the last piece of the body is
    sent, so what it records (the request's log line) is there by the time the client
    has the whole answer."""
    if isinstance(result, JsonResult):
        result, raw_headers, body = _prepared(result, provider, call)
        await send({"type": "http.response.start", "status": result.status, "headers": raw_headers})
        call.first_byte = _perf_counter()
        if finish is not None:
            finish(result)
        backend = call.services.backend
        if backend.pending:  # what the request changed, visible to every replica first
            await backend.flush()
        await send({"type": "http.response.body", "body": body})
        return result
    try:
        headers = provider.response_headers(call)
        headers.update(result.headers)
        headers["content-type"] = result.media_type
        headers["cache-control"] = "no-cache"
        headers["x-accel-buffering"] = "no"
        start = {
            "type": "http.response.start",
            "status": result.status,
            "headers": _encode_headers(headers),
        }
    except Exception:
        log.exception("error while starting the stream of %s %s", call.method, call.path)
        await _close(result.chunks)
        error = render_error(provider, _server_error(), call)
        return await send_result(send, error, provider, call, receive, finish)
    await send(start)
    del start, headers  # not kept for the stream's life (a long stream's memory)
    result.headers = {}
    metrics = call.services.metrics
    metrics.stream_started()
    try:
        return await _send_stream(send, result, provider, call, receive, finish)
    finally:
        metrics.stream_ended()


async def _send_stream(
    send: Send,
    result: StreamResult,
    provider: Provider,
    call: HttpCall,
    receive: Receive | None,
    finish: Callable[[Result], None] | None,
) -> Result:
    """Write the body of ``result``, its headers sent (see :func:`send_result`)."""
    watcher = None
    if result.paced and receive is not None:
        watcher = asyncio.ensure_future(_disconnected(receive))
        cancel = result.cancel
        if cancel is not None:
            watcher.add_done_callback(lambda done: done.cancelled() or cancel())
    # A paced stream writes each frame as it comes. An unpaced one is produced all at once:
    # its first frame goes out alone (the client's first byte as early as possible), the
    # rest in writes of up to COALESCE_BYTES: the same bytes, a fraction of the syscalls,
    # and no connection starved under load.
    limit = 0 if result.paced else COALESCE_BYTES
    first = True
    pending: list[bytes] = []
    size = 0
    try:
        async for chunk in result.chunks:
            if watcher is not None and watcher.done():
                log.info("client went away during %s %s; stream stopped", call.method, call.path)
                if finish is not None:
                    finish(result)
                return result
            pending.append(chunk)
            size += len(chunk)
            if size >= limit or first:
                if first:
                    call.first_byte = _perf_counter()
                first = False
                body = pending[0] if len(pending) == 1 else b"".join(pending)
                pending, size = [], 0
                await send({"type": "http.response.body", "body": body, "more_body": True})
    except MockError as exc:
        pending.append(_stream_error(provider, exc, call))
    except StreamCut:
        # The fault asked for a broken stream: what was made goes out, then the ASGI app
        # raises, and the server drops the connection without ending the body.
        if pending:
            await send({"type": "http.response.body", "body": b"".join(pending), "more_body": True})
        if finish is not None:
            finish(result)
        raise
    except Exception:
        log.exception("error while streaming %s %s", call.method, call.path)
        pending.append(_stream_error(provider, _server_error(), call))
    finally:
        if watcher is not None:
            watcher.cancel()
    if watcher is not None and watcher.done() and not watcher.cancelled():
        log.info("client went away during %s %s; stream stopped", call.method, call.path)
        if finish is not None:
            finish(result)
        return result
    if finish is not None:
        finish(result)
    backend = call.services.backend
    if backend.pending:
        await backend.flush()
    await send({"type": "http.response.body", "body": b"".join(pending)})
    return result


async def _close(chunks: AsyncIterator[bytes]) -> None:
    close = getattr(chunks, "aclose", None)
    if close is not None:
        try:
            await close()
        except Exception:
            log.exception("error while closing a stream")


def log_request(
    call: HttpCall, provider: Provider, result: Result, facts: outcome.Outcome | None
) -> None:
    """Log the request's line: method, path, dialect, model, the rule that answered (or
    what answered instead), status, stream or JSON, duration. Example::

        POST /v1/chat/completions openai model=gpt-4o rule=weather 200 stream 1.8 ms

    The line is formatted here and handed to the ``mockllm.requests`` logger's handlers
    as a record with no arguments: the cost of ``Logger.info`` (finding the caller,
    formatting the arguments in the handler) is not paid on every request."""
    if not request_log.isEnabledFor(logging.INFO):
        return
    if facts is None:
        model, rule = "-", "no rule"
    else:
        model = facts.model or "-"
        if facts.rule is not None:
            rule = f"rule={facts.rule}"
        elif facts.source is not None:
            rule = f"no rule: {facts.source.strip('()')}"
        else:
            rule = "no rule"
    kind = "stream" if isinstance(result, StreamResult) else "json"
    elapsed = (_perf_counter() - call.started) * 1000
    line = (
        f"{call.method} {call.path} {provider.name} model={model} {rule} "
        f"{result.status:d} {kind} {elapsed:.1f} ms"
    )
    request_log.handle(
        request_log.makeRecord(
            request_log.name, logging.INFO, __file__, _LOG_LINE, line, (), None, "log_request"
        )
    )


_LOG_LINE = log_request.__code__.co_firstlineno
"""The line number the request records carry (their ``lineno``)."""


class Endpoint:
    """The ASGI app behind one path: picks the provider route, runs it, answers.

    Several providers may serve one path (``GET /v1/models``): the routes whose conditions
    (``when_header``, ``when``) accept the request are tried first, then the plain ones; the
    first that answers the method wins. When none does, the first accepting route's
    provider answers 405 with the methods the accepting routes allow.
    """

    def __init__(self, candidates: list[tuple[RouteSpec, Provider]], services: Services) -> None:
        self.candidates = sorted(candidates, key=lambda c: not c[0].conditional)
        self.services = services
        self.log_requests = services.settings.request_log
        self.max_body_bytes = services.settings.max_body_bytes
        # When one provider serves the path with plain routes only, a request's route
        # depends on its method alone: what _select would pick, looked up.
        self._by_method: dict[str, tuple[RouteSpec, Provider]] = {}
        providers = {id(provider) for _, provider in self.candidates}
        if len(providers) == 1 and not any(spec.conditional for spec, _ in self.candidates):
            for spec, provider in self.candidates:
                for method in spec.methods:
                    self._by_method.setdefault(method, (spec, provider))

    def route_for(self, method: str) -> tuple[RouteSpec, Provider] | None:
        """The route (and its provider) that serves every ``method`` request of this
        path whatever its headers; None when the headers decide, or no route serves it."""
        return self._by_method.get(method)

    def _select(
        self, path: str, headers: Mapping[str, str], method: str
    ) -> tuple[RouteSpec, Provider, list[str]]:
        """The route to run, its provider, and the methods allowed when it cannot run.

        On a shared path the request belongs to the dialect the client speaks: a provider
        whose ``claim_header`` the request carries (``anthropic-version``,
        ``x-goog-api-key``) and that has an accepting route here keeps the request to its
        own routes. When no route serves the method, the 405 is that dialect's: the
        claiming provider's, else the provider of a plain (unconditional) route of the
        path (OpenAI's on ``/v1/models/...``), else the first accepting one; ``Allow``
        lists that provider's methods here."""
        if len(self.candidates) == 1:
            spec, provider = self.candidates[0]
            return spec, provider, list(spec.methods)
        accepting = [c for c in self.candidates if c[0].accepts(path, headers)]
        for _, owner in accepting:
            if owner.claim_header is not None and owner.claim_header in headers:
                accepting = [c for c in accepting if c[1] is owner]
                break
        for spec, provider in accepting:
            if method in spec.methods:
                return spec, provider, []
        pool = accepting or self.candidates
        plain = [c for c in pool if not c[0].conditional]
        spec, provider = (plain or pool)[0]
        allowed = sorted({m for s, p in pool if p is provider for m in s.methods})
        return spec, provider, allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = RawHeaders(scope["headers"])
        method = scope["method"]
        path = scope["path"]
        chosen = self._by_method.get(method)
        allowed: list[str] = []
        if chosen is not None:
            spec, provider = chosen
        else:
            spec, provider, allowed = self._select(path, headers, method)
        query = scope.get("query_string", b"")
        call = HttpCall(
            method,
            path,
            query.decode("latin-1") if query else "",
            headers,
            scope.get("path_params", {}),
            b"",
            new_id("req_"),
            self.services,
            provider=provider,
        )
        facts, token = outcome.begin()
        try:
            if method not in spec.methods:
                raise MockError(
                    "method_not_allowed",
                    f"Method {method} not allowed for {path}.",
                    headers={"allow": ", ".join(allowed)},
                )
            behaviour = self.services.store.current.config.behaviour
            if behaviour.api_keys is not None:
                check_key(provider.api_key(call), behaviour.api_keys)
            message = await receive()
            body = message.get("body", b"")
            if message.get("more_body", False) or len(body) > self.max_body_bytes:
                body = await read_body(_replay(message, receive), self.max_body_bytes)
            call.body = body
            backend = self.services.backend
            if backend.shared:  # run again as the shared state it reads arrives
                result = await resolving(backend, lambda: self._handle(spec, call), facts.restart)
            else:
                result = await self._handle(spec, call)
        except MockError as exc:
            result = render_error(provider, exc, call)
        except Exception:
            log.exception("unexpected error in %s %s", method, path)
            result = render_error(provider, _server_error(), call)
        finish = _finisher(call, provider, facts, self.log_requests)
        try:
            await send_result(send, result, provider, call, receive, finish)
        finally:
            outcome.end(token)

    async def _handle(self, spec: RouteSpec, call: HttpCall) -> Result:
        """The route's answer: the request faults of a route off the serving path, then
        its handler, or what intercepts it (recorded cassettes, a recording proxy)."""
        if not getattr(spec.handler, GENERATING, False):
            off_path_faults(call)
        intercept = self.services.intercept
        if intercept is None:
            return await spec.handler(call)
        return await intercept(call, spec.handler)


def _finisher(
    call: HttpCall, provider: Provider, facts: outcome.Outcome | None, log_on: bool
) -> Callable[[Result], None] | None:
    """What runs just before the last piece of an answer is written: the request's log
    line and its journal entry (None when neither is kept)."""
    logged = log_on and request_log.isEnabledFor(logging.INFO)
    journal = call.services.journal
    if not logged and not journal.enabled and not journal.counting:
        return None

    def finish(written: Result) -> None:
        if logged:
            log_request(call, provider, written, facts)
        record(call, provider, written, facts)

    return finish


def record(
    call: HttpCall, provider: Provider, written: Result, facts: outcome.Outcome | None
) -> None:
    """Add the journal entry of ``call``, answered with ``written``, and count it in the
    metrics (:meth:`mockllm.metrics.Metrics.observe`)."""
    services = call.services
    model = rule = reason = None
    conversation: str | tuple[str, str] | None = None
    usage = None
    faults: list[str] = []
    if facts is not None:
        model, rule = facts.model, facts.rule
        if rule is None:
            reason = facts.reason or (
                f"no rule matched: {facts.source.strip('()')} answer" if facts.source else None
            )
        found = facts.conversation
        if found is not None:  # the header's value, else what the key is made of (later)
            header = services.store.current.config.settings.conversation_header
            conversation = found.request.headers.get(header) or found.start()
        if facts.usage is not None:
            usage = {"input_tokens": facts.usage[0], "output_tokens": facts.usage[1]}
        if facts.faults:
            faults = facts.faults
    add_entry(
        call,
        provider,
        written.status,
        isinstance(written, StreamResult),
        model,
        rule,
        reason,
        conversation,
        usage,
        faults,
    )


def add_entry(
    call: HttpCall,
    provider: Provider,
    status: int,
    stream: bool,
    model: str | None,
    rule: str | None,
    reason: str | None,
    conversation: str | tuple[str, str] | None,
    usage: dict[str, int] | None,
    faults: list[str],
) -> None:
    """Add the journal entry of ``call`` (its times measured now: the answer's last piece
    is about to be written) with the facts given, and count it in the metrics. What
    :func:`record` does once it has read the request's outcome; the fast lane
    (:mod:`mockllm.fastlane`) knows the facts without one."""
    services = call.services
    journal = services.journal
    now = _perf_counter()
    started = call.started
    raw = (
        call.headers._raw
        if isinstance(call.headers, RawHeaders)
        else [(k.encode("latin-1"), v.encode("latin-1")) for k, v in call.headers.items()]
    )
    entry = Entry(
        journal.next_id(),
        time.time() - (now - started),
        provider.name,
        call.method,
        call.path,
        call.query,
        raw,
        call.body,
        status,
        stream,
        (now - started) * 1000,
        (call.first_byte - started) * 1000 if call.first_byte else None,
        model,
        rule,
        reason,
        conversation,
        usage,
        faults,
        call.request_id,
    )
    journal.add(entry)
    services.metrics.observe(entry)


def _replay(first: Message, receive: Receive) -> Receive:
    """``receive`` that gives ``first`` (a message already received) once, then reads on."""
    pending = [first]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


class NotFound:
    """ASGI fallback for unknown paths: the 404 of the provider whose prefix the path has."""

    def __init__(self, providers: list[Provider], services: Services) -> None:
        self.providers = providers
        self.services = services

    def owner(self, path: str, headers: Mapping[str, str]) -> Provider:
        owners = [p for p in self.providers if any(path.startswith(x) for x in p.prefixes)]
        for provider in owners:
            if provider.claim_header and provider.claim_header in headers:
                return provider
        plain = [p for p in owners if not p.claim_header]
        return (plain or owners or self.providers)[0]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = RawHeaders(scope["headers"])
        provider = self.owner(scope["path"], headers)
        call = HttpCall(
            scope["method"], scope["path"], "", headers, {}, b"", new_id("req_"), self.services
        )
        try:
            await read_body(receive, self.services.settings.max_body_bytes)
        except MockError:
            pass
        error = MockError("not_found", f"Invalid URL ({scope['method']} {scope['path']})")
        result = render_error(provider, error, call)
        finish = _finisher(call, provider, None, self.services.settings.request_log)
        await send_result(send, result, provider, call, finish=finish)
