"""Client schemas cannot stall the server, exhaust its memory or get a 500: each reproduction of
the hardening issue, in every schema slot of every dialect, gets the dialect's 400 quickly while
``GET /-/health`` keeps answering; malformed schemas get a 400 or a value, never a 5xx."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from mockllm.testing import MockServer

OPENAI = "gpt-4o"
ANTHROPIC = "claude-sonnet-4-6"
GEMINI = "gemini-2.5-flash"
OLLAMA = "llama3.2"
PROMPT = "structured output please"

# The probe's reproductions (the issue), each a schema a client may send.
REPRODUCTIONS: dict[str, dict[str, Any]] = {
    "minItems 1e6": {"type": "array", "minItems": 1_000_000, "items": {"type": "integer"}},
    "minLength 5e6": {"type": "string", "minLength": 5_000_000},
    "10k items of 10k chars": {
        "type": "array",
        "minItems": 10_000,
        "items": {"type": "string", "minLength": 10_000},
    },
    "10k arrays of 10k ints": {
        "type": "array",
        "minItems": 10_000,
        "items": {"type": "array", "minItems": 10_000, "items": {"type": "integer"}},
    },
    "catastrophic backtracking": {
        "type": "string",
        "allOf": [{"pattern": "^a{20}$"}, {"pattern": "^(a+)+b$"}],
    },
    "backtracking in a not": {
        "type": "string",
        "allOf": [{"pattern": "^a{30}$"}, {"not": {"pattern": "^(a|a)+b$"}}],
    },
    "pattern expanding to a million": {"type": "string", "pattern": "^a{1000000}$"},
    "integer past 64 bits": {"type": "integer", "minimum": 2**70},
    "deep nesting": {"type": "integer"},
}
for _ in range(150):  # deeper than 4 * json_max_depth, not deeper than request parsers take
    REPRODUCTIONS["deep nesting"] = {"not": REPRODUCTIONS["deep nesting"]}

MALFORMED: dict[str, Any] = {
    "properties as a list": {"type": "object", "properties": []},
    "required as a string": {"type": "object", "properties": {"a": {}}, "required": "a"},
    "items as a number": {"type": "array", "items": 5, "minItems": 1},
    "prefixItems as an object": {"type": "array", "prefixItems": {"a": {}}},
    "enum not a list": {"enum": "abc"},
    "anyOf not a list": {"anyOf": 5},
    "allOf not a list": {"allOf": 5},
    "minItems as text": {"type": "array", "minItems": "3"},
    "minContains as text": {"type": "array", "contains": {}, "minContains": "x"},
    "pattern as a number": {"type": "string", "pattern": 5},
    "pattern not a regex": {"type": "string", "pattern": "(["},
    "patternProperties as a list": {"type": "object", "patternProperties": ["a"]},
    "$ref to a string": {"$ref": "#/properties/a/type", "properties": {"a": {"type": "x"}}},
    "$ref cycle": {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}},
    "$ref to a huge index": {"$ref": "#/items/" + "9" * 5000, "items": [{}]},
    "$id not a URL": {"$id": "http://[", "$ref": "other.json"},
    "multipleOf huge": {"type": "number", "multipleOf": 10**400},
    "required entries unhashable": {"type": "object", "required": [[1], {"a": 1}]},
    "null subschema": {"type": "object", "properties": {"a": None}, "required": ["a"]},
}


@dataclass(frozen=True)
class Slot:
    """Where a dialect takes a schema: a request body around it, and the error message in
    the dialect's error envelope."""

    name: str
    path: str
    body: Callable[[Any], dict[str, Any]]
    message: Callable[[Any], str]
    headers: dict[str, str]


def _object(schema: Any) -> dict[str, Any]:
    """Tool parameters are an object: the schema under test is its required property."""
    return {"type": "object", "properties": {"value": schema}, "required": ["value"]}


def _openai_message(body: Any) -> str:
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"message", "type", "param", "code"} <= set(error), error
    assert error["type"] == "invalid_request_error"
    return str(error["message"])


def _anthropic_message(body: Any) -> str:
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error", body
    return str(body["error"]["message"])


def _gemini_message(body: Any) -> str:
    error = body["error"]
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT", body
    return str(error["message"])


def _ollama_message(body: Any) -> str:
    assert set(body) == {"error"} and isinstance(body["error"], str), body
    return str(body["error"])


OPENAI_HEADERS = {"authorization": "Bearer sk-test"}
ANTHROPIC_HEADERS = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}
GEMINI_HEADERS = {"x-goog-api-key": "test-key"}

SLOTS = [
    Slot(
        "openai response_format",
        "/v1/chat/completions",
        lambda s: {
            "model": OPENAI,
            "messages": [{"role": "user", "content": PROMPT}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": s}},
        },
        _openai_message,
        OPENAI_HEADERS,
    ),
    Slot(
        "openai forced tool",
        "/v1/chat/completions",
        lambda s: {
            "model": OPENAI,
            "messages": [{"role": "user", "content": PROMPT}],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": _object(s)}}],
            "tool_choice": "required",
        },
        _openai_message,
        OPENAI_HEADERS,
    ),
    Slot(
        "responses text.format",
        "/v1/responses",
        lambda s: {
            "model": OPENAI,
            "input": PROMPT,
            "text": {"format": {"type": "json_schema", "name": "r", "schema": s}},
        },
        _openai_message,
        OPENAI_HEADERS,
    ),
    Slot(
        "responses forced tool",
        "/v1/responses",
        lambda s: {
            "model": OPENAI,
            "input": PROMPT,
            "tools": [{"type": "function", "name": "f", "parameters": _object(s)}],
            "tool_choice": "required",
        },
        _openai_message,
        OPENAI_HEADERS,
    ),
    Slot(
        "anthropic forced tool",
        "/v1/messages",
        lambda s: {
            "model": ANTHROPIC,
            "max_tokens": 256,
            "messages": [{"role": "user", "content": PROMPT}],
            "tools": [{"name": "f", "input_schema": _object(s)}],
            "tool_choice": {"type": "tool", "name": "f"},
        },
        _anthropic_message,
        ANTHROPIC_HEADERS,
    ),
    Slot(
        "gemini responseSchema",
        f"/v1beta/models/{GEMINI}:generateContent",
        lambda s: {
            "contents": [{"role": "user", "parts": [{"text": PROMPT}]}],
            "generationConfig": {"responseMimeType": "application/json", "responseSchema": s},
        },
        _gemini_message,
        GEMINI_HEADERS,
    ),
    Slot(
        "gemini responseJsonSchema",
        f"/v1beta/models/{GEMINI}:generateContent",
        lambda s: {
            "contents": [{"role": "user", "parts": [{"text": PROMPT}]}],
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseJsonSchema": s,
            },
        },
        _gemini_message,
        GEMINI_HEADERS,
    ),
    Slot(
        "gemini forced function",
        f"/v1beta/models/{GEMINI}:generateContent",
        lambda s: {
            "contents": [{"role": "user", "parts": [{"text": PROMPT}]}],
            "tools": [
                {"functionDeclarations": [{"name": "f", "parametersJsonSchema": _object(s)}]}
            ],
            "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
        },
        _gemini_message,
        GEMINI_HEADERS,
    ),
    Slot(
        "ollama format",
        "/api/chat",
        lambda s: {
            "model": OLLAMA,
            "messages": [{"role": "user", "content": PROMPT}],
            "format": s,
            "stream": False,
        },
        _ollama_message,
        {},
    ),
    Slot(
        "ollama generate format",
        "/api/generate",
        lambda s: {"model": OLLAMA, "prompt": PROMPT, "format": s, "stream": False},
        _ollama_message,
        {},
    ),
]


@pytest.fixture(scope="module")
def budget_server() -> Iterator[MockServer]:
    with MockServer(config_text="rules: []\n") as running:
        yield running


@pytest.fixture(scope="module")
def raw(budget_server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=budget_server.url, timeout=30) as client:
        yield client


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()  # orjson refuses ints past 64 bits, which some cases use


def _post(client: httpx.Client, slot: Slot, schema: Any) -> tuple[httpx.Response, float]:
    content = _dumps(slot.body(schema))
    started = time.perf_counter()
    response = client.post(
        slot.path, content=content, headers={"content-type": "application/json", **slot.headers}
    )
    return response, time.perf_counter() - started


@pytest.mark.parametrize("slot", SLOTS, ids=lambda slot: slot.name)
@pytest.mark.parametrize("case", list(REPRODUCTIONS), ids=str)
def test_reproduction_is_a_quick_400(
    budget_server: MockServer, raw: httpx.Client, slot: Slot, case: str
) -> None:
    schema = REPRODUCTIONS[case]
    body = _dumps(slot.body(schema))
    result: dict[str, Any] = {}

    def send() -> None:
        started = time.perf_counter()
        with httpx.Client(base_url=budget_server.url, timeout=30) as own:
            result["response"] = own.post(
                slot.path,
                content=body,
                headers={"content-type": "application/json", **slot.headers},
            )
        result["elapsed"] = time.perf_counter() - started

    worker = threading.Thread(target=send)
    worker.start()
    time.sleep(0.005)
    started = time.perf_counter()
    health = raw.get("/-/health")
    health_latency = time.perf_counter() - started
    worker.join(timeout=30)
    assert health.status_code == 200
    assert health_latency < 0.5, f"health answered in {health_latency:.2f} s"
    response: httpx.Response = result["response"]
    assert result["elapsed"] < 2.0, f"{result['elapsed']:.2f} s"
    assert response.status_code == 400, response.text[:500]
    message = slot.message(response.json())
    if case == "integer past 64 bits":
        return  # a dialect may refuse the number itself, before any generation
    assert "mockllm" in message
    if case != "catastrophic backtracking":  # unsatisfiable, found quickly
        assert "MOCKLLM_LIMIT_" in message, message
    if slot.message is _openai_message:
        code = response.json()["error"]["code"]
        expected = (
            "mockllm_schema_too_large"
            if "MOCKLLM_LIMIT_" in message
            else "mockllm_unsatisfiable_schema"
        )
        assert code == expected, response.json()


# Malformed keywords the real services refuse too: a 400 naming the keyword.
REFUSED = {
    "properties as a list",
    "required as a string",
    "items as a number",
    "prefixItems as an object",
    "enum not a list",
    "anyOf not a list",
    "allOf not a list",
    "minContains as text",
    "pattern as a number",
    "pattern not a regex",
    "patternProperties as a list",
    "required entries unhashable",
    "null subschema",
}


@pytest.mark.parametrize("slot", SLOTS, ids=lambda slot: slot.name)
def test_malformed_schemas_never_get_a_5xx(raw: httpx.Client, slot: Slot) -> None:
    for name, schema in MALFORMED.items():
        content = _dumps(slot.body(schema))
        started = time.perf_counter()
        response = raw.post(
            slot.path, content=content, headers={"content-type": "application/json", **slot.headers}
        )
        elapsed = time.perf_counter() - started
        assert response.status_code < 500, (name, response.status_code, response.text[:300])
        assert elapsed < 2.0, (name, elapsed)
        if name in REFUSED:
            assert response.status_code == 400, (name, response.text[:300])
        if response.status_code >= 400:
            message = slot.message(response.json())
            if name in REFUSED and name != "pattern not a regex":
                assert "not a valid schema" in message, (name, message)


@pytest.mark.parametrize("slot", SLOTS[:1] + SLOTS[5:6] + SLOTS[8:9], ids=lambda slot: slot.name)
def test_infinite_bounds_in_raw_json(raw: httpx.Client, slot: Slot) -> None:
    """``1e400`` (infinite) and a 400-digit integer written in the request body."""
    for text in (
        '{"type": "integer", "minimum": 1e400}',
        '{"type": "number", "maximum": ' + "9" * 400 + "}",
    ):
        body = _dumps(slot.body("SCHEMA")).replace(b'"SCHEMA"', text.encode())
        response = raw.post(
            slot.path, content=body, headers={"content-type": "application/json", **slot.headers}
        )
        assert response.status_code < 500, (text, response.text[:300])


def test_values_within_budget_are_still_served(raw: httpx.Client) -> None:
    schema = {"type": "array", "minItems": 2000, "items": {"type": "integer", "minimum": 0}}
    response, elapsed = _post(raw, SLOTS[0], schema)
    assert response.status_code == 200, response.text[:300]
    value = orjson.loads(response.json()["choices"][0]["message"]["content"])
    assert len(value) >= 2000 and all(isinstance(i, int) and i >= 0 for i in value)
    assert elapsed < 2.0


def test_limits_are_settings(raw: httpx.Client) -> None:
    """MOCKLLM_LIMIT_JSON_MAX_ITEMS (here as a MockServer setting) moves the budget."""
    schema = {"type": "array", "minItems": 50, "items": {"type": "boolean"}}
    with MockServer(config_text="rules: []\n", limit_json_max_items=10) as small:
        with httpx.Client(base_url=small.url, timeout=30) as client:
            response, _ = _post(client, SLOTS[0], schema)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "mockllm_schema_too_large"
    assert "json_max_items = 10" in error["message"]
    assert "MOCKLLM_LIMIT_JSON_MAX_ITEMS" in error["message"]
    assert _post(raw, SLOTS[0], schema)[0].status_code == 200
