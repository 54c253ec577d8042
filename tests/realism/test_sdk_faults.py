"""Faults on demand (``x-mockllm-*`` headers and the config's ``faults:``), through the
official SDKs over a real socket: the SDKs' own retry logic recovers from first-N failures
(each HTTP attempt counted on the client's transport), a cut stream and a stalled stream
break the client the way a real network failure does, every dialect answers an injected
error in its own envelope, a bad header value is the dialect's 400, and the load model
answers the provider's overload error past its queue. The server keeps serving after each.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import httpx2
import ollama
import openai
import orjson
import pytest
from anthropic.types import MessageParam
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam

from mockllm.testing import MockServer

GPT = "gpt-4o"
CLAUDE = "claude-opus-4-6"
GEMINI = "gemini-2.5-flash"
LLAMA = "llama3.2"
PROMPT = "count to ten"
ANSWER = "One two three four five six seven eight nine ten."
BUSY_PROMPT = "busy"
CONFIG = f"""
responses:
  "{PROMPT}": "{ANSWER}"
rules:
  - name: broken
    match: {{prompt: {{icontains: broken}}}}
    reply: "never served"
    faults: {{error: 503}}
"""
LOAD_CONFIG = f"""
settings:
  load: {{max_concurrent: 1, queue: 0, slowdown: 0}}
responses:
  "{PROMPT}": "{ANSWER}"
"""
QUEUE_CONFIG = LOAD_CONFIG.replace("queue: 0", "queue: 1")

GPT_MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]
CLAUDE_MESSAGES: list[MessageParam] = [{"role": "user", "content": PROMPT}]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    """A server of the module's own: its fault attempts are not disturbed by other tests."""
    with MockServer(config_text=CONFIG) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(server: MockServer) -> None:
    server.reset()


class Wire:
    """The statuses of the HTTP responses one SDK client got, in order: one per attempt
    its retry logic made (an ``httpx2`` event hook on the client's transport)."""

    def __init__(self) -> None:
        self.statuses: list[int] = []

    def _seen(self, response: httpx2.Response) -> None:
        self.statuses.append(response.status_code)

    def client(self, timeout: float = 10) -> httpx2.Client:
        return httpx2.Client(timeout=timeout, event_hooks={"response": [self._seen]})


def openai_client(
    server: MockServer, wire: Wire, *, max_retries: int = 2, timeout: float = 10
) -> OpenAI:
    return OpenAI(
        base_url=server.openai_url,
        api_key="sk-test",
        max_retries=max_retries,
        timeout=timeout,
        http_client=wire.client(timeout),
    )


def anthropic_client(
    server: MockServer, wire: Wire, *, max_retries: int = 2, timeout: float = 10
) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=server.url,
        api_key="sk-ant-test",
        max_retries=max_retries,
        timeout=timeout,
        http_client=wire.client(timeout),
    )


def raw_events(response: httpx.Response) -> tuple[list[str], BaseException | None]:
    """The SSE events (their ``data:`` lines) read from ``response`` until it ends or
    breaks, and the exception that broke it (None for a clean end)."""
    events: list[str] = []
    try:
        for line in response.iter_lines():
            if line.startswith("data:"):
                events.append(line)
    except httpx.HTTPError as exc:
        return events, exc
    return events, None


# --- first-N failures through the SDKs' retries -------------------------------------------


def test_openai_retries_fail_first_then_the_conversation_succeeds_at_once(
    server: MockServer,
) -> None:
    wire = Wire()
    headers = {
        "x-mockllm-fail-first": "2",
        "x-mockllm-retry-after": "0.01",
        "x-mockllm-conversation": "openai-fail-first",
    }
    with openai_client(server, wire) as client:
        assert client.max_retries == 2  # the SDK's default: three attempts in all
        started = time.monotonic()
        raw = client.chat.completions.with_raw_response.create(
            model=GPT, messages=GPT_MESSAGES, extra_headers=headers
        )
        elapsed = time.monotonic() - started
        assert raw.parse().choices[0].message.content == ANSWER
        assert wire.statuses == [429, 429, 200]
        assert raw.retries_taken == 2
        # The SDK waited retry-after-ms (10 ms), not its own backoff (>= 1.1 s for two).
        assert elapsed < 1.0, elapsed

        # The conversation's later attempts succeed at once.
        raw = client.chat.completions.with_raw_response.create(
            model=GPT, messages=GPT_MESSAGES, extra_headers=headers
        )
        assert raw.parse().choices[0].message.content == ANSWER
        assert wire.statuses == [429, 429, 200, 200]
        assert raw.retries_taken == 0

        # Another conversation has attempts of its own.
        other = {**headers, "x-mockllm-conversation": "openai-fail-first-2"}
        raw = client.chat.completions.with_raw_response.create(
            model=GPT, messages=GPT_MESSAGES, extra_headers=other
        )
        assert raw.retries_taken == 2
        assert wire.statuses[4:] == [429, 429, 200]


def test_openai_failed_attempts_carry_the_retry_hints(server: MockServer) -> None:
    wire = Wire()
    headers = {
        "x-mockllm-fail-first": "1",
        "x-mockllm-retry-after": "0.01",
        "x-mockllm-conversation": "openai-hints",
    }
    with openai_client(server, wire, max_retries=0) as client:
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model=GPT, messages=GPT_MESSAGES, extra_headers=headers)
        assert caught.value.response.headers["retry-after"] == "0.01"
        assert caught.value.response.headers["retry-after-ms"] == "10"
        # Attempt 2 of the conversation: past fail-first.
        reply = client.chat.completions.create(
            model=GPT, messages=GPT_MESSAGES, extra_headers=headers
        )
        assert reply.choices[0].message.content == ANSWER
    assert wire.statuses == [429, 200]


@pytest.mark.parametrize("status", [500, 503])
def test_openai_retries_server_errors_of_fail_first(server: MockServer, status: int) -> None:
    wire = Wire()
    headers = {
        "x-mockllm-fail-first": "1",
        "x-mockllm-error": str(status),
        "x-mockllm-retry-after": "0.01",
        "x-mockllm-conversation": f"openai-{status}",
    }
    with openai_client(server, wire) as client:
        raw = client.chat.completions.with_raw_response.create(
            model=GPT, messages=GPT_MESSAGES, extra_headers=headers
        )
        assert raw.parse().choices[0].message.content == ANSWER
        assert raw.retries_taken == 1
    assert wire.statuses == [status, 200]


def test_anthropic_retries_fail_first_then_the_conversation_succeeds_at_once(
    server: MockServer,
) -> None:
    wire = Wire()
    headers = {
        "x-mockllm-fail-first": "2",
        "x-mockllm-retry-after": "0.01",
        "x-mockllm-conversation": "anthropic-fail-first",
    }
    with anthropic_client(server, wire) as client:
        assert client.max_retries == 2
        started = time.monotonic()
        raw = client.messages.with_raw_response.create(
            model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES, extra_headers=headers
        )
        elapsed = time.monotonic() - started
        message = raw.parse()
        assert message.content[0].type == "text" and message.content[0].text == ANSWER
        assert wire.statuses == [429, 429, 200]
        assert raw.retries_taken == 2
        assert elapsed < 1.0, elapsed

        raw = client.messages.with_raw_response.create(
            model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES, extra_headers=headers
        )
        assert raw.retries_taken == 0
        assert wire.statuses == [429, 429, 200, 200]


def test_anthropic_stream_retries_fail_first(server: MockServer) -> None:
    """The failure comes before any stream byte (a status, not an event): the SDK's
    ``.stream()`` helper retries it like any request."""
    wire = Wire()
    headers = {
        "x-mockllm-fail-first": "2",
        "x-mockllm-retry-after": "0.01",
        "x-mockllm-conversation": "anthropic-stream-fail-first",
    }
    with anthropic_client(server, wire) as client:
        with client.messages.stream(
            model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES, extra_headers=headers
        ) as stream:
            assert stream.get_final_text() == ANSWER
    assert wire.statuses == [429, 429, 200]


def test_anthropic_retries_a_529_overloaded(server: MockServer) -> None:
    wire = Wire()
    headers = {
        "x-mockllm-error": "529",
        "x-mockllm-fail-first": "1",
        "x-mockllm-retry-after": "0.01",
        "x-mockllm-conversation": "anthropic-529",
    }
    with anthropic_client(server, wire) as client:
        raw = client.messages.with_raw_response.create(
            model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES, extra_headers=headers
        )
        assert raw.retries_taken == 1
        message = raw.parse()
        assert message.content[0].type == "text" and message.content[0].text == ANSWER
    assert wire.statuses == [529, 200]


def test_anthropic_529_without_retries_is_overloaded_error(server: MockServer) -> None:
    wire = Wire()
    with anthropic_client(server, wire, max_retries=0) as client:
        with pytest.raises(anthropic.OverloadedError) as caught:
            client.messages.create(
                model=CLAUDE,
                max_tokens=100,
                messages=CLAUDE_MESSAGES,
                extra_headers={"x-mockllm-error": "529"},
            )
        assert caught.value.status_code == 529
        body = caught.value.body
        assert isinstance(body, dict)
        assert body["type"] == "error" and body["error"]["type"] == "overloaded_error"
        assert wire.statuses == [529]
        # No fail-first: the next request without the header is served.
        message = client.messages.create(model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES)
        assert message.content[0].type == "text" and message.content[0].text == ANSWER
    assert wire.statuses == [529, 200]


def test_error_rate_is_seeded(server: MockServer) -> None:
    """``x-mockllm-error-rate``: the failures are drawn from the seeded generator, so
    the same requests fail again in the same places after ``POST /-/reset``."""

    def pattern(rate: str) -> str:
        wire = Wire()
        with openai_client(server, wire, max_retries=0) as client:
            for _ in range(20):
                try:
                    client.chat.completions.create(
                        model=GPT,
                        messages=GPT_MESSAGES,
                        extra_headers={"x-mockllm-error-rate": rate},
                    )
                except openai.InternalServerError as exc:
                    assert exc.status_code == 500
        assert len(wire.statuses) == 20
        return "".join("x" if status == 500 else "." for status in wire.statuses)

    first = pattern("0.5")
    server.reset()
    assert pattern("0.5") == first
    assert "x" in first and "." in first, first  # 2**-19 to be all one or the other
    assert pattern("0") == "." * 20
    assert pattern("1") == "x" * 20


# --- a cut stream ---------------------------------------------------------------------------


def test_openai_cut_stream_raises_and_the_next_request_is_served(server: MockServer) -> None:
    wire = Wire()
    with openai_client(server, wire) as client:
        pieces: list[str] = []
        with pytest.raises(openai.APIConnectionError):
            stream = client.chat.completions.create(
                model=GPT,
                messages=GPT_MESSAGES,
                stream=True,
                extra_headers={"x-mockllm-stream-cut-after": "5"},
            )
            for chunk in stream:
                pieces.append(chunk.choices[0].delta.content or "")
        # Five events on the wire: the role chunk and four words; never the finish.
        assert len(pieces) == 5
        assert "".join(pieces) == "One two three four"
        # A broken body is not retried: one attempt.
        assert wire.statuses == [200]

        stream = client.chat.completions.create(model=GPT, messages=GPT_MESSAGES, stream=True)
        chunks = list(stream)
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ANSWER
        assert chunks[-1].choices[0].finish_reason == "stop"


def test_anthropic_cut_stream_raises_and_the_next_request_is_served(server: MockServer) -> None:
    wire = Wire()
    with anthropic_client(server, wire) as client:
        seen: list[str] = []
        with pytest.raises((httpx2.RemoteProtocolError, anthropic.APIConnectionError)):
            stream = client.messages.create(
                model=CLAUDE,
                max_tokens=100,
                messages=CLAUDE_MESSAGES,
                stream=True,
                extra_headers={"x-mockllm-stream-cut-after": "5"},
            )
            for event in stream:
                seen.append(event.type)
        # message_start, content_block_start, ping (which the SDK does not yield) and two
        # deltas: five events on the wire, and no stop.
        assert seen == [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
        ]
        assert wire.statuses == [200]

        with client.messages.stream(
            model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES
        ) as healthy:
            assert healthy.get_final_text() == ANSWER


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", {"model": GPT, "messages": GPT_MESSAGES}),
        ("/v1/messages", {"model": CLAUDE, "max_tokens": 100, "messages": CLAUDE_MESSAGES}),
    ],
)
@pytest.mark.parametrize("cut", [0, 3])
def test_cut_counts_every_event_on_the_wire(
    server: MockServer, path: str, body: dict[str, Any], cut: int
) -> None:
    """Byte level: exactly ``cut`` whole events, then a body the HTTP layer knows is
    incomplete (chunked encoding with no last chunk)."""
    headers = {"x-mockllm-stream-cut-after": str(cut), "x-api-key": "k"}
    with httpx.stream(
        "POST", server.url + path, json={**body, "stream": True}, headers=headers, timeout=10
    ) as response:
        assert response.status_code == 200
        events, broken = raw_events(response)
    assert len(events) == cut
    assert isinstance(broken, httpx.RemoteProtocolError)


# --- a stalled stream -----------------------------------------------------------------------


def test_openai_read_timeout_on_a_stall(server: MockServer) -> None:
    wire = Wire()
    with openai_client(server, wire, max_retries=0, timeout=0.5) as client:
        # The same client reads a whole answer in time when nothing stalls.
        chunks = list(client.chat.completions.create(model=GPT, messages=GPT_MESSAGES, stream=True))
        assert chunks[-1].choices[0].finish_reason == "stop"

        received = 0
        started = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            stream = client.chat.completions.create(
                model=GPT,
                messages=GPT_MESSAGES,
                stream=True,
                extra_headers={"x-mockllm-stall-ms": "2000"},
            )
            for _chunk in stream:
                received += 1
        elapsed = time.monotonic() - started
        # The first event came, then nothing: the client's read timeout fired, long
        # before the stall was over.
        assert received == 1
        assert 0.45 <= elapsed < 1.7, elapsed


def test_anthropic_read_timeout_on_a_stall(server: MockServer) -> None:
    wire = Wire()
    with anthropic_client(server, wire, max_retries=0, timeout=0.5) as client:
        received: list[str] = []
        started = time.monotonic()
        with pytest.raises((httpx2.ReadTimeout, anthropic.APITimeoutError)):
            stream = client.messages.create(
                model=CLAUDE,
                max_tokens=100,
                messages=CLAUDE_MESSAGES,
                stream=True,
                extra_headers={"x-mockllm-stall-ms": "2000"},
            )
            for event in stream:
                received.append(event.type)
        elapsed = time.monotonic() - started
        assert received == ["message_start"]
        assert 0.45 <= elapsed < 1.7, elapsed


def test_a_stall_holds_the_second_event(server: MockServer) -> None:
    """With a patient client the stream completes: the stall sits between the first
    event and the second, once."""
    wire = Wire()
    with openai_client(server, wire, max_retries=0) as client:
        client.chat.completions.create(model=GPT, messages=GPT_MESSAGES)  # warm
        started = time.monotonic()
        arrivals: list[float] = []
        text = ""
        for chunk in client.chat.completions.create(
            model=GPT,
            messages=GPT_MESSAGES,
            stream=True,
            extra_headers={"x-mockllm-stall-ms": "400"},
        ):
            arrivals.append(time.monotonic() - started)
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
    assert text == ANSWER
    assert arrivals[0] < 0.25, arrivals
    assert 0.38 <= arrivals[1] - arrivals[0] < 0.8, arrivals
    assert arrivals[-1] - arrivals[1] < 0.25, arrivals


# --- injected errors in each dialect's envelope ----------------------------------------------


def test_openai_429_envelope(server: MockServer) -> None:
    wire = Wire()
    headers = {"x-mockllm-error": "429", "x-mockllm-retry-after": "2"}
    with openai_client(server, wire, max_retries=0) as client:
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model=GPT, messages=GPT_MESSAGES, extra_headers=headers)
        error = caught.value
        assert error.status_code == 429
        body = orjson.loads(error.response.content)
        assert list(body) == ["error"]
        assert set(body["error"]) == {"message", "type", "param", "code"}
        assert body["error"]["type"] in ("requests", "tokens")
        assert body["error"]["message"]
        assert error.response.headers["retry-after"] == "2"
        assert error.response.headers["retry-after-ms"] == "2000"
        # Every OpenAI answer, errors too, carries the rate-limit headers.
        assert "x-ratelimit-remaining-requests" in error.response.headers
        assert wire.statuses == [429]


@pytest.mark.parametrize(
    ("status", "error_class", "error_type"),
    [
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
    ],
)
def test_anthropic_error_envelope(
    server: MockServer, status: int, error_class: type[anthropic.APIStatusError], error_type: str
) -> None:
    wire = Wire()
    headers = {"x-mockllm-error": str(status), "x-mockllm-retry-after": "2"}
    with anthropic_client(server, wire, max_retries=0) as client:
        with pytest.raises(error_class) as caught:
            client.messages.create(
                model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES, extra_headers=headers
            )
        error = caught.value
        assert error.status_code == status
        body = orjson.loads(error.response.content)
        assert set(body) == {"type", "error", "request_id"}
        assert body["type"] == "error"
        assert body["error"]["type"] == error_type and body["error"]["message"]
        assert body["request_id"] == error.response.headers["request-id"]
        assert error.response.headers["retry-after"] == "2"
        assert "anthropic-ratelimit-requests-remaining" in error.response.headers
    assert wire.statuses == [status]


def test_openai_500_envelope(server: MockServer) -> None:
    wire = Wire()
    with openai_client(server, wire, max_retries=0) as client:
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(
                model=GPT, messages=GPT_MESSAGES, extra_headers={"x-mockllm-error": "500"}
            )
        assert caught.value.status_code == 500
        assert caught.value.type == "server_error"
        assert "retry-after" not in caught.value.response.headers  # none asked for


def test_gemini_429_envelope_with_retry_info(server: MockServer) -> None:
    options = genai_types.HttpOptions(
        base_url=server.url,
        api_version="v1beta",
        headers={"x-mockllm-error": "429", "x-mockllm-retry-after": "2"},
    )
    with genai.Client(api_key="test-key", http_options=options) as client:
        with pytest.raises(genai_errors.ClientError) as caught:
            client.models.generate_content(model=GEMINI, contents=PROMPT)
    error = caught.value
    assert error.code == 429
    assert error.status == "RESOURCE_EXHAUSTED"
    details = error.details
    assert isinstance(details, dict)
    assert details["error"]["code"] == 429
    assert {
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        "retryDelay": "2s",
    } in details["error"]["details"]


def test_gemini_503_envelope(server: MockServer) -> None:
    options = genai_types.HttpOptions(
        base_url=server.url, api_version="v1beta", headers={"x-mockllm-error": "503"}
    )
    with genai.Client(api_key="test-key", http_options=options) as client:
        with pytest.raises(genai_errors.ServerError) as caught:
            client.models.generate_content(model=GEMINI, contents=PROMPT)
    assert caught.value.code == 503
    assert caught.value.status == "UNAVAILABLE"


def test_gemini_cut_stream_raises(server: MockServer) -> None:
    options = genai_types.HttpOptions(
        base_url=server.url,
        api_version="v1beta",
        headers={"x-mockllm-stream-cut-after": "2"},
    )
    texts: list[str] = []
    with genai.Client(api_key="test-key", http_options=options) as client:
        with pytest.raises((httpx2.RemoteProtocolError, httpx.RemoteProtocolError)):
            for chunk in client.models.generate_content_stream(model=GEMINI, contents=PROMPT):
                texts.append(chunk.text or "")
    assert texts == ["One", " two"]


def test_ollama_429(server: MockServer) -> None:
    with ollama.Client(host=server.url, headers={"x-mockllm-error": "429"}) as client:
        with pytest.raises(ollama.ResponseError) as caught:
            client.chat(model=LLAMA, messages=[{"role": "user", "content": PROMPT}])
    assert caught.value.status_code == 429
    assert caught.value.error
    with ollama.Client(host=server.url) as client:
        reply = client.chat(model=LLAMA, messages=[{"role": "user", "content": PROMPT}])
    assert reply.message.content == ANSWER


def test_a_rule_fault_fails_only_the_requests_it_matches(server: MockServer) -> None:
    wire = Wire()
    broken: list[ChatCompletionMessageParam] = [{"role": "user", "content": "this is broken"}]
    with openai_client(server, wire, max_retries=0) as client:
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(model=GPT, messages=broken)
        assert caught.value.status_code == 503
        reply = client.chat.completions.create(model=GPT, messages=GPT_MESSAGES)
        assert reply.choices[0].message.content == ANSWER
    with anthropic_client(server, Wire(), max_retries=0) as claude:
        with pytest.raises(anthropic.APIStatusError) as failed:
            claude.messages.create(
                model=CLAUDE,
                max_tokens=100,
                messages=[{"role": "user", "content": "broken again"}],
            )
        assert failed.value.status_code == 503
    assert wire.statuses == [503, 200]


# --- bad header values -----------------------------------------------------------------------

BAD_HEADERS = [
    ("x-mockllm-itl-ms", "abc"),
    ("x-mockllm-error", "200"),
    ("x-mockllm-fail-first", "-1"),
    ("x-mockllm-profile", "no-such-profile"),
]


@pytest.mark.parametrize(("name", "value"), BAD_HEADERS)
def test_bad_header_is_openai_400(server: MockServer, name: str, value: str) -> None:
    wire = Wire()
    with openai_client(server, wire) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(
                model=GPT, messages=GPT_MESSAGES, extra_headers={name: value}
            )
        body = orjson.loads(caught.value.response.content)
        assert set(body["error"]) == {"message", "type", "param", "code"}
        assert body["error"]["type"] == "invalid_request_error"
        assert body["error"]["param"] == name
        assert name in body["error"]["message"]
        assert wire.statuses == [400]  # a 400 is not retried
        reply = client.chat.completions.create(model=GPT, messages=GPT_MESSAGES)
        assert reply.choices[0].message.content == ANSWER


@pytest.mark.parametrize(("name", "value"), BAD_HEADERS)
def test_bad_header_is_anthropic_400(server: MockServer, name: str, value: str) -> None:
    wire = Wire()
    with anthropic_client(server, wire) as client:
        with pytest.raises(anthropic.BadRequestError) as caught:
            client.messages.create(
                model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES, extra_headers={name: value}
            )
        body = orjson.loads(caught.value.response.content)
        assert set(body) == {"type", "error", "request_id"}
        assert body["error"]["type"] == "invalid_request_error"
        assert name in body["error"]["message"]
        assert wire.statuses == [400]
        message = client.messages.create(model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES)
        assert message.content[0].type == "text" and message.content[0].text == ANSWER


@pytest.mark.parametrize(("name", "value"), BAD_HEADERS[:2])
def test_bad_header_is_gemini_400(server: MockServer, name: str, value: str) -> None:
    options = genai_types.HttpOptions(
        base_url=server.url, api_version="v1beta", headers={name: value}
    )
    with genai.Client(api_key="test-key", http_options=options) as client:
        with pytest.raises(genai_errors.ClientError) as caught:
            client.models.generate_content(model=GEMINI, contents=PROMPT)
    assert caught.value.code == 400
    assert caught.value.status == "INVALID_ARGUMENT"
    assert name in (caught.value.message or "")
    options = genai_types.HttpOptions(base_url=server.url, api_version="v1beta")
    with genai.Client(api_key="test-key", http_options=options) as client:
        assert client.models.generate_content(model=GEMINI, contents=PROMPT).text == ANSWER


@pytest.mark.parametrize(("name", "value"), BAD_HEADERS[:2])
def test_bad_header_is_ollama_400(server: MockServer, name: str, value: str) -> None:
    with ollama.Client(host=server.url, headers={name: value}) as client:
        with pytest.raises(ollama.ResponseError) as caught:
            client.chat(model=LLAMA, messages=[{"role": "user", "content": PROMPT}])
    assert caught.value.status_code == 400
    assert name in caught.value.error
    with ollama.Client(host=server.url) as client:
        reply = client.chat(model=LLAMA, messages=[{"role": "user", "content": PROMPT}])
    assert reply.message.content == ANSWER


# --- the load model ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def load_server() -> Iterator[MockServer]:
    with MockServer(config_text=LOAD_CONFIG) as running:
        yield running


async def until_busy(server: MockServer) -> None:
    """Until the server has a generation in flight (``/-/stats``), rather than a fixed
    sleep that a busy machine could outrun."""
    deadline = time.monotonic() + 5
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as http:
        while (await http.get("/-/stats")).json()["generations_busy"] < 1:
            assert time.monotonic() < deadline, "the slow stream never started"
            await asyncio.sleep(0.01)


async def _slow_stream(client: openai.AsyncOpenAI) -> str:
    stream = await client.chat.completions.create(
        model=GPT,
        messages=GPT_MESSAGES,
        stream=True,
        extra_headers={"x-mockllm-ttft-ms": "500"},
    )
    return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])


def test_past_the_queue_is_the_providers_overload_error(load_server: MockServer) -> None:
    load_server.write_config(LOAD_CONFIG)
    load_server.reset()

    async def scenario() -> None:
        async with (
            openai.AsyncOpenAI(
                base_url=load_server.openai_url, api_key="sk-test", max_retries=0
            ) as gpt,
            anthropic.AsyncAnthropic(
                base_url=load_server.url, api_key="sk-ant-test", max_retries=0
            ) as claude,
        ):
            slow = asyncio.create_task(_slow_stream(gpt))
            await until_busy(load_server)  # the slow stream holds the only slot
            with pytest.raises(openai.InternalServerError) as overloaded:
                await gpt.chat.completions.create(model=GPT, messages=GPT_MESSAGES)
            assert overloaded.value.status_code == 503
            with pytest.raises(anthropic.OverloadedError) as busy:
                await claude.messages.create(model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES)
            assert busy.value.status_code == 529
            body = orjson.loads(busy.value.response.content)
            assert body["error"]["type"] == "overloaded_error"
            assert await slow == ANSWER
            # The slot is free again once the stream is written.
            reply = await gpt.chat.completions.create(model=GPT, messages=GPT_MESSAGES)
            assert reply.choices[0].message.content == ANSWER

    asyncio.run(scenario())


def test_a_queued_request_waits_for_the_slot(load_server: MockServer) -> None:
    load_server.write_config(QUEUE_CONFIG)
    load_server.reset()

    async def scenario() -> None:
        async with openai.AsyncOpenAI(
            base_url=load_server.openai_url, api_key="sk-test", max_retries=0
        ) as gpt:
            started = time.monotonic()
            slow = asyncio.create_task(_slow_stream(gpt))
            await until_busy(load_server)
            reply = await gpt.chat.completions.create(model=GPT, messages=GPT_MESSAGES)
            waited = time.monotonic() - started
            assert reply.choices[0].message.content == ANSWER
            assert await slow == ANSWER
            assert waited >= 0.45, waited  # served only once the slow stream ended

    try:
        asyncio.run(scenario())
    finally:
        load_server.write_config(LOAD_CONFIG)


def test_a_client_leaving_a_stalled_stream_frees_its_slot(load_server: MockServer) -> None:
    load_server.write_config(LOAD_CONFIG)
    load_server.reset()
    wire = Wire()
    with openai_client(load_server, wire, max_retries=0, timeout=0.5) as client:
        with pytest.raises(openai.APITimeoutError):
            for _chunk in client.chat.completions.create(
                model=GPT,
                messages=GPT_MESSAGES,
                stream=True,
                extra_headers={"x-mockllm-stall-ms": "3000"},
            ):
                pass
    with openai_client(load_server, Wire(), max_retries=0) as client:
        # The server notices the client is gone; retry briefly rather than sleep blindly.
        deadline = time.monotonic() + 2
        while True:
            try:
                reply = client.chat.completions.create(model=GPT, messages=GPT_MESSAGES)
                break
            except openai.InternalServerError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        assert reply.choices[0].message.content == ANSWER
        with pytest.raises(openai.APIConnectionError):
            for _chunk in client.chat.completions.create(
                model=GPT,
                messages=GPT_MESSAGES,
                stream=True,
                extra_headers={"x-mockllm-stream-cut-after": "2"},
            ):
                pass
        # A cut stream gives its slot back too.
        reply = client.chat.completions.create(model=GPT, messages=GPT_MESSAGES)
        assert reply.choices[0].message.content == ANSWER
