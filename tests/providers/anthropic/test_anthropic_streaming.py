"""Anthropic streaming (wire-formats.md section 5.4, pitfalls P16 to P22), through the
official ``anthropic`` SDK and at the byte level.

Every stream event is validated against the SDK's ``RawMessageStreamEvent`` union in
pydantic strict mode, on the raw ``data:`` JSON (strict JSON mode; see
``test_anthropic_messages`` for why JSON mode). ``ping`` is not a member of that union (the
SDK drops ping events before parsing), so it is compared literally.

Golden fixture
--------------
``tests/providers/anthropic/golden/messages_stream.sse`` is the exact byte stream of
:data:`GOLDEN_REQUEST`, with the random message id replaced by ``msg_NORMALIZED``. The
test normalizes the live stream the same way and compares byte for byte. To regenerate
the fixture after an intended change of the wire format, run::

    MOCKLLM_UPDATE_GOLDEN=1 pytest tests/providers/anthropic/test_anthropic_streaming.py

and review the diff of the ``.sse`` file before committing it.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import anthropic
import httpx
import orjson
import pydantic
from anthropic.types import (
    Message,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStreamEvent,
    TextBlock,
    TextDelta,
)

from golden_files import match_golden
from mockllm.core.tokens import Tokenizer
from mockllm.testing import MockServer

MODEL = "claude-opus-4-6"
API_KEY = "sk-ant-test"
SKY = "what colour is the sky?"
SKY_ANSWER = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
LONG_ANSWER = "One two three four five six seven eight nine ten. STOP here. Eleven twelve."
UNICODE_ANSWER = "Grüße 👋 — 日本語のテキスト."

HEADERS = {
    "x-api-key": API_KEY,
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
}
GOLDEN = Path(__file__).parent / "golden" / "messages_stream.sse"
GOLDEN_REQUEST: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 200,
    "messages": [{"role": "user", "content": SKY}],
    "stream": True,
}
MESSAGE_ID = re.compile(rb'"id":"msg_[A-Za-z0-9]+"')

EVENT_ADAPTER: pydantic.TypeAdapter[RawMessageStreamEvent] = pydantic.TypeAdapter(
    RawMessageStreamEvent
)
ENCODING = Tokenizer().encoding("o200k_base")


def tokens(text: str) -> int:
    return len(ENCODING.encode_ordinary(text))


def parse_sse(body: bytes) -> list[tuple[str, bytes]]:
    """``(event name, data JSON)`` of every event, checking the framing strictly:
    each event is exactly ``event: <name>`` then one ``data: <single-line JSON>`` line."""
    assert body.endswith(b"\n\n"), body[-40:]
    assert b"\r" not in body
    assert b"[DONE]" not in body
    events = []
    for block in body[:-2].split(b"\n\n"):
        lines = block.split(b"\n")
        assert len(lines) == 2, block
        event, data = lines
        assert event.startswith(b"event: "), block
        assert data.startswith(b"data: "), block
        name = event.removeprefix(b"event: ").decode()
        payload = data.removeprefix(b"data: ")
        obj = orjson.loads(payload)
        assert obj["type"] == name, block
        assert payload == orjson.dumps(obj), "data must be compact single-line JSON"
        events.append((name, payload))
    return events


def validate_event(payload: bytes) -> RawMessageStreamEvent | None:
    """Strict validation of one event's data; ``None`` for ``ping``."""
    if orjson.loads(payload)["type"] == "ping":
        assert orjson.loads(payload) == {"type": "ping"}
        return None
    return EVENT_ADAPTER.validate_json(payload, strict=True)


def raw_stream(server: MockServer, body: dict[str, Any]) -> tuple[httpx.Response, bytes]:
    with httpx.stream(
        "POST", f"{server.url}/v1/messages", headers=HEADERS, json=body, timeout=10
    ) as response:
        data = response.read()
    return response, data


def check_stream_shape(events: list[tuple[str, bytes]], answer: str) -> RawMessageDeltaEvent:
    """The exact sequence of a one-text-block answer; returns the ``message_delta``."""
    names = [name for name, _ in events]
    deltas = len(names) - 6
    assert deltas >= 1
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * deltas,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    parsed = [validate_event(payload) for _, payload in events]
    start = parsed[0]
    assert isinstance(start, RawMessageStartEvent)
    assert start.message.content == []
    assert start.message.stop_reason is None and start.message.stop_sequence is None
    assert start.message.id.startswith("msg_")
    assert start.message.role == "assistant"
    assert 1 <= start.message.usage.output_tokens <= 7
    block_start = parsed[1]
    assert isinstance(block_start, RawContentBlockStartEvent)
    assert block_start.index == 0
    assert block_start.content_block == TextBlock(type="text", text="")
    text = ""
    for event in parsed[3 : 3 + deltas]:
        assert isinstance(event, RawContentBlockDeltaEvent)
        assert event.index == 0
        assert isinstance(event.delta, TextDelta)
        text += event.delta.text
    assert text == answer
    assert orjson.loads(events[-3][1]) == {"type": "content_block_stop", "index": 0}
    delta = parsed[-2]
    assert isinstance(delta, RawMessageDeltaEvent)
    assert delta.usage.input_tokens in (None, start.message.usage.input_tokens)
    assert orjson.loads(events[-1][1]) == {"type": "message_stop"}
    return delta


# --- 2. create(stream=True) and the raw wire -------------------------------------------------


def test_raw_stream_framing_and_order(server: MockServer) -> None:
    response, body = raw_stream(server, GOLDEN_REQUEST)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["request-id"].startswith("req_")
    delta = check_stream_shape(parse_sse(body), SKY_ANSWER)
    assert delta.delta.stop_reason == "end_turn"
    assert delta.delta.stop_sequence is None
    assert delta.usage.output_tokens == tokens(SKY_ANSWER)


def test_sdk_create_stream_event_order(anthropic_client: anthropic.Anthropic) -> None:
    stream = anthropic_client.messages.create(
        model=MODEL, max_tokens=200, messages=[{"role": "user", "content": SKY}], stream=True
    )
    with stream:
        events = list(stream)
    # The SDK drops ``ping`` itself (the raw test above checks it is on the wire).
    kinds = [event.type for event in events]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[2:-3]) == {"content_block_delta"}
    start = events[0]
    assert isinstance(start, RawMessageStartEvent)
    assert start.message.model == MODEL
    assert isinstance(events[1], RawContentBlockStartEvent) and events[1].index == 0
    text = ""
    for event in events[2:-3]:
        assert isinstance(event, RawContentBlockDeltaEvent)
        assert event.index == 0 and isinstance(event.delta, TextDelta)
        text += event.delta.text
    assert text == SKY_ANSWER
    delta = events[-2]
    assert isinstance(delta, RawMessageDeltaEvent)
    assert delta.delta.stop_reason == "end_turn"
    assert delta.usage.output_tokens == tokens(SKY_ANSWER)


def test_async_create_stream(server: MockServer) -> None:
    async def main() -> list[str]:
        async with anthropic.AsyncAnthropic(
            base_url=server.url, api_key=API_KEY, max_retries=0
        ) as sdk:
            stream = await sdk.messages.create(
                model=MODEL,
                max_tokens=200,
                messages=[{"role": "user", "content": "unicode"}],
                stream=True,
            )
            pieces = []
            async with stream:
                async for event in stream:
                    if isinstance(event, RawContentBlockDeltaEvent) and isinstance(
                        event.delta, TextDelta
                    ):
                        pieces.append(event.delta.text)
            return pieces

    assert "".join(asyncio.run(main())) == UNICODE_ANSWER


def test_raw_stream_unicode_pieces_are_whole_characters(server: MockServer) -> None:
    body = {**GOLDEN_REQUEST, "messages": [{"role": "user", "content": "unicode"}]}
    _, data = raw_stream(server, body)
    events = parse_sse(data)
    delta = check_stream_shape(events, UNICODE_ANSWER)
    assert delta.usage.output_tokens == tokens(UNICODE_ANSWER)
    for name, payload in events:
        if name == "content_block_delta":
            assert "\ufffd" not in orjson.loads(payload)["delta"]["text"]


def test_stream_stop_sequence(server: MockServer) -> None:
    body = {
        **GOLDEN_REQUEST,
        "messages": [{"role": "user", "content": "long answer"}],
        "stop_sequences": ["STOP"],
    }
    _, data = raw_stream(server, body)
    expected = LONG_ANSWER[: LONG_ANSWER.index("STOP")]
    delta = check_stream_shape(parse_sse(data), expected)
    assert delta.delta.stop_reason == "stop_sequence"
    assert delta.delta.stop_sequence == "STOP"
    assert delta.usage.output_tokens == tokens(expected)


def test_stream_max_tokens(server: MockServer) -> None:
    body = {**GOLDEN_REQUEST, "messages": [{"role": "user", "content": "long answer"}]}
    body["max_tokens"] = 3
    _, data = raw_stream(server, body)
    expected = ENCODING.decode(ENCODING.encode_ordinary(LONG_ANSWER)[:3])
    delta = check_stream_shape(parse_sse(data), expected)
    assert delta.delta.stop_reason == "max_tokens"
    assert delta.delta.stop_sequence is None
    assert delta.usage.output_tokens == 3


# --- 3. the messages.stream() helper --------------------------------------------------------


def test_stream_helper(anthropic_client: anthropic.Anthropic) -> None:
    with anthropic_client.messages.stream(
        model=MODEL, max_tokens=200, messages=[{"role": "user", "content": SKY}]
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) > 1
    assert "".join(pieces) == SKY_ANSWER
    assert isinstance(final, Message)
    assert len(final.content) == 1
    block = final.content[0]
    assert isinstance(block, TextBlock) and block.text == SKY_ANSWER
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == tokens(SKY_ANSWER)
    assert final.usage.input_tokens == 3 + tokens("user") + tokens(SKY)
    assert final.model == MODEL


def test_stream_helper_final_text_and_stop_sequence(anthropic_client: anthropic.Anthropic) -> None:
    with anthropic_client.messages.stream(
        model="claude-sonnet-4-6",
        max_tokens=200,
        stop_sequences=["STOP"],
        system=[{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "long answer"}],
    ) as stream:
        text = stream.get_final_text()
        final = stream.get_final_message()
    assert text == LONG_ANSWER[: LONG_ANSWER.index("STOP")]
    assert final.stop_reason == "stop_sequence"
    assert final.stop_sequence == "STOP"


def test_async_stream_helper(server: MockServer) -> None:
    async def main() -> tuple[list[str], Message]:
        async with anthropic.AsyncAnthropic(
            base_url=server.url, api_key=API_KEY, max_retries=0
        ) as sdk:
            async with sdk.messages.stream(
                model=MODEL, max_tokens=200, messages=[{"role": "user", "content": SKY}]
            ) as stream:
                pieces = [piece async for piece in stream.text_stream]
                final = await stream.get_final_message()
            return pieces, final

    pieces, final = asyncio.run(main())
    assert "".join(pieces) == SKY_ANSWER
    block = final.content[0]
    assert isinstance(block, TextBlock) and block.text == SKY_ANSWER
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == tokens(SKY_ANSWER)


# --- 11. golden SSE fixture ------------------------------------------------------------------


def normalize(body: bytes) -> bytes:
    normalized, count = MESSAGE_ID.subn(b'"id":"msg_NORMALIZED"', body)
    assert count == 1, "exactly one message id (in message_start) is expected"
    return normalized


def test_golden_stream(server: MockServer) -> None:
    _, body = raw_stream(server, GOLDEN_REQUEST)
    live = normalize(body)
    expected = match_golden(GOLDEN, live)
    # The fixture itself must be a well-formed stream.
    check_stream_shape(parse_sse(expected), SKY_ANSWER)
