"""Connections and browsers, against a real server over raw sockets: slow and oversized
request headers, idle connections, and which web pages (``Origin``) may call the server.

The server runs in this process (:class:`mockllm.testing.MockServer`), so its memory is this
process's: ``/proc/self/status`` shows what it keeps.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import os
import pickle
import select
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockllm import server as served
from mockllm.server import GuardedH11Protocol, protocol_class, uvicorn_options
from mockllm.settings import Settings
from mockllm.testing import MockServer, free_port

CONFIG = """
rules:
  - name: counted
    match: {prompt: {exact: count}}
    sequence: ["first", "second", "third"]
  - name: slow
    match: {prompt: {exact: slow}}
    reply: "one two three four five six"
responses:
  hello: "hi there"
"""

HEALTH = b"GET /-/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.fixture(scope="module")
def quick() -> Iterator[MockServer]:
    """A server with a 1 s header deadline and a 1 s keep-alive."""
    with MockServer(
        config_text=CONFIG, limit_header_timeout_seconds=1, limit_keep_alive_seconds=1
    ) as running:
        yield running


def connect(server: MockServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


# Bytes read from a socket beyond the response that was asked for (pipelined answers).
_unread: weakref.WeakKeyDictionary[socket.socket, bytes] = weakref.WeakKeyDictionary()


def _recv(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise ConnectionError("the server closed the connection")
    return chunk


def read_until_closed(sock: socket.socket, timeout: float = 10) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts as
    closed)."""
    sock.settimeout(timeout)
    data = _unread.pop(sock, b"")
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


def read_response(sock: socket.socket) -> bytes:
    """The next response on ``sock``, whose body has a content-length."""
    data = _unread.pop(sock, b"")
    while b"\r\n\r\n" not in data:
        data += _recv(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += _recv(sock)
    _unread[sock] = body[length:]
    return head + b"\r\n\r\n" + body[:length]


def healthy(server: MockServer) -> bool:
    answer = httpx.get(server.url + "/-/health", timeout=10)
    return answer.status_code == 200 and answer.text == '{"status":"ok"}'


def chat_body(prompt: str, **extra: object) -> dict[str, object]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": prompt}], **extra}


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")  # pragma: no cover


# --- slow headers and idle connections ----------------------------------------------------------


def test_headers_sent_a_byte_every_half_second_are_cut_at_the_header_timeout(
    quick: MockServer,
) -> None:
    sock = connect(quick)
    started = time.monotonic()
    request = b"GET /-/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"z" * 100
    closed_after = None
    with sock:
        for byte in request:
            readable, _, _ = select.select([sock], [], [], 0.5)
            if readable:
                closed_after = time.monotonic() - started
                break
            try:
                sock.sendall(bytes([byte]))
            except OSError:  # the server has closed
                closed_after = time.monotonic() - started
                break
        answer = read_until_closed(sock)
    assert closed_after is not None, "the slow client was never disconnected"
    assert 0.9 < closed_after < 3
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408 ")


def test_two_hundred_idle_connections_are_closed_and_the_server_still_answers(
    quick: MockServer,
) -> None:
    socks = [connect(quick) for _ in range(200)]
    try:
        started = time.monotonic()
        assert healthy(quick)  # served while they wait
        open_ = set(socks)
        while open_ and time.monotonic() - started < 5:
            readable, _, _ = select.select(list(open_), [], [], 0.5)
            for sock in readable:
                assert read_until_closed(sock, 1) == b""  # closed without a word
                open_.discard(sock)
        assert not open_, f"{len(open_)} idle connections still open after 5 s"
        assert 0.9 < time.monotonic() - started < 5
        assert len(quick._server.server_state.connections) <= 1
    finally:
        for sock in socks:
            sock.close()
    assert healthy(quick)


def test_a_kept_alive_connection_idle_past_keep_alive_is_closed(quick: MockServer) -> None:
    with connect(quick) as sock:
        sock.sendall(HEALTH)
        assert read_response(sock).startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        assert read_until_closed(sock) == b""
        assert 0.8 < time.monotonic() - started < 3


def test_a_kept_alive_connection_serves_several_requests(quick: MockServer) -> None:
    with connect(quick) as sock:
        for _ in range(3):
            sock.sendall(HEALTH)
            assert read_response(sock).startswith(b"HTTP/1.1 200 ")
            time.sleep(0.5)  # less than keep-alive


def test_the_next_request_on_a_kept_alive_connection_has_the_header_timeout_too(
    quick: MockServer,
) -> None:
    with connect(quick) as sock:
        sock.sendall(HEALTH)
        assert read_response(sock).startswith(b"HTTP/1.1 200 ")
        time.sleep(0.5)
        sock.sendall(b"GET /-/health HTTP/1.1\r\nHo")  # and nothing more
        started = time.monotonic()
        answer = read_until_closed(sock)
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert b"MOCKLLM_LIMIT_HEADER_TIMEOUT_SECONDS" in answer
        assert 0.9 < time.monotonic() - started < 3


def test_an_answer_longer_than_the_header_timeout_is_not_cut(quick: MockServer) -> None:
    body = chat_body("slow", stream=True)
    quick.write_config(CONFIG + "settings:\n  lag_enabled: true\n  lag_factor: 1\n")
    try:
        started = time.monotonic()
        answer = httpx.post(quick.openai_url + "/chat/completions", json=body, timeout=20)
        assert time.monotonic() - started > 1.5  # longer than the 1 s header timeout
        assert answer.status_code == 200
        assert answer.text.rstrip().endswith("data: [DONE]")
    finally:
        quick.write_config(CONFIG)


# --- oversized headers --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_heads() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG, limit_max_header_bytes=1000) as running:
        yield running


def head_of(
    size: int, method: bytes = b"GET", path: bytes = b"/-/health", extra: bytes = b""
) -> bytes:
    """A request line and headers of exactly ``size`` bytes (blank line included)."""
    start = method + b" " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + b"X-Pad: "
    pad = size - len(start) - len(b"\r\n\r\n")
    assert pad >= 0
    return start + b"p" * pad + b"\r\n\r\n"


def test_headers_at_the_limit_are_served_and_one_byte_more_gets_431(
    small_heads: MockServer,
) -> None:
    with connect(small_heads) as sock:
        sock.sendall(head_of(1000))
        assert read_response(sock).startswith(b"HTTP/1.1 200 ")
    with connect(small_heads) as sock:
        sock.sendall(head_of(1001))
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"connection: close\r\n" in answer
    assert b'"type":"invalid_request_error"' in answer and b"1000 bytes" in answer
    assert healthy(small_heads)


def test_a_large_body_in_the_same_read_as_small_headers_is_no_431(
    small_heads: MockServer,
) -> None:
    """The budget is for the headers: body bytes that arrive with them do not count."""
    import json

    body = json.dumps(chat_body("hello " + "x" * 300_000)).encode()
    extra = b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    request = head_of(900, b"POST", b"/v1/chat/completions", extra) + body
    with connect(small_heads) as sock:
        sock.sendall(request)
        answer = read_response(sock)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]


def test_pipelined_requests_are_all_served(small_heads: MockServer) -> None:
    with connect(small_heads) as sock:
        sock.sendall(HEALTH * 5 + head_of(1000))
        for _ in range(6):
            assert read_response(sock).startswith(b"HTTP/1.1 200 ")


def test_the_limit_holds_after_a_request_answered_before_its_body_was_read(
    small_heads: MockServer,
) -> None:
    """A request refused before its body is read (here a web page's, 403) leaves the
    connection open: the next request's headers still have the budget."""
    body = b"x" * 100
    refused = head_of(300, b"POST", b"/v1/chat/completions", b"Origin: http://evil.example\r\n")
    refused = refused.replace(b"X-Pad:", b"Content-Length: 100\r\nX-Pad:") + body
    with connect(small_heads) as sock:
        sock.sendall(refused)
        assert read_response(sock).startswith(b"HTTP/1.1 403 ")
        sock.sendall(HEALTH)
        assert read_response(sock).startswith(b"HTTP/1.1 200 ")
        sock.sendall(head_of(1001))
        assert read_until_closed(sock).startswith(b"HTTP/1.1 431 ")


def test_headers_over_the_default_limit_get_431_and_the_next_request_is_served(
    quick: MockServer,
) -> None:
    assert Settings().limit_max_header_bytes == 64 * 1024
    with connect(quick) as sock:
        sock.sendall(head_of(70_000))
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b"MOCKLLM_LIMIT_MAX_HEADER_BYTES" in answer
    assert healthy(quick)


def test_twenty_10_mb_header_attempts_are_refused_quickly_without_keeping_them(
    quick: MockServer,
) -> None:
    huge = b"GET /-/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: " + b"h" * (10 * 1024 * 1024)
    # What a first request loads (the tokenizer's vocabulary, in a background thread) is
    # not what this test measures.
    quick.app.services.tokenizer.encoding("o200k_base")
    assert httpx.post(quick.openai_url + "/chat/completions", json=chat_body("hello")).is_success
    gc.collect()
    baseline = rss_bytes()
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_bytes())
            time.sleep(0.005)

    outcomes: list[tuple[bytes, float]] = []

    def attempt() -> None:
        started = time.monotonic()
        with connect(quick) as sock:
            with contextlib.suppress(OSError):  # the server closes while we still send
                sock.sendall(huge)
            answer = read_until_closed(sock)
        outcomes.append((answer, time.monotonic() - started))

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    try:
        clients = [threading.Thread(target=attempt) for _ in range(20)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(30)
    finally:
        done.set()
        sampler.join()
    elapsed = time.monotonic() - started
    assert len(outcomes) == 20  # every connection was closed by the server
    assert all(answer in (b"",) or answer.startswith(b"HTTP/1.1 431 ") for answer, _ in outcomes)
    assert elapsed < 10, elapsed
    # Unguarded, the server buffered every header (200 MB, and copies of it).
    assert peak - baseline < 50 * 1024 * 1024, (peak - baseline) / 1e6
    assert healthy(quick)


# --- the h11 fallback (when httptools is not installed) -----------------------------------------


def test_the_h11_fallback_has_the_same_guards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(served, "HAVE_HTTPTOOLS", False)
    assert protocol_class() is GuardedH11Protocol
    with MockServer(
        config_text=CONFIG, limit_header_timeout_seconds=1, limit_max_header_bytes=1000
    ) as server:
        assert server._server.config.http.func is GuardedH11Protocol  # type: ignore[union-attr]
        assert healthy(server)
        with connect(server) as sock:
            sock.sendall(head_of(1000))
            assert read_response(sock).startswith(b"HTTP/1.1 200 ")
        with connect(server) as sock:
            sock.sendall(head_of(1001))
            assert read_until_closed(sock).startswith(b"HTTP/1.1 431 ")
        with connect(server) as sock:
            sock.sendall(b"GET /-/health HTTP/1.1\r\nHo")
            started = time.monotonic()
            assert read_until_closed(sock).startswith(b"HTTP/1.1 408 ")
            assert 0.9 < time.monotonic() - started < 3
        with connect(server) as sock:
            sock.sendall(HEALTH)
            assert read_response(sock).startswith(b"HTTP/1.1 200 ")
            sock.sendall(b"GET /-/health HTTP/1.1\r\nHo")
            assert read_until_closed(sock).startswith(b"HTTP/1.1 408 ")


# --- mockllm serve uses the same options --------------------------------------------------------


def test_serve_runs_uvicorn_with_the_shared_options(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from mockllm.cli import main

    for name in list(os.environ):
        if name.startswith("MOCKLLM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MOCKLLM_LIMIT_HEADER_TIMEOUT_SECONDS", "3")
    monkeypatch.setenv("MOCKLLM_LIMIT_KEEP_ALIVE_SECONDS", "7")
    calls: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.update(kwargs))
    for name in ("MOCKLLM_PORT", "MOCKLLM_CORS_ORIGINS"):
        monkeypatch.setenv(name, "")  # remembered: main() exports the flags
        monkeypatch.delenv(name)
    assert main(["serve", "--port", "9124", "--cors-origins", "http://localhost:3000"]) == 0
    settings = Settings()
    assert settings.cors_origins == "http://localhost:3000"
    expected = uvicorn_options(settings)
    http = calls.pop("http")
    assert isinstance(http, functools.partial) and isinstance(expected.pop("http"), type(http))
    assert http.func is protocol_class()
    assert http.keywords == {"max_header_bytes": 64 * 1024, "header_timeout": 3.0}
    assert {k: calls[k] for k in expected} == expected
    assert calls["ws"] == "none" and calls["timeout_keep_alive"] == 7.0
    assert calls["h11_max_incomplete_event_size"] == 64 * 1024


def test_the_protocol_option_pickles_for_worker_processes() -> None:
    http = uvicorn_options(Settings(limit_header_timeout_seconds=2))["http"]
    again = pickle.loads(pickle.dumps(http))
    assert again.func is http.func and again.keywords == http.keywords


def test_serve_subprocess_closes_a_slow_client_at_the_header_timeout(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKLLM_")}
    env["MOCKLLM_LIMIT_HEADER_TIMEOUT_SECONDS"] = "0.5"
    command = [
        sys.executable,
        "-m",
        "mockllm",
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    log = tmp_path / "serve.log"
    with log.open("wb") as err:
        process = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/-/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "mockllm serve did not start"
                time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /-/health HTTP/1.1\r\nHo")
            started = time.monotonic()
            assert read_until_closed(sock).startswith(b"HTTP/1.1 408 ")
            assert time.monotonic() - started < 2
    finally:
        process.terminate()
        process.wait(10)


# --- browsers: CORS -----------------------------------------------------------------------------

APP = "http://localhost:3000"
EVIL = "http://evil.example"


@pytest.fixture(scope="module")
def cors() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG, cors_origins=f"{APP}, http://127.0.0.1:5173/") as running:
        yield running


def preflight(server: MockServer, origin: str, **headers: str) -> httpx.Response:
    return httpx.options(
        server.openai_url + "/chat/completions",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type, x-stainless-os",
            **headers,
        },
        timeout=10,
    )


def test_an_allowed_origin_gets_its_preflight_answered(cors: MockServer) -> None:
    answer = preflight(cors, APP)
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == APP
    assert set(answer.headers["access-control-allow-methods"].split(", ")) >= {"GET", "POST"}
    assert answer.headers["access-control-allow-headers"] == (
        "authorization, content-type, x-stainless-os"
    )
    assert int(answer.headers["access-control-max-age"]) > 0
    assert "origin" in answer.headers["vary"]
    assert "access-control-allow-private-network" not in answer.headers
    private = preflight(
        cors, "http://127.0.0.1:5173", **{"access-control-request-private-network": "true"}
    )
    assert private.status_code == 204
    assert private.headers["access-control-allow-origin"] == "http://127.0.0.1:5173"
    assert private.headers["access-control-allow-private-network"] == "true"


def test_a_refused_origin_gets_a_403_preflight_without_allow_headers(cors: MockServer) -> None:
    answer = preflight(cors, EVIL)
    assert answer.status_code == 403
    assert not [h for h in answer.headers if h.startswith("access-control-")]


def test_a_cross_origin_text_plain_post_is_refused_and_not_served(
    cors: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    """What a web page can send without a preflight: a text/plain POST. It must not reach
    the engine (the rule's sequence does not move, no request line is logged)."""
    import json

    caplog.set_level(logging.INFO, logger="mockllm")
    cors.reset()
    answer = httpx.post(
        cors.openai_url + "/chat/completions",
        headers={"origin": EVIL, "content-type": "text/plain"},
        content=json.dumps(chat_body("count")),
        timeout=10,
    )
    assert answer.status_code == 403
    assert "access-control-allow-origin" not in answer.headers
    error = answer.json()["error"]
    assert error["type"] == "permission_error"
    assert "--cors-origins" in error["message"] and "MOCKLLM_CORS_ORIGINS" in error["message"]
    assert EVIL in error["message"]
    assert not [r for r in caplog.records if r.name == "mockllm.requests"]
    assert any("403" in r.getMessage() and EVIL in r.getMessage() for r in caplog.records)
    served_first = httpx.post(cors.openai_url + "/chat/completions", json=chat_body("count"))
    assert served_first.json()["choices"][0]["message"]["content"] == "first"
    reset = httpx.post(cors.url + "/-/reset", headers={"origin": EVIL}, timeout=10)
    assert reset.status_code == 403
    again = httpx.post(cors.openai_url + "/chat/completions", json=chat_body("count"))
    assert again.json()["choices"][0]["message"]["content"] == "second"  # no reset happened


def test_an_allowed_origin_gets_the_allow_origin_header_on_answers(cors: MockServer) -> None:
    headers = {"origin": APP, "authorization": "Bearer x"}
    answer = httpx.post(
        cors.openai_url + "/chat/completions", headers=headers, json=chat_body("hello"), timeout=10
    )
    assert answer.status_code == 200
    assert answer.json()["choices"][0]["message"]["content"] == "hi there"
    assert answer.headers["access-control-allow-origin"] == APP
    assert "origin" in answer.headers["vary"].lower()
    exposed = answer.headers["access-control-expose-headers"].split(", ")
    assert "x-request-id" in exposed and "x-mockllm-rule" in exposed
    assert "content-type" not in exposed
    with httpx.stream(
        "POST",
        cors.openai_url + "/chat/completions",
        headers=headers,
        json=chat_body("hello", stream=True),
        timeout=10,
    ) as stream:
        assert stream.status_code == 200
        assert stream.headers["access-control-allow-origin"] == APP
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = stream.read().decode()
    assert "hi" in text and text.rstrip().endswith("data: [DONE]")
    anthropic = httpx.post(
        cors.url + "/v1/messages",
        headers={**headers, "anthropic-version": "2023-06-01"},
        json={
            "model": "claude-sonnet-4-6",
            "max_tokens": 10,
            "messages": [{"role": "user", "content": "hello"}],
        },
        timeout=10,
    )
    assert anthropic.status_code == 200
    assert anthropic.headers["access-control-allow-origin"] == APP
    assert "request-id" in anthropic.headers["access-control-expose-headers"].split(", ")


def test_an_error_answer_to_an_allowed_origin_is_readable_too(cors: MockServer) -> None:
    answer = httpx.get(cors.openai_url + "/nowhere", headers={"origin": APP}, timeout=10)
    assert answer.status_code == 404
    assert answer.headers["access-control-allow-origin"] == APP


def test_any_origin_with_star() -> None:
    with MockServer(config_text=CONFIG, cors_origins="*") as server:
        answer = httpx.post(
            server.openai_url + "/chat/completions",
            headers={"origin": EVIL},
            json=chat_body("hello"),
            timeout=10,
        )
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == "*"
        assert preflight(server, "null").headers["access-control-allow-origin"] == "*"


def test_same_origin_works_with_no_setting(quick: MockServer) -> None:
    assert quick.settings.cors_origins is None
    for origin in (quick.url, f"http://localhost:{quick.port}"):
        host = origin.removeprefix("http://")
        answer = httpx.post(
            quick.openai_url + "/chat/completions",
            headers={"origin": origin, "host": host},
            json=chat_body("hello"),
            timeout=10,
        )
        assert answer.status_code == 200, origin
        assert answer.headers["access-control-allow-origin"] == origin
        assert preflight(quick, origin, host=host).status_code == 204


def test_a_dns_rebinding_page_is_not_same_origin(quick: MockServer) -> None:
    """A page of evil.example whose name was re-pointed to 127.0.0.1 is same-origin in the
    browser's eyes (Origin and Host both evil.example:port): still refused."""
    host = f"evil.example:{quick.port}"
    answer = httpx.post(
        quick.openai_url + "/chat/completions",
        headers={"origin": f"http://{host}", "host": host},
        json=chat_body("hello"),
        timeout=10,
    )
    assert answer.status_code == 403


def test_other_origins_are_refused_with_no_setting(quick: MockServer) -> None:
    answer = httpx.post(
        quick.openai_url + "/chat/completions",
        headers={"origin": APP},
        json=chat_body("hello"),
        timeout=10,
    )
    assert answer.status_code == 403
    assert preflight(quick, APP).status_code == 403


def test_requests_without_origin_are_unaffected(cors: MockServer) -> None:
    answer = httpx.post(cors.openai_url + "/chat/completions", json=chat_body("hello"), timeout=10)
    assert answer.status_code == 200
    assert not [h for h in answer.headers if h.startswith("access-control-")]
    assert "vary" not in answer.headers
    # OPTIONS without Origin is no preflight: the router answers it, as before.
    options = httpx.options(cors.openai_url + "/chat/completions", timeout=10)
    assert options.status_code == 405
    assert healthy(cors)


def test_a_client_leaving_a_paced_stream_frees_its_wait_at_once(quick: MockServer) -> None:
    """A stream with latency is paced by the app's one scheduler (``mockllm.pacing``); when
    its client disconnects, its wait is released at once, not when its next frame was due."""
    quick.write_config(CONFIG + "settings:\n  lag_enabled: true\n  lag_factor: 0.05\n")
    pacer = quick.app.services.pacer
    try:
        with httpx.stream(
            "POST", quick.openai_url + "/chat/completions", json=chat_body("slow", stream=True)
        ) as answer:
            assert answer.status_code == 200
            # Kept: a finished-with iterator closes the connection (httpcore) when collected.
            chunks = answer.iter_raw()
            first = next(chunks)
            assert first.startswith(b"data: ")
            deadline = time.monotonic() + 2  # the server files the wait after sending
            while pacer.waiting != 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert pacer.waiting == 1  # 2 s per character: waiting for its next frame
        deadline = time.monotonic() + 0.5  # the next frame was due seconds later
        while pacer.waiting and time.monotonic() < deadline:
            time.sleep(0.02)
        assert pacer.waiting == 0
    finally:
        quick.write_config(CONFIG)
