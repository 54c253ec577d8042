"""Ollama embeddings through the official ``ollama`` client: ``/api/embed`` (one text or
a list, ``dimensions``, ``truncate``) and the legacy ``/api/embeddings``. Vectors come from
mockllm's deterministic embedding function: unit length, and texts sharing words are
closer than texts sharing none."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import ollama
import pytest
from ollama import EmbedResponse

from mockllm.core.embeddings import embed
from mockllm.core.tokens import Tokenizer
from mockllm.testing import MockServer

ENCODING = Tokenizer().encoding("o200k_base")


def tokens(text: str) -> int:
    return len(ENCODING.encode_ordinary(text))


def norm(vector: Sequence[float]) -> float:
    return math.sqrt(sum(v * v for v in vector))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (norm(a) * norm(b))


@pytest.fixture(scope="module")
def client(server: MockServer) -> Iterator[ollama.Client]:
    with ollama.Client(host=server.url) as sdk:
        yield sdk


def test_embed_one_text(client: ollama.Client) -> None:
    response = client.embed(model="nomic-embed-text", input="The cat sat on the mat.")
    assert isinstance(response, EmbedResponse)
    assert response.model == "nomic-embed-text"
    assert len(response.embeddings) == 1
    vector = response.embeddings[0]
    assert len(vector) == 768
    assert math.isclose(norm(vector), 1.0, rel_tol=1e-9)
    assert list(vector) == embed("The cat sat on the mat.", 768)
    assert response.prompt_eval_count == tokens("The cat sat on the mat.")
    assert response.total_duration is not None and response.load_duration is not None
    assert response.total_duration > response.load_duration > 0


def test_embed_list_similarity_ordering(client: ollama.Client) -> None:
    texts = ["the cat sat on the mat", "a cat sat on a mat", "quarterly stock market prices"]
    response = client.embed(model="nomic-embed-text:latest", input=texts)
    assert len(response.embeddings) == 3
    cat, kitten, stocks = response.embeddings
    assert all(math.isclose(norm(v), 1.0, rel_tol=1e-9) for v in response.embeddings)
    assert cosine(cat, kitten) > 0.5
    assert cosine(cat, kitten) > cosine(cat, stocks)
    assert cosine(kitten, stocks) < 0.3
    assert response.prompt_eval_count == sum(tokens(t) for t in texts)
    again = client.embed(model="nomic-embed-text", input=texts[0])
    assert list(again.embeddings[0]) == list(cat)


@pytest.mark.parametrize(
    ("model", "size"),
    [
        ("mxbai-embed-large", 1024),
        ("all-minilm", 384),
        ("llama3.2", 3072),
        ("some-unknown-embedder", 768),
    ],
)
def test_vector_size_follows_the_model(client: ollama.Client, model: str, size: int) -> None:
    response = client.embed(model=model, input="hello world")
    assert len(response.embeddings[0]) == size
    assert math.isclose(norm(response.embeddings[0]), 1.0, rel_tol=1e-9)


def test_dimensions_truncate_and_renormalize(client: ollama.Client) -> None:
    full = client.embed(model="nomic-embed-text", input="hello world").embeddings[0]
    short = client.embed(model="nomic-embed-text", input="hello world", dimensions=256)
    vector = short.embeddings[0]
    assert len(vector) == 256
    assert math.isclose(norm(vector), 1.0, rel_tol=1e-9)
    scale = norm(full[:256])
    assert all(
        math.isclose(v, f / scale, abs_tol=1e-12) for v, f in zip(vector, full, strict=False)
    )


def test_empty_input(client: ollama.Client) -> None:
    assert client.embed(model="nomic-embed-text", input=[]).embeddings == []
    assert client.embed(model="nomic-embed-text", input="").embeddings == []


def test_long_input_is_truncated_unless_told_not_to(client: ollama.Client) -> None:
    text = "word " * 3000  # 3000 tokens; nomic-embed-text's context is 2048
    response = client.embed(model="nomic-embed-text", input=text)
    assert response.prompt_eval_count == 2048
    with pytest.raises(ollama.ResponseError) as info:
        client.embed(model="nomic-embed-text", input=text, truncate=False)
    assert info.value.status_code == 400
    assert info.value.error == "the input length exceeds the context length"


def test_legacy_embeddings(client: ollama.Client) -> None:
    response = client.embeddings(model="nomic-embed-text", prompt="The cat sat on the mat.")
    assert len(response.embedding) == 768
    assert list(response.embedding) == embed("The cat sat on the mat.", 768)
    assert client.embeddings(model="nomic-embed-text", prompt="").embedding == []
