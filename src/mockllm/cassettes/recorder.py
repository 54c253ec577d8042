"""The recording proxy: a request goes to the upstream with its path and query kept, the
upstream's answer comes back to the client unchanged (a stream piece by piece, as it
arrives), and the exchange is handed over to be written as a cassette.

httpx is imported when the first request is forwarded: a server that only replays (or
only runs rules) never loads it.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ..core.errors import MockError
from ..journal import REDACTED, is_secret, redact_query
from ..wire import JsonResult, Result, StreamResult
from .format import CassetteError, split_events
from .normalize import redact

if TYPE_CHECKING:
    from ..wire import HttpCall

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
"""Request headers not forwarded: they describe one connection, not the request."""

NOT_PASSED_BACK = HOP_BY_HOP | {"content-encoding", "content-type", "date", "server"}
"""Upstream response headers not passed to the client: the body is passed decoded (so no
``content-encoding``), its length and type are the wire's to write, and the HTTP server
writes its own ``date`` and ``server``."""

NOT_RECORDED = NOT_PASSED_BACK - {"content-type"} | {
    "set-cookie",
    "via",
    "alt-svc",
    "cf-ray",
    "cf-cache-status",
    "nel",
    "report-to",
    "x-envoy-upstream-service-time",
}
"""Response headers left out of a cassette, besides any whose name says key, token,
secret, password or cookie (:func:`mockllm.journal.is_secret`): per-connection,
per-day or per-edge-server values."""

TIMEOUT_S = 600.0
CONNECT_TIMEOUT_S = 10.0
MIN_SECRET = 6
"""Secret values shorter than this are not searched for in what is recorded (they would
match ordinary words); they are still never written, as headers are not recorded."""


def is_stream(media_type: str) -> bool:
    """Whether an answer of this content type is passed on as a stream."""
    media = media_type.lower()
    return media.startswith("text/event-stream") or "ndjson" in media or "jsonl" in media


class Upstreams:
    """Where each dialect's requests go: ``--upstream URL`` for every dialect,
    ``--upstream DIALECT=URL`` for one (the setting holds them comma-separated)."""

    def __init__(self, default: str | None, by_dialect: dict[str, str]) -> None:
        self.default = default
        self.by_dialect = by_dialect

    @classmethod
    def parse(cls, setting: str, dialects: Iterable[str]) -> Upstreams:
        """Parse the ``upstream`` setting; :class:`CassetteError` for an item that is not
        an http(s) URL, a dialect that is not loaded, or two URLs for one dialect."""
        known = set(dialects)
        default: str | None = None
        by_dialect: dict[str, str] = {}
        problems: list[str] = []
        for item in (part.strip() for part in setting.split(",")):
            if not item:
                continue
            name, url = None, item
            head, sep, tail = item.partition("=")
            if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", head):
                name, url = head.lower(), tail.strip()
            if not re.match(r"https?://[^/\s]", url):
                problems.append(f"upstream {item!r}: not an http:// or https:// URL")
                continue
            url = url.rstrip("/")
            if name is None:
                if default is not None:
                    problems.append(f"upstream {item!r}: a second URL for every dialect")
                default = url
            elif name not in known:
                problems.append(
                    f"upstream {item!r}: no dialect {name!r} (loaded: {', '.join(sorted(known))})"
                )
            elif name in by_dialect:
                problems.append(f"upstream {item!r}: a second URL for {name}")
            else:
                by_dialect[name] = url
        if problems:
            raise CassetteError(problems)
        return cls(default, by_dialect)

    def url(self, dialect: str) -> str | None:
        return self.by_dialect.get(dialect, self.default)

    def describe(self) -> str:
        parts = [f"{name}={url}" for name, url in sorted(self.by_dialect.items())]
        if self.default is not None:
            parts.insert(0, self.default + (" (other dialects)" if parts else ""))
        return ", ".join(parts) or "none"


@dataclass(slots=True)
class Exchange:
    """What came back from the upstream, as it is to be recorded (secrets taken out)."""

    status: int
    headers: dict[str, str]
    body: bytes | None
    events: list[tuple[float, bytes]] | None
    at_ms: float


def secrets_of(call: HttpCall, fields: frozenset[str]) -> list[bytes]:
    """The secret values a request carries: its secret headers' values (the token of
    ``Bearer <token>`` too), cookies, secret query parameters and the body fields named
    in ``fields``; longest first, at least :data:`MIN_SECRET` bytes long."""
    values: set[str] = set()
    for name, value in call.headers.items():
        if is_secret(name) or name == "cookie":
            values.add(value.strip())
            if value[:7].lower() == "bearer ":
                values.add(value[7:].strip())
            for part in value.split(";"):
                values.add(part.partition("=")[2].strip())
    if call.query:
        from urllib.parse import parse_qsl

        shown = parse_qsl(redact_query(call.query), keep_blank_values=True)
        for (_, value), (_, seen) in zip(
            parse_qsl(call.query, keep_blank_values=True), shown, strict=False
        ):
            if seen == REDACTED:
                values.add(value)
    if call.body and fields:
        try:
            _collect(orjson.loads(call.body), fields, values)
        except orjson.JSONDecodeError:
            pass
    return sorted(
        (v.encode("utf-8") for v in values if len(v) >= MIN_SECRET), key=len, reverse=True
    )


def _collect(value: Any, fields: frozenset[str], out: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in fields and isinstance(item, str | int | float) and not isinstance(item, bool):
                out.add(str(item))
            else:
                _collect(item, fields, out)
    elif isinstance(value, list):
        for item in value:
            _collect(item, fields, out)


def scrub(data: bytes, secrets: list[bytes], fields: frozenset[str], media_type: str) -> bytes:
    """``data`` (a body or a stream event) with the request's secret values replaced by
    ``[redacted]``, and the JSON fields named in ``fields`` redacted (in a JSON body, in
    each ``data:`` line of an SSE event, in each NDJSON line). Unchanged, byte for byte,
    when there is nothing to redact."""
    for secret in secrets:
        if secret in data:
            data = data.replace(secret, REDACTED.encode())
    if not fields or not any(f.encode() in data for f in fields):
        return data
    media = media_type.lower()
    if "json" in media and "ndjson" not in media and "jsonl" not in media:
        return _redact_json(data, fields)
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        if line.startswith(b"data:"):
            head, rest = line[:5], line[5:]
            space = b" " if rest.startswith(b" ") else b""
            lines[i] = head + space + _redact_json(rest[len(space) :], fields)
        elif line.startswith(b"{"):
            lines[i] = _redact_json(line, fields)
    return b"\n".join(lines)


def _redact_json(data: bytes, fields: frozenset[str]) -> bytes:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return data
    redacted = redact(value, fields)
    return data if redacted == value else orjson.dumps(redacted)


def recorded_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The response headers a cassette keeps (see :data:`NOT_RECORDED`)."""
    return {
        name: value for name, value in headers if name not in NOT_RECORDED and not is_secret(name)
    }


_ssl_context: Any = None


def _verify() -> Any:
    """One TLS context for every upstream connection (building one loads the CA bundle)."""
    global _ssl_context
    if _ssl_context is None:
        import httpx

        make = getattr(httpx, "create_ssl_context", None)
        _ssl_context = make() if make is not None else True
    return _ssl_context


def _unreachable(base: str, exc: Exception) -> MockError:
    return MockError(
        "server",
        f"mockllm record: the upstream {base} failed: {type(exc).__name__}: {exc}",
        status=502,
    )


async def forward(
    call: HttpCall,
    base: str,
    done: Callable[[Exchange], None],
    secrets: list[bytes],
    fields: frozenset[str],
) -> Result:
    """Send ``call`` to the upstream at ``base`` and return its answer for the wire;
    ``done`` gets the exchange once the whole answer has come (not when a stream breaks
    or the client leaves before its end). The upstream unreachable (or failing mid-
    answer) is a 502 in the dialect's envelope (an in-stream error once streaming)."""
    import httpx

    url = base + call.path + (f"?{call.query}" if call.query else "")
    headers = [(k, v) for k, v in call.headers.items() if k not in HOP_BY_HOP]
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
        verify=_verify(),
        follow_redirects=False,
    )
    started = call.started
    try:
        request = client.build_request(
            call.method, url, headers=headers, content=call.body if call.body else None
        )
        response = await client.send(request, stream=True)
    except httpx.HTTPError as exc:
        await client.aclose()
        raise _unreachable(base, exc) from None
    except BaseException:
        await client.aclose()
        raise
    status = response.status_code
    media = response.headers.get("content-type", "application/octet-stream")
    items = list(response.headers.multi_items())
    passed = {k: v for k, v in items if k not in NOT_PASSED_BACK}
    kept = recorded_headers(items)
    if not is_stream(media):
        try:
            body = await response.aread()
        except httpx.HTTPError as exc:
            raise _unreachable(base, exc) from None
        finally:
            await response.aclose()
            await client.aclose()
        at_ms = (time.perf_counter() - started) * 1000
        done(Exchange(status, kept, scrub(body, secrets, fields, media), None, at_ms))
        return JsonResult(body, status, passed, media)

    async def chunks() -> AsyncIterator[bytes]:
        pieces: list[tuple[float, bytes]] = []
        complete = False
        try:
            async for piece in response.aiter_bytes():
                pieces.append(((time.perf_counter() - started) * 1000, piece))
                yield piece
            complete = True
        except httpx.HTTPError as exc:
            raise _unreachable(base, exc) from None
        finally:
            try:
                await response.aclose()
                await client.aclose()
            except Exception:  # the connection is gone already: nothing to release
                pass
            if complete:
                events = [
                    (at, scrub(data, secrets, fields, media))
                    for at, data in split_events(pieces, media)
                ]
                done(Exchange(status, kept, None, events, events[-1][0] if events else 0.0))

    return StreamResult(chunks(), media, status, passed, paced=True)
