"""Refusal and reasoning replies through both SDKs and on the raw wire."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
from anthropic.types import Message, TextBlock, ThinkingBlock

from mockllm.core.tokens import Tokenizer
from mockllm.testing import MockServer
from openapi_schemas import assert_valid
from rules.scenario_support import (
    CLAUDE,
    GPT,
    REASONING,
    anthropic_events,
    anthropic_raw,
    openai_chunks,
    openai_raw,
    user,
)

ENCODING = Tokenizer().encoding("o200k_base")


def tokens(text: str) -> int:
    return len(ENCODING.encode_ordinary(text))


# --- refusal ----------------------------------------------------------------------------------

REFUSAL = "I can't help with that request."


def test_openai_refusal(oai: openai.OpenAI, scenario_server: MockServer) -> None:
    raw = openai_raw(scenario_server, {"messages": user("forbidden")}).json()
    assert_valid("CreateChatCompletionResponse", raw)
    message = raw["choices"][0]["message"]
    assert (message["content"], message["refusal"]) == (None, REFUSAL)

    chunks = openai_chunks(scenario_server, "forbidden")
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert "".join(d.get("refusal") or "" for d in deltas) == REFUSAL
    assert not any(d.get("content") for d in deltas)
    assert len([d for d in deltas if d.get("refusal")]) > 1  # streamed in pieces

    pieces = []
    stream = oai.chat.completions.create(
        model=GPT, messages=[{"role": "user", "content": "forbidden"}], stream=True
    )
    with stream:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.refusal:
                pieces.append(chunk.choices[0].delta.refusal)
    assert "".join(pieces) == REFUSAL

    with oai.chat.completions.stream(
        model=GPT, messages=[{"role": "user", "content": "forbidden"}]
    ) as helper:
        done = [e.refusal for e in helper if e.type == "refusal.done"]
        final = helper.get_final_completion()
    assert done == [REFUSAL]
    assert final.choices[0].message.refusal == REFUSAL
    assert final.choices[0].message.content is None


def test_anthropic_refusal(claude: anthropic.Anthropic, scenario_server: MockServer) -> None:
    message = Message.model_validate_json(
        anthropic_raw(scenario_server, {"messages": user("forbidden")}).content, strict=True
    )
    assert message.stop_reason == "refusal"
    assert message.content == [TextBlock(type="text", text=REFUSAL)]
    with claude.messages.stream(
        model=CLAUDE, max_tokens=100, messages=[{"role": "user", "content": "forbidden"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == REFUSAL
    assert final.stop_reason == "refusal"


def summary(blocks: list[Any]) -> list[dict[str, Any]]:
    """Blocks as plain data, whatever SDK class holds them (the stream helper gives
    ``ParsedTextBlock``)."""
    return [b.model_dump(include={"type", "text", "thinking", "signature"}) for b in blocks]


# --- reasoning --------------------------------------------------------------------------------


def test_anthropic_thinking_block_and_signature(
    claude: anthropic.Anthropic, scenario_server: MockServer
) -> None:
    message = claude.messages.create(
        model=CLAUDE, max_tokens=500, messages=[{"role": "user", "content": "think"}]
    )
    thinking, text = message.content
    assert isinstance(thinking, ThinkingBlock) and isinstance(text, TextBlock)
    assert thinking.thinking == REASONING
    assert thinking.signature
    assert text.text == "The answer is 42."
    assert message.usage.output_tokens == tokens(REASONING) + tokens("The answer is 42.")
    Message.model_validate_json(
        anthropic_raw(scenario_server, {"messages": user("think")}).content, strict=True
    )

    with claude.messages.stream(
        model=CLAUDE, max_tokens=500, messages=[{"role": "user", "content": "think"}]
    ) as stream:
        kinds = []
        thought, signatures = "", []
        for event in stream:
            kinds.append(event.type)
            if event.type == "thinking":
                thought += event.thinking
            elif event.type == "signature":
                signatures.append(event.signature)
        final = stream.get_final_message()
    assert thought == REASONING
    assert signatures == [thinking.signature]  # once, before the thinking block stops
    assert kinds.index("signature") < kinds.index("text")
    assert summary(final.content) == summary(message.content)
    assert final.usage.output_tokens == message.usage.output_tokens

    events = anthropic_events(scenario_server, "think")
    thinking_events = [e for e in events if e.get("index") == 0]
    assert thinking_events[0]["content_block"] == {
        "type": "thinking",
        "thinking": "",
        "signature": "",
    }
    assert thinking_events[-2]["delta"]["type"] == "signature_delta"
    assert thinking_events[-1]["type"] == "content_block_stop"


def test_openai_reasoning_is_counted_not_shown(
    oai: openai.OpenAI, scenario_server: MockServer
) -> None:
    completion = oai.chat.completions.create(
        model=GPT, messages=[{"role": "user", "content": "think"}]
    )
    assert completion.choices[0].message.content == "The answer is 42."
    usage = completion.usage
    assert usage is not None and usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == tokens(REASONING)
    assert usage.completion_tokens == tokens(REASONING) + tokens("The answer is 42.")
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    raw = openai_raw(scenario_server, {"messages": user("think")}).json()
    assert_valid("CreateChatCompletionResponse", raw)
    assert REASONING not in json.dumps(raw)

    chunks = openai_chunks(scenario_server, "think", stream_options={"include_usage": True})
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "The answer is 42."
    assert chunks[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] == tokens(REASONING)
    assert chunks[-1]["usage"]["completion_tokens"] == usage.completion_tokens
