"""One rule file, the same turn through both SDKs; tool calls on the raw wire (validated
against the OpenAPI schemas and the Anthropic SDK's types) and through the SDKs' stream helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import anthropic
import openai
import pytest
from anthropic.types import Message, TextBlock, ToolUseBlock

from mockllm.testing import MockServer
from openapi_schemas import assert_valid
from rules.scenario_support import (
    ANTHROPIC_TOOLS,
    CLAUDE,
    GPT,
    LONG_NOTE,
    OPENAI_TOOLS,
    anthropic_events,
    anthropic_raw,
    openai_chunks,
    openai_raw,
    user,
)

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
