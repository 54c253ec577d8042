"""Golden wire fixtures of legacy completions: the exact bytes mockllm sends for a fixed
request (``golden/extras/`` beside this file), with the volatile ``id`` and ``created`` replaced
by placeholders. The recorded stream is also read back through openai-python's own SSE
decoder into its ``Completion`` type.

Regenerate after an intended wire change with ``MOCKLLM_UPDATE_GOLDEN=1 pytest tests/providers``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from openai._models import construct_type
from openai._streaming import SSEDecoder
from openai.types import Completion

from golden_files import match_golden

GOLDEN = Path(__file__).parent / "golden" / "extras"

SKY_ANSWER = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
REQUEST: dict[str, Any] = {"model": "gpt-3.5-turbo-instruct", "prompt": "what colour is the sky?"}

_ID = re.compile(rb'"id":"cmpl-[A-Za-z0-9]+"')
_CREATED = re.compile(rb'"created":[0-9]+')


def normalize(data: bytes) -> bytes:
    """Replace the completion id and timestamp; each JSON payload must have exactly one."""
    for event in data.split(b"\n\n"):
        if event.startswith((b"data: {", b"{")):
            assert len(_ID.findall(event)) == 1, event
            assert len(_CREATED.findall(event)) == 1, event
    return _CREATED.sub(b'"created":0', _ID.sub(b'"id":"cmpl-ID"', data))


def compare(name: str, live: bytes) -> None:
    match_golden(GOLDEN / name, live)


def test_stream_golden(http: httpx.Client) -> None:
    body = {**REQUEST, "stream": True, "stream_options": {"include_usage": True}}
    with http.stream("POST", "/completions", json=body) as response:
        assert response.status_code == 200
        live = response.read()
    assert len(set(_ID.findall(live))) == 1, "every chunk carries the same completion id"
    assert len(set(_CREATED.findall(live))) == 1
    compare("completions_stream.sse", normalize(live))


def test_completion_golden(http: httpx.Client) -> None:
    response = http.post("/completions", json=REQUEST)
    assert response.status_code == 200
    compare("completion.json", normalize(response.content))


def test_golden_stream_through_sdk_parsing() -> None:
    data = (GOLDEN / "completions_stream.sse").read_bytes()
    assert data.endswith(b"\n\ndata: [DONE]\n\n")
    pieces = [data[i : i + 41] for i in range(0, len(data), 41)]  # as a socket delivers it
    chunks: list[Completion] = []
    done = False
    for sse in SSEDecoder().iter_bytes(iter(pieces)):
        assert not done, "data after [DONE]"
        if sse.data.startswith("[DONE]"):
            done = True
            continue
        # As the SDK builds stream chunks: leniently, since its type (like the spec) has no
        # null finish_reason, which every chunk but the finish chunk carries.
        chunk = construct_type(type_=Completion, value=sse.json())
        assert isinstance(chunk, Completion)
        chunks.append(chunk)
    assert done
    *body, usage = chunks
    text = "".join(c.choices[0].text for c in body)
    assert len(SKY_ANSWER) > len(text) > 0 and SKY_ANSWER.startswith(text)  # 16 of 17 tokens
    assert body[-1].choices[0].finish_reason == "length"
    assert usage.choices == [] and usage.usage is not None
    assert usage.usage.completion_tokens == 16 and usage.usage.prompt_tokens == 6
