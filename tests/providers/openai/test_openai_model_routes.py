"""``GET /v1/models`` and ``GET /v1/models/{id}`` through the SDK (wire-formats.md section 4)."""

from __future__ import annotations

import asyncio

import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from mockllm.testing import MockServer

CONFIG_WITH_MODELS = """
models:
  - id: acme/finetune-1
    provider: openai
    owned_by: acme
  - id: gpt-4o
    provider: openai
    owned_by: overridden
"""


def test_list(client: OpenAI) -> None:
    page = client.models.list()
    models = list(page)
    ids = [m.id for m in models]
    for expected in (
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-5",
        "o3",
        "gpt-3.5-turbo",
        "text-embedding-3-small",
    ):
        assert expected in ids
    assert len(ids) == len(set(ids)), "duplicate model ids"
    for model in models:
        assert model.object == "model"
        assert isinstance(model.created, int) and model.created > 1_600_000_000
        assert isinstance(model.owned_by, str) and model.owned_by
    # Aliases are retrievable but not listed twice.
    assert "gpt-4o-2024-08-06" not in ids


def test_list_raw_headers(client: OpenAI) -> None:
    raw = client.models.with_raw_response.list()
    assert raw.headers["x-request-id"].startswith("req_")
    assert raw.headers["content-type"].startswith("application/json")
    assert any(m.id == "gpt-4o" for m in raw.parse())


def test_retrieve(client: OpenAI) -> None:
    model = client.models.retrieve("gpt-4o")
    assert model.id == "gpt-4o"
    assert model.object == "model"
    assert model.created == next(m.created for m in client.models.list() if m.id == "gpt-4o")
    assert model._request_id is not None


def test_retrieve_alias(client: OpenAI) -> None:
    model = client.models.retrieve("gpt-4o-2024-08-06")
    assert model.id == "gpt-4o-2024-08-06"
    assert model.object == "model"


def test_retrieve_unknown(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("gpt-nope")
    exc = caught.value
    assert exc.status_code == 404
    body = exc.response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["code"] == "model_not_found"
    assert body["error"]["param"] == "model"
    assert "gpt-nope" in body["error"]["message"]
    assert exc.code == "model_not_found"
    # The client keeps working.
    assert client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"


def test_async_list_and_retrieve(server: MockServer) -> None:
    async def main() -> None:
        async with AsyncOpenAI(
            base_url=server.openai_url, api_key="sk-test", max_retries=0
        ) as client:
            ids = [m.id async for m in client.models.list()]
            assert "gpt-4o" in ids
            model = await client.models.retrieve("o4-mini")
            assert model.id == "o4-mini"
            with pytest.raises(openai.NotFoundError):
                await client.models.retrieve("nope")

    asyncio.run(main())


def test_config_models_are_listed_and_retrievable() -> None:
    with (
        MockServer(config_text=CONFIG_WITH_MODELS, strict_models=True) as running,
        OpenAI(base_url=running.openai_url, api_key="sk-test", max_retries=0) as client,
    ):
        listed = {m.id: m for m in client.models.list()}
        assert listed["acme/finetune-1"].owned_by == "acme"
        assert listed["gpt-4o"].owned_by == "overridden"
        assert list(listed).count("gpt-4o") == 1
        # Model ids may contain slashes (fine-tunes, organisation prefixes).
        assert client.models.retrieve("acme/finetune-1").owned_by == "acme"
        completion = client.chat.completions.create(
            model="acme/finetune-1", messages=[{"role": "user", "content": "hi"}]
        )
        assert completion.model == "acme/finetune-1"
