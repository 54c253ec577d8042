"""The fast lane (:mod:`mockllm.fastlane`) answers exactly as the serving path does.

Most cases run the same requests, in the same order, against two servers with the same
config: one with the lane (the default), one without (``fast_lane=False``), over raw
keep-alive sockets, and compare what each wrote byte for byte, the values that are new for
every answer aside (the completion's id and creation time, the request id, the processing
time, the date; rate-limit reset times are durations measured by the clock). They also
check that the lane answered (or stepped aside) as the case requires, and that what the
server keeps (journal, metrics, rate-limit buckets, sequence counters...) is the same.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import pytest

from mockllm.app import create_app
from mockllm.fastlane import MAX_BODY_BYTES, FastLane, FixedAnswer, Varying, _template
from mockllm.realism.quotas import Quotas
from mockllm.rules.schema import RateLimits
from mockllm.server import answer_prefix
from mockllm.serving import Stage
from mockllm.settings import Settings
from mockllm.testing import MockServer

pytest.importorskip("httptools")

from uvicorn.protocols.http.httptools_impl import STATUS_LINE  # noqa: E402

PATH = "/v1/chat/completions"
ANSWER = 'The sky is blue: 100% sure, café ☕, "quoted" and a back\\slash.'
CONFIG = f"""
responses:
  "what colour is the sky?": {json.dumps(ANSWER)}
defaults:
  unknown_response: "I don't know."
rules:
  - name: plain-rule
    match: {{prompt: {{contains: weather}}}}
    reply: "Sunny, 21 degrees."
  - name: overridden
    match: {{prompt: {{contains: usage}}}}
    reply: {{text: "Counted otherwise.", finish_reason: length, usage: {{prompt_tokens: 7}}}}
  - name: json-reply
    match: {{prompt: {{contains: json please}}}}
    reply: {{json: {{"city": "Paris", "temp": 21, "tags": ["a", "b"]}}}}
  - name: refusing
    match: {{prompt: {{contains: refuse}}}}
    reply: {{refusal: "I cannot help with that."}}
  - name: echoing
    match: {{prompt: {{contains: echo}}}}
    reply: {{echo: true}}
  - name: schema-json
    match: {{prompt: {{contains: schema}}}}
    reply: {{json_schema: {{type: object, properties: {{n: {{type: integer}}}}, required: [n]}}}}
  - name: counted
    match: {{prompt: {{contains: sequence}}}}
    sequence: ["first", "second", "third"]
  - name: templated
    match: {{prompt: {{contains: template}}}}
    reply: "You asked with {{{{ request.model }}}} (turn {{{{ counter }}}})."
  - name: tool
    match: {{prompt: {{contains: tool}}}}
    reply: {{tool_calls: [{{name: lookup, arguments: {{q: x}}}}]}}
"""

_BUCKETS = (re.compile(rb"\r\n(x-ratelimit-remaining-[a-z]+): 9999\d+"), rb"\r\n\1: FULL")
"""The default buckets' remaining figures: how far each has refilled since the last request
(one request in 60 us) depends on the time between them."""
_VOLATILE = (
    (re.compile(rb"\r\ndate: [^\r]*"), b"\r\ndate: D"),
    (re.compile(rb"\r\nx-request-id: req_[0-9a-f]+"), b"\r\nx-request-id: R"),
    (re.compile(rb"\r\nopenai-processing-ms: \d+"), b"\r\nopenai-processing-ms: P"),
    (re.compile(rb"\r\n(x-ratelimit-reset-[a-z]+): [^\r]*"), rb"\r\n\1: T"),
    (re.compile(rb"\r\n(retry-after(?:-ms)?): [^\r]*"), rb"\r\n\1: T"),
    (re.compile(rb'"id":"chatcmpl-[0-9a-f]+"'), b'"id":"I"'),
    (re.compile(rb'"id":"call_[0-9a-f]+"'), b'"id":"C"'),
    (re.compile(rb'"created":\d+'), b'"created":0'),
    (re.compile(rb"try again in [0-9.a-z]+\."), b"try again in T."),
    # The framing of the answers read one after the other checks every length.
    (re.compile(rb"\r\ncontent-length: \d+"), b"\r\ncontent-length: L"),
)


def normalized(answer: bytes) -> bytes:
    """``answer`` with the values that are new for every answer replaced."""
    for pattern, replacement in (*_VOLATILE, _BUCKETS):
        answer = pattern.sub(replacement, answer)
    return answer


def request_bytes(
    body: bytes | dict[str, Any],
    headers: Sequence[str] = (),
    *,
    path: str = PATH,
    version: str = "1.1",
    key: str | None = "sk-test",
) -> bytes:
    """A raw ``POST`` of ``body`` (a dict is JSON-encoded) with ``headers``."""
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    lines = [f"POST {path} HTTP/{version}", "host: 127.0.0.1", "content-type: application/json"]
    if key is not None:
        lines.append(f"authorization: Bearer {key}")
    lines += [f"content-length: {len(data)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data


def read_answer(sock: socket.socket, buffer: bytearray) -> bytes:
    """One whole answer from ``sock`` (``buffer`` keeps what follows it): its head and a
    body of ``content-length`` bytes, or chunks to the last one, or to the end."""
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError(f"closed after {bytes(buffer)!r}")
        buffer += data
    end = buffer.index(b"\r\n\r\n") + 4
    head = bytes(buffer[:end])
    if head.startswith(b"HTTP/1.1 100 "):
        del buffer[:end]
        return head
    found = re.search(rb"\r\ncontent-length: (\d+)", head)
    if found is not None:
        size = end + int(found.group(1))
        while len(buffer) < size:
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("closed in a body")
            buffer += data
    elif b"transfer-encoding: chunked" in head:
        while not buffer.endswith(b"\r\n0\r\n\r\n"):
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("closed in a chunked body")
            buffer += data
        size = len(buffer)
    else:
        while data := sock.recv(65536):
            buffer += data
        size = len(buffer)
    answer = bytes(buffer[:size])
    del buffer[:size]
    return answer


def exchange(server: MockServer, requests: Sequence[bytes]) -> list[bytes]:
    """Send ``requests`` one after the other on one kept-alive connection; their answers."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        buffer = bytearray()
        answers = []
        for raw in requests:
            sock.sendall(raw)
            answers.append(read_answer(sock, buffer))
        return answers


def answered(server: MockServer) -> int:
    """How many requests the server's lane has answered."""
    return sum(route.answered for route in server.app.lane.routes.values())


@contextlib.contextmanager
def pair(config: str = CONFIG, **settings: Any) -> Iterator[tuple[MockServer, MockServer]]:
    """The same server with the lane (first) and without it."""
    with (
        MockServer(config_text=config, **settings) as fast,
        MockServer(config_text=config, fast_lane=False, **settings) as slow,
    ):
        yield fast, slow


def both(
    servers: tuple[MockServer, MockServer], requests: Sequence[bytes]
) -> tuple[list[bytes], list[bytes]]:
    """Each server's answers to ``requests``, normalized; asserted equal."""
    fast, slow = servers
    got = [normalized(a) for a in exchange(fast, requests)]
    want = [normalized(a) for a in exchange(slow, requests)]
    for number, (mine, theirs) in enumerate(zip(got, want, strict=True)):
        assert mine == theirs, f"answer {number}:\n{mine!r}\n!=\n{theirs!r}"
    return got, want


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[MockServer, MockServer]]:
    with pair() as found:
        yield found


def chat(prompt: str, **fields: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": prompt}], **fields}


FIXED_BODIES = {
    "responses": chat("what colour is the sky?"),
    "rule": chat("how is the weather?"),
    "usage and finish overridden": chat("usage"),
    "json reply": chat("json please"),
    "refusal": chat("refuse this"),
    "echo": chat("echo me, 50% of it"),
    "generated json": chat("schema"),
    "system, names, sampling": {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "how is the weather?", "name": "ann"},
            {"role": "assistant", "content": "Which city?"},
            {"role": "user", "content": "weather in Paris"},
        ],
        "temperature": 0.2,
        "top_p": 0.9,
        "seed": 3,
        "user": "u-1",
        "metadata": {"k": "v"},
    },
    "n and max_tokens": chat("what colour is the sky?", n=2, max_tokens=5),
    "max_completion_tokens": chat("how is the weather?", max_completion_tokens=3),
    "stop": chat("what colour is the sky?", stop=["café"]),
    "logprobs": chat("how is the weather?", logprobs=True, top_logprobs=2),
    "another model": {**chat("how is the weather?"), "model": "gpt-4o-mini"},
    "unknown model": {**chat("how is the weather?"), "model": "my-own-model"},
}


@pytest.mark.parametrize("name", list(FIXED_BODIES))
def test_a_fixed_answer_is_the_serving_paths(
    servers: tuple[MockServer, MockServer], name: str
) -> None:
    fast, slow = servers
    before = answered(fast)
    raw = request_bytes(FIXED_BODIES[name])
    got, _ = both(servers, [raw] * 4)
    assert got[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert answered(fast) - before == 2  # the first two took the serving path
    assert answered(slow) == 0


NOT_FIXED_BODIES: dict[str, bytes | dict[str, Any]] = {
    "sequence": chat("sequence"),
    "template": chat("template"),
    "tool calls": chat("tool"),
    "no rule": chat("nothing matches this"),
    "stream": chat("what colour is the sky?", stream=True),
    "store": chat("what colour is the sky?", store=True),
    "tools offered": chat(
        "how is the weather?",
        tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    ),
    "invalid JSON": b'{"model": "gpt-4o", "messages": [',
    "invalid request": {"model": "gpt-4o", "messages": []},
    "too many output tokens": chat("how is the weather?", max_tokens=10**7),
}


@pytest.mark.parametrize("name", list(NOT_FIXED_BODIES))
def test_an_answer_that_is_not_fixed_takes_the_serving_path(
    servers: tuple[MockServer, MockServer], name: str
) -> None:
    fast, _slow = servers
    before = answered(fast)
    raw = request_bytes(NOT_FIXED_BODIES[name])
    both(servers, [raw] * 4)
    assert answered(fast) == before


def test_the_stream_of_a_body_is_the_serving_paths(
    servers: tuple[MockServer, MockServer],
) -> None:
    raw = request_bytes(chat("what colour is the sky?", stream=True))
    got, _ = both(servers, [raw] * 3)
    assert b"data: [DONE]" in got[-1]


def journal(server: MockServer, **filters: Any) -> list[dict[str, Any]]:
    entries = server.requests(**filters)
    out = []
    for entry in entries:
        entry = dict(entry)
        for name in ("time", "duration_ms", "ttfb_ms", "request_id"):
            entry.pop(name)
        out.append(entry)
    return out


def metric_lines(server: MockServer) -> list[str]:
    """The counters and histogram counts of ``/metrics`` (sums and buckets are timings)."""
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n")
        text = read_answer(sock, bytearray()).split(b"\r\n\r\n", 1)[1].decode()
    return [
        line
        for line in text.splitlines()
        if line.startswith(("mockllm_requests_total", "mockllm_prompt_tokens_total"))
        or line.startswith("mockllm_generation_tokens_total")
        or (line.startswith("mockllm_") and "_count{" in line)
    ]


def test_journal_metrics_and_the_request_log_are_the_serving_paths() -> None:
    lines: dict[int, list[str]] = {}

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            text = re.sub(r" [0-9.]+ ms$", " T ms", record.getMessage())
            lines.setdefault(record.thread or 0, []).append(text)

    handler = Keep()
    logger = logging.getLogger("mockllm.requests")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        with pair(request_log=True) as servers:
            fast, slow = servers
            requests = [request_bytes(body) for body in FIXED_BODIES.values()] * 3
            requests += [request_bytes(chat("sequence"))] * 2
            requests.append(
                request_bytes(chat("how is the weather?"), ["x-mockllm-conversation: c1"])
            )
            both(servers, requests)
            assert answered(fast) > 0
            assert journal(fast) == journal(slow)
            assert metric_lines(fast) == metric_lines(slow)
            assert len(fast.requests()) == len(requests)
            assert fast.requests()[-1]["conversation"] == slow.requests()[-1]["conversation"]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    logged = sorted(lines.values(), key=len)
    assert len(logged) == 2 and logged[0] == logged[1]  # one thread per server
    assert len(logged[0]) == len(requests)
    assert "POST /v1/chat/completions openai model=gpt-4o rule=responses 200 json T ms" in logged[0]


def test_rate_limits_and_their_headers_are_the_serving_paths() -> None:
    config = CONFIG + "settings:\n  rate_limits: {requests_per_minute: 5, tokens_per_minute: 400}\n"
    with pair(config) as servers:
        fast, _slow = servers
        raw = request_bytes(chat("how is the weather?"))
        got, _ = both(servers, [raw] * 7)
        statuses = [a.split(b" ", 2)[1] for a in got]
        assert statuses == [b"200"] * 5 + [b"429"] * 2
        assert answered(fast) == 3
        assert b"x-ratelimit-remaining-requests: 0\r\n" in got[4]
        # Another key has buckets of its own.
        other = request_bytes(chat("how is the weather?"), key="sk-other")
        got, _ = both(servers, [other] * 3)
        assert b"x-ratelimit-remaining-requests: 2\r\n" in got[-1]


def test_token_buckets_and_model_limits_are_the_serving_paths() -> None:
    config = CONFIG + (
        "settings:\n  rate_limits: {tokens_per_minute: 1000}\n"
        "models:\n  - id: gpt-4o-mini\n    rate_limits: {requests_per_minute: 3}\n"
    )
    with pair(config) as servers:
        fast, _slow = servers
        big = request_bytes(chat("how is the weather? " * 30))  # 164 tokens a request
        got, _ = both(servers, [big] * 8)
        statuses = [a.split(b" ", 2)[1] for a in got]
        assert statuses == [b"200"] * 6 + [b"429"] * 2  # the tokens run short
        assert b'"type":"tokens"' in got[6]
        assert answered(fast) == 4
        mini = request_bytes({**chat("how is the weather?"), "model": "gpt-4o-mini"})
        got, _ = both(servers, [mini] * 5)
        assert [a.split(b" ", 2)[1] for a in got] == [b"200"] * 3 + [b"429"] * 2
        assert b"x-ratelimit-limit-requests: 3\r\n" in got[2]
        assert answered(fast) == 5


def test_a_refused_api_key_gets_the_serving_paths_401() -> None:
    config = CONFIG + "settings:\n  api_keys: [sk-good]\n"
    with pair(config) as servers:
        fast, _slow = servers
        good = request_bytes(chat("how is the weather?"), key="sk-good")
        bad = request_bytes(chat("how is the weather?"), key="sk-bad")
        none = request_bytes(chat("how is the weather?"), key=None)
        got, _ = both(servers, [good, good, good, bad, none, good])
        assert [a.split(b" ", 2)[1] for a in got] == [b"200"] * 3 + [b"401"] * 2 + [b"200"]
        assert answered(fast) == 2


@pytest.mark.parametrize(
    "header",
    [
        "x-mockllm-error: 503",
        "x-mockllm-ttft-ms: 30",
        "x-mockllm-fail-first: 1",
        "x-mockllm-error: nonsense",
        "origin: http://localhost:3000",
        "origin: http://evil.example",
    ],
)
def test_a_request_header_that_changes_the_answer_takes_the_serving_path(
    servers: tuple[MockServer, MockServer], header: str
) -> None:
    fast, _slow = servers
    raw = request_bytes(chat("how is the weather?"))
    both(servers, [raw] * 3)  # learned
    before = answered(fast)
    with_header = request_bytes(chat("how is the weather?"), [header])
    both(servers, [with_header] * 2)
    assert answered(fast) == before


def test_cors_headers_are_the_serving_paths() -> None:
    with pair(cors_origins="http://localhost:3000") as servers:
        raw = request_bytes(chat("how is the weather?"))
        page = request_bytes(chat("how is the weather?"), ["origin: http://localhost:3000"])
        got, _ = both(servers, [raw] * 3 + [page])
        assert b"access-control-allow-origin: http://localhost:3000\r\n" in got[-1]


@pytest.mark.parametrize(
    "settings",
    [
        "faults: {error: 503}",
        "faults: {error_rate: 0.5}",
        "latency: {ttft_ms: 20}",
        "load: {max_concurrent: 1, queue: 10}",
        "lag_enabled: true\n  lag_factor: 1000",
    ],
)
def test_a_config_that_times_or_fails_answers_closes_the_lane(settings: str) -> None:
    config = CONFIG + "settings:\n  " + settings + "\n"
    with pair(config) as servers:
        fast, _slow = servers
        raw = request_bytes(chat("how is the weather?"))
        both(servers, [raw] * 4)
        assert answered(fast) == 0


def test_rule_and_model_knobs_close_the_lane() -> None:
    rule = (
        CONFIG
        + "  - name: slow\n    match: {prompt: slow}\n    reply: x\n    latency: {ttft_ms: 5}\n"
    )
    model = CONFIG + "models:\n  - id: gpt-4o\n    faults: {error_rate: 0.0}\n"
    for config in (rule, model):
        with pair(config) as servers:
            both(servers, [request_bytes(chat("how is the weather?"))] * 3)
            assert answered(servers[0]) == 0


def test_a_rule_on_headers_closes_the_lane() -> None:
    config = CONFIG + (
        "  - name: by-header\n    priority: 5\n    match: {headers: {x-team: red}}\n"
        "    reply: For the red team.\n"
    )
    with pair(config) as servers:
        raw = request_bytes(chat("how is the weather?"))
        red = request_bytes(chat("how is the weather?"), ["x-team: red"])
        got, _ = both(servers, [raw, raw, raw, red, raw])
        assert b"For the red team." in got[3]
        assert answered(servers[0]) == 0


def test_sequences_count_every_turn(servers: tuple[MockServer, MockServer]) -> None:
    fast, _slow = servers
    before = answered(fast)
    raw = request_bytes(chat("sequence"), ["x-mockllm-conversation: seq-1"])
    got, _ = both(servers, [raw] * 4)
    assert [re.search(rb'"content":"(\w+)"', a).group(1) for a in got] == [  # type: ignore[union-attr]
        b"first",
        b"second",
        b"third",
        b"third",
    ]
    assert answered(fast) == before


def test_new_rules_are_answered_at_once() -> None:
    with MockServer(config_text=CONFIG) as server:
        raw = request_bytes(chat("how is the weather?"))
        first = exchange(server, [raw] * 3)
        assert answered(server) == 1
        assert all(b"Sunny, 21 degrees." in a for a in first)
        server.add_rules({"rules": [{"match": {"prompt": {"contains": "weather"}}, "priority": 5,
                                      "reply": "Rainy now."}]})  # fmt: skip
        assert all(b"Rainy now." in a for a in exchange(server, [raw] * 3))
        server.write_config(CONFIG.replace("Sunny, 21 degrees.", "Foggy."))
        assert all(b"Foggy." in a for a in exchange(server, [raw] * 3))
        server.reset()  # the added rule goes
        assert all(b"Foggy." in a for a in exchange(server, [raw] * 3))
        assert answered(server) > 1


def test_a_hot_reload_from_the_file_is_answered_at_once(tmp_path: Any) -> None:
    path = tmp_path / "config.yml"
    path.write_text(CONFIG, encoding="utf-8")
    with MockServer(path) as server:
        raw = request_bytes(chat("how is the weather?"))
        exchange(server, [raw] * 3)
        path.write_text(CONFIG.replace("Sunny, 21 degrees.", "Snowing."), encoding="utf-8")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if b"Snowing." in exchange(server, [raw])[0]:
                break
            time.sleep(0.05)
        assert all(b"Snowing." in a for a in exchange(server, [raw] * 3))


def test_admin_reset_is_the_serving_paths() -> None:
    config = CONFIG + "settings:\n  rate_limits: {requests_per_minute: 3}\n"
    with pair(config) as servers:
        raw = request_bytes(chat("how is the weather?"))
        both(servers, [raw] * 4)
        for server in servers:
            server.reset()
            assert server.requests() == []
        got, _ = both(servers, [raw] * 4)
        assert [a.split(b" ", 2)[1] for a in got] == [b"200"] * 3 + [b"429"]
        assert journal(servers[0]) == journal(servers[1])


def test_the_lane_turned_off_or_not_applying() -> None:
    class Nothing(Stage):
        name = "nothing"

    with_stage = create_app(Settings(watch=False), stages=[Nothing()])
    assert not with_stage.lane.applies()
    assert with_stage.lanes == {}  # its connections never wait for the lane
    plain = create_app(Settings(watch=False))
    assert plain.lane.applies()
    off = create_app(Settings(watch=False, fast_lane=False))
    assert not off.lane.applies()
    assert set(plain.lanes) == {PATH.encode()}


# --- the protocol ---------------------------------------------------------------------


def test_pipelined_requests_are_answered_in_order(
    servers: tuple[MockServer, MockServer],
) -> None:
    bodies = [chat("what colour is the sky?"), chat("sequence"), chat("how is the weather?")]
    raws = [request_bytes(body) for body in bodies]
    both(servers, raws * 2)  # learned
    fast, slow = servers
    pipelined = []
    for server in servers:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"".join(raws * 3))
            buffer = bytearray()
            pipelined.append([normalized(read_answer(sock, buffer)) for _ in range(9)])
    assert pipelined[0] == pipelined[1]
    assert [b"Sunny" in a for a in pipelined[0]] == [False, False, True] * 3


def test_a_body_in_pieces_and_a_large_body(servers: tuple[MockServer, MockServer]) -> None:
    fast, _slow = servers
    raw = request_bytes(chat("what colour is the sky?"))
    exchange(fast, [raw] * 2)
    before = answered(fast)
    with socket.create_connection(("127.0.0.1", fast.port), timeout=10) as sock:
        for piece in (raw[:40], raw[40:-10], raw[-10:]):
            sock.sendall(piece)
            time.sleep(0.02)
        answer = read_answer(sock, bytearray())
    assert answered(fast) == before + 1
    assert normalized(answer) == normalized(exchange(fast, [raw])[0])
    before = answered(fast)
    large = chat("what colour is the sky?", metadata={"k": "x" * MAX_BODY_BYTES})
    got, _ = both(servers, [request_bytes(large)] * 3)
    assert got[0].startswith(b"HTTP/1.1 200 ")
    assert answered(fast) == before


@pytest.mark.parametrize(
    ("headers", "version"),
    [
        (["expect: 100-continue"], "1.1"),
        (["connection: close"], "1.1"),
        ([], "1.0"),
    ],
)
def test_requests_the_protocol_treats_itself_take_the_serving_path(
    servers: tuple[MockServer, MockServer], headers: list[str], version: str
) -> None:
    fast, _slow = servers
    raw = request_bytes(chat("what colour is the sky?"))
    both(servers, [raw] * 2)
    before = answered(fast)
    special = request_bytes(chat("what colour is the sky?"), headers, version=version)
    got, _ = both(servers, [special])
    assert got[0].startswith((b"HTTP/1.1 100 ", b"HTTP/1.1 200 "))
    assert answered(fast) == before


def test_another_target_takes_the_serving_path(servers: tuple[MockServer, MockServer]) -> None:
    fast, _slow = servers
    before = answered(fast)
    for path in (PATH + "?x=1", "/v1/chat/completions/", "/v1//chat/completions"):
        both(servers, [request_bytes(chat("what colour is the sky?"), path=path)] * 3)
    assert answered(fast) == before


# --- the parts --------------------------------------------------------------------------


def test_an_answer_template_splices_fresh_values() -> None:
    body = b'{"id":"chatcmpl-abc","created":17,"content":"100%s sure, 50%%"}'
    made = _template(
        body, (Varying("17", lambda: "99"), Varying("chatcmpl-abc", lambda: "chatcmpl-xyzw"))
    )
    assert made is not None
    template, fresh, size = made
    assert size == len(body) - len("chatcmpl-abc") - len("17")
    answer = FixedAnswer.made(template, size, fresh, {}, "application/json", "m", "r", 1, 2,
                              ("", ""), None)  # fmt: skip
    values = answer.values()
    spliced = b'{"id":"chatcmpl-xyzw","created":99,"content":"100%s sure, 50%%"}'
    assert answer.whole % (b"P", b"H", *values) == b"PH\r\n\r\n" + spliced
    assert answer.size + sum(map(len, values)) == len(spliced)
    assert _template(body, (Varying("1", lambda: "2"),)) is None  # not exactly once
    assert _template(body, (Varying("", lambda: "2"),)) is None
    assert _template(b'{"a":"\\"x"}', (Varying('"x', lambda: "y"),)) is None  # escaped


def test_the_answer_prefix_is_what_the_cycle_writes() -> None:
    headers = [(b"date", b"Thu, 03 Dec 2026 02:05:41 GMT"), (b"server", b"uvicorn")]
    prefix = answer_prefix(headers, STATUS_LINE)
    assert prefix == (
        b"HTTP/1.1 200 OK\r\ndate: Thu, 03 Dec 2026 02:05:41 GMT\r\nserver: uvicorn\r\n"
    )
    assert answer_prefix([], STATUS_LINE) == b"HTTP/1.1 200 OK\r\n"
    assert answer_prefix([(b"X-Upper", b"v")], STATUS_LINE) is None  # uvicorn lowers it
    assert answer_prefix([(b"connection", b"close")], STATUS_LINE) is None


def test_quotas_afford_what_take_request_and_take_allow() -> None:
    quotas = Quotas(clock=lambda: 0.0, wall=lambda: 0.0)
    account = quotas.account(
        "k", "m", RateLimits(requests_per_minute=2, tokens_per_minute=10), None
    )
    assert quotas.affords(account, 10)
    assert not quotas.affords(account, 11)
    quotas.take_request(account)
    quotas.take_request(account)
    assert not quotas.affords(account, 0)


def test_stats_of_the_lane() -> None:
    app = create_app(Settings(watch=False))
    lane: FastLane = app.lane
    assert lane.stats() == {"answered": 0, "answers": 0}
    with MockServer(config_text=CONFIG) as server:
        exchange(server, [request_bytes(chat("how is the weather?"))] * 5)
        stats = json.loads(exchange(server, [b"GET /-/stats HTTP/1.1\r\nhost: x\r\n\r\n"])[0]
                           .split(b"\r\n\r\n", 1)[1])  # fmt: skip
        assert stats["fast_lane.answered"] == 3
        assert stats["fast_lane.answers"] == 1
        assert "fast_lane" not in server.reset()  # nothing of it to reset


def test_a_request_being_read_at_shutdown_is_answered_then_closed() -> None:
    """uvicorn's graceful shutdown closes idle connections and lets a request in progress
    finish with ``connection: close``; a lane request whose body is still arriving is one
    in progress."""
    server = MockServer(config_text=CONFIG).start()
    raw = request_bytes(chat("what colour is the sky?"))
    exchange(server, [raw] * 3)
    assert answered(server) == 1
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw[:-5])
        time.sleep(0.1)  # the headers are complete, the body is not
        stopping = threading.Thread(target=server.stop)
        stopping.start()
        time.sleep(0.3)  # shutdown began; the connection waits for its request
        sock.sendall(raw[-5:])
        answer = read_answer(sock, bytearray())
        assert sock.recv(1) == b""  # then closed
        stopping.join()
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nconnection: close\r\n" in answer
    assert b"The sky is blue" in answer
    assert answered(server) == 1  # the serving path answered it
