"""The stored-response store: bounded, least recently used forgotten first, with an item
index for ``item_reference``; and a server whose store is full forgets the oldest response."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import httpx
import pytest

from mockllm.app import create_app
from mockllm.core.types import Choice, Completion, Usage
from mockllm.plugins import discover_providers
from mockllm.providers.openai import responses
from mockllm.providers.openai.responses.protocol import CreateResponse
from mockllm.providers.openai.responses.store import ResponseStore, StoredResponse
from mockllm.providers.openai.responses.translate import Rendering
from mockllm.settings import Settings


def stored(response_id: str, *item_ids: str) -> StoredResponse:
    completion = Completion("gpt-4o", (Choice(0, "hi", ("hi",)),), Usage(1, 1))
    body = CreateResponse.model_validate({"model": "gpt-4o", "input": "hi"})
    rendering = Rendering.create(body, completion, 0.0)
    final = rendering.response()
    inputs = tuple({"id": i, "type": "message", "role": "user", "content": []} for i in item_ids)
    return StoredResponse(response_id, final, (), inputs, rendering)


def test_lru_eviction_and_item_index() -> None:
    store = ResponseStore(capacity=2)
    store.put(stored("resp_a", "msg_a"))
    store.put(stored("resp_b", "msg_b"))
    assert store.get("resp_a") is not None  # resp_a is now the most recently used
    store.put(stored("resp_c", "msg_c"))
    assert len(store) == 2
    assert "resp_b" not in store and store.get("resp_b") is None
    assert store.item("msg_b") is None
    assert store.item("msg_a") is not None and store.item("msg_c") is not None
    output_id = store.get("resp_c").body["output"][0]["id"]  # type: ignore[union-attr]
    assert store.item(output_id) is not None


def test_delete_and_shared_items() -> None:
    store = ResponseStore()
    first = stored("resp_a", "msg_shared")
    store.put(first)
    # A later response that referenced the same item keeps it alive.
    second = dataclasses.replace(stored("resp_b"), input_items=first.input_items)
    store.put(second)
    assert store.delete("resp_a") and not store.delete("resp_a")
    assert store.item("msg_shared") is not None
    assert store.delete("resp_b")
    assert store.item("msg_shared") is None and len(store) == 0


def test_conversation_of_a_stored_response() -> None:
    response = stored("resp_a", "msg_1")
    history: Any = ({"id": "msg_0", "type": "message", "role": "user", "content": []},)
    response = dataclasses.replace(response, context=history)
    assert [i["id"] for i in response.conversation()] == [
        "msg_0",
        "msg_1",
        response.body["output"][0]["id"],
    ]


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ResponseStore(capacity=0)


def test_a_full_server_forgets_the_least_recently_used() -> None:
    """Routes built with a small capacity, served in process."""
    providers = [
        dataclasses.replace(
            p,
            routes=tuple(r for r in p.routes if not r.path.startswith("/v1/responses"))
            + responses.routes(capacity=2),
        )
        if p.name == "openai"
        else p
        for p in discover_providers(["openai"])
    ]
    app = create_app(Settings(), providers=providers)

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock/v1") as client:
            ids = []
            for _ in range(3):
                created = await client.post("/responses", json={"model": "gpt-4o", "input": "x"})
                ids.append(created.json()["id"])
            statuses = [(await client.get(f"/responses/{i}")).status_code for i in ids]
            assert statuses == [404, 200, 200]

    asyncio.run(main())
