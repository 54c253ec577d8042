"""The stored-response store: bounded by count, bytes and age, least recently used forgotten
first, chains stored by reference, with an item index for ``item_reference``; and a server
whose store is full forgets the oldest response."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest

from mockllm.app import create_app
from mockllm.core.errors import MockError
from mockllm.core.limits import Limits
from mockllm.core.types import Choice, Completion, Usage
from mockllm.plugins import discover_providers
from mockllm.providers.openai import responses
from mockllm.providers.openai.responses.encode import Rendering
from mockllm.providers.openai.responses.protocol import CreateResponse
from mockllm.providers.openai.responses.store import ResponseStore, StoredResponse
from mockllm.settings import Settings


def stored(response_id: str, *item_ids: str, previous: str | None = None) -> StoredResponse:
    completion = Completion("gpt-4o", (Choice(0, "hi", ("hi",)),), Usage(1, 1))
    body = CreateResponse.model_validate({"model": "gpt-4o", "input": "hi"})
    rendering = Rendering.create(body, completion, 0.0)
    final = rendering.response()
    inputs = tuple({"id": i, "type": "message", "role": "user", "content": []} for i in item_ids)
    return StoredResponse(response_id, final, previous, inputs, rendering)


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


def test_conversation_of_a_stored_response_follows_its_chain() -> None:
    store = ResponseStore()
    store.put(stored("resp_a", "msg_0"))
    store.put(stored("resp_b", "msg_1", previous="resp_a"))
    a, b = store.get("resp_a"), store.get("resp_b")
    assert a is not None and b is not None
    assert [i["id"] for i in store.conversation(b)] == [
        "msg_0",
        a.body["output"][0]["id"],
        "msg_1",
        b.body["output"][0]["id"],
    ]


def test_a_chain_costs_linear_memory() -> None:
    # Each stored response keeps only its own items: a 2,000-turn chain costs 2,000 turns.
    store = ResponseStore()
    previous = None
    for turn in range(2000):
        store.put(stored(f"resp_{turn}", f"msg_{turn}", previous=previous))
        previous = f"resp_{turn}"
    sizes = [store.get(f"resp_{t}").size for t in (1, 1000, 1999)]  # type: ignore[union-attr]
    assert max(sizes) - min(sizes) < 10  # the last turn is no bigger than the second
    last = store.get("resp_1999")
    assert last is not None and len(store.conversation(last)) == 4000


def test_a_forgotten_ancestor_is_a_404_naming_it() -> None:
    store = ResponseStore()
    store.put(stored("resp_a", "msg_0"))
    store.put(stored("resp_b", "msg_1", previous="resp_a"))
    store.delete("resp_a")
    b = store.get("resp_b")
    assert b is not None
    with pytest.raises(MockError) as caught:
        store.conversation(b)
    assert caught.value.status == 404 and "resp_a" in caught.value.message


def test_bounded_by_bytes() -> None:
    one = stored("resp_x", "msg_x")
    store = ResponseStore(limits=Limits(store_max_bytes=1))
    store.put(one)
    size = one.size
    assert size > 1000 and len(store) == 0  # bigger than the whole bound: not kept
    store = ResponseStore(limits=Limits(store_max_bytes=size * 3 + size // 2))
    for i in range(10):
        store.put(stored(f"resp_{i}", f"msg_{i}"))
    assert len(store) == 3 and store.bytes <= size * 3 + size // 2
    assert [r for r in (f"resp_{i}" for i in range(10)) if r in store] == [
        "resp_7",
        "resp_8",
        "resp_9",
    ]
    assert store.item("msg_0") is None and store.item("msg_9") is not None


def test_bounded_by_age() -> None:
    now = [1000.0]
    store = ResponseStore(limits=Limits(store_ttl_seconds=60), clock=lambda: now[0])
    store.put(stored("resp_old", "msg_old"))
    now[0] += 30
    store.put(stored("resp_new", "msg_new"))
    now[0] += 31  # resp_old is 61 s old, resp_new 31 s
    assert store.get("resp_old") is None and store.item("msg_old") is None
    assert store.get("resp_new") is not None
    now[0] += 30
    store.put(stored("resp_newest"))
    assert "resp_new" not in store and len(store) == 1


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ResponseStore(capacity=0)


def test_a_full_server_forgets_the_least_recently_used() -> None:
    """A store of a small capacity, served in process."""
    providers = [
        dataclasses.replace(p, state={**p.state, **responses.state(capacity=2)})
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
