"""Literal path segments win over captures, whatever order providers declare their routes
in: ``POST /v1/responses/compact`` and ``/input_tokens`` reach their own handlers, not
``/v1/responses/{response_id}``; and ``POST /v1/responses/compact`` itself, through the
official SDK, against the spec's ``CompactResource``."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI
from starlette.routing import Route

from mockllm.app import _specificity, create_app
from mockllm.core.errors import MockError
from mockllm.providers.base import Provider, RouteSpec
from mockllm.settings import Settings
from mockllm.testing import MockServer
from mockllm.wire import HttpCall, JsonResult, Result
from openapi_schemas import assert_valid

CONVERSATION: list[Any] = [
    {"role": "developer", "content": "Be brief."},
    {"role": "user", "content": "Create a landing page for a dog petting cafe."},
    {
        "id": "msg_001",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [
            {"type": "output_text", "annotations": [], "logprobs": [], "text": "Here it is."}
        ],
    },
    {"role": "user", "content": "Make it blue."},
]


# --- route order ---------------------------------------------------------------------------


def test_specificity_puts_literals_before_captures() -> None:
    paths = [
        "/v1/models/{model:path}",
        "/v1/responses/{response_id}",
        "/v1/models/{model}/versions",
        "/v1/responses/compact",
        "/v1/responses/{response_id}/cancel",
        "/v1/responses/input_tokens",
        "/v1/{anything}/compact",
    ]
    ordered = sorted(paths, key=_specificity)
    assert ordered.index("/v1/responses/compact") < ordered.index("/v1/responses/{response_id}")
    assert ordered.index("/v1/responses/input_tokens") < ordered.index(
        "/v1/responses/{response_id}"
    )
    assert ordered.index("/v1/models/{model}/versions") < ordered.index("/v1/models/{model:path}")
    assert ordered.index("/v1/responses/compact") < ordered.index("/v1/{anything}/compact")
    # Same kinds: declaration order is kept (a stable sort).
    assert sorted(["/b/{x}", "/a/{y}"], key=_specificity) == ["/b/{x}", "/a/{y}"]


def test_the_app_routes_literal_paths_first() -> None:
    paths = [r.path for r in create_app(Settings()).router.routes if isinstance(r, Route)]
    capture = paths.index("/v1/responses/{response_id}")
    assert paths.index("/v1/responses/compact") < capture
    assert paths.index("/v1/responses/input_tokens") < capture
    assert paths.index("/v1/chat/completions") < paths.index("/v1/chat/completions/{completion_id}")


def _error(error: MockError, call: HttpCall) -> JsonResult:
    return JsonResult({"error": error.message}, error.status)


def _answer(text: str) -> Any:
    async def handler(call: HttpCall) -> Result:
        return JsonResult({"answered_by": text, "params": dict(call.path_params)})

    return handler


def test_a_literal_declared_after_a_capture_still_wins() -> None:
    """A provider declaring the capture first: the router still tries the literal first,
    also through the router's regex matching (``root_path`` set skips the exact-path
    shortcut)."""
    plugin = Provider(
        name="plugin",
        routes=(
            RouteSpec("/p/things/{thing_id}", ("POST",), _answer("capture"), "capture"),
            RouteSpec("/p/things/special", ("POST",), _answer("literal"), "literal"),
            RouteSpec("/p/{kind}/special/{x}", ("POST",), _answer("kind"), "kind"),
            RouteSpec("/p/things/special/{x}", ("POST",), _answer("things"), "things"),
        ),
        render_error=_error,
        stream_error=lambda error, call: b"",
        prefixes=("/p/",),
    )
    app = create_app(Settings(), providers=[plugin])

    async def main() -> None:
        for root_path in ("", "/mounted"):
            transport = httpx.ASGITransport(app=app, root_path=root_path)
            async with httpx.AsyncClient(transport=transport, base_url="http://mock") as http:
                base = root_path
                special = await http.post(f"{base}/p/things/special")
                assert special.json()["answered_by"] == "literal", root_path
                other = await http.post(f"{base}/p/things/other")
                assert other.json() == {"answered_by": "capture", "params": {"thing_id": "other"}}
                nested = await http.post(f"{base}/p/things/special/1")
                assert nested.json()["answered_by"] == "things"
                kind = await http.post(f"{base}/p/stuff/special/1")
                assert kind.json()["answered_by"] == "kind"

    asyncio.run(main())


# --- POST /v1/responses/compact --------------------------------------------------------------


def test_compact_through_the_sdk(sdk: OpenAI) -> None:
    compacted = sdk.responses.compact(model="gpt-5.1", input=CONVERSATION)
    assert compacted.object == "response.compaction"
    assert compacted.id.startswith("resp_")
    # Every user message, then one compaction item.
    *kept, last = compacted.output
    assert [(i.type, getattr(i, "role", None)) for i in kept] == [
        ("message", "user"),
        ("message", "user"),
    ]
    texts = [c.text for i in kept for c in getattr(i, "content", [])]
    assert texts == ["Create a landing page for a dog petting cafe.", "Make it blue."]
    assert last.type == "compaction"
    assert last.id.startswith("cmp_")
    assert last.encrypted_content.startswith("gAAAAAB")
    usage = compacted.usage
    # Input tokens are counted exactly as /responses/input_tokens counts them.
    counted = sdk.responses.input_tokens.count(model="gpt-5.1", input=CONVERSATION)
    assert usage.input_tokens == counted.input_tokens > 0
    assert usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0


def test_compact_is_deterministic_and_valid(openai_server: MockServer) -> None:
    url = openai_server.openai_url + "/responses/compact"
    body = {"model": "gpt-4o", "input": CONVERSATION}
    first = httpx.post(url, json=body, timeout=10)
    second = httpx.post(url, json=body, timeout=10)
    assert first.status_code == second.status_code == 200, first.text
    assert first.headers["content-type"].startswith("application/json")
    assert first.headers["x-request-id"].startswith("req_")
    one, two = first.json(), second.json()
    assert_valid("CompactResource", one)
    assert one["output"][-1] == two["output"][-1]  # the same conversation, the same item
    assert one["usage"] == two["usage"]
    assert set(one) == {"id", "object", "created_at", "output", "usage"}
    # What the compaction stands for (all but the user messages) changes the item.
    other = httpx.post(url, json={"model": "gpt-4o", "input": CONVERSATION[1:]}, timeout=10)
    assert other.json()["output"][-1] != one["output"][-1]


def test_compact_continues_a_stored_response_and_feeds_the_next_turn(sdk: OpenAI) -> None:
    first = sdk.responses.create(model="gpt-4o", input="What is the weather in Paris?")
    assert first.output_text == "It is sunny in Paris, 22 degrees."
    compacted = sdk.responses.compact(model="gpt-4o", previous_response_id=first.id)
    *kept, item = compacted.output
    assert len(kept) == 1 and getattr(kept[0], "role", None) == "user"
    assert item.type == "compaction"
    # The compacted output is the next request's input, as the docs have it.
    next_input: list[Any] = [
        *(i.model_dump(exclude_none=True, warnings=False) for i in compacted.output),
        {"role": "user", "content": "what colour is the sky?"},
    ]
    follow = sdk.responses.create(model="gpt-4o", input=next_input)
    assert follow.output_text == "Blue."
    # Compacting again folds the earlier compaction into the new one.
    again = sdk.responses.compact(model="gpt-4o", previous_response_id=follow.id)
    *users, newer = again.output
    assert [getattr(i, "role", None) for i in users] == ["user", "user"]
    assert newer.type == "compaction"
    assert newer.encrypted_content != item.encrypted_content


def test_compact_errors(sdk: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.responses.compact(model="gpt-4o", previous_response_id="resp_nope")
    assert missing.value.code == "previous_response_not_found"
    with pytest.raises(openai.BadRequestError) as empty:
        sdk.responses.compact(model="gpt-4o")
    assert empty.value.param == "input"
    with pytest.raises(openai.BadRequestError) as no_model:
        sdk.post("/responses/compact", cast_to=httpx.Response, body={"input": "hi"})
    assert no_model.value.param == "model"
    assert no_model.value.code == "missing_required_parameter"
    # Any other method on the literal path is its own 405, not the {response_id} route's.
    with pytest.raises(openai.APIStatusError) as wrong:
        sdk.get("/responses/compact", cast_to=httpx.Response)
    assert wrong.value.status_code == 405
    assert wrong.value.response.headers["allow"] == "POST"


def test_compact_honours_strict_models() -> None:
    with (
        MockServer(config_text="responses: {hi: hello}", strict_models=True) as strict,
        OpenAI(base_url=strict.openai_url, api_key="sk-test", max_retries=0) as client,
    ):
        with pytest.raises(openai.NotFoundError) as caught:
            client.responses.compact(model="gpt-nope", input="hi")
        assert caught.value.code == "model_not_found"
        assert client.responses.compact(model="gpt-4o", input="hi").output[0].type == "message"
