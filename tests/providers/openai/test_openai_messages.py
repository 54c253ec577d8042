"""Every message role and content-part form the SDK can send is accepted (wire-formats.md
2.1), the prompt matched is the last user message's text, and prompt tokens follow the
documented accounting (``mockllm.core.tokens``)."""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest
from openai import OpenAI
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionMessageParam,
    ChatCompletionToolChoiceOptionParam,
    ChatCompletionToolParam,
)

from mockllm.core.tokens import Tokenizer

SKY = "what colour is the sky?"
SKY_ANSWER = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
WEATHER_ANSWER = "It is sunny in Paris, 22 degrees."
DEFAULT_ANSWER = "I don't know the answer to that. This is a mock response."
IMAGE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+A8AAQUB"
    "AScY42YAAAAASUVORK5CYII="
)

WEATHER_TOOL: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}

TOOL_HISTORY: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "You are a weather bot."},
    {"role": "user", "content": "What is the weather in Paris?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 22, "sky": "clear"}'},
]

_TOKENIZER = Tokenizer()


def tokens(text: str) -> int:
    return len(_TOKENIZER.encoding("o200k_base").encode_ordinary(text))


def answer(client: OpenAI, messages: list[ChatCompletionMessageParam], **extra: Any) -> str:
    completion: ChatCompletion = client.chat.completions.create(
        model="gpt-4o", messages=messages, **extra
    )
    assert completion.choices[0].message.role == "assistant"
    content = completion.choices[0].message.content
    assert content is not None
    return content


def test_every_role_and_part_form(client: OpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "You are helpful."},
        {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
        {"role": "developer", "content": "Answer in English."},
        {"role": "developer", "content": [{"type": "text", "text": "No emoji."}]},
        # An earlier user message that would match the weather rule.
        {"role": "user", "content": "What is the weather?", "name": "alice"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_abc",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_abc", "content": "22 degrees"},
        {
            "role": "tool",
            "tool_call_id": "call_abc",
            "content": [{"type": "text", "text": "sunny"}],
        },
        {"role": "function", "name": "get_weather", "content": "sunny"},
        {"role": "assistant", "content": "It is sunny.", "name": "bot"},
        {"role": "assistant", "content": [{"type": "text", "text": "Anything else?"}]},
        {"role": "assistant", "content": None, "refusal": "I cannot."},
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": IMAGE, "detail": "low"}},
                {"type": "text", "text": SKY},
                {"type": "image_url", "image_url": {"url": "https://example.com/sky.png"}},
            ],
        },
    ]
    assert answer(client, messages) == SKY_ANSWER


def test_other_user_part_kinds_accepted(client: OpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {
            "role": "user",
            "content": [
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                {
                    "type": "file",
                    "file": {
                        "file_data": "data:application/pdf;base64,JVBERi0=",
                        "filename": "a.pdf",
                    },
                },
                {"type": "text", "text": SKY},
            ],
        }
    ]
    assert answer(client, messages) == SKY_ANSWER


def test_prompt_is_last_user_message(client: OpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": SKY},
        {"role": "assistant", "content": SKY_ANSWER},
        {"role": "user", "content": [{"type": "text", "text": "And the weather?"}]},
    ]
    assert answer(client, messages) == WEATHER_ANSWER
    messages.append({"role": "assistant", "content": WEATHER_ANSWER})
    messages.append({"role": "user", "content": [{"type": "text", "text": SKY}]})
    assert answer(client, messages) == SKY_ANSWER


def test_prompt_ignores_system_and_assistant_text(client: OpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "weather weather weather"},
        {"role": "user", "content": "hmm"},
        {"role": "assistant", "content": "weather"},
    ]
    assert answer(client, messages) == DEFAULT_ANSWER


def test_tool_results_after_last_user_message(client: OpenAI) -> None:
    """The conversation ends on a tool result: the prompt is still the last *user* text."""
    assert answer(client, TOOL_HISTORY, tools=[WEATHER_TOOL]) == WEATHER_ANSWER


@pytest.mark.parametrize(
    "tool_choice",
    ["auto", "none", "required", {"type": "function", "function": {"name": "get_weather"}}],
    ids=["auto", "none", "required", "named"],
)
def test_tool_choice_variants(
    client: OpenAI, tool_choice: ChatCompletionToolChoiceOptionParam
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o",
        messages=TOOL_HISTORY,
        tools=[WEATHER_TOOL],
        tool_choice=tool_choice,
        parallel_tool_calls=False,
    )
    assert raw.http_response.status_code == 200
    completion = raw.parse()
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].finish_reason in ("stop", "tool_calls")


def test_ignored_sampling_fields_accepted(client: OpenAI) -> None:
    text = answer(
        client,
        [{"role": "user", "content": SKY}],
        temperature=0.2,
        top_p=0.9,
        presence_penalty=0.5,
        frequency_penalty=-0.5,
        seed=7,
        user="u1",
        metadata={"k": "v"},
        store=False,
        logit_bias={"50256": -100},
        response_format={"type": "text"},
        service_tier="auto",
        extra_body={"some_future_field": {"x": 1}},
    )
    assert text == SKY_ANSWER
    # reasoning_effort is accepted by reasoning models (gpt-4o refuses it, as the real API
    # does: tests/test_constraints.py).
    completion = client.chat.completions.create(
        model="gpt-5",
        messages=[{"role": "user", "content": SKY}],
        reasoning_effort="low",
        extra_body={"some_future_field": {"x": 1}},
    )
    assert completion.choices[0].message.content == SKY_ANSWER


# --- prompt token accounting -----------------------------------------------------------
# Documented in mockllm/core/tokens.py: 3 tokens per message + role + content (+1 + name),
# each tool call's name and arguments (+3), images 85 (low) / 765, tool definitions as
# compact JSON, + 3 priming the reply.


def prompt_tokens(client: OpenAI, messages: list[ChatCompletionMessageParam], **extra: Any) -> int:
    completion: ChatCompletion = client.chat.completions.create(
        model="gpt-4o", messages=messages, **extra
    )
    assert completion.usage is not None
    return completion.usage.prompt_tokens


def test_prompt_tokens_simple_conversation(client: OpenAI) -> None:
    conversation = [
        ("system", "You are a terse assistant."),
        ("user", "Hello there!"),
        ("assistant", "Hi. What do you need?"),
        ("user", SKY),
    ]
    messages: list[Any] = [{"role": role, "content": text} for role, text in conversation]
    expected = sum(3 + tokens(role) + tokens(text) for role, text in conversation) + 3
    assert prompt_tokens(client, messages) == expected


def test_prompt_tokens_parts_equal_string(client: OpenAI) -> None:
    as_string = prompt_tokens(client, [{"role": "user", "content": SKY}])
    as_parts = prompt_tokens(client, [{"role": "user", "content": [{"type": "text", "text": SKY}]}])
    assert as_parts == as_string == 3 + tokens("user") + tokens(SKY) + 3


def test_prompt_tokens_name(client: OpenAI) -> None:
    plain = prompt_tokens(client, [{"role": "user", "content": SKY}])
    named = prompt_tokens(client, [{"role": "user", "content": SKY, "name": "alice"}])
    assert named - plain == 1 + tokens("alice")


@pytest.mark.parametrize(("detail", "cost"), [("low", 85), ("high", 765), ("auto", 765)])
def test_prompt_tokens_image(
    client: OpenAI, detail: Literal["low", "high", "auto"], cost: int
) -> None:
    text_only = prompt_tokens(
        client, [{"role": "user", "content": [{"type": "text", "text": SKY}]}]
    )
    with_image = prompt_tokens(
        client,
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": SKY},
                    {"type": "image_url", "image_url": {"url": IMAGE, "detail": detail}},
                ],
            }
        ],
    )
    assert with_image - text_only == cost


def test_prompt_tokens_tool_calls_and_tools(client: OpenAI) -> None:
    without_tools = prompt_tokens(client, TOOL_HISTORY)
    expected = 3 + sum(
        3 + tokens(str(m["role"])) + tokens(str(m.get("content") or "")) for m in TOOL_HISTORY
    )
    expected += 3 + tokens("get_weather") + tokens('{"city": "Paris"}')
    assert without_tools == expected
    spec = json.dumps(WEATHER_TOOL["function"], separators=(",", ":"))
    with_tools = prompt_tokens(client, TOOL_HISTORY, tools=[WEATHER_TOOL])
    assert with_tools - without_tools == tokens(spec)
