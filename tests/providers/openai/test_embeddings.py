"""``POST /v1/embeddings`` through the official SDK and raw HTTP (wire-formats.md section 4,
pitfall P13): float and base64 (the SDK's default) decode to the same float32 values, sizes
as the real models, ``dimensions``, unit length, deterministic vectors where texts sharing
words are closer, token-array input, exact usage, errors in OpenAI's envelope, and every
payload valid against the OpenAPI spec."""

from __future__ import annotations

import asyncio
import base64
import math
import struct
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from mockllm.core.tokens import Tokenizer
from mockllm.testing import MockServer
from openapi_schemas import assert_valid

MODEL = "text-embedding-3-small"
_TOKENIZER = Tokenizer()


def tokens(text: str) -> list[int]:
    return _TOKENIZER.encoding("cl100k_base").encode_ordinary(text)


def norm(vector: Sequence[float]) -> float:
    return math.sqrt(sum(v * v for v in vector))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (norm(a) * norm(b))


def post(http: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return http.post("/embeddings", json={"model": MODEL, **body})


def test_sdk_default_is_base64_and_decodes_to_the_float_values(client: OpenAI) -> None:
    texts = ["The food was delicious", "the waiter was rude"]
    default = client.embeddings.create(model=MODEL, input=texts)  # the SDK asks for base64
    floats = client.embeddings.create(model=MODEL, input=texts, encoding_format="float")
    assert [d.embedding for d in default.data] == [d.embedding for d in floats.data]
    assert [d.index for d in default.data] == [0, 1]
    assert default.object == "list" and default.data[0].object == "embedding"
    assert default.model == MODEL


def test_base64_is_little_endian_float32(http: httpx.Client) -> None:
    packed = post(http, {"input": "hello world", "encoding_format": "base64"}).json()
    floats = post(http, {"input": "hello world", "encoding_format": "float"}).json()
    raw = base64.b64decode(packed["data"][0]["embedding"])
    assert len(raw) == 4 * 1536
    assert list(struct.unpack("<1536f", raw)) == floats["data"][0]["embedding"]
    assert_valid("CreateEmbeddingResponse", floats)
    assert floats["usage"] == {"prompt_tokens": 2, "total_tokens": 2}


@pytest.mark.parametrize(
    ("model", "size"),
    [
        ("text-embedding-3-small", 1536),
        ("text-embedding-3-large", 3072),
        ("text-embedding-ada-002", 1536),
        ("my-own-embedder", 1536),
    ],
)
def test_sizes_per_model_and_unit_length(client: OpenAI, model: str, size: int) -> None:
    result = client.embeddings.create(model=model, input=["a", "longer text about cats"])
    for item in result.data:
        assert len(item.embedding) == size
        assert norm(item.embedding) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("dimensions", [1, 64, 256, 1536])
def test_dimensions(client: OpenAI, dimensions: int) -> None:
    result = client.embeddings.create(model=MODEL, input="some text", dimensions=dimensions)
    assert len(result.data[0].embedding) == dimensions
    assert norm(result.data[0].embedding) == pytest.approx(1.0, abs=1e-6)


def test_dimensions_on_large(client: OpenAI) -> None:
    result = client.embeddings.create(
        model="text-embedding-3-large", input="some text", dimensions=1024
    )
    assert len(result.data[0].embedding) == 1024


def test_ada_refuses_dimensions(client: OpenAI, http: httpx.Client) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="text-embedding-ada-002", input="x", dimensions=256)
    body = caught.value.response.json()
    assert_valid("ErrorResponse", body)
    assert body["error"] == {
        "message": "This model does not support specifying dimensions.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


def test_dimensions_above_the_model_size(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=MODEL, input="x", dimensions=1537)
    assert caught.value.param == "dimensions"
    assert caught.value.code == "integer_above_max_value"
    assert "<= 1536" in caught.value.message


def test_deterministic_and_texts_sharing_words_are_closer(client: OpenAI) -> None:
    texts = [
        "the cat sat on the mat",
        "the cat sat on the rug",
        "a cat was sitting on a mat",
        "quarterly revenue grew by ten percent",
    ]
    first = [d.embedding for d in client.embeddings.create(model=MODEL, input=texts).data]
    again = [d.embedding for d in client.embeddings.create(model=MODEL, input=texts).data]
    assert first == again
    query = first[0]
    near, related, unrelated = (cosine(query, v) for v in first[1:])
    assert near > related > unrelated
    assert near > 0.5
    assert abs(unrelated) < 0.3
    ranked = sorted(range(1, 4), key=lambda i: -cosine(query, first[i]))
    assert ranked == [1, 2, 3]


def test_same_text_same_vector_whatever_the_batch(client: OpenAI) -> None:
    alone = client.embeddings.create(model=MODEL, input="pick me").data[0].embedding
    batch = client.embeddings.create(model=MODEL, input=["first", "pick me"]).data[1].embedding
    assert alone == batch


def test_token_array_inputs(client: OpenAI) -> None:
    text = "The quick brown fox jumped over the lazy dog"
    ids = tokens(text)
    as_text = client.embeddings.create(model=MODEL, input=text)
    as_tokens = client.embeddings.create(model=MODEL, input=ids)
    assert as_tokens.data[0].embedding == as_text.data[0].embedding
    assert as_tokens.usage.prompt_tokens == len(ids) == as_text.usage.prompt_tokens

    many = client.embeddings.create(model=MODEL, input=[ids, tokens("hello")])
    assert len(many.data) == 2
    assert many.data[0].embedding == as_text.data[0].embedding
    assert many.usage.prompt_tokens == len(ids) + 1


def test_token_arrays_count_their_length(http: httpx.Client) -> None:
    # A token array counts its own length, even when its text would encode differently.
    ids = [tokens("hel")[0], tokens("lo")[0]]
    response = post(http, {"input": [ids], "encoding_format": "float"})
    assert response.status_code == 200
    assert response.json()["usage"] == {"prompt_tokens": 2, "total_tokens": 2}


def test_usage_is_exact(client: OpenAI) -> None:
    texts = ["Grüße 👋 — 日本語のテキスト.", "one", "The food was delicious and the waiter..."]
    result = client.embeddings.create(model=MODEL, input=texts)
    expected = sum(len(tokens(t)) for t in texts)
    assert result.usage.prompt_tokens == result.usage.total_tokens == expected


def test_async_client(server: MockServer) -> None:
    async def run() -> list[float]:
        async with AsyncOpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0) as sdk:
            result = await sdk.embeddings.create(model=MODEL, input="async text")
            return result.data[0].embedding

    vector = asyncio.run(run())
    assert len(vector) == 1536 and norm(vector) == pytest.approx(1.0, abs=1e-6)


# --- errors --------------------------------------------------------------------------------

INVALID_INPUT = (
    "'$.input' is invalid. Please check the API reference: "
    "https://platform.openai.com/docs/api-reference."
)


def check_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert_valid("ErrorResponse", body)
    error: dict[str, Any] = body["error"]
    return error


@pytest.mark.parametrize("value", ["", [], [""], ["ok", ""], [[]]])
def test_empty_input(http: httpx.Client, value: Any) -> None:
    error = check_error(post(http, {"input": value}), 400)
    assert error["message"] == INVALID_INPUT
    assert error["type"] == "invalid_request_error"


def test_too_many_inputs(http: httpx.Client) -> None:
    error = check_error(post(http, {"input": ["x"] * 2049}), 400)
    assert error["param"] == "input" and error["code"] == "array_above_max_length"
    assert error["message"] == (
        "Invalid 'input': array too long. Expected an array with maximum length 2048, "
        "but got an array with length 2049 instead."
    )
    assert post(http, {"input": ["x"] * 2048}).status_code == 200


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": 5}, "input"),
        ({"input": {"text": "x"}}, "input"),
        ({"input": "x", "dimensions": "256"}, "dimensions"),
        ({"input": "x", "encoding_format": 3}, "encoding_format"),
    ],
)
def test_wrong_types(http: httpx.Client, body: dict[str, Any], param: str) -> None:
    error = check_error(post(http, body), 400)
    assert error["param"] == param
    assert error["code"] in ("invalid_type", "invalid_value")


def test_unknown_encoding_format(http: httpx.Client) -> None:
    error = check_error(post(http, {"input": "x", "encoding_format": "int8"}), 400)
    assert error["param"] == "encoding_format" and error["code"] == "invalid_value"


def test_missing_fields(http: httpx.Client) -> None:
    error = check_error(http.post("/embeddings", json={"model": MODEL}), 400)
    assert error["param"] == "input" and error["code"] == "missing_required_parameter"
    error = check_error(http.post("/embeddings", json={"input": "x"}), 400)
    assert error["param"] == "model"


def test_invalid_token_id(http: httpx.Client) -> None:
    error = check_error(post(http, {"input": [[1, 2, 99999999]]}), 400)
    assert error["param"] == "input[0]"
    assert "99999999" in error["message"]


def test_input_over_the_context_window(http: httpx.Client) -> None:
    # A flat token array is one input: longer than 2048 is fine, up to the model's window.
    assert post(http, {"input": [1] * 8191}).status_code == 200
    error = check_error(post(http, {"input": [1] * 8192}), 400)
    assert error["code"] == "context_length_exceeded"
    assert error["message"].startswith("This model's maximum context length is 8191 tokens")


def test_invalid_json(http: httpx.Client) -> None:
    response = http.post(
        "/embeddings", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert check_error(response, 400)["message"].startswith("We could not parse the JSON body")


@pytest.fixture(scope="module")
def strict_server() -> Iterator[MockServer]:
    with MockServer(config_text="responses: {}", strict_models=True) as running:
        yield running


def test_strict_models(strict_server: MockServer) -> None:
    with OpenAI(base_url=strict_server.openai_url, api_key="x", max_retries=0) as sdk:
        assert len(sdk.embeddings.create(model=MODEL, input="x").data) == 1
        with pytest.raises(openai.NotFoundError) as caught:
            sdk.embeddings.create(model="my-own-embedder", input="x")
    assert caught.value.code == "model_not_found"
    assert_valid("ErrorResponse", caught.value.response.json())
