"""Ollama errors: ``{"error": "<message>"}`` with the right status, raised by the official
client as ``ollama.ResponseError`` with ``status_code``; body errors in Go's wording; an
error after a stream started is one NDJSON line ``{"error": ...}``; and the server keeps
serving after each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import ollama
import orjson
import pytest

from mockllm.core.errors import MockError
from mockllm.providers.ollama.errors import stream_error
from mockllm.testing import MockServer

MODEL = "llama3.2"
SKY = "what colour is the sky?"
CONFIG = """
responses:
  "what colour is the sky?": "Blue."
rules:
  - name: slow-down
    match: {prompt: {exact: rate limit me}}
    reply: {error: {status: 429, message: "Slow down", retry_after: 0.01}}
  - name: busy
    match: {prompt: {exact: overload me}}
    reply: {error: {status: 529, message: "server busy"}}
"""


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


@pytest.fixture(scope="module")
def strict() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG, strict_models=True) as running:
        yield running


@pytest.fixture(scope="module")
def client(strict: MockServer) -> Iterator[ollama.Client]:
    with ollama.Client(host=strict.url) as sdk:
        yield sdk


def error_body(response: httpx.Response) -> str:
    """The message of an error response, after checking it is exactly Ollama's shape."""
    assert response.headers["content-type"].startswith("application/json")
    body = orjson.loads(response.content)
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert isinstance(body["error"], str) and body["error"]
    return body["error"]


def works(sdk: ollama.Client) -> None:
    assert sdk.chat(model=MODEL, messages=user(SKY)).message.content == "Blue."


# --- unknown models with strict_models ----------------------------------------------------


def test_unknown_model_chat(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        client.chat(model="nope", messages=user(SKY))
    assert info.value.status_code == 404
    assert info.value.error == "model 'nope' not found"
    works(client)


def test_unknown_model_stream(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        list(client.chat(model="nope:7b", messages=user(SKY), stream=True))
    assert info.value.status_code == 404
    assert info.value.error == "model 'nope:7b' not found"
    works(client)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.generate(model="nope", prompt="hi"), "model 'nope' not found"),
        (lambda c: c.embed(model="nope", input="hi"), "model 'nope' not found"),
        (lambda c: c.show("nope"), "model 'nope' not found"),
        (
            lambda c: c.embeddings(model="nope", prompt="hi"),
            'model "nope" not found, try pulling it first',
        ),
    ],
)
def test_unknown_model_elsewhere(client: ollama.Client, call: Any, message: str) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        call(client)
    assert info.value.status_code == 404
    assert info.value.error == message
    works(client)


def test_known_names_resolve_in_strict_mode(client: ollama.Client) -> None:
    for name in ("llama3.2", "llama3.2:latest", "Llama3.2", "registry.ollama.ai/library/llama3.2"):
        assert client.chat(model=name, messages=user(SKY)).message.content == "Blue."


def test_pull_unknown_model_in_strict_mode(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        list(client.pull("nope", stream=True))
    assert info.value.status_code == -1  # an error line inside the stream
    assert info.value.error == "pull model manifest: file does not exist"
    works(client)


# --- scripted errors ------------------------------------------------------------------------


def test_rule_error(client: ollama.Client, strict: MockServer) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        client.chat(model=MODEL, messages=user("rate limit me"))
    assert info.value.status_code == 429
    assert info.value.error == "Slow down"
    with pytest.raises(ollama.ResponseError) as streamed:
        list(client.generate(model=MODEL, prompt="rate limit me", stream=True))
    assert streamed.value.status_code == 429  # sent before any stream byte
    raw = httpx.post(
        strict.url + "/api/chat", json={"model": MODEL, "messages": user("rate limit me")}
    )
    assert raw.headers["retry-after"] == "0.01"
    assert error_body(raw) == "Slow down"
    works(client)


def test_overloaded_is_503(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        client.chat(model=MODEL, messages=user("overload me"))
    assert info.value.status_code == 503
    works(client)


# --- capability and parameter checks ------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"model": "gemma3", "tools": [{"type": "function", "function": {"name": "f"}}]},
            "registry.ollama.ai/library/gemma3:latest does not support tools",
        ),
        ({"model": MODEL, "think": True}, '"llama3.2" does not support thinking'),
        ({"model": "qwen3", "think": "high"}, 'think value "high" is not supported for this model'),
        ({"model": "nomic-embed-text"}, '"nomic-embed-text" does not support chat'),
        (
            {"model": MODEL, "options": {"num_predict": "ten"}},
            'option "num_predict" must be of type integer',
        ),
        ({"model": MODEL, "options": {"stop": "x"}}, 'option "stop" must be of type array'),
        ({"model": MODEL, "keep_alive": "5"}, 'time: missing unit in duration "5"'),
        ({"model": MODEL, "keep_alive": "soon"}, 'time: invalid duration "soon"'),
    ],
)
def test_bad_requests_through_the_client(
    client: ollama.Client, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        client.chat(messages=user(SKY), **kwargs)
    assert info.value.status_code == 400
    assert info.value.error == message
    works(client)


# --- bodies the client would not send -----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/chat", b"", "missing request body"),
        ("/api/chat", b'{"model": ', "unexpected EOF"),
        ("/api/chat", b"{model: 1}", "invalid character 'm' looking for beginning of value"),
        ("/api/chat", b"[]", "json: cannot unmarshal array into Go value of type api.ChatRequest"),
        (
            "/api/chat",
            b'{"model": "llama3.2", "messages": "hi"}',
            "json: cannot unmarshal string into Go struct field ChatRequest.messages of type "
            "[]api.Message",
        ),
        (
            "/api/chat",
            b'{"model": "llama3.2", "messages": [{"role": "user", "content": 5}]}',
            "json: cannot unmarshal number into Go struct field Message.messages.content of "
            "type string",
        ),
        (
            "/api/chat",
            b'{"model": "llama3.2", "stream": "yes", "messages": []}',
            "json: cannot unmarshal string into Go struct field ChatRequest.stream of type bool",
        ),
        ("/api/chat", b'{"messages": []}', "model is required"),
        (
            "/api/chat",
            b'{"model": "llama3.2", "format": "xml", "messages": []}',
            'invalid format: "xml"; expected "json" or a valid JSON Schema',
        ),
        (
            "/api/chat",
            b'{"model": "llama3.2", "think": "max", "messages": []}',
            'invalid think value: "max" (must be "high", "medium", "low", true, or false)',
        ),
        (
            "/api/chat",
            b'{"model":"llama3.2","messages":[{"role":"user","content":"x","images":["!!"]}]}',
            "illegal base64 data at input byte 0",
        ),
        ("/api/embed", b'{"model": "all-minilm", "input": [1, 2]}', "invalid input type"),
        ("/api/show", b"{}", "model is required"),
        (
            "/api/generate",
            b'{"model": "llama3.2", "prompt": "hi", "context": ["a"]}',
            "json: cannot unmarshal string into Go struct field GenerateRequest.context of "
            "type []int",
        ),
    ],
)
def test_invalid_bodies(
    strict: MockServer, client: ollama.Client, path: str, body: bytes, message: str
) -> None:
    response = httpx.post(strict.url + path, content=body)
    assert response.status_code == 400
    assert error_body(response) == message
    works(client)


def test_unknown_route_and_wrong_method(strict: MockServer) -> None:
    missing = httpx.get(strict.url + "/api/nothing-here")
    assert missing.status_code == 404
    assert error_body(missing) == "404 page not found"
    wrong = httpx.get(strict.url + "/api/chat")
    assert wrong.status_code == 405
    assert error_body(wrong) == "405 method not allowed"


# --- errors inside a stream ---------------------------------------------------------------


def test_stream_error_line() -> None:
    line = stream_error(MockError("server", "runner crashed"), None)  # type: ignore[arg-type]
    assert line == b'{"error":"runner crashed"}\n'


def test_client_raises_a_stream_error_line() -> None:
    """What ollama-python does with the line above after a few chunks: it raises
    ``ResponseError`` (status -1) once it reaches it, after yielding the chunks before."""
    chunk = {
        "model": MODEL,
        "created_at": "2026-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": "Hi"},
        "done": False,
    }
    first = orjson.dumps(chunk) + b"\n"
    error = stream_error(MockError("server", "runner crashed"), None)  # type: ignore[arg-type]

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "application/x-ndjson"}
        return httpx.Response(200, headers=headers, content=first + error)

    transport = httpx.MockTransport(handler)
    received = []
    with (
        ollama.Client(host="http://mock.invalid:11434", transport=transport) as sdk,
        pytest.raises(ollama.ResponseError) as info,
    ):
        for part in sdk.chat(model=MODEL, messages=user("hi"), stream=True):
            received.append(part.message.content)
    assert received == ["Hi"]
    assert info.value.status_code == -1
    assert info.value.error == "runner crashed"
