"""Error replies raise the SDKs' own exception classes; SDK retries honour ``retry-after``."""

from __future__ import annotations

import time

import anthropic
import openai
import pytest
from anthropic.types import TextBlock

from mockllm.testing import MockServer
from openapi_schemas import assert_valid
from rules.scenario_support import CLAUDE, CONVERSATION, GPT, new_id, openai_raw, user

# --- error replies ----------------------------------------------------------------------------


def test_rate_limit_error_through_both_sdks(
    oai: openai.OpenAI, claude: anthropic.Anthropic, scenario_server: MockServer
) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        oai.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "rate limit"}])
    error = caught.value
    assert error.status_code == 429
    assert error.code == "rate_limit_exceeded"
    assert error.response.headers["retry-after"] == "7"
    assert error.response.headers["retry-after-ms"] == "7000"
    assert "Slow down." in error.message

    with pytest.raises(anthropic.RateLimitError) as caught_claude:
        claude.messages.create(
            model=CLAUDE, max_tokens=10, messages=[{"role": "user", "content": "rate limit"}]
        )
    assert caught_claude.value.status_code == 429
    assert caught_claude.value.response.headers["retry-after"] == "7"
    assert isinstance(caught_claude.value.body, dict)
    assert caught_claude.value.body["error"] == {
        "type": "rate_limit_error",
        "message": "Slow down.",
    }

    raw = openai_raw(scenario_server, {"messages": user("rate limit")})
    assert_valid("ErrorResponse", raw.json())


def test_overloaded_error_through_both_sdks(
    oai: openai.OpenAI, claude: anthropic.Anthropic, scenario_server: MockServer
) -> None:
    with pytest.raises(anthropic.OverloadedError) as caught_claude:
        claude.messages.create(
            model=CLAUDE, max_tokens=10, messages=[{"role": "user", "content": "overloaded"}]
        )
    assert caught_claude.value.status_code == 529
    with pytest.raises(openai.InternalServerError) as caught:
        oai.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "overloaded"}])
    assert caught.value.status_code == 503  # OpenAI has no 529
    assert "Overloaded." in caught.value.message
    assert_valid(
        "ErrorResponse", openai_raw(scenario_server, {"messages": user("overloaded")}).json()
    )


def test_authentication_error_through_both_sdks(
    oai: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        oai.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "bad key"}])
    assert (caught.value.status_code, caught.value.code) == (401, "invalid_api_key")
    with pytest.raises(anthropic.AuthenticationError) as caught_claude:
        claude.messages.create(
            model=CLAUDE, max_tokens=10, messages=[{"role": "user", "content": "bad key"}]
        )
    assert "Invalid API key." in caught_claude.value.message


def test_error_replies_raise_before_a_stream_starts(
    oai: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    with pytest.raises(openai.RateLimitError):
        oai.chat.completions.create(
            model=GPT, messages=[{"role": "user", "content": "rate limit"}], stream=True
        )
    with pytest.raises(anthropic.OverloadedError):
        with claude.messages.stream(
            model=CLAUDE, max_tokens=10, messages=[{"role": "user", "content": "overloaded"}]
        ) as stream:
            stream.get_final_message()


@pytest.mark.parametrize("prompt", ["flaky", "overloaded then ok"])
def test_sdk_retries_honour_retry_after(scenario_server: MockServer, prompt: str) -> None:
    headers_openai = {CONVERSATION: new_id()}
    with openai.OpenAI(
        base_url=scenario_server.openai_url,
        api_key="sk",
        max_retries=2,
        default_headers=headers_openai,
    ) as client:
        started = time.monotonic()
        completion = client.chat.completions.create(
            model=GPT, messages=[{"role": "user", "content": prompt}]
        )
        elapsed = time.monotonic() - started
    assert completion.choices[0].message.content == "ok on attempt 2"
    # retry-after-ms 10 was honoured: the SDK's own backoff waits at least 0.375 s
    assert elapsed < 0.35

    with anthropic.Anthropic(
        base_url=scenario_server.url,
        api_key="sk-ant",
        max_retries=2,
        default_headers={CONVERSATION: new_id()},
    ) as claude_client:
        started = time.monotonic()
        message = claude_client.messages.create(
            model=CLAUDE, max_tokens=50, messages=[{"role": "user", "content": prompt}]
        )
        elapsed = time.monotonic() - started
    assert message.content == [TextBlock(type="text", text="ok on attempt 2")]
    assert elapsed < 0.35


def test_without_retries_the_error_is_raised(oai: openai.OpenAI) -> None:
    headers = {CONVERSATION: new_id()}
    with pytest.raises(openai.RateLimitError):
        oai.chat.completions.create(
            model=GPT, messages=[{"role": "user", "content": "flaky"}], extra_headers=headers
        )
    again = oai.chat.completions.create(
        model=GPT, messages=[{"role": "user", "content": "flaky"}], extra_headers=headers
    )
    assert again.choices[0].message.content == "ok on attempt 2"
