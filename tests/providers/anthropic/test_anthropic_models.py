"""Anthropic ``GET /v1/models`` and ``GET /v1/models/{id}`` (wire-formats.md section 5.6).

``/v1/models`` is shared with OpenAI: requests carrying ``anthropic-version`` (every
Anthropic SDK sends it) get Anthropic's paged list, others OpenAI's ``object: list``.
Model objects are validated against the SDK's ``ModelInfo`` in strict JSON mode (strict
python mode would refuse the RFC 3339 ``created_at`` string for a ``datetime`` field).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import anthropic
import httpx
import orjson
import pydantic
import pytest
from anthropic.types import ModelInfo

from mockllm.testing import MockServer

API_KEY = "sk-ant-test"
HEADERS = {"x-api-key": API_KEY, "anthropic-version": "2023-06-01"}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def get(server: MockServer, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers=HEADERS if headers is None else headers)


def all_ids(server: MockServer) -> list[str]:
    response = get(server, "/v1/models?limit=1000")
    assert response.status_code == 200
    body = response.json()
    assert body["has_more"] is False
    return [m["id"] for m in body["data"]]


def check_model_object(obj: dict[str, Any]) -> None:
    assert obj["type"] == "model"
    assert isinstance(obj["id"], str) and obj["id"]
    assert isinstance(obj["display_name"], str) and obj["display_name"]
    assert RFC3339.match(obj["created_at"]), obj["created_at"]
    assert "object" not in obj and "owned_by" not in obj


def test_list_shape(server: MockServer) -> None:
    response = get(server, "/v1/models")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["request-id"].startswith("req_")
    body = response.json()
    assert set(body) == {"data", "has_more", "first_id", "last_id"}
    assert isinstance(body["has_more"], bool)
    assert body["data"], "the catalogue has Claude models"
    for obj in body["data"]:
        check_model_object(obj)
    assert body["first_id"] == body["data"][0]["id"]
    assert body["last_id"] == body["data"][-1]["id"]
    ids = [m["id"] for m in body["data"]]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("claude-") for i in ids)
    assert "claude-opus-4-6" in all_ids(server)


def test_list_pages_by_cursor(server: MockServer) -> None:
    ids = all_ids(server)
    assert len(ids) >= 6
    first = get(server, "/v1/models?limit=2").json()
    assert [m["id"] for m in first["data"]] == ids[:2]
    assert first["has_more"] is True
    after = get(server, f"/v1/models?limit=2&after_id={ids[1]}").json()
    assert [m["id"] for m in after["data"]] == ids[2:4]
    assert (after["first_id"], after["last_id"]) == (ids[2], ids[3])
    before = get(server, f"/v1/models?limit=2&before_id={ids[4]}").json()
    assert [m["id"] for m in before["data"]] == ids[2:4]
    last = get(server, f"/v1/models?limit=2&after_id={ids[-2]}").json()
    assert [m["id"] for m in last["data"]] == ids[-1:]
    assert last["has_more"] is False


def test_sdk_auto_pagination(server: MockServer, anthropic_client: anthropic.Anthropic) -> None:
    expected = all_ids(server)
    page = anthropic_client.models.list(limit=2)
    assert len(page.data) == 2
    assert page.has_more is True
    walked = [model.id for model in page]
    assert walked == expected
    assert len(walked) == len(set(walked))
    pages = list(anthropic_client.models.list(limit=2).iter_pages())
    assert len(pages) == (len(expected) + 1) // 2
    for model in anthropic_client.models.list(limit=3):
        assert model.type == "model"
        assert model.created_at.tzinfo is not None


def test_sdk_async_auto_pagination(server: MockServer) -> None:
    expected = all_ids(server)

    async def main() -> list[str]:
        async with anthropic.AsyncAnthropic(
            base_url=server.url, api_key=API_KEY, max_retries=0
        ) as sdk:
            return [model.id async for model in sdk.models.list(limit=2)]

    assert asyncio.run(main()) == expected


def test_retrieve(anthropic_client: anthropic.Anthropic) -> None:
    model = anthropic_client.models.retrieve("claude-opus-4-6")
    assert model.id == "claude-opus-4-6"
    assert model.type == "model"
    assert model.display_name == "Claude Opus 4.6"
    assert model.created_at.tzinfo is not None
    assert model._request_id is not None


def test_retrieve_raw_shape(server: MockServer) -> None:
    response = get(server, "/v1/models/claude-opus-4-6")
    assert response.status_code == 200
    check_model_object(response.json())


def test_retrieve_unknown(anthropic_client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as info:
        anthropic_client.models.retrieve("claude-does-not-exist-9")
    error = info.value
    assert error.status_code == 404
    assert isinstance(error.body, dict)
    assert error.body["type"] == "error"
    assert error.body["error"]["type"] == "not_found_error"
    assert "detail" not in error.body
    assert error.request_id is not None
    assert error.body["request_id"] == error.request_id
    # The connection stays usable.
    assert anthropic_client.models.retrieve("claude-opus-4-6").id == "claude-opus-4-6"


def test_without_version_header_openai_shape(server: MockServer) -> None:
    response = get(server, "/v1/models", headers={"authorization": "Bearer sk-test"})
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    assert "first_id" not in body and "last_id" not in body
    assert all(m["object"] == "model" for m in body["data"])


# --- strict validation against the SDK types --------------------------------------------------


def test_list_items_validate_strictly(server: MockServer) -> None:
    body = get(server, "/v1/models?limit=1000").json()
    for obj in body["data"]:
        try:
            ModelInfo.model_validate_json(orjson.dumps(obj), strict=True)
        except pydantic.ValidationError as exc:
            pytest.fail(f"{obj['id']} is not a valid anthropic ModelInfo: {exc}")


def test_retrieve_validates_strictly(server: MockServer) -> None:
    response = get(server, "/v1/models/claude-opus-4-6")
    model = ModelInfo.model_validate_json(response.content, strict=True)
    assert model.id == "claude-opus-4-6"
