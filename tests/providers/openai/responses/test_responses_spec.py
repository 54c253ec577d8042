"""Raw Responses API payloads validate against OpenAI's official OpenAPI spec
(wire-formats.md section 10): every ``Response`` object, every stream event (against the
``ResponseStreamEvent`` member its ``type`` names), ``ResponseItemList``,
``TokenCountsResource`` and every error body (``ErrorResponse``).

Allow-listed spec-vs-live mismatches (the live API sends these; the spec does not allow
them), removed by :func:`live_to_spec` before validating and nowhere else:

* ``Response.user: null``: the spec types ``user`` as a plain string (wire-formats.md §10,
  §3.2);
* ``Response.usage: null`` in the ``in_progress`` snapshots of ``response.created`` and
  ``response.in_progress``: the spec's ``usage`` is not nullable, yet real streams carry
  ``"usage":null`` there (vercel/ai's recorded OpenAI streams).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockllm.testing import MockServer
from openapi_schemas import assert_valid, errors, load_spec

SCRIPT = """
rules:
  - name: ask-weather
    match: {prompt: {icontains: weather}, tools: [get_weather], tool_result: false}
    reply:
      tool_calls: [{name: get_weather, arguments: {city: Paris}}]
  - name: answer
    match: {tool_result: {tool: get_weather}}
    reply: "It is {{ tool_result('get_weather') }}."
  - name: two-calls
    match: {prompt: {exact: two calls}}
    reply:
      text: "Checking both."
      tool_calls: [{name: get_weather, arguments: {city: Paris}}, {name: get_weather}]
  - name: think
    match: {prompt: {exact: think}}
    reply: {text: "Forty-two.", reasoning: "Six times seven."}
  - name: refuse
    match: {prompt: {exact: refuse}}
    reply: {refusal: "I can't help with that."}
  - name: unicode
    match: {prompt: {exact: unicode}}
    reply: "Grüße 👋 — 日本語のテキスト."
  - name: empty
    match: {prompt: {exact: empty}}
    reply: ""
"""

TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
LONG_SCHEMA = {
    "type": "object",
    "properties": {"story": {"type": "string", "minLength": 400}},
    "required": ["story"],
}

REQUESTS: dict[str, dict[str, Any]] = {
    "plain": {"input": "hello"},
    "items": {
        "instructions": "Be brief.",
        "input": [
            {"role": "developer", "content": "Speak French."},
            {"role": "user", "content": [{"type": "input_text", "text": "hello"}]},
        ],
    },
    "tools": {"input": "weather in Paris?", "tools": [TOOL, {"type": "web_search"}]},
    "tool_result": {
        "input": [
            {"role": "user", "content": "weather?"},
            {
                "type": "function_call",
                "call_id": "call_1",
                "name": "get_weather",
                "arguments": '{"city":"Paris"}',
            },
            {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
        ],
        "tools": [TOOL],
        "tool_choice": "auto",
    },
    "parallel": {"input": "two calls", "tools": [TOOL], "parallel_tool_calls": True},
    "forced": {
        "input": "x",
        "tools": [TOOL],
        "tool_choice": {"type": "function", "name": "get_weather"},
    },
    # A reasoning model: gpt-4o refuses reasoning.effort, as the real API does.
    "reasoning": {"model": "gpt-5", "input": "think", "reasoning": {"effort": "low"}},
    "summary": {
        "input": "think",
        "reasoning": {"summary": "auto"},
        "include": ["reasoning.encrypted_content"],
    },
    "refusal": {"input": "refuse"},
    "unicode": {"input": "unicode"},
    "empty": {"input": "empty"},
    "json_schema": {
        "input": "x",
        "text": {"format": {"type": "json_schema", "name": "point", "schema": {"type": "object"}}},
    },
    "incomplete": {
        "input": "x",
        "max_output_tokens": 16,
        "text": {"format": {"type": "json_schema", "name": "story", "schema": LONG_SCHEMA}},
    },
    "settings": {
        "input": "hello",
        "metadata": {"k": "v"},
        "temperature": 0.2,
        "top_p": 0.5,
        "user": "user-1",
        "store": False,
        "service_tier": "flex",
        "truncation": "auto",
        "safety_identifier": "s-1",
        "prompt_cache_key": "k",
    },
}


def live_to_spec(payload: Any) -> Any:
    """A copy of ``payload`` without the allow-listed live-only values (module docstring)."""
    if isinstance(payload, list):
        return [live_to_spec(item) for item in payload]
    if not isinstance(payload, dict):
        return payload
    out = {key: live_to_spec(value) for key, value in payload.items()}
    if out.get("object") == "response":
        if out.get("user", "") is None:
            del out["user"]
        if out.get("status") == "in_progress" and out.get("usage", "") is None:
            del out["usage"]
    return out


@functools.cache
def event_schemas() -> dict[str, str]:
    """``ResponseStreamEvent`` member schema name by event ``type``."""
    schemas = load_spec()["components"]["schemas"]
    out = {}
    for member in schemas["ResponseStreamEvent"]["anyOf"]:
        name = member["$ref"].rsplit("/", 1)[-1]
        for kind in schemas[name]["properties"]["type"]["enum"]:
            out[kind] = name
    return out


def assert_event_valid(event: dict[str, Any]) -> None:
    name = event_schemas()[event["type"]]
    assert_valid(name, live_to_spec(event))
    assert_valid("ResponseStreamEvent", live_to_spec(event))


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with (
        MockServer(config_text=SCRIPT) as running,
        httpx.Client(base_url=running.openai_url, timeout=10) as client,
    ):
        yield client


def post(http: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return http.post("/responses", json={"model": "gpt-4o", **body})


def stream_events(http: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = post(http, {**body, "stream": True})
    assert response.status_code == 200
    blocks = response.content.decode().split("\n\n")
    assert blocks[-1] == ""
    return [json.loads(block.split("\n")[1][len("data: ") :]) for block in blocks[:-1]]


@pytest.mark.parametrize("name", list(REQUESTS))
def test_response_matches_spec(http: httpx.Client, name: str) -> None:
    response = post(http, REQUESTS[name])
    assert response.status_code == 200
    payload = response.json()
    assert_valid("Response", live_to_spec(payload))
    if name == "incomplete":
        assert payload["status"] == "incomplete"


@pytest.mark.parametrize("name", list(REQUESTS))
def test_every_stream_event_matches_spec(http: httpx.Client, name: str) -> None:
    events = stream_events(http, REQUESTS[name])
    assert len(events) >= 5
    for event in events:
        assert_event_valid(event)


def test_stored_resources_match_spec(http: httpx.Client) -> None:
    first = post(http, REQUESTS["tools"]).json()
    call = first["output"][0]
    second = post(
        http,
        {
            "previous_response_id": first["id"],
            "input": [{"type": "function_call_output", "call_id": call["call_id"], "output": "ok"}],
            "tools": [TOOL],
        },
    ).json()
    assert_valid("Response", live_to_spec(http.get(f"/responses/{second['id']}").json()))
    items = http.get(f"/responses/{second['id']}/input_items").json()
    assert len(items["data"]) == 3
    assert_valid("ResponseItemList", items)
    structured = post(http, REQUESTS["items"]).json()
    assert_valid("ResponseItemList", http.get(f"/responses/{structured['id']}/input_items").json())
    background = post(http, {"input": "hi", "background": True}).json()
    assert_valid(
        "Response", live_to_spec(http.post(f"/responses/{background['id']}/cancel").json())
    )
    counted = http.post("/responses/input_tokens", json={"model": "gpt-4o", "input": "hi"})
    assert_valid("TokenCountsResource", counted.json())
    for event in [
        json.loads(block.split("\n")[1][len("data: ") :])
        for block in http.get(f"/responses/{second['id']}", params={"stream": "true"})
        .content.decode()
        .split("\n\n")[:-1]
    ]:
        assert_event_valid(event)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/responses", b"{oops"),
        ("POST", "/responses", b'{"model": "gpt-4o"}'),
        ("POST", "/responses", b'{"input": "hi"}'),
        ("POST", "/responses", b'{"model": "gpt-4o", "input": [{"role": "x", "content": "y"}]}'),
        ("POST", "/responses", b'{"model": "gpt-4o", "input": "x", "previous_response_id": "r"}'),
        (
            "POST",
            "/responses",
            b'{"model": "gpt-4o", "input": [{"type": "item_reference", "id": "m"}]}',
        ),
        ("GET", "/responses/resp_nope", b""),
        ("GET", "/responses/resp_nope/input_items", b""),
        ("DELETE", "/responses/resp_nope", b""),
        ("POST", "/responses/resp_nope/cancel", b""),
        ("PUT", "/responses", b""),
    ],
)
def test_error_bodies_match_spec(http: httpx.Client, method: str, path: str, body: bytes) -> None:
    response = http.request(method, path, content=body)
    assert response.status_code >= 400
    assert_valid("ErrorResponse", response.json())


def test_strict_model_error_matches_spec() -> None:
    with (
        MockServer(config_text="{}", strict_models=True) as strict,
        httpx.Client(base_url=strict.openai_url) as client,
    ):
        response = client.post("/responses", json={"model": "gpt-nope", "input": "hi"})
    assert response.status_code == 404
    assert_valid("ErrorResponse", response.json())


# --- the allow-list hides nothing else -------------------------------------------------


def test_allow_list_is_needed_and_narrow(http: httpx.Client) -> None:
    payload = post(http, REQUESTS["plain"]).json()
    assert payload["user"] is None
    assert errors("Response", payload) == ["$.user: None is not of type 'string'"]
    snapshot = stream_events(http, REQUESTS["plain"])[0]["response"]
    assert snapshot["status"] == "in_progress" and snapshot["usage"] is None
    without_user = {k: v for k, v in snapshot.items() if k != "user"}
    assert errors("Response", without_user) == ["$.usage: None is not of type 'object'"]
    assert not errors("Response", live_to_spec(snapshot))
    # A finished response keeps its usage: live_to_spec does not drop it.
    broken = copy.deepcopy(payload)
    broken["usage"] = None
    assert errors("Response", live_to_spec(broken))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("object",), "responses"),
        (("status",), "done"),
        (("output", 0, "type"), "text"),
        (("output", 0, "content", 0, "type"), "text"),
        (("usage", "input_tokens_details"), {"cached_tokens": 0}),
        (("created_at",), "now"),
    ],
)
def test_validator_rejects_wrong_values(
    http: httpx.Client, path: tuple[str | int, ...], value: object
) -> None:
    broken = live_to_spec(post(http, REQUESTS["plain"]).json())
    target: Any = broken
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert errors("Response", broken)


def test_validator_rejects_broken_events(http: httpx.Client) -> None:
    events = stream_events(http, REQUESTS["plain"])
    delta = next(e for e in events if e["type"] == "response.output_text.delta")
    assert errors(
        event_schemas()[delta["type"]], {k: v for k, v in delta.items() if k != "logprobs"}
    )
    assert errors("ResponseStreamEvent", {**delta, "sequence_number": "1"})
    assert errors("ResponseStreamEvent", {**delta, "type": "response.output_text.deltas"})
