"""The baseline for ``bench/bench.py``: the cheapest possible ASGI chat-completions server.

It reads the request body, then answers with fixed bytes: one JSON body, or (when the body
contains ``"stream":true``) a fixed list of SSE events, each written as its own
``http.response.body`` message with ``more_body=True``, exactly as mockllm writes them.

Served by the same ASGI server as mockllm (uvicorn, same worker count and flags), its
throughput is the ceiling that mockllm's per-request work is measured against.

The bytes come from the JSON file named by ``$BENCH_BASELINE_FIXTURE`` (written by
``bench.py`` from a real mockllm response, so both servers put the same bytes and headers on
the wire); without it, built-in bytes of similar size are used::

    uvicorn --app-dir bench baseline_app:app --no-access-log --log-level warning
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

FIXTURE_ENV = "BENCH_BASELINE_FIXTURE"
STREAM_MARKERS = (b'"stream":true', b'"stream": true')


def _default_fixture() -> dict[str, Any]:
    """Bytes shaped like a ~48-token chat completion and its 51-event stream."""
    content = "x" * 230
    body = (
        '{"id":"chatcmpl-000000000000000000000000000000","object":"chat.completion",'
        '"created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":'
        '{"role":"assistant","content":"' + content + '","refusal":null,"annotations":[]},'
        '"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":19,'
        '"completion_tokens":48,"total_tokens":67}}'
    )
    event = (
        'data: {"id":"chatcmpl-000000000000000000000000000000","object":"chat.completion.chunk",'
        '"created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":" word"},'
        '"logprobs":null,"finish_reason":null}]}\n\n'
    )
    return {
        "json_headers": [["content-type", "application/json"]],
        "json_body": body,
        "stream_headers": [
            ["content-type", "text/event-stream; charset=utf-8"],
            ["cache-control", "no-cache"],
        ],
        "stream_chunks": [event] * 50 + ["data: [DONE]\n\n"],
    }


def _load() -> tuple[Headers, bytes, Headers, list[bytes]]:
    path = os.environ.get(FIXTURE_ENV)
    if path:
        with open(path, encoding="utf-8") as handle:
            fixture: dict[str, Any] = json.load(handle)
    else:
        fixture = _default_fixture()

    def headers(pairs: list[list[str]]) -> Headers:
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]

    body = fixture["json_body"].encode()
    json_headers = headers(fixture["json_headers"])
    json_headers.append((b"content-length", str(len(body)).encode()))
    chunks = [c.encode() for c in fixture["stream_chunks"]]
    return json_headers, body, headers(fixture["stream_headers"]), chunks


JSON_HEADERS, JSON_BODY, STREAM_HEADERS, STREAM_CHUNKS = _load()


async def _read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI application."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    body = await _read_body(receive)
    if any(marker in body for marker in STREAM_MARKERS):
        await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
        for chunk in STREAM_CHUNKS:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": JSON_HEADERS})
    await send({"type": "http.response.body", "body": JSON_BODY})
