"""Probes of the fast lane (:mod:`mockllm.fastlane`) as a hostile client sees it: the same
requests, over raw sockets, to a server with the lane and one without
(``fast_lane=False``), which must be indistinguishable.

The first tests hold what probing found the lane did differently: a refusal that needs no
body (a refused key, a refused CORS origin) is sent before the body arrives, and a client
leaving mid-body is journaled as the serving path journals it. The others cover what
``tests/test_fastlane.py`` does not: chunked request bodies and trailers, the access log,
the official SDK.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import orjson
import pytest

from mockllm.testing import MockServer

pytest.importorskip("httptools")

from test_fastlane import (  # noqa: E402
    CONFIG,
    PATH,
    answered,
    both,
    chat,
    exchange,
    normalized,
    pair,
    request_bytes,
)

SKY = chat("what colour is the sky?")


def first_lines(data: bytes) -> list[bytes]:
    """The status lines of the answers in ``data``."""
    return [b"HTTP/1.1" + part.split(b"\r\n", 1)[0] for part in data.split(b"HTTP/1.1")[1:]]


def read_for(sock: socket.socket, seconds: float) -> bytes:
    """What ``sock`` receives within ``seconds`` (or until the server closes)."""
    sock.settimeout(seconds)
    out = b""
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            out += chunk
    except TimeoutError:
        pass
    return out


def statuses(server: MockServer) -> list[int]:
    return [entry["status"] for entry in server.requests()]


# --- divergences ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "extra", "expected"),
    [
        (CONFIG + "\nsettings:\n  api_keys: [sk-test]\n", [], b"HTTP/1.1 401 "),
        (CONFIG, ["origin: http://evil.example"], b"HTTP/1.1 403 "),
    ],
    ids=["refused-api-key", "refused-cors-origin"],
)
def test_a_refusal_is_sent_before_the_body_as_the_serving_path_sends_it(
    config: str, extra: list[str], expected: bytes
) -> None:
    # The serving path refuses a bad key (Endpoint: check_key before receive()) or a
    # refused origin (MockLLMApp._cors) as soon as the headers are in; with the lane on,
    # every POST of a lane route waits for its whole body before any ASGI request is made.
    raw = request_bytes(SKY, extra, key="sk-wrong")
    got = {}
    with pair(config) as (fast, slow):
        for label, server in (("fast", fast), ("slow", slow)):
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                sock.sendall(raw[:-10])  # the headers and all of the body but 10 bytes
                got[label] = first_lines(read_for(sock, 1.0))
    assert got["slow"] and got["slow"][0].startswith(expected)
    assert got["fast"] == got["slow"]


def test_a_client_leaving_mid_body_is_journaled_as_the_serving_path_journals_it() -> None:
    # Serving path: the cycle is made at headers-complete; the disconnect ends read_body()
    # with the part read, which is answered (400) and journaled and counted. Lane on: the
    # partial body is dropped in connection_lost and nothing is journaled.
    with pair() as (fast, slow):
        raw = request_bytes(chat("a body never seen before"))
        for server in (fast, slow):
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                sock.sendall(raw[:-10])
                time.sleep(0.2)
        time.sleep(0.5)
        assert statuses(slow) == [400]
        assert statuses(fast) == statuses(slow)


def chunked(body: dict[str, Any], trailer: bytes = b"") -> bytes:
    data = orjson.dumps(body)
    head = (
        f"POST {PATH} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        "authorization: Bearer sk-test\r\ntransfer-encoding: chunked\r\n\r\n"
    ).encode()
    mid = len(data) // 2
    return head + b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n%s\r\n" % (
        mid,
        data[:mid],
        len(data) - mid,
        data[mid:],
        trailer,
    )


def test_chunked_bodies_and_trailers_are_answered_as_the_serving_path_does() -> None:
    with pair() as servers:
        fast, slow = servers
        both(servers, [chunked(SKY)] * 4)
        assert answered(fast) == 2
        both(servers, [chunked(SKY, b"x-trailer: 1\r\n")] * 2)
        assert answered(fast) == 4
        strip = ("id", "time", "duration_ms", "ttfb_ms", "request_id")
        mine = [{k: v for k, v in e.items() if k not in strip} for e in fast.requests()]
        theirs = [{k: v for k, v in e.items() if k not in strip} for e in slow.requests()]
        assert mine == theirs


def test_the_access_log_is_the_serving_paths() -> None:
    lines: dict[str, list[Any]] = {}

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.setdefault(threading.current_thread().name, []).append(record.args)

    access = logging.getLogger("uvicorn.access")
    handler = Keep()
    with pair(log_level="debug") as (fast, slow):
        access.addHandler(handler)
        level = access.level
        access.setLevel(logging.INFO)  # MockServer's log_level="warning" set it higher
        try:
            raw = request_bytes(SKY)
            logged = []
            for server in (fast, slow):
                lines.clear()
                exchange(server, [raw] * 3 + [request_bytes(SKY, ["x-forwarded-for: 1.2.3.4"])])
                time.sleep(0.1)
                (found,) = lines.values()
                logged.append([(args[0].split(":")[0], *args[1:]) for args in found])
        finally:
            access.removeHandler(handler)
            access.setLevel(level)
        assert answered(fast) == 1
        assert logged[0] == logged[1]
        assert logged[0][-1][0] == "1.2.3.4"


def test_the_openai_sdk_sees_the_same_answers() -> None:
    openai = pytest.importorskip("openai")
    with pair() as (fast, slow):
        seen = []
        for server in (fast, slow):
            client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
            answers = []
            for _ in range(4):
                raw = client.chat.completions.with_raw_response.create(
                    model="gpt-4o", messages=SKY["messages"], n=2, stream=False
                )
                parsed = raw.parse()
                answers.append(
                    (
                        raw.status_code,
                        list(raw.headers.keys()),
                        [choice.message.content for choice in parsed.choices],
                        parsed.usage.model_dump(),
                        normalized(raw.content),
                    )
                )
            seen.append(answers)
        assert answered(fast) == 2
        assert seen[0] == seen[1]
