"""Golden wire fixtures: the exact bytes mockllm sends for fixed requests.

Volatile fields (``id``, ``created``) are replaced by placeholders that keep the JSON valid;
everything else (key order, spacing, chunking, the ``[DONE]`` line) must match byte for byte.
The recorded stream is also fed through openai-python's own SSE decoder and ``.stream()``
accumulator, and compared in shape with a real OpenAI capture (from openai-python's test
snapshots, MIT) kept next to it.

Regenerate after an intended wire change with ``MOCKLLM_UPDATE_GOLDEN=1 pytest tests/providers``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from openai._streaming import SSEDecoder
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk

from golden_files import match_golden

GOLDEN = Path(__file__).parent / "golden"
CAPTURE = GOLDEN / "capture_openai-python-e2aad469.sse"

SKY_ANSWER = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
REQUEST: dict[str, Any] = {
    "model": "gpt-4o",
    "messages": [{"role": "user", "content": "what colour is the sky?"}],
}

ID_PLACEHOLDER = b'"id":"chatcmpl-ID"'
CREATED_PLACEHOLDER = b'"created":0'
_ID = re.compile(rb'"id":"chatcmpl-[A-Za-z0-9]+"')
_CREATED = re.compile(rb'"created":[0-9]+')


def normalize(data: bytes) -> bytes:
    """Replace the completion id and timestamp; each JSON payload must have exactly one."""
    events = data.split(b"\n\n")
    for event in events:
        if event.startswith(b"data: {") or event.startswith(b"{"):
            assert len(_ID.findall(event)) == 1, event
            assert len(_CREATED.findall(event)) == 1, event
    return _CREATED.sub(CREATED_PLACEHOLDER, _ID.sub(ID_PLACEHOLDER, data))


def compare(name: str, live: bytes) -> None:
    match_golden(GOLDEN / name, live)


def test_stream_golden(http: httpx.Client) -> None:
    body = {**REQUEST, "stream": True, "stream_options": {"include_usage": True}}
    with http.stream("POST", "/chat/completions", json=body) as response:
        assert response.status_code == 200
        live = response.read()
    ids = set(_ID.findall(live))
    assert len(ids) == 1, "every chunk carries the same completion id"
    assert len(set(_CREATED.findall(live))) == 1
    compare("chat_stream.sse", normalize(live))


def test_completion_golden(http: httpx.Client) -> None:
    response = http.post("/chat/completions", json=REQUEST)
    assert response.status_code == 200
    compare("chat_completion.json", normalize(response.content))


# --- the fixture through openai-python's own parsing --------------------------------------


def decode(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """JSON payloads of an SSE file as openai-python decodes them, and whether [DONE] came."""
    payloads: list[dict[str, Any]] = []
    done = False
    # Fed in small pieces, as a socket would deliver it.
    data = path.read_bytes()
    pieces = [data[i : i + 37] for i in range(0, len(data), 37)]
    for sse in SSEDecoder().iter_bytes(iter(pieces)):
        assert not done, "data after [DONE]"
        if sse.data.startswith("[DONE]"):
            done = True
            continue
        payloads.append(sse.json())
    return payloads, done


def accumulate(payloads: list[dict[str, Any]]) -> ChatCompletionStreamState[None]:
    state: ChatCompletionStreamState[None] = ChatCompletionStreamState()
    for payload in payloads:
        # model_validate (unlike the SDK's lenient construct) enforces required fields.
        list(state.handle_chunk(ChatCompletionChunk.model_validate(payload)))
    return state


def test_golden_stream_through_sdk_parsing() -> None:
    payloads, done = decode(GOLDEN / "chat_stream.sse")
    assert done
    final = accumulate(payloads).get_final_completion()
    assert final.id == "chatcmpl-ID"
    assert final.choices[0].message.role == "assistant"
    assert final.choices[0].message.content == SKY_ANSWER
    assert final.choices[0].finish_reason == "stop"
    assert final.usage is not None and final.usage.completion_tokens == 17


def kinds(payloads: list[dict[str, Any]]) -> list[str]:
    """The chunk sequence as kinds, with runs of content chunks collapsed."""
    out: list[str] = []
    for payload in payloads:
        if payload["choices"] == []:
            kind = "usage"
        else:
            choice = payload["choices"][0]
            if "role" in choice["delta"]:
                kind = "role"
            elif choice["finish_reason"] is not None:
                kind = "finish"
            else:
                kind = "content"
        if not (out and out[-1] == kind == "content"):
            out.append(kind)
    return out


def test_golden_has_the_shape_of_a_real_capture() -> None:
    ours, _ = decode(GOLDEN / "chat_stream.sse")
    real, done = decode(CAPTURE)
    # The harness itself reads real OpenAI traffic.
    assert done
    real_final = accumulate(real).get_final_completion()
    assert real_final.choices[0].message.role == "assistant"
    assert real_final.usage is not None and real_final.usage.completion_tokens == 30
    assert kinds(ours) == kinds(real) == ["role", "content", "finish", "usage"]
    # Every top-level key real chunks carry, ours carry too.
    assert set().union(*(p.keys() for p in real)) <= set(ours[0])
    # Same choice keys, same first delta, same finish delta.
    assert set(ours[0]["choices"][0]) == set(real[0]["choices"][0])
    assert ours[0]["choices"][0]["delta"] == real[0]["choices"][0]["delta"]
    assert ours[-2]["choices"][0]["delta"] == real[-2]["choices"][0]["delta"] == {}
    assert set(ours[1]["choices"][0]["delta"]) == set(real[1]["choices"][0]["delta"])
    # Usage: every key of the real one is present.
    real_usage, our_usage = real[-1]["usage"], ours[-1]["usage"]
    assert set(real_usage) <= set(our_usage)
    details = "completion_tokens_details"
    assert set(real_usage[details]) <= set(our_usage[details])


def test_golden_file_framing() -> None:
    data = (GOLDEN / "chat_stream.sse").read_bytes()
    assert data.endswith(b"\n\ndata: [DONE]\n\n")
    events = data.split(b"\n\n")
    assert events[-2:] == [b"data: [DONE]", b""]
    for event in events[:-2]:
        assert event.startswith(b"data: ") and b"\n" not in event
        json.loads(event[len(b"data: ") :])
