"""Non-streaming Chat Completions through the official ``openai`` SDK (wire-formats.md 2.2).

Answers come from ``TEST_CONFIG`` in ``tests/conftest.py``; token counts are checked against
tiktoken with the model's own encoding.
"""

from __future__ import annotations

import asyncio

import pytest
import tiktoken
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

from mockllm.core.tokens import Tokenizer
from mockllm.testing import MockServer

SKY = "what colour is the sky?"
SKY_ANSWER = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
WEATHER_ANSWER = "It is sunny in Paris, 22 degrees."
LONG_ANSWER = "One two three four five six seven eight nine ten. STOP here. Eleven twelve."
UNICODE_ANSWER = "Grüße 👋 — 日本語のテキスト."
DEFAULT_ANSWER = "I don't know the answer to that. This is a mock response."

_TOKENIZER = Tokenizer()


def encoding(name: str = "o200k_base") -> tiktoken.Encoding:
    return _TOKENIZER.encoding(name)


def tokens(text: str, name: str = "o200k_base") -> int:
    return len(encoding(name).encode_ordinary(text))


def one_user_message_prompt(text: str, name: str = "o200k_base") -> int:
    """3 per message + role + content, + 3 priming the reply (core/tokens.py)."""
    return 3 + tokens("user", name) + tokens(text, name) + 3


def test_content_usage_and_ids(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": SKY}]
    )
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == "gpt-4o"
    assert isinstance(completion.created, int) and completion.created > 1_700_000_000
    assert len(completion.choices) == 1
    choice = completion.choices[0]
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == SKY_ANSWER
    assert choice.message.tool_calls is None
    assert completion.usage is not None
    assert completion.usage.completion_tokens == tokens(SKY_ANSWER)
    assert completion.usage.prompt_tokens == one_user_message_prompt(SKY)
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    assert completion._request_id is not None and completion._request_id.startswith("req_")


def test_headers_through_raw_response(client: OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "weather in Paris?"}]
    )
    assert raw.http_response.status_code == 200
    assert raw.headers["content-type"].startswith("application/json")
    request_id = raw.headers["x-request-id"]
    assert request_id.startswith("req_")
    assert raw.request_id == request_id
    assert int(raw.headers["openai-processing-ms"]) >= 0
    completion = raw.parse()
    assert completion.choices[0].message.content == WEATHER_ANSWER
    assert completion._request_id == request_id


def test_request_ids_are_unique(client: OpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": SKY}]
    first = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=messages)
    second = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=messages)
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert first.parse().id != second.parse().id


def test_async_client(server: MockServer) -> None:
    async def main() -> None:
        async with AsyncOpenAI(
            base_url=server.openai_url, api_key="sk-test", max_retries=0
        ) as client:
            raw = await client.chat.completions.with_raw_response.create(
                model="gpt-4o", messages=[{"role": "user", "content": SKY}]
            )
            assert raw.headers["x-request-id"].startswith("req_")
            assert "openai-processing-ms" in raw.headers
            completion = raw.parse()
            assert completion.choices[0].message.content == SKY_ANSWER
            assert completion.usage is not None
            assert completion.usage.completion_tokens == tokens(SKY_ANSWER)
            assert completion.usage.prompt_tokens == one_user_message_prompt(SKY)

    asyncio.run(main())


@pytest.mark.parametrize(
    ("prompt", "answer"),
    [
        ("what colour is the sky?", SKY_ANSWER),
        ("  WHAT COLOUR IS THE SKY?  ", SKY_ANSWER),  # responses: keys are trimmed, case-folded
        ("Tell me the WEATHER please", WEATHER_ANSWER),  # icontains
        ("unicode", UNICODE_ANSWER),
        ("something nobody configured", DEFAULT_ANSWER),
    ],
)
def test_rules_pick_the_answer(client: OpenAI, prompt: str, answer: str) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}]
    )
    assert completion.choices[0].message.content == answer
    assert completion.model == "gpt-4o-mini"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == tokens(answer)


def test_cl100k_model_counts_with_its_own_encoding(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4", messages=[{"role": "user", "content": "unicode"}]
    )
    assert completion.choices[0].message.content == UNICODE_ANSWER
    assert completion.usage is not None
    # The two encodings disagree on this text, so this pins the per-model tokenizer.
    assert tokens(UNICODE_ANSWER, "cl100k_base") != tokens(UNICODE_ANSWER)
    assert completion.usage.completion_tokens == tokens(UNICODE_ANSWER, "cl100k_base")
    assert completion.usage.prompt_tokens == one_user_message_prompt("unicode", "cl100k_base")


def test_n_choices(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": SKY}], n=3
    )
    assert [c.index for c in completion.choices] == [0, 1, 2]
    for choice in completion.choices:
        assert choice.message.role == "assistant"
        assert choice.message.content == SKY_ANSWER
        assert choice.finish_reason == "stop"
    assert completion.usage is not None
    # Completion tokens are billed for every choice.
    assert completion.usage.completion_tokens == 3 * tokens(SKY_ANSWER)
    assert completion.usage.prompt_tokens == one_user_message_prompt(SKY)


@pytest.mark.parametrize("limit_field", ["max_tokens", "max_completion_tokens"])
@pytest.mark.parametrize("limit", [1, 5])
def test_token_limit_truncates(client: OpenAI, limit_field: str, limit: int) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "long answer"}]
    completion: ChatCompletion
    if limit_field == "max_tokens":
        completion = client.chat.completions.create(
            model="gpt-4o", messages=messages, max_tokens=limit
        )
    else:
        completion = client.chat.completions.create(
            model="gpt-4o", messages=messages, max_completion_tokens=limit
        )
    choice = completion.choices[0]
    assert choice.finish_reason == "length"
    expected = encoding().decode(encoding().encode_ordinary(LONG_ANSWER)[:limit])
    assert choice.message.content == expected
    assert completion.usage is not None
    assert completion.usage.completion_tokens == limit


def test_limit_above_answer_length_does_not_truncate(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "long answer"}],
        max_completion_tokens=tokens(LONG_ANSWER),
    )
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.content == LONG_ANSWER


def test_truncation_applies_to_every_choice(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "long answer"}],
        max_tokens=4,
        n=2,
    )
    expected = encoding().decode(encoding().encode_ordinary(LONG_ANSWER)[:4])
    assert [c.message.content for c in completion.choices] == [expected, expected]
    assert [c.finish_reason for c in completion.choices] == ["length", "length"]
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 8


@pytest.mark.parametrize("stop", [["STOP"], "STOP", ["nope", "STOP", "Eleven"]])
def test_stop_sequence_cuts_text(client: OpenAI, stop: str | list[str]) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "long answer"}], stop=stop
    )
    choice = completion.choices[0]
    expected = "One two three four five six seven eight nine ten. "
    assert choice.message.content == expected
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == tokens(expected)


def test_stop_sequence_absent_from_answer(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "long answer"}], stop=["zzz"]
    )
    assert completion.choices[0].message.content == LONG_ANSWER
    assert completion.choices[0].finish_reason == "stop"
