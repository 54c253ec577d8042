"""Anthropic ``POST /v1/messages`` (non-streaming) and ``/v1/messages/count_tokens``
through the official ``anthropic`` SDK (wire-formats.md sections 5.1 to 5.3 and 5.6).

Every JSON answer is also validated against the SDK's own pydantic types in strict mode.
Strict validation runs on the raw JSON bytes (``model_validate_json(..., strict=True)``):
in strict *JSON* mode pydantic still parses RFC 3339 strings into ``datetime`` fields,
which strict *python* mode refuses, so JSON mode is the faithful strict check of a wire
document.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import httpx
import pytest
from anthropic.types import (
    Message,
    MessageParam,
    MessageTokensCount,
    TextBlock,
    TextBlockParam,
    ToolParam,
)

from mockllm.core.tokens import Tokenizer
from mockllm.testing import MockServer

MODEL = "claude-opus-4-6"
API_KEY = "sk-ant-test"
SKY = "what colour is the sky?"
SKY_ANSWER = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
WEATHER_ANSWER = "It is sunny in Paris, 22 degrees."
LONG_ANSWER = "One two three four five six seven eight nine ten. STOP here. Eleven twelve."
DEFAULT_ANSWER = "I don't know the answer to that. This is a mock response."

ENCODING = Tokenizer().encoding("o200k_base")

WEATHER_TOOL: ToolParam = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}

# A 1x1 transparent PNG.
PNG_1PX = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kg"
    "AAAABJRU5ErkJggg=="
)


def tokens(text: str) -> int:
    return len(ENCODING.encode_ordinary(text))


def check_message(raw: anthropic._response.APIResponse[Message]) -> Message:
    """The parsed message, after strict validation of the raw body and header checks."""
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("application/json")
    body = raw.http_response.content
    strict = Message.model_validate_json(body, strict=True)
    message = raw.parse()
    assert message.model_dump() == strict.model_dump()
    assert message._request_id is not None
    assert message._request_id == raw.headers["request-id"]
    assert message._request_id.startswith("req_")
    assert message.type == "message"
    assert message.role == "assistant"
    assert message.id.startswith("msg_")
    return message


def text_of(message: Message) -> str:
    assert all(isinstance(block, TextBlock) for block in message.content)
    return "".join(block.text for block in message.content if isinstance(block, TextBlock))


# --- 1. non-streaming answer ---------------------------------------------------------------


def test_create_answers_from_rules_with_usage(anthropic_client: anthropic.Anthropic) -> None:
    raw = anthropic_client.messages.with_raw_response.create(
        model=MODEL, max_tokens=200, messages=[{"role": "user", "content": SKY}]
    )
    message = check_message(raw)
    assert message.model == MODEL
    assert len(message.content) == 1
    assert message.content[0].type == "text"
    assert text_of(message) == SKY_ANSWER
    assert message.stop_reason == "end_turn"
    assert message.stop_sequence is None
    assert message.usage.output_tokens == tokens(SKY_ANSWER)
    # Documented accounting (mockllm.core.tokens): 3 per message + role + content.
    assert message.usage.input_tokens == 3 + tokens("user") + tokens(SKY)
    assert message.usage.cache_read_input_tokens == 0
    assert message.usage.cache_creation_input_tokens == 0


def test_create_plain_call_sets_request_id(anthropic_client: anthropic.Anthropic) -> None:
    message = anthropic_client.messages.create(
        model="claude-sonnet-4-6", max_tokens=100, messages=[{"role": "user", "content": "hello"}]
    )
    assert message._request_id is not None and message._request_id.startswith("req_")
    assert text_of(message) == DEFAULT_ANSWER
    assert message.model == "claude-sonnet-4-6"


def test_model_dependent_rule(anthropic_client: anthropic.Anthropic) -> None:
    message = anthropic_client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=100,
        messages=[{"role": "user", "content": "which model"}],
    )
    assert text_of(message) == "You are talking to a Claude model."


def test_unicode_answer_tokens(anthropic_client: anthropic.Anthropic) -> None:
    answer = "Grüße 👋 — 日本語のテキスト."
    raw = anthropic_client.messages.with_raw_response.create(
        model=MODEL, max_tokens=200, messages=[{"role": "user", "content": "unicode"}]
    )
    message = check_message(raw)
    assert text_of(message) == answer
    assert message.usage.output_tokens == tokens(answer)


def test_system_as_string(anthropic_client: anthropic.Anthropic) -> None:
    system = "You are a terse assistant."
    raw = anthropic_client.messages.with_raw_response.create(
        model=MODEL,
        max_tokens=200,
        system=system,
        messages=[{"role": "user", "content": SKY}],
    )
    message = check_message(raw)
    assert text_of(message) == SKY_ANSWER
    # The system prompt counts: 4 + its tokens (mockllm.core.tokens).
    assert message.usage.input_tokens == 3 + tokens("user") + tokens(SKY) + 4 + tokens(system)


def test_system_as_blocks_with_cache_control(anthropic_client: anthropic.Anthropic) -> None:
    system: list[TextBlockParam] = [
        {"type": "text", "text": "You are a terse assistant."},
        {
            "type": "text",
            "text": "Answer about colours.",
            "cache_control": {"type": "ephemeral"},
        },
    ]
    raw = anthropic_client.messages.with_raw_response.create(
        model=MODEL,
        max_tokens=200,
        system=system,
        messages=[{"role": "user", "content": [{"type": "text", "text": SKY}]}],
    )
    message = check_message(raw)
    assert text_of(message) == SKY_ANSWER
    assert message.stop_reason == "end_turn"
    as_string = anthropic_client.messages.create(
        model=MODEL,
        max_tokens=200,
        system="You are a terse assistant.",
        messages=[{"role": "user", "content": SKY}],
    )
    assert message.usage.input_tokens > as_string.usage.input_tokens


def test_async_create(server: MockServer) -> None:
    async def main() -> Message:
        async with anthropic.AsyncAnthropic(
            base_url=server.url, api_key=API_KEY, max_retries=0
        ) as sdk:
            raw = await sdk.messages.with_raw_response.create(
                model=MODEL, max_tokens=200, messages=[{"role": "user", "content": SKY}]
            )
            strict = Message.model_validate_json(raw.http_response.content, strict=True)
            message = await raw.parse()
            assert message.model_dump() == strict.model_dump()
            return message

    message = asyncio.run(main())
    assert text_of(message) == SKY_ANSWER
    assert message._request_id is not None


# --- 4. both authentication styles ----------------------------------------------------------


@pytest.mark.parametrize(
    "auth",
    [
        pytest.param({"x-api-key": API_KEY}, id="x-api-key"),
        pytest.param({"authorization": f"Bearer {API_KEY}"}, id="bearer"),
    ],
)
def test_auth_styles_raw(server: MockServer, auth: dict[str, str]) -> None:
    headers = {"anthropic-version": "2023-06-01", "content-type": "application/json", **auth}
    body = {"model": MODEL, "max_tokens": 200, "messages": [{"role": "user", "content": SKY}]}
    response = httpx.post(f"{server.url}/v1/messages", headers=headers, json=body)
    assert response.status_code == 200, response.text
    message = Message.model_validate_json(response.content, strict=True)
    assert text_of(message) == SKY_ANSWER
    assert response.headers["request-id"].startswith("req_")


def test_sdk_auth_header(anthropic_client: anthropic.Anthropic) -> None:
    raw = anthropic_client.messages.with_raw_response.create(
        model=MODEL, max_tokens=50, messages=[{"role": "user", "content": SKY}]
    )
    sent = raw.http_request.headers
    # anthropic 2.x authenticates with a bearer token; 0.x with x-api-key (P21).
    assert sent.get("authorization") == f"Bearer {API_KEY}" or sent.get("x-api-key") == API_KEY
    assert "anthropic-version" in sent
    check_message(raw)


# --- 5. tool-call histories and rich content ------------------------------------------------


def tool_history(final_user: list[Any]) -> list[MessageParam]:
    """A conversation with a thinking + text + tool_use assistant turn, then ``final_user``."""
    return [
        {"role": "user", "content": "Tell me something."},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "thinking",
                    "thinking": "The user wants the weather; call the tool.",
                    "signature": "EqQBCkYIBRgCKkBsignature",
                },
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy3redacted"},
                {"type": "text", "text": "Let me check."},
                {
                    "type": "tool_use",
                    "id": "toolu_01A09q90qw90lq917835lq9",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                },
            ],
        },
        {"role": "user", "content": final_user},
    ]


def test_tool_result_string_then_text_matches_weather(
    anthropic_client: anthropic.Anthropic,
) -> None:
    messages = tool_history(
        [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_01A09q90qw90lq917835lq9",
                "content": "22 degrees, sunny",
            },
            {"type": "text", "text": "what about the weather?"},
        ]
    )
    raw = anthropic_client.messages.with_raw_response.create(
        model=MODEL, max_tokens=200, messages=messages, tools=[WEATHER_TOOL]
    )
    message = check_message(raw)
    assert text_of(message) == WEATHER_ANSWER
    assert message.stop_reason == "end_turn"


def test_tool_result_blocks_with_error_and_images(anthropic_client: anthropic.Anthropic) -> None:
    messages = tool_history(
        [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_01A09q90qw90lq917835lq9",
                "is_error": True,
                "content": [
                    {"type": "text", "text": "weather service unavailable"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": PNG_1PX},
                    },
                ],
            },
            {
                "type": "image",
                "source": {"type": "url", "url": "https://example.com/sky.png"},
            },
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": PNG_1PX},
            },
            # The prompt is the last user message's TEXT: tool results and images are not
            # part of it (the tool result above mentions "weather", the text does not).
            {"type": "text", "text": SKY},
        ]
    )
    raw = anthropic_client.messages.with_raw_response.create(
        model=MODEL, max_tokens=200, messages=messages, tools=[WEATHER_TOOL]
    )
    message = check_message(raw)
    assert text_of(message) == SKY_ANSWER


@pytest.mark.parametrize(
    "tool_choice",
    [
        pytest.param({"type": "auto"}, id="auto"),
        pytest.param({"type": "auto", "disable_parallel_tool_use": True}, id="auto-serial"),
        pytest.param({"type": "any"}, id="any"),
        pytest.param({"type": "tool", "name": "get_weather"}, id="tool"),
        pytest.param({"type": "none"}, id="none"),
    ],
)
def test_tool_choice_variants(anthropic_client: anthropic.Anthropic, tool_choice: Any) -> None:
    raw = anthropic_client.messages.with_raw_response.create(
        model=MODEL,
        max_tokens=200,
        messages=[{"role": "user", "content": "what is the weather in Paris?"}],
        tools=[WEATHER_TOOL],
        tool_choice=tool_choice,
    )
    message = check_message(raw)
    assert message.stop_reason in ("end_turn", "tool_use")
    if message.stop_reason == "end_turn":
        assert text_of(message) == WEATHER_ANSWER


def test_thinking_param_and_metadata_accepted(anthropic_client: anthropic.Anthropic) -> None:
    raw = anthropic_client.messages.with_raw_response.create(
        model="claude-sonnet-4-6",
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        metadata={"user_id": "user-1234"},
        messages=[{"role": "user", "content": SKY}],
        extra_headers={"anthropic-beta": "interleaved-thinking-2025-05-14,foo-bar"},
    )
    message = check_message(raw)
    assert SKY_ANSWER in text_of(message)


def test_prompt_is_last_user_text(anthropic_client: anthropic.Anthropic) -> None:
    message = anthropic_client.messages.create(
        model=MODEL,
        max_tokens=200,
        messages=[
            {"role": "user", "content": "what about the weather?"},
            {"role": "assistant", "content": "It is sunny."},
            {"role": "user", "content": SKY},
        ],
    )
    assert text_of(message) == SKY_ANSWER


# --- 6. stop sequences and max_tokens -------------------------------------------------------


def test_stop_sequence(anthropic_client: anthropic.Anthropic) -> None:
    raw = anthropic_client.messages.with_raw_response.create(
        model=MODEL,
        max_tokens=200,
        stop_sequences=["STOP"],
        messages=[{"role": "user", "content": "long answer"}],
    )
    message = check_message(raw)
    expected = LONG_ANSWER[: LONG_ANSWER.index("STOP")]
    assert text_of(message) == expected
    assert "STOP" not in text_of(message)
    assert message.stop_reason == "stop_sequence"
    assert message.stop_sequence == "STOP"
    assert message.usage.output_tokens == tokens(expected)


def test_stop_sequence_not_found(anthropic_client: anthropic.Anthropic) -> None:
    message = anthropic_client.messages.create(
        model=MODEL,
        max_tokens=200,
        stop_sequences=["NEVER-THERE"],
        messages=[{"role": "user", "content": "long answer"}],
    )
    assert text_of(message) == LONG_ANSWER
    assert message.stop_reason == "end_turn"
    assert message.stop_sequence is None


def test_max_tokens_cut(anthropic_client: anthropic.Anthropic) -> None:
    raw = anthropic_client.messages.with_raw_response.create(
        model=MODEL, max_tokens=3, messages=[{"role": "user", "content": "long answer"}]
    )
    message = check_message(raw)
    assert message.stop_reason == "max_tokens"
    assert message.stop_sequence is None
    assert message.usage.output_tokens == 3
    text = text_of(message)
    assert LONG_ANSWER.startswith(text)
    assert tokens(text) == 3


# --- 7. count_tokens ------------------------------------------------------------------------


def test_count_tokens_matches_create(anthropic_client: anthropic.Anthropic) -> None:
    system: list[TextBlockParam] = [
        {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}
    ]
    messages = tool_history(
        [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_01A09q90qw90lq917835lq9",
                "content": "22 degrees, sunny",
            },
            {"type": "text", "text": "what about the weather?"},
        ]
    )
    raw = anthropic_client.messages.with_raw_response.count_tokens(
        model=MODEL, system=system, messages=messages, tools=[WEATHER_TOOL]
    )
    assert raw.status_code == 200
    strict = MessageTokensCount.model_validate_json(raw.http_response.content, strict=True)
    counted = raw.parse()
    assert counted.input_tokens == strict.input_tokens > 0
    created = anthropic_client.messages.create(
        model=MODEL, max_tokens=200, system=system, messages=messages, tools=[WEATHER_TOOL]
    )
    assert created.usage.input_tokens == counted.input_tokens


def test_count_tokens_simple(anthropic_client: anthropic.Anthropic) -> None:
    counted = anthropic_client.messages.count_tokens(
        model=MODEL, system="Be brief.", messages=[{"role": "user", "content": SKY}]
    )
    created = anthropic_client.messages.create(
        model=MODEL, max_tokens=10, system="Be brief.", messages=[{"role": "user", "content": SKY}]
    )
    assert counted.input_tokens == created.usage.input_tokens
    bare = anthropic_client.messages.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": SKY}]
    )
    assert bare.input_tokens < counted.input_tokens


def test_system_role_message_accepted(anthropic_client: anthropic.Anthropic) -> None:
    # anthropic 2.14 also allows a {role: "system"} message in `messages` (section 5.2).
    raw = anthropic_client.messages.with_raw_response.create(
        model=MODEL,
        max_tokens=200,
        messages=[
            {"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": SKY},
        ],
    )
    message = check_message(raw)
    assert text_of(message) == SKY_ANSWER


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"temperature": 0.5, "top_p": 0.9, "top_k": 5}, id="sampling"),
        pytest.param({"service_tier": "auto", "metadata": {"user_id": "u-1"}}, id="tier"),
        pytest.param(
            {"thinking": {"type": "enabled", "budget_tokens": 1024, "display": "omitted"}},
            id="thinking-display",
        ),
        pytest.param({"thinking": {"type": "adaptive"}}, id="thinking-adaptive"),
        pytest.param(
            {"tools": [{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]},
            id="server-tool",
        ),
        pytest.param(
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "document",
                                "source": {
                                    "type": "text",
                                    "media_type": "text/plain",
                                    "data": "a weather report",
                                },
                            },
                            {"type": "text", "text": SKY, "cache_control": {"type": "ephemeral"}},
                        ],
                    }
                ]
            },
            id="document-block",
        ),
    ],
)
@pytest.mark.parametrize("version", ["2023-06-01", "2026-10-21"])
def test_raw_fields_accepted(server: MockServer, extra: dict[str, Any], version: str) -> None:
    """Fields older SDKs send (or newer ones add) are accepted and ignored (section 5.2);
    any ``anthropic-version`` value is accepted (section 5.1)."""
    body = {
        "model": MODEL,
        "max_tokens": 2048,
        "messages": [{"role": "user", "content": SKY}],
        **extra,
    }
    headers = {"x-api-key": API_KEY, "anthropic-version": version}
    response = httpx.post(f"{server.url}/v1/messages", headers=headers, json=body)
    assert response.status_code == 200, response.text
    message = Message.model_validate_json(response.content, strict=True)
    assert text_of(message) == SKY_ANSWER
