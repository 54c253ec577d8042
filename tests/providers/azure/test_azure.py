"""Azure OpenAI (wire-formats.md section 8) through the official SDK's ``AzureOpenAI`` client
and, for the v1 paths, the plain ``OpenAI`` client: chat (plain, streamed, ``.stream()``
helper), legacy completions and embeddings on deployment paths; the required
``api-version``; both auth headers; Azure's content-filter annotations; deployments mapped
to models; Azure's own error shapes next to OpenAI's envelope. OpenAI payloads are validated
against the OpenAPI spec."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any, cast

import httpx
import openai
import pytest
from openai import AsyncAzureOpenAI, AzureOpenAI, OpenAI
from openai._models import BaseModel
from openai.types.chat import ChatCompletionMessageParam

from mockllm.core.tokens import Tokenizer
from mockllm.testing import MockServer
from openapi_schemas import assert_valid

API_VERSION = "2024-10-21"
SKY = "what colour is the sky?"
SKY_ANSWER = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
SKY_MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": SKY}]
SAFE = {"filtered": False, "severity": "safe"}
NOT_DETECTED = {"filtered": False, "detected": False}
PROMPT_FILTERS = [
    {
        "prompt_index": 0,
        "content_filter_results": {
            "hate": SAFE,
            "self_harm": SAFE,
            "sexual": SAFE,
            "violence": SAFE,
            "jailbreak": NOT_DETECTED,
        },
    }
]
CONTENT_FILTERS = {
    "hate": SAFE,
    "self_harm": SAFE,
    "sexual": SAFE,
    "violence": SAFE,
    "protected_material_code": NOT_DETECTED,
    "protected_material_text": NOT_DETECTED,
}
RESOURCE_NOT_FOUND = {"error": {"code": "404", "message": "Resource not found"}}

_TOKENIZER = Tokenizer()


@pytest.fixture(scope="module")
def azure(server: MockServer) -> Iterator[AzureOpenAI]:
    with AzureOpenAI(
        azure_endpoint=server.url, api_version=API_VERSION, api_key="x", max_retries=0
    ) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def v1(server: MockServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=server.url + "/openai/v1", api_key="x", max_retries=0) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def raw(server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"api-key": "x"}, timeout=10) as client:
        yield client


def as_dict(model: BaseModel) -> dict[str, Any]:
    """The payload as received, Azure's extra keys included."""
    return cast(dict[str, Any], model.to_dict())


def chat_path(deployment: str = "gpt-4o") -> str:
    return f"/openai/deployments/{deployment}/chat/completions?api-version={API_VERSION}"


def sse_payloads(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    events = response.content.split(b"\n\n")
    assert events[-2:] == [b"data: [DONE]", b""]
    return [json.loads(e.removeprefix(b"data: ")) for e in events[:-2]]


# --- chat ----------------------------------------------------------------------------------


def test_chat(azure: AzureOpenAI, client: OpenAI) -> None:
    completion = azure.chat.completions.create(model="gpt-4o", messages=SKY_MESSAGES)
    assert completion.choices[0].message.content == SKY_ANSWER
    assert completion.object == "chat.completion" and completion.model == "gpt-4o"
    assert completion.id.startswith("chatcmpl-")
    raw = as_dict(completion)
    assert raw["prompt_filter_results"] == PROMPT_FILTERS
    assert raw["choices"][0]["content_filter_results"] == CONTENT_FILTERS
    # Tokens are counted as OpenAI counts them.
    openai_usage = client.chat.completions.create(model="gpt-4o", messages=SKY_MESSAGES).usage
    assert completion.usage == openai_usage


def test_chat_payload_matches_the_spec(raw: httpx.Client) -> None:
    response = raw.post(chat_path(), json={"messages": SKY_MESSAGES, "n": 2})
    assert response.status_code == 200
    payload = response.json()
    assert_valid("CreateChatCompletionResponse", payload)
    assert payload["model"] == "gpt-4o"  # the deployment names the model; no body model needed
    assert [c["index"] for c in payload["choices"]] == [0, 1]
    assert response.headers["x-ms-deployment-name"] == "gpt-4o"
    assert response.headers["apim-request-id"]
    assert response.headers["x-request-id"].startswith("req_")
    assert response.headers["x-mockllm-rule"] == "responses"


def test_deployment_wins_over_the_body_model(raw: httpx.Client) -> None:
    body = {"model": "something-else", "messages": SKY_MESSAGES}
    assert raw.post(chat_path("gpt-4o-mini"), json=body).json()["model"] == "gpt-4o-mini"


def test_chat_stream(azure: AzureOpenAI) -> None:
    stream = azure.chat.completions.create(
        model="gpt-4o",
        messages=SKY_MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    first, *rest, usage = chunks
    # Azure's first chunk: only the prompt filter results.
    assert first.choices == [] and first.id == ""
    assert as_dict(first)["object"] == ""
    assert as_dict(first)["prompt_filter_results"] == PROMPT_FILTERS
    assert {c.object for c in rest} == {"chat.completion.chunk"}
    assert "".join(c.choices[0].delta.content or "" for c in rest) == SKY_ANSWER
    assert rest[0].choices[0].delta.role == "assistant"
    assert rest[-1].choices[0].finish_reason == "stop"
    filters = [as_dict(c.choices[0])["content_filter_results"] for c in rest]
    assert filters[0] == {} and filters[-1] == {}  # role and finish chunks
    assert all(f == CONTENT_FILTERS for f in filters[1:-1])
    assert usage.choices == [] and usage.usage is not None
    assert usage.usage.completion_tokens == 17


def test_stream_payloads_match_the_spec(raw: httpx.Client) -> None:
    body = {"messages": SKY_MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    first, *chunks = sse_payloads(raw.post(chat_path(), json=body))
    assert first == {
        "choices": [],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
        "prompt_filter_results": PROMPT_FILTERS,
    }
    for chunk in chunks:
        assert_valid("CreateChatCompletionStreamResponse", chunk)


def test_stream_helper(azure: AzureOpenAI) -> None:
    with azure.chat.completions.stream(model="gpt-4o", messages=SKY_MESSAGES) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(deltas) == SKY_ANSWER
    assert final.choices[0].message.content == SKY_ANSWER
    assert final.choices[0].message.role == "assistant"
    assert final.choices[0].finish_reason == "stop"


def test_async_client(server: MockServer) -> None:
    async def run() -> tuple[str | None, str]:
        async with AsyncAzureOpenAI(
            azure_endpoint=server.url, api_version=API_VERSION, api_key="x", max_retries=0
        ) as sdk:
            completion = await sdk.chat.completions.create(model="gpt-4o", messages=SKY_MESSAGES)
            async with sdk.chat.completions.stream(model="gpt-4o", messages=SKY_MESSAGES) as s:
                final = await s.get_final_completion()
            return completion.choices[0].message.content, final.choices[0].message.content or ""

    assert asyncio.run(run()) == (SKY_ANSWER, SKY_ANSWER)


def test_tool_calls_have_openai_ids(azure: AzureOpenAI) -> None:
    completion = azure.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "call the tool"}],
        tools=[
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                },
            }
        ],
        tool_choice="required",
    )
    [call] = completion.choices[0].message.tool_calls or []
    assert call.id.startswith("call_") and call.type == "function"
    assert completion.choices[0].finish_reason == "tool_calls"


def test_azure_deployment_client(server: MockServer) -> None:
    with AzureOpenAI(
        azure_endpoint=server.url,
        azure_deployment="gpt-4o-mini",
        api_version=API_VERSION,
        api_key="x",
        max_retries=0,
    ) as sdk:
        completion = sdk.chat.completions.create(model="ignored", messages=SKY_MESSAGES)
    assert completion.model == "gpt-4o-mini"


# --- completions and embeddings ------------------------------------------------------------


def test_completions(azure: AzureOpenAI, raw: httpx.Client) -> None:
    completion = azure.completions.create(model="gpt-35-turbo-instruct", prompt=SKY, max_tokens=50)
    assert completion.object == "text_completion"
    assert completion.choices[0].text == SKY_ANSWER
    raw_completion = as_dict(completion)
    assert raw_completion["prompt_filter_results"] == PROMPT_FILTERS
    assert raw_completion["choices"][0]["content_filter_results"] == CONTENT_FILTERS

    stream = azure.completions.create(model="gpt-35-turbo-instruct", prompt=SKY, stream=True)
    chunks = [c for c in stream if c.choices]
    sixteen = _TOKENIZER.encoding("cl100k_base").decode(
        _TOKENIZER.encode(SKY_ANSWER, "cl100k_base")[:16]
    )
    assert "".join(c.choices[0].text for c in chunks) == sixteen  # the default max_tokens
    assert chunks[-1].choices[0].finish_reason == "length"
    assert as_dict(chunks[0].choices[0])["content_filter_results"] == CONTENT_FILTERS
    assert as_dict(chunks[-1].choices[0])["content_filter_results"] == {}

    path = f"/openai/deployments/my-instruct/completions?api-version={API_VERSION}"
    response = raw.post(path, json={"prompt": ["a", "b"], "max_tokens": 5})
    assert response.status_code == 200
    payload = response.json()
    assert_valid("CreateCompletionResponse", payload)
    assert payload["model"] == "my-instruct"
    assert [p["prompt_index"] for p in payload["prompt_filter_results"]] == [0, 1]


def test_embeddings(azure: AzureOpenAI, client: OpenAI, raw: httpx.Client) -> None:
    default = azure.embeddings.create(model="text-embedding-3-large", input=["hello", "world"])
    floats = client.embeddings.create(
        model="text-embedding-3-large", input=["hello", "world"], encoding_format="float"
    )
    assert [d.embedding for d in default.data] == [d.embedding for d in floats.data]
    assert len(default.data[0].embedding) == 3072
    assert default.model == "text-embedding-3-large"
    assert default.usage.prompt_tokens == 2
    short = azure.embeddings.create(model="text-embedding-3-small", input="x", dimensions=8)
    assert len(short.data[0].embedding) == 8

    path = f"/openai/deployments/text-embedding-ada-002/embeddings?api-version={API_VERSION}"
    response = raw.post(path, json={"input": "x", "encoding_format": "float"})
    assert response.status_code == 200
    assert_valid("CreateEmbeddingResponse", response.json())
    refused = raw.post(path, json={"input": "x", "dimensions": 8})
    assert refused.status_code == 400
    assert_valid("ErrorResponse", refused.json())


# --- the v1 paths --------------------------------------------------------------------------


def test_v1_paths(v1: OpenAI) -> None:
    chat = v1.chat.completions.create(model="gpt-4o", messages=SKY_MESSAGES)
    assert chat.choices[0].message.content == SKY_ANSWER
    assert as_dict(chat)["prompt_filter_results"] == PROMPT_FILTERS
    with v1.chat.completions.stream(model="gpt-4o", messages=SKY_MESSAGES) as stream:
        assert stream.get_final_completion().choices[0].message.content == SKY_ANSWER
    text = v1.completions.create(model="gpt-35-turbo", prompt=SKY, max_tokens=50)
    assert text.choices[0].text == SKY_ANSWER
    vectors = v1.embeddings.create(model="text-embedding-3-small", input="hi")
    assert len(vectors.data[0].embedding) == 1536
    models = [m.id for m in v1.models.list()]
    assert "gpt-4o" in models and "text-embedding-3-large" in models
    assert v1.models.retrieve("gpt-35-turbo").id == "gpt-35-turbo"
    with pytest.raises(openai.NotFoundError):
        v1.models.retrieve("no-such-model")


def test_v1_models_match_the_spec(raw: httpx.Client) -> None:
    response = raw.get("/openai/v1/models")
    assert_valid("ListModelsResponse", response.json())
    assert_valid("Model", raw.get("/openai/v1/models/gpt-4o").json())


def test_models_list_through_azure_client(azure: AzureOpenAI) -> None:
    assert "gpt-4o" in [m.id for m in azure.models.list()]


def test_azure_spelling_of_model_names(v1: OpenAI) -> None:
    completion = v1.chat.completions.create(model="gpt-35-turbo", messages=SKY_MESSAGES)
    assert completion.model == "gpt-3.5-turbo"  # the model behind the Azure name
    assert completion.usage is not None
    expected = 3 + 1 + len(_TOKENIZER.encode(SKY, "cl100k_base")) + 3
    assert completion.usage.prompt_tokens == expected  # gpt-3.5-turbo counts with cl100k_base


# --- front door: api-version, auth, errors -------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/openai/deployments/gpt-4o/chat/completions",
        "/openai/deployments/gpt-4o/chat/completions?api-version=",
        "/openai/deployments/gpt-4o/completions",
        "/openai/deployments/gpt-4o/embeddings?other=1",
        "/openai/models",
    ],
)
def test_missing_api_version_is_a_404(raw: httpx.Client, path: str) -> None:
    body = {"messages": SKY_MESSAGES, "prompt": "x", "input": "x"}
    response = raw.post(path, json=body) if "models" not in path else raw.get(path)
    assert response.status_code == 404
    assert response.json() == RESOURCE_NOT_FOUND


@pytest.mark.parametrize("version", ["2024-10-21", "2025-04-01-preview", "anything"])
def test_any_api_version_is_accepted(raw: httpx.Client, version: str) -> None:
    path = f"/openai/deployments/gpt-4o/chat/completions?api-version={version}"
    assert raw.post(path, json={"messages": SKY_MESSAGES}).status_code == 200


def test_v1_needs_no_api_version(raw: httpx.Client) -> None:
    body = {"model": "gpt-4o", "messages": SKY_MESSAGES}
    assert raw.post("/openai/v1/chat/completions", json=body).status_code == 200
    path = "/openai/v1/chat/completions?api-version=preview"
    assert raw.post(path, json=body).status_code == 200


def test_auth_headers(server: MockServer) -> None:
    body = {"messages": SKY_MESSAGES}
    with httpx.Client(base_url=server.url) as plain:
        for headers in ({"api-key": "k"}, {"Authorization": "Bearer entra-token"}):
            assert plain.post(chat_path(), json=body, headers=headers).status_code == 200
        response = plain.post(chat_path(), json=body)
        assert response.status_code == 401
        error = response.json()["error"]
        assert set(error) == {"code", "message"} and error["code"] == "401"
        assert error["message"].startswith("Access denied due to invalid subscription key")
        v1_body = {"model": "gpt-4o", **body}
        assert plain.post("/openai/v1/chat/completions", json=v1_body).status_code == 401


def test_entra_token_client(server: MockServer) -> None:
    with AzureOpenAI(
        azure_endpoint=server.url,
        api_version=API_VERSION,
        azure_ad_token="entra-token",
        max_retries=0,
    ) as sdk:
        completion = sdk.chat.completions.create(model="gpt-4o", messages=SKY_MESSAGES)
    assert completion.choices[0].message.content == SKY_ANSWER


def test_bad_request_in_openai_envelope(azure: AzureOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        azure.chat.completions.create(model="gpt-4o", messages=[])
    body = caught.value.response.json()
    assert_valid("ErrorResponse", body)
    assert body["error"]["param"] == "messages" and body["error"]["code"] == "empty_array"
    # The client keeps working.
    assert azure.chat.completions.create(model="gpt-4o", messages=SKY_MESSAGES).choices


def test_invalid_json(raw: httpx.Client) -> None:
    response = raw.post(chat_path(), content=b"{oops", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert_valid("ErrorResponse", response.json())
    assert response.json()["error"]["message"].startswith("We could not parse the JSON body")


def test_unknown_paths_and_methods(raw: httpx.Client) -> None:
    response = raw.post("/openai/deployments/gpt-4o/nothing?api-version=1", json={})
    assert response.status_code == 404 and response.json() == RESOURCE_NOT_FOUND
    response = raw.get(chat_path())
    assert response.status_code == 405
    assert_valid("ErrorResponse", response.json())


# --- config: deployments, strict models, rules ---------------------------------------------

CONFIG = f"""
responses:
  "{SKY}": "{SKY_ANSWER}"
rules:
  - name: azure-only
    match: {{provider: azure, prompt: {{exact: who are you}}}}
    reply: "Azure here."
  - name: anyone
    match: {{prompt: {{exact: who are you}}}}
    reply: "OpenAI here."
models:
  - {{id: gpt-4o, provider: azure, aliases: [my-chat]}}
  - {{id: text-embedding-3-large, provider: azure, aliases: [my-embedder]}}
"""


@pytest.fixture(scope="module")
def configured() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG, strict_models=True) as running:
        yield running


@pytest.fixture(scope="module")
def configured_azure(configured: MockServer) -> Iterator[AzureOpenAI]:
    with AzureOpenAI(
        azure_endpoint=configured.url, api_version=API_VERSION, api_key="x", max_retries=0
    ) as sdk:
        yield sdk


def test_deployment_mapped_by_alias(configured_azure: AzureOpenAI, client: OpenAI) -> None:
    completion = configured_azure.chat.completions.create(model="my-chat", messages=SKY_MESSAGES)
    assert completion.model == "gpt-4o"
    assert completion.choices[0].message.content == SKY_ANSWER
    reference = client.chat.completions.create(model="gpt-4o", messages=SKY_MESSAGES)
    assert completion.usage == reference.usage
    vectors = configured_azure.embeddings.create(model="my-embedder", input="x")
    assert vectors.model == "text-embedding-3-large" and len(vectors.data[0].embedding) == 3072


def test_unknown_deployment_with_strict_models(configured_azure: AzureOpenAI) -> None:
    for call in (
        lambda: configured_azure.chat.completions.create(model="nope", messages=SKY_MESSAGES),
        lambda: configured_azure.completions.create(model="nope", prompt="x"),
        lambda: configured_azure.embeddings.create(model="nope", input="x"),
    ):
        with pytest.raises(openai.NotFoundError) as caught:
            call()
        error = caught.value.response.json()["error"]
        assert set(error) == {"code", "message"}
        assert error["code"] == "DeploymentNotFound"
        assert error["message"].startswith("The API deployment for this resource does not exist")


def test_rules_can_match_azure(configured: MockServer, configured_azure: AzureOpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "who are you"}]
    azure_answer = configured_azure.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=messages
    )
    assert azure_answer.parse().choices[0].message.content == "Azure here."
    assert azure_answer.headers["x-mockllm-rule"] == "azure-only"
    with OpenAI(base_url=configured.openai_url, api_key="x", max_retries=0) as sdk:
        answer = sdk.chat.completions.create(model="gpt-4o", messages=messages)
    assert answer.choices[0].message.content == "OpenAI here."
