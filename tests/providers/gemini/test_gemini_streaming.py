"""Gemini ``streamGenerateContent`` (wire-formats.md section 6, pitfalls P23 to P26) through
the official ``google-genai`` SDK and at the byte level: ``alt=sse`` events
``data: <json>\\r\\n\\r\\n`` (with the space), each a complete ``GenerateContentResponse``
validated against the SDK's own model; without ``alt=sse``, one JSON array of them.

Golden fixture
--------------
``tests/providers/gemini/golden/stream_generate_content.sse`` is the exact byte stream of
:data:`GOLDEN_REQUEST`, with the random ``responseId`` replaced by ``NORMALIZED``. The test
normalizes the live stream the same way and compares byte for byte. To regenerate the
fixture after an intended change of the wire format, run::

    MOCKLLM_UPDATE_GOLDEN=1 pytest tests/providers/gemini/test_gemini_streaming.py

and review the diff of the ``.sse`` file before committing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from google import genai
from google.genai import types

from golden_files import match_golden
from mockllm.core.errors import MockError
from mockllm.core.tokens import Tokenizer
from mockllm.providers.gemini.errors import stream_error
from mockllm.testing import MockServer

MODEL = "gemini-2.5-flash"
KEY = "test-key"
SKY = "what colour is the sky?"
SKY_ANSWER = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
LONG_ANSWER = "One two three four five six seven eight nine ten. STOP here. Eleven twelve."
UNICODE_ANSWER = "Grüße 👋 — 日本語のテキスト."
GOLDEN = Path(__file__).parent / "golden" / "stream_generate_content.sse"
GOLDEN_REQUEST: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": SKY}]}]}
RESPONSE_ID = re.compile(rb'"responseId":"[A-Za-z0-9_-]{22}"')

CONFIG = """
rules:
  - name: weather-call
    match: {prompt: {icontains: weather}, tool_result: false}
    reply:
      text: "Checking."
      tool_calls: [{name: get_weather, arguments: {city: Paris}}]
  - name: think
    match: {prompt: {exact: think first}}
    reply: {text: "Forty-two.", reasoning: "The user wants the answer."}
  - name: chunks
    match: {prompt: {exact: chunks}}
    reply: {chunks: ["Hello", ", ", "world", "!"]}
  - name: refuse
    match: {prompt: {exact: do something bad}}
    reply: {refusal: "No."}
"""

ENCODING = Tokenizer().encoding("o200k_base")


def tokens(text: str) -> int:
    return len(ENCODING.encode_ordinary(text))


@pytest.fixture(scope="module")
def scripted() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG) as running:
        yield running


@pytest.fixture(scope="module", params=["v1beta", "v1"])
def client(request: pytest.FixtureRequest, server: MockServer) -> Iterator[genai.Client]:
    options = types.HttpOptions(base_url=server.url, api_version=request.param)
    with genai.Client(api_key=KEY, http_options=options) as sdk:
        yield sdk


def camel_only(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            assert "_" not in key, key
            if key != "args":
                camel_only(item)
    elif isinstance(value, list):
        for item in value:
            camel_only(item)


def raw_stream(
    server: MockServer, body: dict[str, Any], *, sse: bool = True, version: str = "v1beta"
) -> tuple[httpx.Response, bytes]:
    query = "?alt=sse" if sse else ""
    url = f"{server.url}/{version}/models/{MODEL}:streamGenerateContent{query}"
    with httpx.stream(
        "POST", url, headers={"x-goog-api-key": KEY}, json=body, timeout=10
    ) as response:
        data = response.read()
    return response, data


def parse_sse(body: bytes) -> list[dict[str, Any]]:
    """Every event's object, checking the framing strictly: ``data: <compact JSON>`` events
    separated by ``\\r\\n\\r\\n``, nothing else (no ``event:`` lines, no ``[DONE]``)."""
    assert body.endswith(b"\r\n\r\n"), body[-40:]
    assert b"[DONE]" not in body
    events = []
    for block in body[:-4].split(b"\r\n\r\n"):
        assert block.startswith(b"data: "), block
        assert b"\n" not in block and b"\r" not in block, block
        payload = block.removeprefix(b"data: ")
        obj = orjson.loads(payload)
        assert payload == orjson.dumps(obj), "data must be compact single-line JSON"
        camel_only(obj)
        types.GenerateContentResponse.model_validate_json(payload, strict=True)
        events.append(obj)
    return events


def check_text_stream(events: list[dict[str, Any]], answer: str, finish: str = "STOP") -> None:
    """One candidate's text pieces: all chunks share a response id, only the last carries
    the finish reason, usage is on every chunk and cumulative."""
    assert len(events) > 1
    ids = {e["responseId"] for e in events}
    assert len(ids) == 1
    text = ""
    previous = 0
    for i, event in enumerate(events):
        assert list(event) == ["candidates", "usageMetadata", "modelVersion", "responseId"]
        assert event["modelVersion"] == MODEL
        (candidate,) = event["candidates"]
        assert candidate["index"] == 0
        assert candidate["content"]["role"] == "model"
        last = i == len(events) - 1
        assert ("finishReason" in candidate) == last
        for part in candidate["content"]["parts"]:
            text += part["text"]
        usage = event["usageMetadata"]
        assert usage["candidatesTokenCount"] >= previous
        previous = usage["candidatesTokenCount"]
        assert usage["totalTokenCount"] == usage["promptTokenCount"] + previous + usage.get(
            "thoughtsTokenCount", 0
        )
    assert text == answer
    assert events[-1]["candidates"][0]["finishReason"] == finish


# --- through the SDK -------------------------------------------------------------------------


def test_sdk_stream_text(client: genai.Client) -> None:
    chunks = list(client.models.generate_content_stream(model=MODEL, contents=SKY))
    assert len(chunks) > 1
    assert "".join(chunk.text or "" for chunk in chunks) == SKY_ANSWER
    last = chunks[-1]
    assert last.candidates and last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata
    assert last.usage_metadata.candidates_token_count == tokens(SKY_ANSWER)
    assert last.usage_metadata.prompt_token_count == 3 + 3 + tokens("user") + tokens(SKY)
    for chunk in chunks[:-1]:
        assert chunk.candidates and chunk.candidates[0].finish_reason is None
        assert chunk.usage_metadata is not None


def test_sdk_stream_unicode(client: genai.Client) -> None:
    chunks = client.models.generate_content_stream(model=MODEL, contents="unicode")
    pieces = [chunk.text or "" for chunk in chunks]
    assert "".join(pieces) == UNICODE_ANSWER
    assert all("\ufffd" not in piece for piece in pieces)


def test_sdk_stream_max_tokens(client: genai.Client) -> None:
    config = types.GenerateContentConfig(max_output_tokens=3)
    chunks = list(
        client.models.generate_content_stream(model=MODEL, contents="long answer", config=config)
    )
    assert "".join(c.text or "" for c in chunks) == ENCODING.decode(
        ENCODING.encode_ordinary(LONG_ANSWER)[:3]
    )
    assert chunks[-1].candidates
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.MAX_TOKENS


def test_sdk_stream_function_call(scripted: MockServer) -> None:
    options = types.HttpOptions(base_url=scripted.url, api_version="v1")
    tool = types.Tool(
        function_declarations=[types.FunctionDeclaration(name="get_weather", description="w")]
    )
    config = types.GenerateContentConfig(tools=[tool])
    with genai.Client(api_key=KEY, http_options=options) as sdk:
        chunks = list(
            sdk.models.generate_content_stream(model=MODEL, contents="weather?", config=config)
        )
    calls = [call for chunk in chunks for call in chunk.function_calls or []]
    assert len(calls) == 1
    assert calls[0].name == "get_weather" and calls[0].args == {"city": "Paris"}
    assert "".join(chunk.text or "" for chunk in chunks if not chunk.function_calls) == "Checking."
    assert chunks[-1].candidates
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP


def test_sdk_stream_chat(client: genai.Client) -> None:
    chat = client.chats.create(model=MODEL)
    assert "".join(c.text or "" for c in chat.send_message_stream(SKY)) == SKY_ANSWER
    # The SDK records each streamed chunk's content as its own model turn.
    history = chat.get_history()
    assert history[0].role == "user" and {c.role for c in history[1:]} == {"model"}
    assert "".join(p.text or "" for c in history[1:] for p in c.parts or []) == SKY_ANSWER


# --- the wire --------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1beta", "v1"])
def test_raw_sse_framing(server: MockServer, version: str) -> None:
    response, body = raw_stream(server, GOLDEN_REQUEST, version=version)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert body.startswith(b"data: {")
    check_text_stream(parse_sse(body), SKY_ANSWER)


def test_raw_sse_final_usage(server: MockServer) -> None:
    _, body = raw_stream(server, GOLDEN_REQUEST)
    usage = parse_sse(body)[-1]["usageMetadata"]
    prompt = 3 + 3 + tokens("user") + tokens(SKY)
    assert usage == {
        "promptTokenCount": prompt,
        "candidatesTokenCount": tokens(SKY_ANSWER),
        "totalTokenCount": prompt + tokens(SKY_ANSWER),
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }


def test_raw_chunks_as_scripted(scripted: MockServer) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "chunks"}]}]}
    _, data = raw_stream(scripted, body)
    events = parse_sse(data)
    pieces = [e["candidates"][0]["content"]["parts"][0]["text"] for e in events]
    assert pieces == ["Hello", ", ", "world", "!"]
    check_text_stream(events, "Hello, world!")


def test_raw_stream_thoughts(scripted: MockServer) -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "think first"}]}],
        "generationConfig": {"thinkingConfig": {"includeThoughts": True}},
    }
    _, data = raw_stream(scripted, body)
    events = parse_sse(data)
    parts = [e["candidates"][0]["content"]["parts"][0] for e in events]
    thoughts = "".join(p["text"] for p in parts if p.get("thought"))
    answer = [p for p in parts if not p.get("thought")]
    assert thoughts == "The user wants the answer."
    assert "".join(p["text"] for p in answer) == "Forty-two."
    assert "thoughtSignature" in answer[0]
    assert events[-1]["usageMetadata"]["thoughtsTokenCount"] == tokens(thoughts)
    # Without includeThoughts the thoughts are counted, not shown.
    _, hidden = raw_stream(scripted, {"contents": body["contents"]})
    events = parse_sse(hidden)
    assert not any(p.get("thought") for e in events for p in e["candidates"][0]["content"]["parts"])
    assert events[-1]["usageMetadata"]["thoughtsTokenCount"] == tokens(thoughts)


def test_raw_stream_refusal(scripted: MockServer) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "do something bad"}]}]}
    _, data = raw_stream(scripted, body)
    events = parse_sse(data)
    check_text_stream(events, "No.", finish="SAFETY")


def test_raw_stream_candidates(server: MockServer) -> None:
    body = {**GOLDEN_REQUEST, "generationConfig": {"candidateCount": 2}}
    _, data = raw_stream(server, body)
    events = parse_sse(data)
    by_index: dict[int, str] = {}
    finished = []
    for event in events:
        (candidate,) = event["candidates"]
        by_index[candidate["index"]] = by_index.get(candidate["index"], "") + "".join(
            p["text"] for p in candidate["content"]["parts"]
        )
        if "finishReason" in candidate:
            finished.append(candidate["index"])
    assert by_index == {0: SKY_ANSWER, 1: SKY_ANSWER}
    assert finished == [0, 1]
    assert events[-1]["usageMetadata"]["candidatesTokenCount"] == 2 * tokens(SKY_ANSWER)


def test_raw_json_array_stream(server: MockServer) -> None:
    response, body = raw_stream(server, GOLDEN_REQUEST, sse=False)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    items = orjson.loads(body)
    assert isinstance(items, list) and len(items) > 1
    for item in items:
        camel_only(item)
        types.GenerateContentResponse.model_validate_json(orjson.dumps(item), strict=True)
    check_text_stream(items, SKY_ANSWER)


def test_stream_error_event_is_raised_by_the_sdk() -> None:
    """An error after the stream started is a ``data:`` event with Gemini's envelope,
    which google-genai raises as ``ServerError``."""
    event = stream_error(MockError("server", "boom"), None)  # type: ignore[arg-type]
    assert event == (b'data: {"error":{"code":500,"message":"boom","status":"INTERNAL"}}\r\n\r\n')
    chunk = b"data: " + orjson.dumps(
        {"candidates": [{"content": {"parts": [{"text": "Hi"}], "role": "model"}, "index": 0}]}
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=chunk + b"\r\n\r\n" + event, headers={"content-type": "text/event-stream"}
        )

    options = types.HttpOptions(
        base_url="http://gemini.test",
        api_version="v1beta",
        httpx_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    with genai.Client(api_key=KEY, http_options=options) as sdk:
        stream = sdk.models.generate_content_stream(model=MODEL, contents="hi")
        assert next(stream).text == "Hi"
        with pytest.raises(genai.errors.ServerError) as caught:
            next(stream)
    assert caught.value.code == 500
    assert caught.value.status == "INTERNAL"
    assert caught.value.message == "boom"


# --- golden SSE fixture ------------------------------------------------------------------------


def normalize(body: bytes) -> bytes:
    normalized, count = RESPONSE_ID.subn(b'"responseId":"NORMALIZED"', body)
    assert count == body.count(b"data: "), "every chunk carries one responseId"
    return normalized


def test_golden_stream(server: MockServer) -> None:
    _, body = raw_stream(server, GOLDEN_REQUEST)
    live = normalize(body)
    expected = match_golden(GOLDEN, live)
    check_text_stream(parse_sse(expected), SKY_ANSWER)
