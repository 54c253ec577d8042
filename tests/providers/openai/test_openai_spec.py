"""Raw payloads validate against OpenAI's official OpenAPI schemas (wire-formats.md section 10):
``CreateChatCompletionResponse``, ``CreateChatCompletionStreamResponse`` (every chunk),
``ErrorResponse``, ``ListModelsResponse`` and ``Model``; answers with ``logprobs`` (text,
``n``, tool-call history, unicode; ``top_logprobs`` of 0, 3 and 20) included."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from mockllm.testing import MockServer
from openapi_schemas import assert_valid, errors, rewrite_nullable

SKY = [{"role": "user", "content": "what colour is the sky?"}]

TOOL_HISTORY: list[dict[str, Any]] = [
    {"role": "user", "content": "weather in Paris?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "22"},
]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]

REQUESTS: dict[str, dict[str, Any]] = {
    "plain": {"messages": SKY},
    "n3": {"messages": SKY, "n": 3},
    "length": {"messages": [{"role": "user", "content": "long answer"}], "max_tokens": 3},
    "stop": {"messages": [{"role": "user", "content": "long answer"}], "stop": ["STOP"]},
    "unicode": {"messages": [{"role": "user", "content": "unicode"}]},
    "tools": {"messages": TOOL_HISTORY, "tools": TOOLS, "tool_choice": "auto"},
    "logprobs": {"messages": SKY, "logprobs": True, "top_logprobs": 3},
    "logprobs_n3": {"messages": SKY, "n": 3, "logprobs": True},
    "logprobs_tools": {"messages": TOOL_HISTORY, "tools": TOOLS, "logprobs": True},
    "logprobs_unicode": {
        "messages": [{"role": "user", "content": "unicode"}],
        "logprobs": True,
        "top_logprobs": 20,
    },
}


def post(http: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return http.post("/chat/completions", json={"model": "gpt-4o", **body})


def stream_payloads(http: httpx.Client, body: dict[str, Any]) -> list[Any]:
    response = post(http, {**body, "stream": True})
    assert response.status_code == 200
    events = response.content.split(b"\n\n")
    assert events[-2:] == [b"data: [DONE]", b""]
    return [json.loads(e.removeprefix(b"data: ")) for e in events[:-2]]


@pytest.fixture(scope="module")
def completion(http: httpx.Client) -> dict[str, Any]:
    response = post(http, REQUESTS["plain"])
    assert response.status_code == 200
    payload: dict[str, Any] = response.json()
    return payload


@pytest.mark.parametrize("name", list(REQUESTS))
def test_chat_completion_matches_spec(http: httpx.Client, name: str) -> None:
    response = post(http, REQUESTS[name])
    assert response.status_code == 200
    assert_valid("CreateChatCompletionResponse", response.json())


@pytest.mark.parametrize("include_usage", [True, False])
@pytest.mark.parametrize("name", list(REQUESTS))
def test_every_stream_chunk_matches_spec(
    http: httpx.Client, name: str, include_usage: bool
) -> None:
    chunks = stream_payloads(
        http, {**REQUESTS[name], "stream_options": {"include_usage": include_usage}}
    )
    assert len(chunks) >= 3
    for chunk in chunks:
        assert_valid("CreateChatCompletionStreamResponse", chunk)


@pytest.mark.parametrize("name", [name for name in REQUESTS if name.startswith("logprobs")])
def test_logprob_cases_carry_logprobs(http: httpx.Client, name: str) -> None:
    """The logprob cases above validate real entries, not ``null``."""
    body = REQUESTS[name]
    choices = post(http, body).json()["choices"]
    assert all(choice["logprobs"]["content"] for choice in choices)
    top = body.get("top_logprobs", 0)
    assert all(len(e["top_logprobs"]) == top for e in choices[0]["logprobs"]["content"])
    chunks = stream_payloads(http, body)
    assert any(c["choices"] and (c["choices"][0]["logprobs"] or {}).get("content") for c in chunks)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/chat/completions", b"{oops"),
        ("POST", "/chat/completions", b'{"model": "gpt-4o", "messages": []}'),
        ("POST", "/chat/completions", b'{"model": "gpt-4o", "messages": [{"role": "x"}]}'),
        ("POST", "/chat/completions", b'{"messages": [{"role": "user", "content": "x"}]}'),
        ("GET", "/chat/completions/chatcmpl-unknown", b""),
        ("GET", "/nope", b""),
        ("GET", "/models/gpt-nope", b""),
    ],
)
def test_error_bodies_match_spec(http: httpx.Client, method: str, path: str, body: bytes) -> None:
    response = http.request(method, path, content=body)
    assert response.status_code >= 400
    assert_valid("ErrorResponse", response.json())


def test_strict_model_error_matches_spec() -> None:
    with (
        MockServer(config_text="{}", strict_models=True) as strict,
        httpx.Client(base_url=strict.openai_url) as http,
    ):
        response = http.post("/chat/completions", json={"model": "gpt-nope", "messages": SKY})
    assert response.status_code == 404
    assert_valid("ErrorResponse", response.json())


def test_model_list_matches_spec(http: httpx.Client) -> None:
    response = http.get("/models")
    assert response.status_code == 200
    payload = response.json()
    assert_valid("ListModelsResponse", payload)
    assert len(payload["data"]) > 5


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4o-2024-08-06", "text-embedding-3-small"])
def test_model_matches_spec(http: httpx.Client, model: str) -> None:
    response = http.get(f"/models/{model}")
    assert response.status_code == 200
    assert_valid("Model", response.json())


# --- the validator itself can fail ---------------------------------------------------


def test_validator_rejects_missing_choices(completion: dict[str, Any]) -> None:
    broken = copy.deepcopy(completion)
    del broken["choices"]
    assert any(
        "'choices' is a required property" in e
        for e in errors("CreateChatCompletionResponse", broken)
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("object",), "chat.completion.chunk"),
        (("choices", 0, "finish_reason"), "done"),
        (("choices", 0, "message", "role"), "bot"),
        (("usage", "prompt_tokens"), "13"),
        (("created",), "yesterday"),
    ],
)
def test_validator_rejects_wrong_values(
    completion: dict[str, Any], path: tuple[str | int, ...], value: object
) -> None:
    broken = copy.deepcopy(completion)
    target: Any = broken
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert errors("CreateChatCompletionResponse", broken)


def test_validator_rejects_broken_error_and_model() -> None:
    assert errors("ErrorResponse", {"error": {"message": "x", "type": "t", "param": None}})
    assert errors("ErrorResponse", {"detail": "Not Found"})
    assert errors("Model", {"id": "gpt-4o", "object": "model", "created": 1})
    assert errors("ListModelsResponse", {"object": "list", "data": [{"id": "x"}]})


def test_nullable_rewrite_is_needed_for_real_chunks(http: httpx.Client) -> None:
    """Without the rewrite, the spec rejects ``finish_reason: null`` in a real chunk."""
    first = stream_payloads(http, REQUESTS["plain"])[0]
    assert first["choices"][0]["finish_reason"] is None
    assert errors("CreateChatCompletionStreamResponse", first, fix_nullable=False)
    assert not errors("CreateChatCompletionStreamResponse", first)


def test_rewrite_nullable() -> None:
    schema = {
        "properties": {
            "a": {"type": "string", "nullable": True, "description": "d"},
            "b": {"type": "integer", "nullable": False},
        }
    }
    assert rewrite_nullable(schema) == {
        "properties": {
            "a": {"anyOf": [{"type": "string", "description": "d"}, {"type": "null"}]},
            "b": {"type": "integer"},
        }
    }
