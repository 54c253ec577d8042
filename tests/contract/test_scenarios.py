"""Scenarios (docs/rules.md) through the official SDKs, over real sockets.

One rule file behaves the same through both dialects: tool calls (single, parallel, with
text before them, streamed), refusals, reasoning, error replies raising the SDKs' own
exception classes (and SDK retries honouring ``retry-after``), sequences per conversation
(also under concurrency), strict mode and the automatic answers.

Raw OpenAI payloads are validated against the official OpenAPI schemas
(``tests/openapi_schemas.py``); raw Anthropic payloads against the SDK's own types in
pydantic strict mode (JSON mode), as ``test_anthropic_streaming`` does.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai
import orjson
import pydantic
import pytest
from anthropic.types import (
    Message,
    MessageParam,
    RawMessageStreamEvent,
    TextBlock,
    ThinkingBlock,
    ToolParam,
    ToolUseBlock,
)
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolUnionParam

from mockllm.core.tokens import Tokenizer
from mockllm.testing import MockServer
from openapi_schemas import assert_valid

GPT = "gpt-4o"
CLAUDE = "claude-opus-4-6"
CONVERSATION = "x-mockllm-conversation"
ANTHROPIC_HEADERS = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}
OPENAI_HEADERS = {"authorization": "Bearer sk-test"}
EVENT: pydantic.TypeAdapter[RawMessageStreamEvent] = pydantic.TypeAdapter(RawMessageStreamEvent)
ENCODING = Tokenizer().encoding("o200k_base")

REASONING = "The user wants the meaning of life. Douglas Adams says forty-two."
LONG_NOTE = "a long note, so that the arguments stream in several fragments"

CONFIG = f"""\
defaults:
  unknown_response: "No rule for {{{{ prompt | tojson }}}}."
  after_tool_result: >-
    Done: {{{{ last_tool_result.tool }}}} said {{{{ last_tool_result.content }}}}.
rules:
  - name: weather-call
    match: {{prompt: {{icontains: weather}}, tool_result: false}}
    reply:
      text: Let me check.
      tool_calls:
        - name: get_weather
          arguments: {{city: Paris, unit: celsius, note: "{LONG_NOTE}"}}
  - name: parallel-calls
    match: {{prompt: {{icontains: compare}}, tool_result: false}}
    reply:
      text: Checking both cities.
      tool_calls:
        - {{name: get_weather, arguments: {{city: Paris, days: 3}}}}
        - {{name: get_weather, arguments: {{city: 'Rome, "Italy"'}}}}
        - {{name: get_time, arguments: '{{"tz": "Europe/Paris"}}'}}
  - name: call-only
    match: {{prompt: what time is it}}
    reply:
      tool_calls: [{{name: get_time, arguments: {{tz: UTC}}}}]
  - name: refuse
    match: {{prompt: {{icontains: forbidden}}}}
    reply: {{refusal: "I can't help with that request."}}
  - name: think
    match: {{prompt: think}}
    reply: {{reasoning: "{REASONING}", text: The answer is 42.}}
  - name: think-then-call
    match: {{prompt: think then call}}
    reply:
      reasoning: I need the weather and the time.
      text: Calling two tools.
      tool_calls:
        - {{name: get_weather, arguments: {{city: Oslo}}}}
        - {{name: get_time, arguments: {{tz: CET}}}}
  - name: rate-limited
    match: {{prompt: rate limit}}
    reply:
      error: {{status: 429, retry_after: 7, code: rate_limit_exceeded, message: Slow down.}}
  - name: overloaded
    match: {{prompt: overloaded}}
    reply: {{error: {{status: 529, message: Overloaded.}}}}
  - name: unauthorized
    match: {{prompt: bad key}}
    reply: {{error: {{status: 401, message: Invalid API key., code: invalid_api_key}}}}
  - name: flaky
    match: {{prompt: flaky}}
    sequence:
      - {{error: {{status: 429, retry_after: 0.01}}}}
      - "ok on attempt {{{{ counter }}}}"
  - name: flaky-overloaded
    match: {{prompt: overloaded then ok}}
    sequence:
      - {{error: {{status: 529, retry_after: 0.01}}}}
      - "ok on attempt {{{{ counter }}}}"
  - name: count
    match: {{prompt: {{icontains: count}}}}
    sequence: [one, two, three]
  - name: cycle
    match: {{prompt: cycle}}
    sequence: [a, b]
    after_sequence: cycle
  - name: limited
    match: {{prompt: limited}}
    sequence: [first, second]
    after_sequence: error
"""

WEATHER_PARAMETERS: dict[str, object] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string"},
        "note": {"type": "string"},
        "days": {"type": "integer"},
    },
    "required": ["city"],
}
TIME_PARAMETERS: dict[str, object] = {"type": "object", "properties": {"tz": {"type": "string"}}}
OPENAI_TOOLS: list[ChatCompletionToolUnionParam] = [
    {
        "type": "function",
        "function": {"name": "get_weather", "parameters": WEATHER_PARAMETERS},
    },
    {"type": "function", "function": {"name": "get_time", "parameters": TIME_PARAMETERS}},
]
ANTHROPIC_TOOLS: list[ToolParam] = [
    {"name": "get_weather", "input_schema": WEATHER_PARAMETERS},
    {"name": "get_time", "input_schema": TIME_PARAMETERS},
]


def tokens(text: str) -> int:
    return len(ENCODING.encode_ordinary(text))


def new_id() -> str:
    return uuid.uuid4().hex


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scenario_server() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG) as running:
        yield running


@pytest.fixture(scope="module")
def oai(scenario_server: MockServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=scenario_server.openai_url, api_key="sk-test", max_retries=0
    ) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def claude(scenario_server: MockServer) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(
        base_url=scenario_server.url, api_key="sk-ant-test", max_retries=0
    ) as sdk:
        yield sdk


# --- one neutral view of a turn through either SDK --------------------------------------------


@dataclass(frozen=True)
class Turn:
    """What a turn said, whichever SDK asked: text, calls (name, parsed arguments), and the
    stop reason in neutral terms."""

    text: str | None
    calls: list[tuple[str, Any]]
    stop: str
    refusal: str | None = None


ANTHROPIC_STOP = {"end_turn": "stop", "tool_use": "tool_calls", "refusal": "refusal"}


def openai_turn(client: openai.OpenAI, prompt: str, **extra: Any) -> Turn:
    completion = client.chat.completions.create(
        model=GPT, messages=[{"role": "user", "content": prompt}], tools=OPENAI_TOOLS, **extra
    )
    message = completion.choices[0].message
    calls = []
    for call in message.tool_calls or ():
        assert call.type == "function"
        assert call.id.startswith("call_")
        calls.append((call.function.name, json.loads(call.function.arguments)))
    stop = completion.choices[0].finish_reason
    if message.refusal is not None:
        stop = "refusal" if stop == "stop" else stop
    return Turn(message.content, calls, stop, message.refusal)


def anthropic_turn(client: anthropic.Anthropic, prompt: str, **extra: Any) -> Turn:
    message = client.messages.create(
        model=CLAUDE,
        max_tokens=500,
        messages=[{"role": "user", "content": prompt}],
        tools=ANTHROPIC_TOOLS,
        **extra,
    )
    texts = [b.text for b in message.content if isinstance(b, TextBlock)]
    calls = []
    for block in message.content:
        if isinstance(block, ToolUseBlock):
            assert block.id.startswith("toolu_")
            calls.append((block.name, block.input))
    assert message.stop_reason is not None
    stop = ANTHROPIC_STOP[message.stop_reason]
    text = "".join(texts) if texts else None
    if stop == "refusal":
        return Turn(None, calls, stop, text)
    return Turn(text, calls, stop)


WEATHER_ARGS = {"city": "Paris", "unit": "celsius", "note": LONG_NOTE}
PARALLEL_CALLS: list[tuple[str, Any]] = [
    ("get_weather", {"city": "Paris", "days": 3}),
    ("get_weather", {"city": 'Rome, "Italy"'}),
    ("get_time", {"tz": "Europe/Paris"}),
]


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        (
            "What's the weather in Paris?",
            Turn("Let me check.", [("get_weather", WEATHER_ARGS)], "tool_calls"),
        ),
        ("Compare Paris and Rome", Turn("Checking both cities.", PARALLEL_CALLS, "tool_calls")),
        ("what time is it", Turn(None, [("get_time", {"tz": "UTC"})], "tool_calls")),
        ("something forbidden", Turn(None, [], "refusal", "I can't help with that request.")),
        ("think", Turn("The answer is 42.", [], "stop")),
    ],
)
def test_same_rule_file_same_behaviour_through_both_sdks(
    oai: openai.OpenAI, claude: anthropic.Anthropic, prompt: str, expected: Turn
) -> None:
    assert openai_turn(oai, prompt) == expected
    assert anthropic_turn(claude, prompt) == expected


# --- tool calls on the raw wire ---------------------------------------------------------------


def openai_raw(server: MockServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{server.openai_url}/chat/completions",
        json={"model": GPT, "tools": OPENAI_TOOLS, **body},
        headers=OPENAI_HEADERS,
        timeout=10,
    )


def anthropic_raw(server: MockServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/messages",
        json={"model": CLAUDE, "max_tokens": 500, "tools": ANTHROPIC_TOOLS, **body},
        headers=ANTHROPIC_HEADERS,
        timeout=10,
    )


def user(prompt: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": prompt}]


def openai_chunks(server: MockServer, prompt: str, **body: Any) -> list[dict[str, Any]]:
    """Every chunk of a streamed answer, each valid against the OpenAPI schema."""
    response = openai_raw(server, {"messages": user(prompt), "stream": True, **body})
    assert response.status_code == 200
    frames = response.content.split(b"\n\n")
    assert frames[-2:] == [b"data: [DONE]", b""]
    chunks = [orjson.loads(frame.removeprefix(b"data: ")) for frame in frames[:-2]]
    for chunk in chunks:
        assert_valid("CreateChatCompletionStreamResponse", chunk)
    return chunks


def anthropic_events(server: MockServer, prompt: str, **body: Any) -> list[dict[str, Any]]:
    """Every event of a streamed answer, each valid against the SDK's types (strict)."""
    response = anthropic_raw(server, {"messages": user(prompt), "stream": True, **body})
    assert response.status_code == 200
    events = []
    for block in response.content.removesuffix(b"\n\n").split(b"\n\n"):
        name_line, data_line = block.split(b"\n")
        payload = data_line.removeprefix(b"data: ")
        event = orjson.loads(payload)
        assert name_line == b"event: " + event["type"].encode()
        if event["type"] != "ping":
            EVENT.validate_json(payload, strict=True)
        events.append(event)
    return events


@pytest.mark.parametrize(
    ("prompt", "text", "calls"),
    [
        ("weather please", "Let me check.", [("get_weather", WEATHER_ARGS)]),
        ("compare them", "Checking both cities.", PARALLEL_CALLS),
        ("what time is it", None, [("get_time", {"tz": "UTC"})]),
    ],
)
def test_openai_raw_tool_calls_match_the_spec(
    scenario_server: MockServer, prompt: str, text: str | None, calls: list[tuple[str, Any]]
) -> None:
    response = openai_raw(scenario_server, {"messages": user(prompt)})
    assert response.status_code == 200
    payload = response.json()
    assert_valid("CreateChatCompletionResponse", payload)
    message = payload["choices"][0]["message"]
    assert message["content"] == text
    assert payload["choices"][0]["finish_reason"] == "tool_calls"
    got = [
        (c["function"]["name"], json.loads(c["function"]["arguments"]))
        for c in message["tool_calls"]
    ]
    assert got == calls
    ids = [c["id"] for c in message["tool_calls"]]
    assert len(set(ids)) == len(ids)

    answer = anthropic_raw(scenario_server, {"messages": user(prompt)})
    parsed = Message.model_validate_json(answer.content, strict=True)
    assert parsed.stop_reason == "tool_use"
    uses = [b for b in parsed.content if isinstance(b, ToolUseBlock)]
    assert [(b.name, b.input) for b in uses] == calls
    assert len({b.id for b in uses}) == len(uses)


@pytest.mark.parametrize("prompt", ["weather please", "compare them", "what time is it"])
def test_openai_streamed_tool_calls_on_the_wire(scenario_server: MockServer, prompt: str) -> None:
    chunks = openai_chunks(scenario_server, prompt, stream_options={"include_usage": True})
    expected = openai_raw(scenario_server, {"messages": user(prompt)}).json()
    expected_message = expected["choices"][0]["message"]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0]["role"] == "assistant"
    assert all("role" not in d for d in deltas[1:])
    text = "".join(d.get("content") or "" for d in deltas)
    assert text == (expected_message["content"] or "")
    fragments = [f for d in deltas for f in d.get("tool_calls", [])]
    by_index: dict[int, list[dict[str, Any]]] = {}
    for fragment in fragments:
        by_index.setdefault(fragment["index"], []).append(fragment)
        assert "function" in fragment  # every fragment carries a function object
    # indices appear in order 0, 1, ... and each call's fragments are contiguous
    assert [f["index"] for f in fragments] == sorted(f["index"] for f in fragments)
    assert list(by_index) == list(range(len(expected_message["tool_calls"])))
    for index, parts in by_index.items():
        first, rest = parts[0], parts[1:]
        assert first["id"].startswith("call_")
        assert first["type"] == "function"
        assert (
            first["function"]["name"] == expected_message["tool_calls"][index]["function"]["name"]
        )
        for later in rest:  # id, type and name only in the first fragment
            assert set(later) == {"index", "function"}
            assert set(later["function"]) == {"arguments"}
        arguments = "".join(p["function"]["arguments"] for p in parts)
        assert json.loads(arguments) == json.loads(
            expected_message["tool_calls"][index]["function"]["arguments"]
        )
    if prompt == "weather please":
        assert len(by_index[0]) > 2  # really streamed in pieces
    finish = [c["choices"][0] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert len(finish) == 1 and finish[0]["finish_reason"] == "tool_calls"
    assert finish[0]["delta"] == {}
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0


def test_openai_stream_helper_final_message_has_parsed_tool_calls(oai: openai.OpenAI) -> None:
    with oai.chat.completions.stream(
        model=GPT, messages=[{"role": "user", "content": "compare"}], tools=OPENAI_TOOLS
    ) as stream:
        done = [e for e in stream if e.type == "tool_calls.function.arguments.done"]
        final = stream.get_final_completion()
    message = final.choices[0].message
    assert message.content == "Checking both cities."
    assert final.choices[0].finish_reason == "tool_calls"
    assert message.tool_calls is not None
    got = []
    for call in message.tool_calls:
        assert call.type == "function"
        assert call.id.startswith("call_")
        got.append((call.function.name, json.loads(call.function.arguments)))
    assert got == PARALLEL_CALLS
    assert [(e.name, json.loads(e.arguments)) for e in done] == PARALLEL_CALLS
    assert [e.index for e in done] == [0, 1, 2]


def test_openai_sdk_stream_chunks_name_each_call_once(oai: openai.OpenAI) -> None:
    stream = oai.chat.completions.create(
        model=GPT,
        messages=[{"role": "user", "content": "weather"}],
        tools=OPENAI_TOOLS,
        stream=True,
    )
    names, ids, arguments = [], [], ""
    with stream:
        for chunk in stream:
            if not chunk.choices:
                continue
            for call in chunk.choices[0].delta.tool_calls or ():
                if call.id is not None:
                    ids.append(call.id)
                if call.function is not None:
                    if call.function.name is not None:
                        names.append(call.function.name)
                    arguments += call.function.arguments or ""
    assert names == ["get_weather"] and len(ids) == 1
    assert json.loads(arguments) == WEATHER_ARGS


@pytest.mark.parametrize(
    ("prompt", "blocks"),
    [
        ("weather please", ["text", "tool_use"]),
        ("compare them", ["text", "tool_use", "tool_use", "tool_use"]),
        ("what time is it", ["tool_use"]),
        ("think then call", ["thinking", "text", "tool_use", "tool_use"]),
    ],
)
def test_anthropic_streamed_blocks_are_contiguous(
    scenario_server: MockServer, prompt: str, blocks: list[str]
) -> None:
    events = anthropic_events(scenario_server, prompt)
    expected = Message.model_validate_json(
        anthropic_raw(scenario_server, {"messages": user(prompt)}).content, strict=True
    )
    assert [b.type for b in expected.content] == blocks
    assert events[0]["type"] == "message_start"
    assert [e["type"] for e in events[-2:]] == ["message_delta", "message_stop"]
    assert events[-2]["delta"]["stop_reason"] == "tool_use"
    open_index: int | None = None
    started: list[dict[str, Any]] = []
    partial: dict[int, str] = {}
    for event in events[1:-2]:
        kind = event["type"]
        if kind == "ping":
            continue
        if kind == "content_block_start":
            assert open_index is None, "one block at a time"
            assert event["index"] == len(started)  # 0, 1, 2, ... in order
            open_index = event["index"]
            started.append(event["content_block"])
        elif kind == "content_block_delta":
            assert event["index"] == open_index
            if event["delta"]["type"] == "input_json_delta":
                partial[event["index"]] = (
                    partial.get(event["index"], "") + event["delta"]["partial_json"]
                )
        else:
            assert kind == "content_block_stop" and event["index"] == open_index
            open_index = None
    assert open_index is None
    assert [b["type"] for b in started] == blocks
    for index, block in enumerate(expected.content):
        if isinstance(block, ToolUseBlock):
            assert started[index]["input"] == {}
            assert started[index]["name"] == block.name
            assert started[index]["id"].startswith("toolu_")
            assert json.loads(partial[index]) == block.input


def test_anthropic_sdk_stream_accumulates_tool_input(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model=CLAUDE,
        max_tokens=500,
        messages=[{"role": "user", "content": "weather"}],
        tools=ANTHROPIC_TOOLS,
    ) as stream:
        snapshots = [e.snapshot for e in stream if e.type == "input_json"]
        final = stream.get_final_message()
    assert len(snapshots) > 2  # several fragments, each re-parsed by the SDK
    assert snapshots[-1] == WEATHER_ARGS
    assert final.stop_reason == "tool_use"
    assert isinstance(final.content[0], TextBlock) and final.content[0].text == "Let me check."
    use = final.content[1]
    assert isinstance(use, ToolUseBlock)
    assert (use.name, use.input) == ("get_weather", WEATHER_ARGS)


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


# --- sequences --------------------------------------------------------------------------------

Ask = Callable[[str, dict[str, str]], str]


def openai_asker(client: openai.OpenAI) -> Ask:
    def ask(prompt: str, headers: dict[str, str]) -> str:
        completion = client.chat.completions.create(
            model=GPT, messages=[{"role": "user", "content": prompt}], extra_headers=headers
        )
        return completion.choices[0].message.content or ""

    return ask


def anthropic_asker(client: anthropic.Anthropic) -> Ask:
    def ask(prompt: str, headers: dict[str, str]) -> str:
        message = client.messages.create(
            model=CLAUDE,
            max_tokens=50,
            messages=[{"role": "user", "content": prompt}],
            extra_headers=headers,
        )
        block = message.content[0]
        assert isinstance(block, TextBlock)
        return block.text

    return ask


@pytest.fixture(params=["openai", "anthropic"])
def ask(request: pytest.FixtureRequest, oai: openai.OpenAI, claude: anthropic.Anthropic) -> Ask:
    return openai_asker(oai) if request.param == "openai" else anthropic_asker(claude)


def test_sequence_repeats_its_last_reply(ask: Ask) -> None:
    headers = {CONVERSATION: new_id()}
    assert [ask("count", headers) for _ in range(5)] == ["one", "two", "three", "three", "three"]


def test_sequence_cycles(ask: Ask) -> None:
    headers = {CONVERSATION: new_id()}
    assert [ask("cycle", headers) for _ in range(5)] == ["a", "b", "a", "b", "a"]


def test_exhausted_sequence_is_a_400(oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    headers = {CONVERSATION: new_id()}
    ask_openai = openai_asker(oai)
    assert [ask_openai("limited", headers), ask_openai("limited", headers)] == ["first", "second"]
    with pytest.raises(openai.BadRequestError) as caught:
        ask_openai("limited", headers)
    assert caught.value.code == "mockllm_sequence_exhausted"
    assert "'limited'" in caught.value.message and "exhausted" in caught.value.message
    with pytest.raises(openai.BadRequestError):
        ask_openai("limited", headers)  # and stays exhausted
    # the same conversation name through the other SDK is the same conversation
    with pytest.raises(anthropic.BadRequestError) as caught_claude:
        anthropic_asker(claude)("limited", headers)
    assert "exhausted" in caught_claude.value.message
    # another conversation starts from the beginning
    assert ask_openai("limited", {CONVERSATION: new_id()}) == "first"


def test_conversation_header_through_client_default_headers(
    scenario_server: MockServer,
) -> None:
    name = new_id()
    with (
        openai.OpenAI(
            base_url=scenario_server.openai_url,
            api_key="sk",
            max_retries=0,
            default_headers={CONVERSATION: name},
        ) as first,
        anthropic.Anthropic(
            base_url=scenario_server.url,
            api_key="sk",
            max_retries=0,
            default_headers={CONVERSATION: name},
        ) as second,
    ):
        assert openai_asker(first)("count", {}) == "one"
        assert anthropic_asker(second)("count", {}) == "two"  # same conversation name
        assert openai_asker(first)("count", {}) == "three"
        # a different conversation, even with the same client: the header wins
        assert openai_asker(first)("count", {CONVERSATION: new_id()}) == "one"


def history(
    first: str, replies: list[str], system: str | None = None
) -> list[ChatCompletionMessageParam]:
    """A conversation that started with ``first`` and got ``replies``, asking "count" again."""
    messages: list[ChatCompletionMessageParam] = []
    if system is not None:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": first})
    for reply in replies:
        messages.append({"role": "assistant", "content": reply})
        messages.append({"role": "user", "content": "count again"})
    return messages


def test_without_header_a_conversation_is_its_system_prompt_and_first_message(
    oai: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    tag = new_id()
    seen: dict[str, list[str]] = {"alice": [], "bob": [], "alice-terse": []}
    systems = {"alice": None, "bob": None, "alice-terse": "Be terse."}
    firsts = {"alice": f"count for alice {tag}", "bob": f"count for bob {tag}"}
    firsts["alice-terse"] = firsts["alice"]  # same first message, another system prompt
    for _ in range(3):  # interleaved turns of three conversations
        for who in seen:
            completion = oai.chat.completions.create(
                model=GPT, messages=history(firsts[who], seen[who], systems[who])
            )
            seen[who].append(completion.choices[0].message.content or "")
    assert seen == {who: ["one", "two", "three"] for who in seen}

    # Anthropic: the same rule, keyed the same way (system parameter + first user message)
    replies: list[str] = []
    for _ in range(3):
        messages: list[MessageParam] = [{"role": "user", "content": f"count for carol {tag}"}]
        for reply in replies:
            messages += [
                {"role": "assistant", "content": reply},
                {"role": "user", "content": "count again"},
            ]
        message = claude.messages.create(
            model=CLAUDE, max_tokens=20, system="Be kind.", messages=messages
        )
        block = message.content[0]
        assert isinstance(block, TextBlock)
        replies.append(block.text)
    assert replies == ["one", "two", "three"]

    # an identical first request is the same conversation: it gets the next reply
    dave: list[ChatCompletionMessageParam] = [{"role": "user", "content": f"count for dave {tag}"}]
    answers = [
        oai.chat.completions.create(model=GPT, messages=dave).choices[0].message.content
        for _ in range(2)
    ]
    assert answers == ["one", "two"]


def test_sequences_in_parallel_conversations_do_not_interfere(
    oai: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    workers = 8
    barrier = threading.Barrier(workers, timeout=10)
    askers = [openai_asker(oai), anthropic_asker(claude)]

    def walk(worker: int) -> list[str]:
        headers = {CONVERSATION: f"parallel-{worker}-{new_id()}"}
        ask_one = askers[worker % 2]
        seen = []
        for _ in range(3):
            barrier.wait()  # every thread asks its next step at the same moment
            seen.append(ask_one(f"count {worker}", headers))
        return seen

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(walk, range(workers)))
    assert results == [["one", "two", "three"]] * workers


def test_parallel_conversations_without_the_header_do_not_interfere(oai: openai.OpenAI) -> None:
    workers = 8
    barrier = threading.Barrier(workers, timeout=10)
    tag = new_id()

    def walk(worker: int) -> list[str]:
        seen: list[str] = []
        for _ in range(3):
            barrier.wait()
            completion = oai.chat.completions.create(
                model=GPT, messages=history(f"count {worker} {tag}", seen)
            )
            seen.append(completion.choices[0].message.content or "")
        return seen

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(walk, range(workers)))
    assert results == [["one", "two", "three"]] * workers


def wait_until(check: Callable[[], bool], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_counters_restart_after_a_config_reload() -> None:
    config = "rules:\n  - {name: probe, match: {prompt: probe}, reply: VERSION}\n" + (
        "  - {name: count, match: {prompt: count}, sequence: [one, two, three]}\n"
    )
    with (
        MockServer(config_text=config.replace("VERSION", "v1")) as running,
        openai.OpenAI(base_url=running.openai_url, api_key="sk", max_retries=0) as client,
    ):
        ask_openai = openai_asker(client)
        headers = {CONVERSATION: "reloaded"}
        assert [ask_openai("count", headers) for _ in range(2)] == ["one", "two"]
        running.write_config(config.replace("VERSION", "v2"))
        assert wait_until(lambda: ask_openai("probe", {CONVERSATION: "probe"}) == "v2")
        assert [ask_openai("count", headers) for _ in range(4)] == ["one", "two", "three", "three"]


# --- strict mode ------------------------------------------------------------------------------

STRICT = """\
settings: {strict: true}
responses: {"hello there": "General Kenobi."}
rules:
  - name: weather-claude
    match: {prompt: {icontains: weather}, model: {glob: 'claude-*'}}
    reply: Sunny, says Claude.
  - name: after-weather
    match: {tool_result: {tool: get_weather}, provider: openai}
    reply: "It is {{ tool_result('get_weather') }}."
  - name: news
    match: {prompt: news, headers: {x-test: "yes"}}
    reply: No news.
"""


def tool_round(tool: str) -> list[ChatCompletionMessageParam]:
    """A conversation ending with the result of a call of ``tool``."""
    return [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": tool, "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "rainy"},
    ]


@pytest.fixture(scope="module")
def strict_server() -> Iterator[MockServer]:
    with MockServer(config_text=STRICT) as running:
        yield running


def test_strict_mode_rejects_unmatched_requests_naming_the_closest_rules(
    strict_server: MockServer,
) -> None:
    with openai.OpenAI(base_url=strict_server.openai_url, api_key="sk", max_retries=0) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(
                model=GPT, messages=[{"role": "user", "content": "weather in Paris?"}]
            )
        error = caught.value
        assert error.code == "mockllm_no_rule_matched"
        message = error.message
        assert "no rule matched" in message
        assert "'weather-claude' (" in message and "failed model glob 'claude-*'" in message
        assert "'news' (" in message and "prompt exact 'news'" in message
        assert "header x-test exact 'yes'" in message
        assert "'after-weather'" in message and "tool result of tool exact 'get_weather'" in message
        assert_valid(
            "ErrorResponse",
            httpx.post(
                f"{strict_server.openai_url}/chat/completions",
                json={"model": GPT, "messages": [{"role": "user", "content": "nothing"}]},
                headers=OPENAI_HEADERS,
                timeout=10,
            ).json(),
        )
        # matched requests are still served, rules and responses alike
        assert openai_asker(client)("news", {"x-test": "yes"}) == "No news."
        assert openai_asker(client)("Hello there", {}) == "General Kenobi."
        answer = client.chat.completions.create(model=GPT, messages=tool_round("get_weather"))
        assert answer.choices[0].message.content == "It is rainy."
        # no automatic answer after a tool result either
        with pytest.raises(openai.BadRequestError, match="no rule matched"):
            client.chat.completions.create(model=GPT, messages=tool_round("get_time"))

    with anthropic.Anthropic(base_url=strict_server.url, api_key="sk", max_retries=0) as claude:
        with pytest.raises(anthropic.BadRequestError) as caught_claude:
            claude.messages.create(
                model=CLAUDE, max_tokens=10, messages=[{"role": "user", "content": "news"}]
            )
        assert "'news' (" in caught_claude.value.message
        assert "header x-test exact 'yes'" in caught_claude.value.message
        news = caught_claude.value.message.split("'news'")[1].split(" | ")[0]
        assert "prompt exact" not in news  # the prompt held: only the header failed
        served = claude.messages.create(
            model=CLAUDE, max_tokens=50, messages=[{"role": "user", "content": "weather?"}]
        )
        assert served.content == [TextBlock(type="text", text="Sunny, says Claude.")]


# --- automatic answers and the x-mockllm-rule header ------------------------------------------

OPENAI_TOOL_ROUND: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "weather in Paris?"},
    {
        "role": "assistant",
        "content": "Let me check.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "22C and sunny"},
]
ANTHROPIC_TOOL_ROUND: list[MessageParam] = [
    {"role": "user", "content": "weather in Paris?"},
    {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Let me check."},
            {
                "type": "tool_use",
                "id": "toolu_01",
                "name": "get_weather",
                "input": {"city": "Paris"},
            },
        ],
    },
    {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "22C and sunny"}],
    },
]


def test_automatic_answers_and_rule_header(oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    raw = oai.chat.completions.with_raw_response.create(
        model=GPT, messages=OPENAI_TOOL_ROUND, tools=OPENAI_TOOLS
    )
    assert raw.headers["x-mockllm-rule"] == "(auto: after tool result)"
    completion = raw.parse()
    assert completion.choices[0].message.content == "Done: get_weather said 22C and sunny."
    assert completion.choices[0].finish_reason == "stop"

    raw_claude = claude.messages.with_raw_response.create(
        model=CLAUDE, max_tokens=100, messages=ANTHROPIC_TOOL_ROUND, tools=ANTHROPIC_TOOLS
    )
    assert raw_claude.headers["x-mockllm-rule"] == "(auto: after tool result)"
    message = raw_claude.parse()
    assert message.content == [TextBlock(type="text", text="Done: get_weather said 22C and sunny.")]
    assert message.stop_reason == "end_turn"

    default = oai.chat.completions.with_raw_response.create(
        model=GPT, messages=[{"role": "user", "content": 'say "nothing"'}]
    )
    assert default.headers["x-mockllm-rule"] == "(default)"
    assert default.parse().choices[0].message.content == 'No rule for "say \\"nothing\\"".'
    default_claude = claude.messages.with_raw_response.create(
        model=CLAUDE, max_tokens=100, messages=[{"role": "user", "content": "nothing"}]
    )
    assert default_claude.headers["x-mockllm-rule"] == "(default)"

    named = oai.chat.completions.with_raw_response.create(
        model=GPT, messages=[{"role": "user", "content": "weather?"}], tools=OPENAI_TOOLS
    )
    assert named.headers["x-mockllm-rule"] == "weather-call"
    named_claude = claude.messages.with_raw_response.create(
        model=CLAUDE,
        max_tokens=100,
        messages=[{"role": "user", "content": "think"}],
        stream=True,
    )
    assert named_claude.headers["x-mockllm-rule"] == "think"
    with named_claude.parse() as events:
        assert [e.type for e in events][-1] == "message_stop"


def test_after_tool_result_falls_back_to_the_default_answer() -> None:
    config = 'defaults: {unknown_response: "Default for {{ prompt }}."}\nrules: []\n'
    with (
        MockServer(config_text=config) as running,
        openai.OpenAI(base_url=running.openai_url, api_key="sk", max_retries=0) as client,
        anthropic.Anthropic(base_url=running.url, api_key="sk", max_retries=0) as claude,
    ):
        raw = client.chat.completions.with_raw_response.create(
            model=GPT, messages=OPENAI_TOOL_ROUND, tools=OPENAI_TOOLS
        )
        assert raw.headers["x-mockllm-rule"] == "(auto: after tool result)"
        assert raw.parse().choices[0].message.content == "Default for weather in Paris?."
        message = claude.messages.create(
            model=CLAUDE, max_tokens=100, messages=ANTHROPIC_TOOL_ROUND, tools=ANTHROPIC_TOOLS
        )
        assert message.content == [TextBlock(type="text", text="Default for weather in Paris?.")]


# --- conditions see the same request through both SDKs ----------------------------------------

CONDITIONS = """\
rules:
  - {name: metadata, match: {metadata: {user_id: alice}}, reply: by metadata}
  - name: forced-any
    match: {tool_choice: any, tools: [get_time]}
    reply: {tool_calls: [{name: get_time, arguments: {tz: UTC}}]}
  - name: forced-named
    match: {tool_choice: get_weather}
    reply: {tool_calls: [{name: get_weather, arguments: {city: Oslo}}]}
  - {name: choice-none, match: {tool_choice: none, tools: [get_weather]}, reply: no tools}
  - name: failed-tool
    match: {tool_result: {tool: get_weather, is_error: true}}
    reply: "Sorry: {{ last_tool_result.content }}"
  - {name: pirate, match: {system: {icontains: pirate}, turn: 1}, reply: Arr.}
  - {name: test-id, match: {headers: {X-Test-Id: {regex: '^t-\\d+$'}}}, reply: tagged}
"""


@pytest.fixture(scope="module")
def conditions_server() -> Iterator[MockServer]:
    with MockServer(config_text=CONDITIONS) as running:
        yield running


CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "metadata",
        {"metadata": {"user_id": "alice"}},
        {"metadata": {"user_id": "alice"}},
    ),
    (
        "forced-any",
        {"tools": OPENAI_TOOLS, "tool_choice": "required"},
        {"tools": ANTHROPIC_TOOLS, "tool_choice": {"type": "any"}},
    ),
    (
        "forced-named",
        {
            "tools": OPENAI_TOOLS,
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        },
        {"tools": ANTHROPIC_TOOLS, "tool_choice": {"type": "tool", "name": "get_weather"}},
    ),
    (
        "choice-none",
        {"tools": OPENAI_TOOLS, "tool_choice": "none"},
        {"tools": ANTHROPIC_TOOLS, "tool_choice": {"type": "none"}},
    ),
    (
        "pirate",
        {"messages": [{"role": "developer", "content": "Talk like a PIRATE."}]},
        {"system": [{"type": "text", "text": "Talk like a pirate."}]},
    ),
    ("test-id", {"extra_headers": {"X-Test-Id": "t-42"}}, {"extra_headers": {"x-test-id": "t-42"}}),
]


@pytest.mark.parametrize(("rule", "openai_extra", "anthropic_extra"), CASES)
def test_conditions_see_the_same_request_through_both_sdks(
    conditions_server: MockServer,
    rule: str,
    openai_extra: dict[str, Any],
    anthropic_extra: dict[str, Any],
) -> None:
    openai_extra = dict(openai_extra)
    messages = [*openai_extra.pop("messages", []), {"role": "user", "content": "hi"}]
    with (
        openai.OpenAI(base_url=conditions_server.openai_url, api_key="sk", max_retries=0) as oc,
        anthropic.Anthropic(base_url=conditions_server.url, api_key="sk", max_retries=0) as ac,
    ):
        raw = oc.chat.completions.with_raw_response.create(
            model=GPT, messages=messages, **openai_extra
        )
        assert raw.headers["x-mockllm-rule"] == rule
        raw_claude = ac.messages.with_raw_response.create(
            model=CLAUDE,
            max_tokens=50,
            messages=[{"role": "user", "content": "hi"}],
            **anthropic_extra,
        )
        assert raw_claude.headers["x-mockllm-rule"] == rule


def test_anthropic_error_tool_result_is_matched_and_rendered(conditions_server: MockServer) -> None:
    messages: list[MessageParam] = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": "boom",
                    "is_error": True,
                }
            ],
        },
    ]
    with anthropic.Anthropic(base_url=conditions_server.url, api_key="sk", max_retries=0) as ac:
        message = ac.messages.create(
            model=CLAUDE, max_tokens=50, messages=messages, tools=ANTHROPIC_TOOLS
        )
    assert message.content == [TextBlock(type="text", text="Sorry: boom")]
