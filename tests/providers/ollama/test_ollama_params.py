"""The Ollama dialect's pure helpers, without a server: Go durations and options as
Ollama's Go server parses them, ``format``, timestamps, model names, and the ``context``
token codec of ``/api/generate``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mockllm.core.errors import MockError
from mockllm.core.models import ModelInfo
from mockllm.core.tokens import Tokenizer
from mockllm.providers.ollama.context import ContextCodec
from mockllm.providers.ollama.encode import Counts, timestamp
from mockllm.providers.ollama.models import MODELS, canonical_name, full_name, local_model
from mockllm.providers.ollama.params import (
    FOREVER_NS,
    Options,
    parse_duration,
    parse_format,
    parse_keep_alive,
    parse_options,
)


@pytest.mark.parametrize(
    ("text", "nanos"),
    [
        ("0", 0),
        ("5m", 300 * 10**9),
        ("1h30m", 5400 * 10**9),
        ("1.5s", 1_500_000_000),
        (".5s", 500_000_000),
        ("250ms", 250_000_000),
        ("-1s", -(10**9)),
        ("+2h", 7200 * 10**9),
    ],
)
def test_go_durations(text: str, nanos: int) -> None:
    assert parse_duration(text) == nanos


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5", 'time: missing unit in duration "5"'),
        ("", 'time: invalid duration ""'),
        ("5 m", 'time: invalid duration "5 m"'),
        ("m5", 'time: invalid duration "m5"'),
    ],
)
def test_bad_go_durations(text: str, message: str) -> None:
    with pytest.raises(MockError) as info:
        parse_duration(text)
    assert info.value.message == message and info.value.status == 400


def test_keep_alive() -> None:
    assert parse_keep_alive(None) is None
    assert parse_keep_alive(30) == 30 * 10**9
    assert parse_keep_alive(0.5) == 500_000_000
    assert parse_keep_alive("-1m") == FOREVER_NS
    assert parse_keep_alive(-1) == FOREVER_NS
    with pytest.raises(MockError, match="Unsupported type: 'bool'"):
        parse_keep_alive(True)


def test_options() -> None:
    assert parse_options(None) == Options()
    parsed = parse_options(
        {"num_predict": 12.9, "stop": ["\n"], "num_ctx": 8192, "temperature": 0, "foo": 1}
    )
    assert parsed == Options(num_predict=12, stop=("\n",), num_ctx=8192)
    assert parse_options({"num_predict": -1, "seed": None}).num_predict is None
    with pytest.raises(MockError, match='option "temperature" must be of type float32'):
        parse_options({"temperature": "hot"})
    with pytest.raises(MockError, match='option "use_mmap" must be of type boolean'):
        parse_options({"use_mmap": 1})
    with pytest.raises(MockError, match='option "stop" must be of an array of strings'):
        parse_options({"stop": [1]})
    with pytest.raises(MockError, match='option "seed" must be of type integer'):
        parse_options({"seed": True})


def test_format() -> None:
    assert parse_format(None) is None and parse_format("") is None
    assert parse_format("json") == {"type": "json_object"}
    schema = {"title": "Point", "type": "object"}
    assert parse_format(schema) == {
        "type": "json_schema",
        "json_schema": {"name": "Point", "schema": schema},
    }
    with pytest.raises(MockError, match="invalid format: "):
        parse_format(3)


def test_timestamps_trim_trailing_zeros() -> None:
    assert timestamp(1_767_225_600 * 10**9) == "2026-01-01T00:00:00Z"
    assert timestamp(1_767_225_600 * 10**9 + 120_000_000) == "2026-01-01T00:00:00.12Z"
    assert timestamp(1_767_225_600 * 10**9 + 123_456_789) == "2026-01-01T00:00:00.123456789Z"


def test_durations_follow_token_counts() -> None:
    small, large = Counts(10, 5).metrics(), Counts(10, 50).metrics()
    assert small["eval_duration"] * 10 == large["eval_duration"]
    assert large["total_duration"] > large["eval_duration"] + large["prompt_eval_duration"]
    assert Counts(10, 5).metrics() == small  # deterministic


def test_model_names() -> None:
    assert canonical_name("llama3.2") == "llama3.2:latest"
    assert canonical_name("Library/Llama3.2:3B") == "llama3.2:3b"
    assert canonical_name("registry.ollama.ai/library/qwen3") == "qwen3:latest"
    assert canonical_name("me/custom") == "me/custom:latest"
    assert full_name("gemma3") == "registry.ollama.ai/library/gemma3:latest"
    assert full_name("me/custom:1b") == "registry.ollama.ai/me/custom:1b"
    ids = [m.id for m in MODELS]
    assert len(ids) == len(set(ids)) and all(":" in i for i in ids)
    assert all(m.provider == "ollama" and m.tokenizer == "o200k_base" for m in MODELS)


def test_details_of_models_outside_the_catalogue() -> None:
    info = ModelInfo(id="mistral-nemo:12b", provider="ollama", context_window=1024)
    local = local_model(info)
    assert local.family == "mistral" and local.context_length == 1024
    assert local.capabilities == ("completion", "insert", "tools")
    embedder = ModelInfo(id="e5", provider="ollama", capabilities=frozenset({"embeddings"}))
    assert local_model(embedder).capabilities == ("embedding",)


def test_context_codec_round_trip() -> None:
    codec = ContextCodec(Tokenizer(), "o200k_base")
    first = codec.encode([], "My name is Ada", "Nice to meet you.")
    both = codec.encode(first, "Who am I?", "Ada. ✓")
    turns = [(m.role, m.text) for m in codec.decode(both)]
    assert turns == [
        ("user", "My name is Ada"),
        ("assistant", "Nice to meet you."),
        ("user", "Who am I?"),
        ("assistant", "Ada. ✓"),
    ]
    assert [(m.role, m.text) for m in codec.decode([*first, 10**9, 13225])] == [
        ("user", "My name is Ada"),
        ("assistant", "Nice to meet you."),
        ("user", "Hello"),
    ]


def test_docs_examples_are_valid_configs() -> None:
    from mockllm.rules.loader import parse_config

    doc = Path(__file__).parents[3] / "docs" / "ollama.md"
    blocks = re.findall(r"```yaml\n(.*?)```", doc.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 2
    for block in blocks:
        assert not parse_config(block, doc.name).warnings
