"""HTTP at the wire: the call a handler receives, the results it returns, and the ASGI
endpoint that runs a handler and guarantees a provider-shaped answer whatever happens.

Provider routes are raw ASGI endpoints rather than framework routes: the hot path reads the
body, runs the handler and writes bytes, with no per-request framework objects. Whatever the
handler raises becomes the provider's own error envelope; the connection stays usable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from random import getrandbits
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson
from starlette.types import Receive, Scope, Send

from .core import outcome
from .core.errors import MockError

if TYPE_CHECKING:
    from .providers.base import Provider, RouteSpec
    from .services import Services

log = logging.getLogger("mockllm.wire")
request_log = logging.getLogger("mockllm.requests")
"""One line per answered request, at info level (``request_log`` setting; see
:func:`log_request`)."""


SERVER_ERROR_MESSAGE = "The server had an error while processing your request. Sorry about that!"


def new_id(prefix: str, nbytes: int = 12) -> str:
    """A fresh identifier such as ``req_4f1c...``: unique, not secret (no syscall)."""
    return f"{prefix}{getrandbits(nbytes * 8):0{nbytes * 2}x}"


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
    client disconnects (an unpaced one finishes in microseconds anyway).
    """

    chunks: AsyncIterator[bytes]
    media_type: str = "text/event-stream; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    paced: bool = False


Result = JsonResult | StreamResult
Handler = Callable[[HttpCall], Awaitable[Result]]


def _encode_headers(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
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


async def send_result(
    send: Send,
    result: Result,
    provider: Provider,
    call: HttpCall,
    receive: Receive | None = None,
    finish: Callable[[], None] | None = None,
) -> None:
    """Write ``result`` with the provider's standard headers; an exception while streaming
    becomes the provider's in-stream error event and ends the stream cleanly.

    ``finish`` runs just before the last piece of the body is sent, so what it records
    (the request's log line) is there by the time the client has the whole answer."""
    headers = provider.response_headers(call)
    headers.update(result.headers)
    if isinstance(result, JsonResult):
        body = result.body if isinstance(result.body, bytes) else orjson.dumps(result.body)
        headers["content-type"] = result.media_type
        headers["content-length"] = str(len(body))
        await send(
            {
                "type": "http.response.start",
                "status": result.status,
                "headers": _encode_headers(headers),
            }
        )
        if finish is not None:
            finish()
        await send({"type": "http.response.body", "body": body})
        return
    headers["content-type"] = result.media_type
    headers["cache-control"] = "no-cache"
    headers["x-accel-buffering"] = "no"
    await send(
        {
            "type": "http.response.start",
            "status": result.status,
            "headers": _encode_headers(headers),
        }
    )
    watcher = None
    if result.paced and receive is not None:
        watcher = asyncio.ensure_future(_disconnected(receive))
    try:
        async for chunk in result.chunks:
            if watcher is not None and watcher.done():
                log.info("client went away during %s %s; stream stopped", call.method, call.path)
                if finish is not None:
                    finish()
                return
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except MockError as exc:
        await send(
            {
                "type": "http.response.body",
                "body": provider.stream_error(exc, call),
                "more_body": True,
            }
        )
    except Exception:
        log.exception("error while streaming %s %s", call.method, call.path)
        error = MockError("server", SERVER_ERROR_MESSAGE)
        await send(
            {
                "type": "http.response.body",
                "body": provider.stream_error(error, call),
                "more_body": True,
            }
        )
    finally:
        if watcher is not None:
            watcher.cancel()
    if finish is not None:
        finish()
    await send({"type": "http.response.body", "body": b""})


def log_request(
    call: HttpCall, provider: Provider, result: Result, facts: outcome.Outcome | None
) -> None:
    """Log the request's line: method, path, dialect, model, the rule that answered (or
    what answered instead), status, stream or JSON, duration. Example::

        POST /v1/chat/completions openai model=gpt-4o rule=weather 200 stream 1.8 ms
    """
    model = facts.model if facts is not None and facts.model else "-"
    if facts is not None and facts.rule is not None:
        rule = f"rule={facts.rule}"
    elif facts is not None and facts.source is not None:
        rule = f"no rule: {facts.source.strip('()')}"
    else:
        rule = "no rule"
    kind = "stream" if isinstance(result, StreamResult) else "json"
    request_log.info(
        "%s %s %s model=%s %s %d %s %.1f ms",
        call.method,
        call.path,
        provider.name,
        model,
        rule,
        result.status,
        kind,
        (time.perf_counter() - call.started) * 1000,
    )


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

    def _select(
        self, path: str, headers: Mapping[str, str], method: str
    ) -> tuple[RouteSpec, Provider, list[str]]:
        """The route to run, its provider, and the methods allowed when it cannot run."""
        if len(self.candidates) == 1:
            spec, provider = self.candidates[0]
            return spec, provider, list(spec.methods)
        accepting = [c for c in self.candidates if c[0].accepts(path, headers)]
        for spec, provider in accepting:
            if method in spec.methods:
                return spec, provider, []
        spec, provider = (accepting or self.candidates)[0]
        allowed = sorted({m for s, _ in accepting or self.candidates for m in s.methods})
        return spec, provider, allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = RawHeaders(scope["headers"])
        method = scope["method"]
        spec, provider, allowed = self._select(scope["path"], headers, method)
        call = HttpCall(
            method=method,
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            path_params=scope.get("path_params", {}),
            body=b"",
            request_id=new_id("req_"),
            services=self.services,
        )
        facts, token = outcome.begin()
        try:
            if method not in spec.methods:
                raise MockError(
                    "method_not_allowed",
                    f"Method {method} not allowed for {call.path}.",
                    headers={"allow": ", ".join(allowed)},
                )
            call.body = await read_body(receive, self.services.settings.max_body_bytes)
            result = await spec.handler(call)
        except MockError as exc:
            result = provider.render_error(exc, call)
        except Exception:
            log.exception("unexpected error in %s %s", method, call.path)
            result = provider.render_error(MockError("server", SERVER_ERROR_MESSAGE), call)
        finish = None
        if self.log_requests and request_log.isEnabledFor(logging.INFO):

            def finish() -> None:
                log_request(call, provider, result, facts)

        try:
            await send_result(send, result, provider, call, receive, finish)
        finally:
            outcome.end(token)


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
        result = provider.render_error(error, call)
        finish = None
        if self.services.settings.request_log and request_log.isEnabledFor(logging.INFO):

            def finish() -> None:
                log_request(call, provider, result, None)

        await send_result(send, result, provider, call, finish=finish)
