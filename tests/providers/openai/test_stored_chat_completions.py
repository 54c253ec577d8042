"""Stored Chat Completions (``store: true``) through the official SDK: ``list``,
``retrieve``, ``update``, ``delete`` and ``messages.list``, as the spec has them
(``ChatCompletionList``, ``CreateChatCompletionResponse``, ``ChatCompletionDeleted``,
``ChatCompletionMessageList``); the store is per app, bounded like the Responses store and
cleared by ``POST /-/reset``."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from mockllm.app import create_app
from mockllm.core.limits import Limits
from mockllm.plugins import discover_providers
from mockllm.providers.openai import stored
from mockllm.providers.openai.stored import ChatStore, StoredCompletion
from mockllm.settings import Settings
from mockllm.testing import MockServer
from openapi_schemas import assert_valid

SKY: Any = [{"role": "user", "content": "what colour is the sky?"}]


def create(sdk: OpenAI, text: str = "what colour is the sky?", **extra: Any) -> Any:
    return sdk.chat.completions.create(
        model=extra.pop("model", "gpt-4o"),
        messages=[{"role": "user", "content": text}],
        store=extra.pop("store", True),
        **extra,
    )


def test_a_stored_completion_is_retrieved(sdk: OpenAI) -> None:
    created = create(sdk, metadata={"topic": "sky"}, temperature=0.5)
    found = sdk.chat.completions.retrieve(created.id)
    assert found.id == created.id
    assert found.choices[0].message.content == "Blue." == created.choices[0].message.content
    assert found.created == created.created and found.model == created.model
    assert found.usage == created.usage
    raw = sdk.chat.completions.with_raw_response.retrieve(created.id).http_response.json()
    assert_valid("CreateChatCompletionResponse", raw)
    assert raw["metadata"] == {"topic": "sky"}
    assert raw["temperature"] == 0.5 and raw["request_id"].startswith("req_")


def test_not_stored_without_store_true(sdk: OpenAI) -> None:
    for created in (
        sdk.chat.completions.create(model="gpt-4o", messages=SKY, store=False),
        sdk.chat.completions.create(model="gpt-4o", messages=SKY),
    ):
        with pytest.raises(openai.NotFoundError):
            sdk.chat.completions.retrieve(created.id)
    assert list(sdk.chat.completions.list()) == []


def test_a_streamed_completion_is_stored_too(sdk: OpenAI) -> None:
    chunks = list(
        sdk.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "weather?"}],
            store=True,
            stream=True,
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    found = sdk.chat.completions.retrieve(chunks[0].id)
    assert found.choices[0].message.content == text == "It is sunny in Paris, 22 degrees."
    assert found.choices[0].finish_reason == "stop"


def test_list_filters_orders_and_pages(sdk: OpenAI) -> None:
    ids = [create(sdk, metadata={"run": "a", "n": str(n)}, model="gpt-4o").id for n in range(3)] + [
        create(sdk, metadata={"run": "b"}, model="gpt-4o-mini").id
    ]
    assert [c.id for c in sdk.chat.completions.list()] == ids  # oldest first by default
    assert [c.id for c in sdk.chat.completions.list(order="desc")] == ids[::-1]
    assert [c.id for c in sdk.chat.completions.list(model="gpt-4o-mini")] == ids[3:]
    assert [c.id for c in sdk.chat.completions.list(metadata={"run": "a"})] == ids[:3]
    assert [c.id for c in sdk.chat.completions.list(metadata={"run": "a", "n": "1"})] == [ids[1]]
    assert list(sdk.chat.completions.list(metadata={"run": "c"})) == []
    # Pages of two, followed by the SDK through `after`.
    page = sdk.chat.completions.list(limit=2)
    assert [c.id for c in page.data] == ids[:2] and page.has_more is True
    assert [c.id for c in page] == ids  # auto-pagination
    after = sdk.chat.completions.list(after=ids[1], limit=1)
    assert [c.id for c in after.data] == [ids[2]] and after.has_more is True
    raw = sdk.chat.completions.with_raw_response.list(limit=2).http_response.json()
    assert_valid("ChatCompletionList", raw)
    assert (raw["first_id"], raw["last_id"]) == (ids[0], ids[1])


def test_list_parameters_are_checked(sdk: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.list(order="sideways")  # type: ignore[arg-type]
    assert caught.value.param == "order"
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.list(limit=0)
    assert caught.value.param == "limit"


def test_update_replaces_the_metadata(sdk: OpenAI) -> None:
    created = create(sdk, metadata={"stage": "draft", "keep": "no"})
    updated = sdk.chat.completions.update(created.id, metadata={"stage": "final"})
    assert updated.id == created.id
    assert updated.metadata == {"stage": "final"}
    assert sdk.chat.completions.retrieve(created.id).metadata == {"stage": "final"}
    assert [c.id for c in sdk.chat.completions.list(metadata={"stage": "final"})] == [created.id]
    assert list(sdk.chat.completions.list(metadata={"stage": "draft"})) == []
    cleared = sdk.chat.completions.update(created.id, metadata=None)
    assert cleared.metadata == {}
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.post(f"/chat/completions/{created.id}", cast_to=httpx.Response, body={})
    assert caught.value.param == "metadata"
    assert caught.value.code == "missing_required_parameter"


def test_delete(sdk: OpenAI) -> None:
    created = create(sdk)
    deleted = sdk.chat.completions.delete(created.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (
        created.id,
        "chat.completion.deleted",
        True,
    )
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.delete(created.id)


def test_delete_matches_the_spec(openai_server: MockServer) -> None:
    with OpenAI(base_url=openai_server.openai_url, api_key="k", max_retries=0) as sdk:
        created = create(sdk)
    response = httpx.delete(f"{openai_server.openai_url}/chat/completions/{created.id}")
    assert_valid("ChatCompletionDeleted", response.json())


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE", "MESSAGES"])
def test_unknown_ids_are_openai_404s(sdk: OpenAI, method: str) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        if method == "GET":
            sdk.chat.completions.retrieve("chatcmpl-nope")
        elif method == "POST":
            sdk.chat.completions.update("chatcmpl-nope", metadata={"a": "b"})
        elif method == "DELETE":
            sdk.chat.completions.delete("chatcmpl-nope")
        else:
            sdk.chat.completions.messages.list("chatcmpl-nope")
    error = caught.value
    assert error.type == "invalid_request_error"
    assert "chatcmpl-nope" in error.message
    assert_valid("ErrorResponse", error.response.json())


def test_messages_list(sdk: OpenAI) -> None:
    messages: Any = [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what colour"},
                {"type": "image_url", "image_url": {"url": "https://example.com/sky.png"}},
                {"type": "text", "text": "is the sky?"},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "look", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "blue-ish"},
        {"role": "user", "content": "so?", "name": "ann"},
    ]
    created = sdk.chat.completions.create(model="gpt-4o", messages=messages, store=True)
    listed = list(sdk.chat.completions.messages.list(created.id))
    assert [m.id for m in listed] == [f"{created.id}-{i}" for i in range(5)]
    assert [m.role for m in listed] == ["system", "user", "assistant", "tool", "user"]
    assert listed[0].content == "Be brief." and listed[0].content_parts is None
    assert listed[1].content == "what colour\nis the sky?"
    assert [p.type for p in listed[1].content_parts or []] == ["text", "image_url", "text"]
    assert listed[2].content is None
    assert listed[2].tool_calls is not None and listed[2].tool_calls[0].id == "call_1"
    assert listed[4].model_dump()["name"] == "ann"
    desc = sdk.chat.completions.messages.list(created.id, order="desc", limit=2)
    assert [m.id for m in desc.data] == [f"{created.id}-4", f"{created.id}-3"]
    assert desc.has_more is True
    after = sdk.chat.completions.messages.list(created.id, after=f"{created.id}-3")
    assert [m.id for m in after.data] == [f"{created.id}-4"] and after.has_more is False
    raw = sdk.chat.completions.messages.with_raw_response.list(created.id).http_response.json()
    assert (raw["object"], raw["first_id"], raw["last_id"]) == (
        "list",
        f"{created.id}-0",
        f"{created.id}-4",
    )
    # The spec types the items as response messages (role "assistant" only), though its
    # own example lists a user message: everything else about them is checked.
    assert_valid(
        "ChatCompletionMessageList",
        raw | {"data": [m | {"role": "assistant"} for m in raw["data"]]},
    )


def test_reset_clears_the_stores(openai_server: MockServer, sdk: OpenAI) -> None:
    created = create(sdk)
    response = sdk.responses.create(model="gpt-4o", input="hi")
    done = httpx.post(openai_server.url + "/-/reset").json()["reset"]
    assert {"openai.chat_store", "openai.responses"} <= set(done)
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(response.id)
    assert list(sdk.chat.completions.list()) == []
    assert create(sdk).id in [c.id for c in sdk.chat.completions.list()]  # still storing


# --- bounds ------------------------------------------------------------------------------


def kept(completion_id: str, text: str = "x") -> StoredCompletion:
    body = {"id": completion_id, "model": "gpt-4o", "metadata": {}, "text": text}
    return StoredCompletion(completion_id, body, ({"id": f"{completion_id}-0"},))


def test_the_store_forgets_the_least_recently_used() -> None:
    store = ChatStore(capacity=2)
    store.put(kept("a"))
    store.put(kept("b"))
    assert store.get("a") is not None  # a is now the most recently used
    store.put(kept("c"))
    assert "b" not in store and len(store) == 2
    assert [c.id for c in store.completions()] == ["a", "c"]  # listed by creation


def test_the_store_is_bounded_by_bytes_and_age() -> None:
    one = kept("a")
    ChatStore().put(one)
    size = one.size
    store = ChatStore(limits=Limits(store_max_bytes=size * 2 + size // 2))
    for name in "abc":
        store.put(kept(name))
    assert [c.id for c in store.completions()] == ["b", "c"]
    assert store.bytes == 2 * size
    # b grows (and is used): the store is over its bound, c (least recently used) goes.
    assert store.update_metadata("b", {"k": "v" * size}) is not None
    assert "c" not in store and "b" in store
    assert store.bytes == store.completions()[0].size
    ChatStore(limits=Limits(store_max_bytes=1)).put(kept("huge"))  # bigger than it all: dropped
    now = [0.0]
    aging = ChatStore(limits=Limits(store_ttl_seconds=60), clock=lambda: now[0])
    aging.put(kept("old"))
    now[0] += 30
    aging.put(kept("new"))
    now[0] += 40
    assert aging.get("old") is None and aging.get("new") is not None
    now[0] += 30
    assert aging.completions() == [] and aging.bytes == 0
    aging.put(kept("x"))
    aging.clear()
    assert len(aging) == 0 and aging.bytes == 0
    with pytest.raises(ValueError):
        ChatStore(capacity=0)


def test_a_full_server_forgets_the_oldest_completion() -> None:
    """A store of a small capacity, in an app of its own, served in process."""
    providers = [
        dataclasses.replace(p, state={**p.state, stored.STATE: stored.factory(capacity=2)})
        if p.name == "openai"
        else p
        for p in discover_providers(["openai"])
    ]
    app = create_app(Settings(), providers=providers)
    other = create_app(Settings())

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock/v1") as client:
            ids = []
            for _ in range(3):
                body = {"model": "gpt-4o", "messages": SKY, "store": True}
                ids.append((await client.post("/chat/completions", json=body)).json()["id"])
            statuses = [(await client.get(f"/chat/completions/{i}")).status_code for i in ids]
            assert statuses == [404, 200, 200]
            listed = (await client.get("/chat/completions")).json()
            assert [c["id"] for c in listed["data"]] == ids[1:]
        # Another app has a store of its own.
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock/v1") as client:
            assert (await client.get(f"/chat/completions/{ids[2]}")).status_code == 404

    asyncio.run(main())


def test_azure_chat_completions_still_work_with_store(openai_server: MockServer) -> None:
    """Azure's chat completions share OpenAI's decoding; Azure serves no stored-completion
    paths, so its ``store: true`` answers are not kept."""
    openai_server.reset()
    with openai.AzureOpenAI(
        azure_endpoint=openai_server.url,
        api_key="k",
        api_version="2024-10-21",
        max_retries=0,
    ) as azure:
        reply = azure.chat.completions.create(model="gpt-4o", messages=SKY, store=True)
    assert reply.choices[0].message.content == "Blue."
    assert len(openai_server.app.services.state("openai.chat_store", ChatStore)) == 0
