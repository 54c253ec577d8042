"""Ollama streaming at the byte level (wire-formats.md section 7, pitfalls P28 to P30):
NDJSON with no blank lines, one compact JSON object per line, ``done: true`` only on the
last line with ``done_reason`` and the counters; ``stream`` defaults to true; every line
validates strictly against ollama-python's response types.

Golden fixtures
---------------
``tests/providers/ollama/golden/chat_stream.ndjson`` and ``generate_stream.ndjson`` are the exact
bytes of :data:`CHAT_REQUEST` and :data:`GENERATE_REQUEST` with every ``created_at``
replaced by ``2026-01-01T00:00:00Z`` (durations are derived from the token counts, so they
are kept as they are). To regenerate them after an intended change of the wire format::

    MOCKLLM_UPDATE_GOLDEN=1 pytest tests/providers/ollama/test_ollama_stream.py

and review the diff before committing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from ollama import ChatResponse, GenerateResponse

from golden_files import match_golden
from mockllm.testing import MockServer

SKY = "what colour is the sky?"
SKY_ANSWER = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
GOLDEN = Path(__file__).parent / "golden"
CHAT_REQUEST: dict[str, Any] = {
    "model": "llama3.2",
    "messages": [{"role": "user", "content": SKY}],
}
GENERATE_REQUEST: dict[str, Any] = {"model": "llama3.2", "prompt": SKY}
CREATED_AT = re.compile(rb'"created_at":"[^"]+"')
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z")
COUNTERS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)
TOOLS_CONFIG = """
rules:
  - name: two-calls
    match: {prompt: {exact: call two tools}}
    reply:
      tool_calls:
        - {name: get_weather, arguments: {city: Paris}}
        - {name: get_time, arguments: {zone: CET, exact: true}}
"""


def post(server: MockServer, path: str, body: dict[str, Any]) -> httpx.Response:
    with httpx.stream("POST", server.url + path, json=body, timeout=10) as response:
        response.read()
    return response


def lines(response: httpx.Response) -> list[dict[str, Any]]:
    """The NDJSON objects of ``response``, after checking the framing strictly (P28)."""
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    body = response.content
    assert body.endswith(b"\n")
    assert b"\n\n" not in body and b"\r" not in body and not body.startswith(b"\n")
    assert b"data:" not in body
    objects = []
    for line in body[:-1].split(b"\n"):
        value = orjson.loads(line)
        assert isinstance(value, dict)
        assert line == orjson.dumps(value), "each line must be compact JSON"
        objects.append(value)
    return objects


def check_sequence(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """Every object but the last is ``done: false`` without counters; the last is
    ``done: true`` with ``done_reason`` and every counter (P30). Returns the last."""
    *pieces, final = objects
    assert pieces
    for piece in pieces:
        assert piece["done"] is False
        assert "done_reason" not in piece and not set(COUNTERS) & set(piece)
    assert final["done"] is True
    assert final["done_reason"] in ("stop", "length")
    for counter in COUNTERS:
        assert isinstance(final[counter], int) and final[counter] >= 0, counter
    stamps = [o["created_at"] for o in objects]
    assert all(RFC3339.fullmatch(s) for s in stamps), stamps
    return final


def test_chat_stream_is_the_default(server: MockServer) -> None:
    response = post(server, "/api/chat", CHAT_REQUEST)
    objects = lines(response)
    final = check_sequence(objects)
    for line in response.content.splitlines():
        ChatResponse.model_validate_json(line, strict=True)
    assert all(o["model"] == "llama3.2" for o in objects)
    assert all(o["message"]["role"] == "assistant" for o in objects)
    assert "".join(o["message"]["content"] for o in objects) == SKY_ANSWER
    assert final["message"] == {"role": "assistant", "content": ""}
    assert response.headers["x-mockllm-rule"] == "responses"


def test_generate_stream_is_the_default(server: MockServer) -> None:
    response = post(server, "/api/generate", GENERATE_REQUEST)
    objects = lines(response)
    final = check_sequence(objects)
    for line in response.content.splitlines():
        GenerateResponse.model_validate_json(line, strict=True)
    assert "".join(o["response"] for o in objects) == SKY_ANSWER
    assert isinstance(final["context"], list) and final["context"]
    assert all(isinstance(t, int) for t in final["context"])
    assert all("context" not in o for o in objects[:-1])


@pytest.mark.parametrize(
    ("path", "request_body"), [("/api/chat", CHAT_REQUEST), ("/api/generate", GENERATE_REQUEST)]
)
def test_stream_false_is_one_json_object(
    server: MockServer, path: str, request_body: dict[str, Any]
) -> None:
    response = httpx.post(server.url + path, json={**request_body, "stream": False})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    value = orjson.loads(response.content)
    assert value["done"] is True and value["done_reason"] == "stop"
    assert RFC3339.fullmatch(value["created_at"])
    text = value["message"]["content"] if path == "/api/chat" else value["response"]
    assert text == SKY_ANSWER
    schema = ChatResponse if path == "/api/chat" else GenerateResponse
    schema.model_validate_json(response.content, strict=True)


def test_tool_calls_whole_with_object_arguments() -> None:
    body = {"model": "qwen2.5", "messages": [{"role": "user", "content": "call two tools"}]}
    with MockServer(config_text=TOOLS_CONFIG) as running:
        objects = lines(post(running, "/api/chat", body))
    final = check_sequence(objects)
    assert final["done_reason"] == "stop"
    assert [o["message"].get("tool_calls") is not None for o in objects] == [True, False]
    calls = objects[0]["message"]["tool_calls"]
    assert objects[0]["message"]["content"] == ""
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_time"]
    assert [c["function"]["index"] for c in calls] == [0, 1]
    assert calls[0]["function"]["arguments"] == {"city": "Paris"}  # an object, not a string (P11)
    assert calls[1]["function"]["arguments"] == {"zone": "CET", "exact": True}
    assert all(c["id"].startswith("call_") for c in calls)


def normalize(body: bytes) -> bytes:
    return CREATED_AT.sub(b'"created_at":"2026-01-01T00:00:00Z"', body)


@pytest.mark.parametrize(
    ("name", "path", "request_body"),
    [
        ("chat_stream.ndjson", "/api/chat", CHAT_REQUEST),
        ("generate_stream.ndjson", "/api/generate", GENERATE_REQUEST),
    ],
)
def test_golden(server: MockServer, name: str, path: str, request_body: dict[str, Any]) -> None:
    live = normalize(post(server, path, request_body).content)
    expected = match_golden(GOLDEN / name, live)
    check_sequence([orjson.loads(line) for line in expected.splitlines()])
