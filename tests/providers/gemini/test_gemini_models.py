"""Gemini ``countTokens``, embeddings (``embedContent``, ``batchEmbedContents``) and models
(``GET /{ver}/models`` paged, ``GET /{ver}/models/{model}``), wire-formats.md section 6,
through google-genai on both API versions and raw."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from google import genai
from google.genai import errors, types

from mockllm.core.embeddings import embed
from mockllm.providers.gemini.models import MODELS
from mockllm.testing import MockServer

MODEL = "gemini-2.5-flash"
KEY = "test-key"
SKY = "what colour is the sky?"
GEMINI_IDS = [m.id for m in MODELS]


@pytest.fixture(scope="module", params=["v1beta", "v1"])
def client(request: pytest.FixtureRequest, server: MockServer) -> Iterator[genai.Client]:
    options = types.HttpOptions(base_url=server.url, api_version=request.param)
    with genai.Client(api_key=KEY, http_options=options) as sdk:
        yield sdk


def get(server: MockServer, path: str) -> httpx.Response:
    return httpx.get(server.url + path, headers={"x-goog-api-key": KEY}, timeout=10)


def post(server: MockServer, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(server.url + path, headers={"x-goog-api-key": KEY}, json=body, timeout=10)


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


# --- countTokens -----------------------------------------------------------------------------


def test_count_tokens_matches_usage(client: genai.Client) -> None:
    config = types.GenerateContentConfig(system_instruction="Be brief.")
    counted = client.models.count_tokens(model=MODEL, contents=SKY)
    generated = client.models.generate_content(model=MODEL, contents=SKY)
    assert generated.usage_metadata is not None
    assert counted.total_tokens == generated.usage_metadata.prompt_token_count
    longer = client.models.count_tokens(
        model=MODEL, contents=[SKY, "and another message"], config=None
    )
    assert (longer.total_tokens or 0) > (counted.total_tokens or 0)
    with_system = client.models.generate_content(model=MODEL, contents=SKY, config=config)
    assert with_system.usage_metadata
    assert (with_system.usage_metadata.prompt_token_count or 0) > (counted.total_tokens or 0)


def test_count_tokens_raw(server: MockServer) -> None:
    contents = [{"role": "user", "parts": [{"text": SKY}]}]
    plain = post(server, f"/v1beta/models/{MODEL}:countTokens", {"contents": contents})
    assert plain.status_code == 200
    body = plain.json()
    assert list(body) == ["totalTokens", "promptTokensDetails"]
    total = body["totalTokens"]
    assert body["promptTokensDetails"] == [{"modality": "TEXT", "tokenCount": total}]
    wrapped = post(
        server,
        f"/v1/models/{MODEL}:countTokens",
        {"generateContentRequest": {"model": f"models/{MODEL}", "contents": contents}},
    )
    assert wrapped.json()["totalTokens"] == total
    generated = post(server, f"/v1beta/models/{MODEL}:generateContent", {"contents": contents})
    assert generated.json()["usageMetadata"]["promptTokenCount"] == total
    empty = post(server, f"/v1beta/models/{MODEL}:countTokens", {"contents": []})
    assert empty.json()["totalTokens"] == 0


# --- embeddings ------------------------------------------------------------------------------


def test_embed_single(client: genai.Client) -> None:
    response = client.models.embed_content(model="text-embedding-004", contents="hello world")
    (embedding,) = response.embeddings or []
    values = embedding.values or []
    assert len(values) == 768
    assert values == pytest.approx(embed("hello world", 768))
    assert math.isclose(sum(v * v for v in values), 1.0, rel_tol=1e-9)


def test_embed_batch_and_similarity(client: genai.Client) -> None:
    texts = ["the cat sat on the mat", "a cat on a mat", "quarterly revenue grew"]
    response = client.models.embed_content(model="gemini-embedding-001", contents=texts)
    vectors = [e.values or [] for e in response.embeddings or []]
    assert [len(v) for v in vectors] == [3072, 3072, 3072]
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])


def test_embed_output_dimensionality(client: genai.Client) -> None:
    config = types.EmbedContentConfig(output_dimensionality=64, task_type="RETRIEVAL_DOCUMENT")
    response = client.models.embed_content(
        model="gemini-embedding-001", contents=["a", "b"], config=config
    )
    assert [len(e.values or []) for e in response.embeddings or []] == [64, 64]
    too_big = types.EmbedContentConfig(output_dimensionality=1000)
    with pytest.raises(errors.ClientError) as caught:
        client.models.embed_content(model="text-embedding-004", contents="a", config=too_big)
    assert caught.value.code == 400 and caught.value.status == "INVALID_ARGUMENT"


def test_embed_content_raw(server: MockServer) -> None:
    body = {"content": {"parts": [{"text": "hello"}, {"text": "world"}]}, "outputDimensionality": 8}
    response = post(server, "/v1beta/models/text-embedding-004:embedContent", body)
    assert response.status_code == 200
    assert list(response.json()) == ["embedding"]
    assert response.json()["embedding"]["values"] == pytest.approx(embed("hello world", 8))
    batch = post(
        server,
        "/v1/models/text-embedding-004:batchEmbedContents",
        {
            "requests": [
                {"model": "models/text-embedding-004", "content": {"parts": [{"text": "x"}]}},
                {
                    "model": "models/text-embedding-004",
                    "content": {"parts": [{"text": "y"}]},
                    "output_dimensionality": 4,
                },
            ]
        },
    )
    assert batch.status_code == 200
    embeddings = batch.json()["embeddings"]
    assert [len(e["values"]) for e in embeddings] == [768, 4]
    assert list(embeddings[0]) == ["values"]


def test_embed_unknown_model_defaults(server: MockServer) -> None:
    body = {"content": {"parts": [{"text": "hello"}]}}
    other = post(server, "/v1beta/models/my-embedder:embedContent", body)
    assert len(other.json()["embedding"]["values"]) == 768
    gemini = post(server, "/v1beta/models/gemini-embedding-exp:embedContent", body)
    assert len(gemini.json()["embedding"]["values"]) == 3072


# --- models ----------------------------------------------------------------------------------


def test_list_models(client: genai.Client) -> None:
    models = list(client.models.list(config={"page_size": 5}))
    assert [m.name for m in models] == [f"models/{id}" for id in GEMINI_IDS]
    flash = next(m for m in models if m.name == f"models/{MODEL}")
    assert flash.input_token_limit == 1_048_576 and flash.output_token_limit == 65_536
    assert flash.supported_actions and "generateContent" in flash.supported_actions
    assert flash.thinking is True
    embedder = next(m for m in models if m.name == "models/text-embedding-004")
    assert embedder.supported_actions and "embedContent" in embedder.supported_actions


def test_get_model(client: genai.Client) -> None:
    model = client.models.get(model=MODEL)
    assert model.name == f"models/{MODEL}"
    assert model.display_name == "Gemini 2.5 Flash"
    assert model.input_token_limit == 1_048_576
    assert client.models.get(model=f"models/{MODEL}").name == f"models/{MODEL}"


def test_list_models_paging_raw(server: MockServer) -> None:
    first = get(server, "/v1beta/models?pageSize=2")
    assert first.status_code == 200
    body = first.json()
    assert [m["name"] for m in body["models"]] == [f"models/{id}" for id in GEMINI_IDS[:2]]
    names = [m["name"] for m in body["models"]]
    token = body["nextPageToken"]
    while token:
        page = get(server, f"/v1beta/models?pageSize=10&pageToken={token}").json()
        names += [m["name"] for m in page["models"]]
        token = page.get("nextPageToken")
    assert names == [f"models/{id}" for id in GEMINI_IDS]
    everything = get(server, "/v1beta/models").json()
    assert "nextPageToken" not in everything and len(everything["models"]) == len(GEMINI_IDS)
    model = everything["models"][0]
    assert {
        "name",
        "displayName",
        "inputTokenLimit",
        "outputTokenLimit",
        "supportedGenerationMethods",
    } <= set(model)
    assert all("_" not in key for key in model)
    bad = get(server, "/v1beta/models?pageToken=garbage!")
    assert bad.status_code == 400
    assert orjson.loads(bad.content)["error"]["status"] == "INVALID_ARGUMENT"


def test_config_models_are_listed() -> None:
    config = "models: [{id: my-gemini, provider: gemini, display_name: Mine, context_window: 1000}]"
    with MockServer(config_text=config) as running:
        listed = get(running, "/v1beta/models?pageSize=1000").json()["models"]
        assert listed[-1]["name"] == "models/my-gemini"
        assert listed[-1]["inputTokenLimit"] == 1000
        assert get(running, "/v1/models/my-gemini").json()["displayName"] == "Mine"
