"""Token counting: exact OpenAI encodings, offline, and the model-to-encoding choice."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mockllm.core.models import ModelRegistry
from mockllm.core.tokens import ENCODINGS, Tokenizer
from mockllm.core.types import Message, TextPart
from mockllm.engine import Engine
from mockllm.providers.anthropic.models import MODELS as ANTHROPIC_MODELS
from mockllm.providers.openai.models import MODELS as OPENAI_MODELS
from mockllm.providers.openai.models import guess_tokenizer
from mockllm.rules.store import ConfigStore

TOKENIZER = Tokenizer()

UNICODE_TEXTS = [
    "hello world",
    "Grüße 👋 — 日本語のテキスト.",
    "🇫🇷👨\u200d👩\u200d👧 families and flags",
    "emoji only: 😀😃😄😁🤖",
    "mixed\nlines\tand  spaces  ",
    "Ünïcödé ñ ç ø å ß 🎉",
    "<|endoftext|> is plain text here",
    "",
]


def test_encodings_offered() -> None:
    assert set(ENCODINGS) == {"o200k_base", "cl100k_base"}


@pytest.mark.parametrize(
    ("encoding", "ids"),
    [("o200k_base", [24912, 2375]), ("cl100k_base", [15339, 1917])],
)
def test_hello_world_token_ids(encoding: str, ids: list[int]) -> None:
    assert TOKENIZER.encode("hello world", encoding) == ids
    assert TOKENIZER.count("hello world", encoding) == 2


def test_counts_differ_between_encodings_where_vocabularies_differ() -> None:
    text = "日本語のテキスト"
    assert TOKENIZER.count(text, "o200k_base") != TOKENIZER.count(text, "cl100k_base")


def test_special_tokens_are_counted_as_plain_text() -> None:
    assert TOKENIZER.count("<|endoftext|>", "cl100k_base") > 1


def test_empty_text_counts_zero() -> None:
    assert TOKENIZER.count("", "o200k_base") == 0


def test_unknown_encoding_falls_back_to_o200k() -> None:
    assert TOKENIZER.encoding("p50k_base") is TOKENIZER.encoding("o200k_base")
    assert TOKENIZER.count("hello world", "nonsense") == 2


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("text", UNICODE_TEXTS)
def test_pieces_join_back_to_the_text(text: str, encoding: str) -> None:
    tokens = TOKENIZER.encode(text, encoding)
    pieces = TOKENIZER.pieces(tokens, encoding)
    assert "".join(pieces) == text
    assert all(pieces), "no empty pieces"
    assert "\ufffd" not in "".join(pieces)
    assert len(pieces) <= len(tokens)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_pieces_of_a_truncated_character(encoding: str) -> None:
    tokens = TOKENIZER.encode("ok 👋", encoding)
    assert len(TOKENIZER.pieces(tokens, encoding)) < len(tokens)  # the emoji spans tokens
    cut = tokens[:-1]
    assert TOKENIZER.pieces(cut, encoding)[-1].endswith("\ufffd")
    whole_characters = "".join(TOKENIZER.pieces(cut, encoding, partial=False))
    assert "\ufffd" not in whole_characters
    assert "ok 👋".startswith(whole_characters)
    assert whole_characters.startswith("ok")


def test_count_messages_openai_accounting() -> None:
    # 3 per message + "user" (1) + "hello world" (2) + 3 priming the reply.
    messages = [Message("user", (TextPart("hello world"),))]
    assert TOKENIZER.count_messages(messages, (), "o200k_base") == 9


# --- which encoding a model uses ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4", "cl100k_base"),
        ("gpt-4-0613", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-4.1", "o200k_base"),
        ("o3", "o200k_base"),
        ("totally-unknown-model", "o200k_base"),
        ("my-finetune", "o200k_base"),
    ],
)
def test_model_to_tokenizer(tmp_path: Path, model: str, encoding: str) -> None:
    store = ConfigStore(None, OPENAI_MODELS + ANTHROPIC_MODELS)
    engine = Engine(store, TOKENIZER)
    assert engine.resolve_model("openai", model).tokenizer == encoding


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4", "cl100k_base"),
        ("gpt-4-32k-0314", "cl100k_base"),
        ("gpt-3.5-turbo-16k", "cl100k_base"),
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-2099-01-01", "o200k_base"),
        ("unknown", "o200k_base"),
        ("text-davinci-003", "o200k_base"),  # p50k in tiktoken: not offered, so o200k
    ],
)
def test_guess_tokenizer_for_names_outside_the_catalogue(model: str, encoding: str) -> None:
    assert guess_tokenizer(model) == encoding


def test_unknown_anthropic_model_counts_with_o200k() -> None:
    store = ConfigStore(None, OPENAI_MODELS + ANTHROPIC_MODELS)
    engine = Engine(store, TOKENIZER)
    assert engine.resolve_model("anthropic", "claude-unknown-9").tokenizer == "o200k_base"


def test_catalogue_only_names_offered_encodings() -> None:
    registry = ModelRegistry.build(OPENAI_MODELS + ANTHROPIC_MODELS)
    assert {m.tokenizer for m in registry.models} <= set(ENCODINGS)


# --- offline -----------------------------------------------------------------------------------

OFFLINE_CHECK = textwrap.dedent(
    """
    from mockllm.core.tokens import Tokenizer
    tokenizer = Tokenizer()
    assert tokenizer.encode("hello world", "o200k_base") == [24912, 2375]
    assert tokenizer.encode("hello world", "cl100k_base") == [15339, 1917]
    print(tokenizer.count("Grüße 👋", "o200k_base"), tokenizer.count("Grüße 👋", "cl100k_base"))
    """
)


def _offline_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in ("NO_PROXY", "ALL_PROXY")}
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        env[name] = "http://127.0.0.1:9"  # nothing listens there: any fetch fails
    env.pop("DATA_GYM_CACHE_DIR", None)
    env.update(extra)
    return env


def _run_offline(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", OFFLINE_CHECK],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_vocabularies_load_without_network_into_a_fresh_cache(tmp_path: Path) -> None:
    cache = tmp_path / "tiktoken-cache"
    done = _run_offline(_offline_env(TIKTOKEN_CACHE_DIR=str(cache)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        str(TOKENIZER.count("Grüße 👋", "o200k_base")),
        str(TOKENIZER.count("Grüße 👋", "cl100k_base")),
    ]
    assert len(list(cache.iterdir())) == 2  # both vocabularies seeded into the cache
    # A second run finds them in place.
    again = _run_offline(_offline_env(TIKTOKEN_CACHE_DIR=str(cache)))
    assert again.returncode == 0, again.stderr


def test_corrupt_cached_vocabulary_is_replaced_offline(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert _run_offline(_offline_env(TIKTOKEN_CACHE_DIR=str(cache))).returncode == 0
    for path in cache.iterdir():
        path.write_bytes(b"garbage")
    done = _run_offline(_offline_env(TIKTOKEN_CACHE_DIR=str(cache)))
    assert done.returncode == 0, done.stderr


def test_vocabularies_load_without_network_when_tiktoken_caching_is_disabled() -> None:
    """BUG: ``TIKTOKEN_CACHE_DIR=""`` (tiktoken's documented way to disable its cache) makes
    tiktoken fetch the vocabulary from the network: mockllm seeds the default cache
    directory instead (``_tiktoken_cache_dir`` treats an empty value as unset, while
    tiktoken tests ``"TIKTOKEN_CACHE_DIR" in os.environ``)."""
    done = _run_offline(_offline_env(TIKTOKEN_CACHE_DIR=""))
    assert done.returncode == 0, done.stderr[-2000:]
