"""Golden wire fixtures of the Responses API: the exact bytes mockllm sends for fixed
requests (``golden/`` beside this file).

Volatile values are replaced by placeholders that keep the JSON valid: response and item ids
(``resp_ID``, ``msg_ID``, ``fc_ID``, ``rs_ID``), call ids (``call_ID``) and timestamps
(``"created_at":0``, ``"completed_at":0``). Everything else (event names, key order,
spacing, chunking, sequence numbers, the absence of ``[DONE]``) must match byte for byte.
The recorded streams are also fed through openai-python's own SSE decoder, strict event
types and ``.stream()`` accumulator.

Regenerate after an intended wire change, then review the diff::

    MOCKLLM_UPDATE_GOLDEN=1 pytest tests/providers/openai/responses/test_responses_golden.py
    git diff tests/providers/openai/responses/golden
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import omit
from openai._streaming import SSEDecoder
from openai.lib.streaming.responses._responses import ResponseStreamState
from openai.types.responses import ResponseCompletedEvent, ResponseStreamEvent
from pydantic import TypeAdapter

from golden_files import match_golden

GOLDEN = Path(__file__).parent / "golden"

SKY_ANSWER = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city", "days"],
        "additionalProperties": False,
    },
    "strict": True,
}
REQUESTS: dict[str, dict[str, Any]] = {
    "text": {"model": "gpt-4o", "input": "what colour is the sky?"},
    "tool_call": {
        "model": "gpt-4o",
        "instructions": "Use the tool.",
        "input": [{"role": "user", "content": "Forecast for Paris"}],
        "tools": [TOOL],
        "tool_choice": {"type": "function", "name": "get_weather"},
    },
}

_IDS = re.compile(rb'"(resp|msg|fc|rs)_[0-9a-f]{50}"')
_CALL_IDS = re.compile(rb'"call_[0-9a-f]{24}"')
_TIMES = re.compile(rb'"(created_at|completed_at)":[0-9]+')


def normalize(data: bytes) -> bytes:
    """Replace ids and timestamps, after checking each kind of id has one value."""
    for prefix in (b"resp", b"msg"):
        found = {m.group(0) for m in _IDS.finditer(data) if m.group(1) == prefix}
        assert len(found) <= 1, f"several {prefix!r} ids in one response"
    data = _IDS.sub(lambda m: b'"' + m.group(1) + b'_ID"', data)
    data = _CALL_IDS.sub(b'"call_ID"', data)
    return _TIMES.sub(lambda m: b'"' + m.group(1) + b'":0', data)


def compare(name: str, live: bytes) -> None:
    match_golden(GOLDEN / name, live)


@pytest.mark.parametrize("name", list(REQUESTS))
def test_stream_golden(http: httpx.Client, name: str) -> None:
    with http.stream("POST", "/responses", json={**REQUESTS[name], "stream": True}) as response:
        assert response.status_code == 200
        live = response.read()
    compare(f"{name}_stream.sse", normalize(live))


def test_response_golden(http: httpx.Client) -> None:
    response = http.post("/responses", json=REQUESTS["text"])
    assert response.status_code == 200
    compare("text_response.json", normalize(response.content))


# --- the fixtures through openai-python's own parsing ----------------------------------

_EVENT: TypeAdapter[ResponseStreamEvent] = TypeAdapter(ResponseStreamEvent)


def replay(path: Path) -> ResponseCompletedEvent:
    """Feed a fixture, in small pieces as a socket would, through the SDK's SSE decoder,
    strict event validation and ``.stream()`` accumulator; the completed event it builds."""
    data = path.read_bytes()
    pieces = [data[i : i + 37] for i in range(0, len(data), 37)]
    state: ResponseStreamState[None] = ResponseStreamState(input_tools=[], text_format=omit)
    completed = None
    for sse in SSEDecoder().iter_bytes(iter(pieces)):
        assert not sse.data.startswith("[DONE]")
        event = _EVENT.validate_python(sse.json())  # strict: every required field present
        assert event.type == sse.event
        for built in state.handle_event(event):
            if isinstance(built, ResponseCompletedEvent):
                completed = built
    assert completed is not None
    return completed


def test_text_golden_through_sdk_parsing() -> None:
    final = replay(GOLDEN / "text_stream.sse").response
    assert final.id == "resp_ID" and final.status == "completed"
    assert final.output_text == SKY_ANSWER
    assert final.usage is not None and final.usage.output_tokens == 17


def test_tool_call_golden_through_sdk_parsing() -> None:
    final = replay(GOLDEN / "tool_call_stream.sse").response
    [call] = final.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert call.call_id == "call_ID" and call.id == "fc_ID"
    assert final.instructions == "Use the tool."


def test_golden_file_framing() -> None:
    for path in sorted(GOLDEN.glob("*.sse")):
        data = path.read_bytes()
        assert data.endswith(b"\n\n") and b"[DONE]" not in data
        blocks = data.split(b"\n\n")[:-1]
        assert blocks[0].startswith(b"event: response.created\n")
        assert blocks[-1].startswith(b"event: response.completed\n")
        for number, block in enumerate(blocks):
            event, payload = block.split(b"\n")
            assert event.startswith(b"event: ") and payload.startswith(b"data: {")
            assert f',"sequence_number":{number}}}'.encode() in payload
