"""Rate limits and API keys through the official SDKs: the rate-limit headers every
OpenAI, Azure and Anthropic answer carries (``remaining`` counting the request it
answers), ``settings.rate_limits`` enforced per API key and model with the dialect's 429
and a ``retry-after``, and ``settings.api_keys`` refusing any other key with the dialect's
authentication error."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import httpx
import openai
import orjson
import pytest
from anthropic.types import MessageParam
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types
from openai import AzureOpenAI, OpenAI
from openai.types.chat import ChatCompletionMessageParam

from mockllm.testing import MockServer

GPT = "gpt-4o"
OTHER_GPT = "gpt-4o-mini"
CLAUDE = "claude-opus-4-6"
GEMINI = "gemini-2.5-flash"
LLAMA = "llama3.2"
PROMPT = "count to three"
ANSWER = "One two three."
RESPONSES = f"""
responses:
  "{PROMPT}": "{ANSWER}"
"""
LIMITED_CONFIG = (
    """
settings:
  rate_limits: {requests_per_minute: 2}
"""
    + RESPONSES
)
MODERATE_CONFIG = (
    """
settings:
  rate_limits: {requests_per_minute: 5, tokens_per_minute: 100000}
"""
    + RESPONSES
)
TOKENS_CONFIG = (
    """
settings:
  rate_limits: {tokens_per_minute: 60}
"""
    + RESPONSES
)
KEYS_CONFIG = (
    """
settings:
  api_keys: [sk-good, sk-ant-good, gemini-good]
"""
    + RESPONSES
)

GPT_MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]
CLAUDE_MESSAGES: list[MessageParam] = [{"role": "user", "content": PROMPT}]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(config_text=MODERATE_CONFIG) as running:
        yield running


@pytest.fixture
def moderate(server: MockServer) -> MockServer:
    server.write_config(MODERATE_CONFIG)
    server.reset()
    return server


@pytest.fixture
def limited(server: MockServer) -> Iterator[MockServer]:
    server.write_config(LIMITED_CONFIG)
    server.reset()
    yield server
    server.write_config(MODERATE_CONFIG)


@pytest.fixture
def token_limited(server: MockServer) -> Iterator[MockServer]:
    server.write_config(TOKENS_CONFIG)
    server.reset()
    yield server
    server.write_config(MODERATE_CONFIG)


def gpt(server: MockServer, key: str = "sk-test") -> OpenAI:
    return OpenAI(base_url=server.openai_url, api_key=key, max_retries=0)


def claude(server: MockServer, key: str = "sk-ant-test") -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key=key, max_retries=0)


# --- the headers ---------------------------------------------------------------------------


def test_openai_remaining_requests_count_down(moderate: MockServer) -> None:
    with gpt(moderate) as client:
        remaining: list[int] = []
        for _ in range(3):
            raw = client.chat.completions.with_raw_response.create(model=GPT, messages=GPT_MESSAGES)
            assert raw.parse().choices[0].message.content == ANSWER
            assert raw.headers["x-ratelimit-limit-requests"] == "5"
            remaining.append(int(raw.headers["x-ratelimit-remaining-requests"]))
            assert raw.headers["x-ratelimit-limit-tokens"] == "100000"
            tokens_left = int(raw.headers["x-ratelimit-remaining-tokens"])
            assert tokens_left < 100000
            assert raw.headers["x-ratelimit-reset-requests"]
        # remaining counts the request it answers.
        assert remaining == [4, 3, 2]
        # A stream answer carries them too.
        with client.chat.completions.with_streaming_response.create(
            model=GPT, messages=GPT_MESSAGES, stream=True
        ) as streamed:
            assert streamed.headers["x-ratelimit-remaining-requests"] == "1"
            "".join(streamed.iter_lines())


def test_anthropic_remaining_requests_count_down(moderate: MockServer) -> None:
    with claude(moderate) as client:
        remaining: list[int] = []
        for _ in range(3):
            raw = client.messages.with_raw_response.create(
                model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES
            )
            assert raw.headers["anthropic-ratelimit-requests-limit"] == "5"
            remaining.append(int(raw.headers["anthropic-ratelimit-requests-remaining"]))
            assert raw.headers["anthropic-ratelimit-requests-reset"].endswith("Z")
            for family in ("tokens", "input-tokens", "output-tokens"):
                assert f"anthropic-ratelimit-{family}-remaining" in raw.headers
        assert remaining == [4, 3, 2]


def test_azure_answers_carry_remaining(moderate: MockServer) -> None:
    with AzureOpenAI(
        azure_endpoint=moderate.url, api_version="2024-10-21", api_key="az-key", max_retries=0
    ) as client:
        first = client.chat.completions.with_raw_response.create(model=GPT, messages=GPT_MESSAGES)
        second = client.chat.completions.with_raw_response.create(model=GPT, messages=GPT_MESSAGES)
    assert int(first.headers["x-ratelimit-remaining-requests"]) == 4
    assert int(second.headers["x-ratelimit-remaining-requests"]) == 3
    assert "x-ratelimit-remaining-tokens" in second.headers


# --- enforced limits -----------------------------------------------------------------------


def test_openai_third_request_is_a_429_per_key_and_model(limited: MockServer) -> None:
    with gpt(limited, "sk-first") as client:
        for expected in ("1", "0"):
            raw = client.chat.completions.with_raw_response.create(model=GPT, messages=GPT_MESSAGES)
            assert raw.headers["x-ratelimit-remaining-requests"] == expected
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model=GPT, messages=GPT_MESSAGES)
        error = caught.value
        assert error.status_code == 429
        assert int(error.response.headers["retry-after"]) >= 1
        body = orjson.loads(error.response.content)
        assert list(body) == ["error"]
        assert set(body["error"]) == {"message", "type", "param", "code"}
        assert body["error"]["code"] == "rate_limit_exceeded"
        assert body["error"]["type"] == "requests"
        assert "requests per min" in body["error"]["message"]
        # Another model of the same key has buckets of its own.
        other = client.chat.completions.with_raw_response.create(
            model=OTHER_GPT, messages=GPT_MESSAGES
        )
        assert other.headers["x-ratelimit-remaining-requests"] == "1"
    # Another key too.
    with gpt(limited, "sk-second") as client:
        raw = client.chat.completions.with_raw_response.create(model=GPT, messages=GPT_MESSAGES)
        assert raw.parse().choices[0].message.content == ANSWER
        assert raw.headers["x-ratelimit-remaining-requests"] == "1"
    # The first key is still limited: nothing refilled a whole request in the meantime.
    with gpt(limited, "sk-first") as client, pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model=GPT, messages=GPT_MESSAGES)


def test_retry_after_is_the_wait_until_a_request_refills(limited: MockServer) -> None:
    """``retry-after`` is the real wait: about 30 s for 2 requests a minute (an SDK with
    retries would sleep it: this client has none)."""
    with gpt(limited, "sk-wait") as client:
        client.chat.completions.create(model=GPT, messages=GPT_MESSAGES)
        client.chat.completions.create(model=GPT, messages=GPT_MESSAGES)
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model=GPT, messages=GPT_MESSAGES)
    headers = caught.value.response.headers
    assert 25 <= int(headers["retry-after"]) <= 30
    assert 25_000 <= int(headers["retry-after-ms"]) <= 30_000


def test_anthropic_third_request_is_a_429_per_key(limited: MockServer) -> None:
    with claude(limited, "sk-ant-first") as client:
        for expected in ("1", "0"):
            raw = client.messages.with_raw_response.create(
                model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES
            )
            assert raw.headers["anthropic-ratelimit-requests-remaining"] == expected
        with pytest.raises(anthropic.RateLimitError) as caught:
            client.messages.create(model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES)
        error = caught.value
        assert error.status_code == 429
        assert int(error.response.headers["retry-after"]) >= 1
        body = orjson.loads(error.response.content)
        assert set(body) == {"type", "error", "request_id"}
        assert body["error"]["type"] == "rate_limit_error"
    with claude(limited, "sk-ant-second") as client:
        raw = client.messages.with_raw_response.create(
            model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES
        )
        assert raw.headers["anthropic-ratelimit-requests-remaining"] == "1"


def test_gemini_and_ollama_are_limited_in_their_envelopes(limited: MockServer) -> None:
    options = genai_types.HttpOptions(base_url=limited.url, api_version="v1beta")
    with genai.Client(api_key="gemini-key", http_options=options) as client:
        client.models.generate_content(model=GEMINI, contents=PROMPT)
        client.models.generate_content(model=GEMINI, contents=PROMPT)
        with pytest.raises(genai_errors.ClientError) as caught:
            client.models.generate_content(model=GEMINI, contents=PROMPT)
    assert caught.value.code == 429
    assert caught.value.status == "RESOURCE_EXHAUSTED"
    details = caught.value.details
    assert isinstance(details, dict)
    retry_info = [
        d for d in details["error"]["details"] if d["@type"].endswith("google.rpc.RetryInfo")
    ]
    assert retry_info and retry_info[0]["retryDelay"].endswith("s")

    body = {"model": LLAMA, "stream": False, "messages": [{"role": "user", "content": PROMPT}]}
    statuses = [httpx.post(limited.url + "/api/chat", json=body).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


@pytest.mark.parametrize("dialect", ["openai", "anthropic"])
def test_a_rate_limit_429_carries_the_rate_limit_headers(limited: MockServer, dialect: str) -> None:
    if dialect == "openai":
        with gpt(limited, "sk-headers") as client:
            for _ in range(2):
                client.chat.completions.create(model=GPT, messages=GPT_MESSAGES)
            with pytest.raises(openai.RateLimitError) as caught:
                client.chat.completions.create(model=GPT, messages=GPT_MESSAGES)
        headers = caught.value.response.headers
        assert headers.get("x-ratelimit-limit-requests") == "2"
        assert headers.get("x-ratelimit-remaining-requests") == "0"
    else:
        with claude(limited, "sk-ant-headers") as anthropic_client:
            for _ in range(2):
                anthropic_client.messages.create(
                    model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES
                )
            with pytest.raises(anthropic.RateLimitError) as refused:
                anthropic_client.messages.create(
                    model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES
                )
        headers = refused.value.response.headers
        assert headers.get("anthropic-ratelimit-requests-limit") == "2"
        assert headers.get("anthropic-ratelimit-requests-remaining") == "0"


def exhaust_tokens(server: MockServer) -> tuple[list[int], list[int], openai.RateLimitError]:
    """Requests until the 60 tokens a minute are used up: the remaining tokens each
    answer reported, each answer's total tokens, and the 429 that came."""
    remaining: list[int] = []
    used: list[int] = []
    with gpt(server, "sk-tokens") as client:
        for _ in range(10):
            try:
                raw = client.chat.completions.with_raw_response.create(
                    model=GPT, messages=GPT_MESSAGES
                )
            except openai.RateLimitError as exc:
                return remaining, used, exc
            usage = raw.parse().usage
            assert usage is not None
            used.append(usage.total_tokens)
            remaining.append(int(raw.headers["x-ratelimit-remaining-tokens"]))
    raise AssertionError(f"60 tokens a minute never ran out: {remaining}")


def test_a_token_bucket_counts_prompt_and_answer_tokens(token_limited: MockServer) -> None:
    remaining, used, error = exhaust_tokens(token_limited)
    # Each answer takes its prompt and output tokens (the bucket refills 1 a second).
    expected = 60
    for left, total in zip(remaining, used, strict=True):
        expected -= total
        assert expected <= left <= expected + 1, (remaining, used)
    assert 2 <= len(remaining) <= 6
    assert error.status_code == 429
    assert error.code == "rate_limit_exceeded"
    assert int(error.response.headers["retry-after"]) >= 1
    assert "tokens per min" in error.message


def test_a_token_bucket_429_has_type_tokens(token_limited: MockServer) -> None:
    _, _, error = exhaust_tokens(token_limited)
    assert error.type == "tokens"


# --- API keys ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed() -> Iterator[MockServer]:
    with MockServer(config_text=KEYS_CONFIG) as running:
        yield running


def test_openai_wrong_key_is_401_and_the_right_one_works(keyed: MockServer) -> None:
    with gpt(keyed, "sk-wrong-key-123") as client:
        with pytest.raises(openai.AuthenticationError) as caught:
            client.chat.completions.create(model=GPT, messages=GPT_MESSAGES)
    error = caught.value
    assert error.status_code == 401
    assert error.code == "invalid_api_key"
    body = orjson.loads(error.response.content)
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == "invalid_request_error"
    assert "sk-wrong-key-123" not in body["error"]["message"]  # shown masked, as OpenAI does
    with gpt(keyed, "sk-good") as client:
        reply = client.chat.completions.create(model=GPT, messages=GPT_MESSAGES)
    assert reply.choices[0].message.content == ANSWER


def test_openai_no_key_is_401(keyed: MockServer) -> None:
    response = httpx.post(
        keyed.openai_url + "/chat/completions", json={"model": GPT, "messages": GPT_MESSAGES}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_anthropic_wrong_key_is_authentication_error(keyed: MockServer) -> None:
    with claude(keyed, "sk-ant-wrong") as client:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            client.messages.create(model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES)
    assert caught.value.status_code == 401
    body = orjson.loads(caught.value.response.content)
    assert set(body) == {"type", "error", "request_id"}
    assert body["error"]["type"] == "authentication_error"
    with claude(keyed, "sk-ant-good") as client:
        message = client.messages.create(model=CLAUDE, max_tokens=100, messages=CLAUDE_MESSAGES)
    assert message.content[0].type == "text" and message.content[0].text == ANSWER
    # The documented header of the older SDKs, x-api-key, is a key as well.
    body_json = {"model": CLAUDE, "max_tokens": 100, "messages": CLAUDE_MESSAGES}
    headers = {"x-api-key": "sk-ant-good", "anthropic-version": "2023-06-01"}
    assert httpx.post(keyed.url + "/v1/messages", json=body_json, headers=headers).is_success


def test_gemini_wrong_key_is_400_api_key_invalid(keyed: MockServer) -> None:
    options = genai_types.HttpOptions(base_url=keyed.url, api_version="v1beta")
    with genai.Client(api_key="gemini-wrong", http_options=options) as client:
        with pytest.raises(genai_errors.ClientError) as caught:
            client.models.generate_content(model=GEMINI, contents=PROMPT)
    assert caught.value.code == 400
    assert "API_KEY_INVALID" in orjson.dumps(caught.value.details).decode()
    with genai.Client(api_key="gemini-good", http_options=options) as client:
        assert client.models.generate_content(model=GEMINI, contents=PROMPT).text == ANSWER


def test_gemini_wrong_key_envelope_is_the_real_one(keyed: MockServer) -> None:
    response = httpx.post(
        keyed.url + f"/v1beta/models/{GEMINI}:generateContent",
        json={"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]},
        headers={"x-goog-api-key": "gemini-wrong"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 400
    assert error["status"] == "INVALID_ARGUMENT"
    reasons = [
        d.get("reason")
        for d in error.get("details", [])
        if d.get("@type") == "type.googleapis.com/google.rpc.ErrorInfo"
    ]
    assert reasons == ["API_KEY_INVALID"]
