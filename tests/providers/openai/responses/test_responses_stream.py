"""Streamed Responses (wire-formats.md section 3.3, pitfalls P14 and P15): the exact event
order through ``create(stream=True)``, the ``.stream()`` helper's accumulated final response
and its delta events, sync and async, and the ``event:`` framing over raw HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types.responses import ResponseFunctionToolCall, ResponseStreamEvent
from pydantic import BaseModel

from mockllm.testing import MockServer

SCRIPT = """
rules:
  - name: ask-weather
    match: {prompt: {icontains: weather}, tools: [get_weather], tool_result: false}
    reply:
      tool_calls:
        - name: get_weather
          arguments: {city: Paris, days: 3, detail: "hourly forecast please"}
  - name: answer
    match: {tool_result: {tool: get_weather}}
    reply: "It is {{ tool_result('get_weather') }} in Paris."
  - name: sky
    match: {prompt: {exact: sky}}
    reply: "The sky is blue."
  - name: chunks
    match: {prompt: {exact: chunks}}
    reply: {chunks: ["Hel", "lo ", "wor", "ld"]}
  - name: two-calls
    match: {prompt: {exact: two calls}}
    reply:
      text: "Checking both."
      tool_calls:
        - {name: get_weather, arguments: {city: Paris}}
        - {name: get_weather, arguments: {city: Rome}}
  - name: think
    match: {prompt: {exact: think}}
    reply: {text: "Forty-two.", reasoning: "Six times seven."}
  - name: refuse
    match: {prompt: {exact: refuse}}
    reply: {refusal: "I can't help with that."}
  - name: long
    match: {prompt: {exact: long}}
    reply: >-
      One two three four five six seven eight nine ten eleven twelve thirteen fourteen
      fifteen sixteen seventeen eighteen nineteen twenty twenty-one twenty-two.
  - name: empty
    match: {prompt: {exact: empty}}
    reply: ""
  - name: endpoint
    match: {prompt: {exact: which endpoint}, endpoint: responses}
    reply: "responses"
"""

TOOL: Any = {
    "type": "function",
    "name": "get_weather",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
ARGUMENTS = '{"city":"Paris","days":3,"detail":"hourly forecast please"}'

MESSAGE_EVENTS = [
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
]


@pytest.fixture(scope="module")
def sserver() -> Iterator[MockServer]:
    with MockServer(config_text=SCRIPT) as running:
        yield running


@pytest.fixture(scope="module")
def sdk(sserver: MockServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=sserver.openai_url, api_key="sk-test", max_retries=0) as client:
        yield client


@pytest.fixture(scope="module")
def raw(sserver: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sserver.openai_url, timeout=10) as client:
        yield client


def collapse(types: Sequence[str]) -> list[str]:
    """Event types with runs of the same delta event collapsed to one."""
    out: list[str] = []
    for kind in types:
        if not (out and out[-1] == kind and kind.endswith(".delta")):
            out.append(kind)
    return out


def events_of(sdk: OpenAI, **request: Any) -> list[ResponseStreamEvent]:
    with sdk.responses.create(model="gpt-4o", stream=True, **request) as stream:
        return list(stream)


def check_lifecycle(events: list[ResponseStreamEvent], terminal: str = "response.completed") -> str:
    """Numbering, lifecycle and item rules every stream obeys (P14, P15); the response id."""
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert [e.type for e in events[:2]] == ["response.created", "response.in_progress"]
    assert events[-1].type == terminal
    lifecycle = [
        e for e in events if e.type in ("response.created", "response.in_progress", terminal)
    ]
    ids = {e.response.id for e in lifecycle}  # type: ignore[union-attr]
    assert len(ids) == 1
    response_id = ids.pop()
    for event in lifecycle[:2]:
        assert event.response.status == "in_progress"  # type: ignore[union-attr]
        assert event.response.output == [] and event.response.usage is None  # type: ignore[union-attr]
    # Every item is added once, then done with the same id and type, in output order.
    added = [e for e in events if e.type == "response.output_item.added"]
    done = [e for e in events if e.type == "response.output_item.done"]
    assert [e.output_index for e in added] == list(range(len(added)))
    assert [(e.output_index, e.item.id, e.item.type) for e in added] == [
        (e.output_index, e.item.id, e.item.type) for e in done
    ]
    final = events[-1].response  # type: ignore[union-attr]
    assert [i.id for i in final.output] == [e.item.id for e in done]
    for event in events:
        item_id = getattr(event, "item_id", None)
        if item_id is not None:
            index = getattr(event, "output_index", None)
            assert isinstance(index, int)
            assert added[index].item.id == item_id
    return response_id


def test_text_stream_order(sdk: OpenAI) -> None:
    events = events_of(sdk, input="sky")
    check_lifecycle(events)
    assert collapse([e.type for e in events]) == [
        "response.created",
        "response.in_progress",
        *MESSAGE_EVENTS,
        "response.completed",
    ]
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) == 5  # one per token: "The", " sky", " is", " blue", "."
    assert "".join(deltas) == "The sky is blue."
    done = next(e for e in events if e.type == "response.output_text.done")
    assert done.text == "The sky is blue."
    added = events[2]
    assert added.type == "response.output_item.added"
    assert added.item.status == "in_progress" and added.item.content == []  # type: ignore[union-attr]
    final = events[-1]
    assert final.type == "response.completed"
    assert final.response.output_text == "The sky is blue."
    assert final.response.usage is not None and final.response.usage.output_tokens == 5


def test_chunks_are_streamed_as_written(sdk: OpenAI) -> None:
    events = events_of(sdk, input="chunks")
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert deltas == ["Hel", "lo ", "wor", "ld"]


def test_function_call_stream_order(sdk: OpenAI) -> None:
    events = events_of(sdk, input="weather in Paris?", tools=[TOOL])
    check_lifecycle(events)
    assert collapse([e.type for e in events]) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    added = events[2]
    assert added.type == "response.output_item.added"
    item = added.item
    assert isinstance(item, ResponseFunctionToolCall)
    assert item.arguments == "" and item.status == "in_progress" and item.name == "get_weather"
    deltas = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    assert len(deltas) > 1 and "".join(deltas) == ARGUMENTS
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert done.arguments == ARGUMENTS
    item_done = events[-2]
    assert item_done.type == "response.output_item.done"
    assert item_done.item.call_id == item.call_id  # type: ignore[union-attr]


def test_text_then_parallel_calls_order(sdk: OpenAI) -> None:
    events = events_of(sdk, input="two calls", tools=[TOOL])
    check_lifecycle(events)
    call_events = [
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
    ]
    assert collapse([e.type for e in events]) == [
        "response.created",
        "response.in_progress",
        *MESSAGE_EVENTS,
        *call_events,
        *call_events,
        "response.completed",
    ]


def test_reasoning_summary_stream(sdk: OpenAI) -> None:
    events = events_of(sdk, input="think", reasoning={"summary": "detailed"})
    check_lifecycle(events)
    assert collapse([e.type for e in events]) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        *MESSAGE_EVENTS,
        "response.completed",
    ]
    summary = "".join(e.delta for e in events if e.type == "response.reasoning_summary_text.delta")
    assert summary == "Six times seven."


def test_hidden_reasoning_stream(sdk: OpenAI) -> None:
    events = events_of(sdk, input="think")
    check_lifecycle(events)
    assert collapse([e.type for e in events]) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.output_item.done",
        *MESSAGE_EVENTS,
        "response.completed",
    ]
    reasoning = events[3]
    assert reasoning.type == "response.output_item.done"
    assert reasoning.item.type == "reasoning" and reasoning.item.summary == []


def test_refusal_stream(sdk: OpenAI) -> None:
    events = events_of(sdk, input="refuse")
    check_lifecycle(events)
    assert collapse([e.type for e in events]) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.refusal.delta",
        "response.refusal.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    refusal = "".join(e.delta for e in events if e.type == "response.refusal.delta")
    assert refusal == "I can't help with that."


def test_empty_answer_still_has_a_message(sdk: OpenAI) -> None:
    events = events_of(sdk, input="empty")
    check_lifecycle(events)
    types = [e.type for e in events]
    assert "response.output_text.delta" not in types
    assert collapse(types) == [
        "response.created",
        "response.in_progress",
        *[t for t in MESSAGE_EVENTS if t != "response.output_text.delta"],
        "response.completed",
    ]


def test_incomplete_stream(sdk: OpenAI) -> None:
    events = events_of(sdk, input="long", max_output_tokens=16)
    check_lifecycle(events, terminal="response.incomplete")
    final = events[-1]
    assert final.type == "response.incomplete"
    assert final.response.status == "incomplete"
    assert final.response.incomplete_details is not None
    assert final.response.incomplete_details.reason == "max_output_tokens"
    assert sum(1 for e in events if e.type == "response.output_text.delta") == 16


def test_stream_helper_text(sdk: OpenAI) -> None:
    with sdk.responses.stream(model="gpt-4o", input="sky") as stream:
        snapshots = []
        for event in stream:
            if event.type == "response.output_text.delta":
                snapshots.append(event.snapshot)
        final = stream.get_final_response()
    assert snapshots[-1] == "The sky is blue." and snapshots[0] == "The"
    assert final.output_text == "The sky is blue."
    assert final.status == "completed"


def test_stream_helper_function_call_then_follow_up(sdk: OpenAI) -> None:
    with sdk.responses.stream(model="gpt-4o", input="weather in Paris?", tools=[TOOL]) as stream:
        snapshots = [
            e.snapshot for e in stream if e.type == "response.function_call_arguments.delta"
        ]
        first = stream.get_final_response()
    assert snapshots[-1] == ARGUMENTS
    call = first.output[0]
    assert isinstance(call, ResponseFunctionToolCall) and call.arguments == ARGUMENTS
    with sdk.responses.stream(
        model="gpt-4o",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
        tools=[TOOL],
    ) as stream:
        second = stream.get_final_response()
    assert second.output_text == "It is sunny in Paris."


class Answer(BaseModel):
    value: int
    unit: str


def test_stream_helper_parse(sdk: OpenAI) -> None:
    with sdk.responses.stream(
        model="gpt-4o", input="a number please", text_format=Answer
    ) as stream:
        final = stream.get_final_response()
    assert isinstance(final.output_parsed, Answer)


def test_async_stream_helper() -> None:
    async def main(url: str) -> tuple[list[str], str]:
        async with AsyncOpenAI(base_url=url, api_key="sk-test", max_retries=0) as client:
            deltas: list[str] = []
            async with client.responses.stream(model="gpt-4o", input="sky") as stream:
                async for event in stream:
                    if event.type == "response.output_text.delta":
                        deltas.append(event.delta)
                final = await stream.get_final_response()
            raw_events = [
                e.type
                async for e in await client.responses.create(
                    model="gpt-4o", input="sky", stream=True
                )
            ]
            assert raw_events[-1] == "response.completed"
            return deltas, final.output_text

    with MockServer(config_text=SCRIPT) as running:
        deltas, text = asyncio.run(main(running.openai_url))
    assert "".join(deltas) == text == "The sky is blue."


def test_paced_stream_with_lag() -> None:
    """With lag, the stream is paced (hidden reasoning included) and still well formed."""
    config = SCRIPT + "settings: {lag_enabled: true, lag_factor: 200}\n"
    with (
        MockServer(config_text=config) as running,
        httpx.Client(base_url=running.openai_url, timeout=10) as client,
    ):
        body = {"model": "gpt-4o", "input": "think", "stream": True}
        started = time.perf_counter()
        with client.stream("POST", "/responses", json=body) as response:
            pieces = list(response.iter_raw())
        elapsed = time.perf_counter() - started
    # Each character of reasoning and answer costs 1 / (10 * 200) s.
    assert elapsed >= len("Six times seven." + "Forty-two.") / 2000
    assert all(pieces)
    blocks = sse_blocks(b"".join(pieces))
    assert [p["sequence_number"] for _, p in blocks] == list(range(len(blocks)))
    assert blocks[-1][1]["response"]["status"] == "completed"


def test_rules_can_match_the_endpoint(sdk: OpenAI) -> None:
    assert sdk.responses.create(model="gpt-4o", input="which endpoint").output_text == "responses"
    chat = sdk.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "which endpoint"}]
    )
    assert chat.choices[0].message.content != "responses"


# --- bytes on the wire -------------------------------------------------------------------


def sse_blocks(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(event line, JSON payload) of every SSE block; fails on anything else."""
    assert data.endswith(b"\n\n")
    out = []
    for block in data.decode().split("\n\n")[:-1]:
        lines = block.split("\n")
        assert len(lines) == 2, block
        assert lines[0].startswith("event: ") and lines[1].startswith("data: {")
        out.append((lines[0][len("event: ") :], json.loads(lines[1][len("data: ") :])))
    return out


@pytest.mark.parametrize(
    "body",
    [
        {"input": "sky"},
        {"input": "two calls", "tools": [TOOL]},
        {"input": "think", "reasoning": {"summary": "auto"}},
    ],
)
def test_raw_framing(raw: httpx.Client, body: dict[str, Any]) -> None:
    with raw.stream("POST", "/responses", json={"model": "gpt-4o", "stream": True, **body}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["x-request-id"].startswith("req_")
        data = r.read()
    assert b"[DONE]" not in data
    blocks = sse_blocks(data)
    for number, (event, payload) in enumerate(blocks):
        assert payload["type"] == event
        assert payload["sequence_number"] == number
        assert "error" not in payload  # P2: a top-level error key means an error to the SDK
    assert blocks[0][0] == "response.created" and blocks[-1][0] == "response.completed"
    assert sum(1 for event, _ in blocks if event == "response.completed") == 1


def test_error_before_the_stream_is_a_status(raw: httpx.Client) -> None:
    response = raw.post("/responses", json={"model": "gpt-4o", "stream": True})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["param"] == "input"
