"""Ollama model management through the official ``ollama`` client: ``list`` (``/api/tags``),
``show`` (``model_info`` must be present, P29), ``ps`` with ``keep_alive``, ``pull``, the
version, and the ``GET /`` / ``HEAD /`` probe."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import ollama
import pytest

from mockllm.testing import MockServer

CONFIG = """
models:
  - id: my-finetune:latest
    provider: ollama
    aliases: [my-finetune]
    context_window: 8192
    capabilities: [streaming, tools]
"""
CATALOGUE = (
    "llama3.2:latest",
    "llama3.1:8b",
    "qwen2.5:latest",
    "qwen3:latest",
    "mistral:latest",
    "gemma3:latest",
    "phi4:latest",
    "nomic-embed-text:latest",
)


@pytest.fixture(scope="module")
def client(server: MockServer) -> Iterator[ollama.Client]:
    with ollama.Client(host=server.url) as sdk:
        yield sdk


@pytest.fixture
def fresh() -> Iterator[ollama.Client]:
    """A client on a server of its own: nothing loaded yet, plus a model from the config."""
    with MockServer(config_text=CONFIG) as running, ollama.Client(host=running.url) as sdk:
        yield sdk


def test_probe(server: MockServer) -> None:
    response = httpx.get(server.url + "/")
    assert response.status_code == 200
    assert response.text == "Ollama is running"
    assert response.headers["content-type"].startswith("text/plain")
    head = httpx.head(server.url + "/")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == "17"


def test_version(server: MockServer) -> None:
    response = httpx.get(server.url + "/api/version")
    assert response.status_code == 200
    assert re.fullmatch(r"0\.\d+\.\d+", response.json()["version"])


def test_list(client: ollama.Client) -> None:
    models = client.list().models
    names = [m.model for m in models]
    for name in CATALOGUE:
        assert name in names
    for model in models:
        assert model.modified_at is not None and model.modified_at.tzinfo is not None
        assert model.digest is not None and re.fullmatch(r"[0-9a-f]{64}", model.digest)
        assert model.size is not None and model.size > 0
        assert model.details is not None and model.details.format == "gguf"
        assert model.details.family and model.details.parameter_size
        assert model.details.quantization_level


def test_list_includes_config_models(fresh: ollama.Client) -> None:
    assert "my-finetune:latest" in [m.model for m in fresh.list().models]
    shown = fresh.show("my-finetune")
    assert shown.capabilities is not None and "tools" in shown.capabilities
    assert shown.modelinfo is not None
    assert shown.modelinfo["my.context_length"] == 8192


@pytest.mark.parametrize("name", CATALOGUE)
def test_show(client: ollama.Client, name: str) -> None:
    shown = client.show(name)
    assert shown.modelinfo is not None
    arch = shown.modelinfo["general.architecture"]
    assert shown.details is not None and shown.details.family == arch
    assert isinstance(shown.modelinfo[f"{arch}.context_length"], int)
    assert isinstance(shown.modelinfo[f"{arch}.embedding_length"], int)
    assert shown.modified_at is not None and shown.modified_at.year >= 2024
    assert shown.template and shown.modelfile and shown.modelfile.startswith("# Modelfile")
    assert shown.capabilities


def test_show_capabilities(client: ollama.Client) -> None:
    assert client.show("llama3.2").capabilities == ["completion", "tools"]
    assert client.show("nomic-embed-text").capabilities == ["embedding"]
    assert client.show("gemma3").capabilities == ["completion", "vision"]
    assert client.show("qwen3").capabilities == ["completion", "tools", "thinking"]
    parameters = client.show("llama3.2").parameters
    assert parameters is not None and '"<|eot_id|>"' in parameters


def test_ps_tracks_keep_alive(fresh: ollama.Client) -> None:
    assert fresh.ps().models == []
    now = datetime.now(UTC)
    fresh.chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}])
    fresh.embed(model="nomic-embed-text", input="hi", keep_alive="10m")
    fresh.generate(model="qwen3", prompt="hi", keep_alive=-1)
    running = {m.model: m for m in fresh.ps().models}
    assert list(running) == ["qwen3:latest", "nomic-embed-text:latest", "llama3.2:latest"]
    llama = running["llama3.2:latest"]
    assert llama.expires_at is not None
    assert timedelta(minutes=4) < llama.expires_at - now < timedelta(minutes=6)
    embedder = running["nomic-embed-text:latest"].expires_at
    assert embedder is not None and timedelta(minutes=9) < embedder - now < timedelta(minutes=11)
    forever = running["qwen3:latest"].expires_at
    assert forever is not None and forever.year > 2200
    assert llama.size_vram == llama.size and llama.context_length == 4096
    assert llama.details is not None and llama.details.family == "llama"
    fresh.chat(model="llama3.2", messages=[{"role": "user", "content": "bye"}], keep_alive=0)
    assert "llama3.2:latest" not in [m.model for m in fresh.ps().models]


def test_pull(client: ollama.Client) -> None:
    assert client.pull("llama3.2").status == "success"
    statuses = [p.status for p in client.pull("some/other-model:7b", stream=True)]
    assert statuses[0] == "pulling manifest" and statuses[-1] == "success"
