"""``DELETE /v1/models/{model}`` in OpenAI's shape (spec ``DeleteModelResponse``), and the
405 of the client's own dialect on the ``/v1/models/...`` path several dialects share."""

from __future__ import annotations

import anthropic
import httpx
import openai
import pytest
from openai import OpenAI

from mockllm.testing import MockServer
from openapi_schemas import assert_valid

FINE_TUNED = "ft:gpt-4o-mini-2024-07-18:acme::abc123"


def test_a_fine_tuned_model_of_the_catalogue_is_deleted(sdk: OpenAI) -> None:
    assert sdk.models.retrieve(FINE_TUNED).owned_by == "user-acme"
    deleted = sdk.models.delete(FINE_TUNED)
    assert (deleted.id, deleted.object, deleted.deleted) == (FINE_TUNED, "model", True)
    raw = sdk.models.with_raw_response.delete(FINE_TUNED)
    assert raw.headers["x-request-id"].startswith("req_")
    assert_valid("DeleteModelResponse", raw.http_response.json())


def test_a_base_model_cannot_be_deleted(sdk: OpenAI) -> None:
    with pytest.raises(openai.PermissionDeniedError) as caught:
        sdk.models.delete("gpt-4o")
    error = caught.value
    assert error.status_code == 403
    assert error.type == "invalid_request_error"
    assert error.param == "model"
    body = error.response.json()["error"]
    assert body["message"].startswith("You have insufficient permissions")
    assert "'gpt-4o'" in body["message"]
    assert_valid("ErrorResponse", error.response.json())
    assert sdk.models.retrieve("gpt-4o").id == "gpt-4o"  # still there


@pytest.mark.parametrize("name", ["gpt-nope", "ft:gpt-4o-mini:acme::missing"])
def test_an_unknown_model_is_not_found(sdk: OpenAI, name: str) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.models.delete(name)
    assert caught.value.code == "model_not_found"
    assert caught.value.param == "model"
    assert name in caught.value.message
    assert_valid("ErrorResponse", caught.value.response.json())


def test_async_delete(openai_server: MockServer) -> None:
    import asyncio

    async def main() -> None:
        async with openai.AsyncOpenAI(
            base_url=openai_server.openai_url, api_key="sk-test", max_retries=0
        ) as client:
            assert (await client.models.delete(FINE_TUNED)).deleted is True
            with pytest.raises(openai.PermissionDeniedError):
                await client.models.delete("o3")

    asyncio.run(main())


# --- 405s on the shared /v1/models/{model} path ------------------------------------------


def test_unserved_methods_answer_in_the_clients_dialect(openai_server: MockServer) -> None:
    base = openai_server.url
    # An OpenAI client (no other dialect's header): OpenAI's 405, with OpenAI's methods,
    # also for a model id containing ':' (which Gemini's action route would accept).
    for name in (FINE_TUNED, "gpt-4o"):
        response = httpx.put(f"{base}/v1/models/{name}", headers={"authorization": "Bearer k"})
        assert response.status_code == 405, name
        body = response.json()
        assert set(body["error"]) == {"message", "type", "param", "code"}
        assert body["error"]["type"] == "invalid_request_error"
        assert response.headers["allow"] == "DELETE, GET"
        assert_valid("ErrorResponse", body)
    # Anthropic's client: Anthropic's 405 (Anthropic has no DELETE either).
    for method in ("PUT", "DELETE"):
        response = httpx.request(
            method, f"{base}/v1/models/claude-opus-4-6", headers={"anthropic-version": "2023-06-01"}
        )
        assert response.status_code == 405, method
        assert response.json()["type"] == "error"
        assert response.json()["error"]["type"] == "invalid_request_error"
        assert response.headers["allow"] == "GET"
    # Gemini's client: Gemini's 405.
    response = httpx.put(f"{base}/v1/models/gemini-2.5-flash", headers={"x-goog-api-key": "k"})
    assert response.status_code == 405
    error = response.json()["error"]
    assert error["code"] == 405 and error["status"] == "INVALID_ARGUMENT"


def test_the_anthropic_sdk_cannot_delete_models(openai_server: MockServer) -> None:
    with anthropic.Anthropic(base_url=openai_server.url, api_key="k", max_retries=0) as client:
        with pytest.raises(anthropic.APIStatusError) as caught:
            client.delete("/v1/models/claude-opus-4-6", cast_to=httpx.Response)
        assert caught.value.status_code == 405
        assert client.models.retrieve("claude-opus-4-6").id == "claude-opus-4-6"
