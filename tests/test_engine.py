"""The engine: model resolution, limits (max_tokens, stop, context window), n, lag."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from mockllm.core.errors import MockError
from mockllm.core.tokens import Tokenizer
from mockllm.core.traits import TokenCosts, Traits
from mockllm.core.types import ChatRequest, Message, TextPart
from mockllm.engine import Engine
from mockllm.providers.anthropic.models import MODELS as ANTHROPIC_MODELS
from mockllm.providers.openai.models import MODELS as OPENAI_MODELS
from mockllm.rules.store import ConfigStore
from mockllm.testing import MockServer

TOKENIZER = Tokenizer()
BUILTINS = OPENAI_MODELS + ANTHROPIC_MODELS

LONG = "One two three four five six seven eight nine ten. STOP here. Eleven twelve."
CONFIG = f"""\
rules:
  - name: long
    match: {{prompt: long answer}}
    reply: "{LONG}"
  - name: emoji
    match: {{prompt: emoji}}
    reply: "Hi 👋👋👋 日本語"
  - name: empty
    match: {{prompt: empty}}
    reply: ""
defaults:
  unknown_response: "I don't know."
"""


def make_engine(tmp_path: Path, text: str = CONFIG, *, strict_models: bool | None = None) -> Engine:
    path = tmp_path / "config.yml"
    path.write_text(text, encoding="utf-8")
    store = ConfigStore(path, BUILTINS, strict_models=strict_models)
    return Engine(
        store, TOKENIZER, {"anthropic": Traits(tokens=TokenCosts(reply_priming=0, system=4))}
    )


def chat(prompt: str, model: str = "gpt-4o", provider: str = "openai", **kw: Any) -> ChatRequest:
    return ChatRequest(
        provider=provider,
        endpoint="chat.completions",
        model=model,
        messages=(Message("user", (TextPart(prompt),)),),
        **kw,
    )


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return make_engine(tmp_path)


def test_plain_answer(engine: Engine) -> None:
    completion = engine.complete(chat("long answer"))
    (choice,) = completion.choices
    assert choice.text == LONG
    assert choice.finish_reason == "stop"
    assert choice.stop_sequence is None
    assert "".join(choice.chunks) == LONG
    assert choice.completion_tokens == TOKENIZER.count(LONG, "o200k_base")
    assert completion.usage.completion_tokens == choice.completion_tokens
    assert completion.rule == "long"
    assert completion.model == "gpt-4o"
    assert completion.delay_per_char == 0


def test_prompt_tokens_follow_openai_accounting(engine: Engine) -> None:
    usage = engine.complete(chat("hello world")).usage
    assert usage.prompt_tokens == 9
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


# --- max_tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [0, 1, 3, 7])
def test_max_tokens_truncates(engine: Engine, limit: int) -> None:
    completion = engine.complete(chat("long answer", max_tokens=limit))
    (choice,) = completion.choices
    assert choice.finish_reason == "length"
    assert choice.stop_sequence is None
    assert choice.completion_tokens == limit
    assert completion.usage.completion_tokens == limit
    assert LONG.startswith(choice.text)
    assert "".join(choice.chunks) == choice.text
    assert len(choice.chunks) == limit


def test_max_tokens_text_is_exactly_the_first_tokens(engine: Engine) -> None:
    tokens = TOKENIZER.encode(LONG, "o200k_base")
    (choice,) = engine.complete(chat("long answer", max_tokens=4)).choices
    assert choice.text == "".join(TOKENIZER.pieces(tokens[:4], "o200k_base"))


def test_max_tokens_at_or_above_length_does_not_truncate(engine: Engine) -> None:
    count = TOKENIZER.count(LONG, "o200k_base")
    for limit in (count, count + 1, 10_000):
        (choice,) = engine.complete(chat("long answer", max_tokens=limit)).choices
        assert (choice.text, choice.finish_reason) == (LONG, "stop")


def test_max_tokens_cutting_a_character_keeps_whole_characters(engine: Engine) -> None:
    full = "Hi 👋👋👋 日本語"
    tokens = TOKENIZER.encode(full, "o200k_base")
    for limit in range(1, len(tokens)):
        (choice,) = engine.complete(chat("emoji", max_tokens=limit)).choices
        assert choice.finish_reason == "length"
        assert choice.completion_tokens == limit
        assert full.startswith(choice.text), (limit, choice.text)
        assert "\ufffd" not in choice.text


def test_default_limit_is_the_models_max_output_tokens(tmp_path: Path) -> None:
    text = CONFIG + "models:\n  - id: gpt-4o\n    max_output_tokens: 2\n"
    (choice,) = make_engine(tmp_path, text).complete(chat("long answer")).choices
    assert (choice.finish_reason, choice.completion_tokens) == ("length", 2)


# --- stop sequences -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stop", "text", "sequence"),
    [
        (("STOP",), "One two three four five six seven eight nine ten. ", "STOP"),
        (("STOP", "three"), "One two ", "three"),  # earliest in the text wins...
        (("three", "STOP"), "One two ", "three"),  # ...whatever the order given
        (("Eleven", "four", "nine"), "One two three ", "four"),
        (("One",), "", "One"),
        (("absent", "ten."), "One two three four five six seven eight nine ", "ten."),
    ],
)
def test_stop_sequences(engine: Engine, stop: tuple[str, ...], text: str, sequence: str) -> None:
    completion = engine.complete(chat("long answer", stop=stop))
    (choice,) = completion.choices
    assert choice.text == text
    assert choice.finish_reason == "stop_sequence"
    assert choice.stop_sequence == sequence
    assert "".join(choice.chunks) == text
    assert choice.completion_tokens == TOKENIZER.count(text, "o200k_base")


def test_stop_sequence_not_found(engine: Engine) -> None:
    (choice,) = engine.complete(chat("long answer", stop=("absent", ""))).choices
    assert (choice.text, choice.finish_reason, choice.stop_sequence) == (LONG, "stop", None)


def test_max_tokens_after_stop_sequence(engine: Engine) -> None:
    (choice,) = engine.complete(chat("long answer", stop=("STOP",), max_tokens=2)).choices
    assert (choice.finish_reason, choice.stop_sequence, choice.completion_tokens) == (
        "length",
        None,
        2,
    )
    (choice,) = engine.complete(chat("long answer", stop=("three",), max_tokens=50)).choices
    assert (choice.text, choice.finish_reason) == ("One two ", "stop_sequence")


# --- n choices ----------------------------------------------------------------------------------


def test_n_choices(engine: Engine) -> None:
    completion = engine.complete(chat("long answer", n=3, max_tokens=5))
    assert [c.index for c in completion.choices] == [0, 1, 2]
    assert {c.text for c in completion.choices} == {completion.choices[0].text}
    assert all(c.finish_reason == "length" for c in completion.choices)
    assert completion.usage.completion_tokens == 15


def test_empty_answer(engine: Engine) -> None:
    (choice,) = engine.complete(chat("empty")).choices
    assert (choice.text, choice.chunks, choice.completion_tokens) == ("", (), 0)


# --- context window -----------------------------------------------------------------------------

SMALL_WINDOW = CONFIG + "models:\n  - id: gpt-4o\n    context_window: 30\n"


def test_context_window_exceeded(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, SMALL_WINDOW)
    with pytest.raises(MockError) as info:
        engine.complete(chat("word " * 40))
    error = info.value
    assert error.code == "context_length_exceeded"
    assert error.kind == "invalid_request"
    assert error.status == 400
    assert error.param == "messages"
    assert "maximum context length is 30 tokens" in error.message


def test_context_window_counts_the_whole_conversation(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, SMALL_WINDOW)
    request = chat("hi")
    assert engine.prompt_tokens(request, engine.resolve_model("openai", "gpt-4o")) <= 30
    engine.complete(request)  # fits
    history = tuple(Message("user", (TextPart("ten words " * 5),)) for _ in range(3))
    big = ChatRequest("openai", "chat.completions", "gpt-4o", history)
    with pytest.raises(MockError) as info:
        engine.complete(big)
    assert info.value.code == "context_length_exceeded"


def test_context_window_override_applies_to_aliases(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, SMALL_WINDOW)
    with pytest.raises(MockError):
        engine.complete(chat("word " * 40, model="gpt-4o-2024-08-06"))
    engine.complete(chat("word " * 40, model="gpt-4o-mini"))  # other models unaffected


# --- strict models ------------------------------------------------------------------------------

STRICT = CONFIG + "settings:\n  strict_models: true\n"


def test_strict_models_rejects_unknown_models(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, STRICT)
    for provider, model in (("openai", "gpt-unknown"), ("anthropic", "claude-unknown")):
        with pytest.raises(MockError) as info:
            engine.complete(chat("hi", model=model, provider=provider))
        error = info.value
        assert (error.kind, error.status, error.code, error.param) == (
            "not_found",
            404,
            "model_not_found",
            "model",
        )
        assert model in error.message


@pytest.mark.parametrize(
    ("provider", "name", "model_id"),
    [
        ("openai", "gpt-4o", "gpt-4o"),
        ("openai", "gpt-4o-2024-08-06", "gpt-4o"),
        ("openai", "gpt-4-0613", "gpt-4"),
        ("anthropic", "claude-sonnet-5-5", "claude-sonnet-5-5"),
    ],
)
def test_strict_models_resolves_ids_and_aliases(
    tmp_path: Path, provider: str, name: str, model_id: str
) -> None:
    engine = make_engine(tmp_path, STRICT)
    assert engine.resolve_model(provider, name).id == model_id
    completion = engine.complete(chat("long answer", model=name, provider=provider))
    assert completion.model == name  # echoed as requested
    assert completion.choices[0].text == LONG


def test_strict_models_is_per_provider(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, STRICT)
    with pytest.raises(MockError):
        engine.resolve_model("anthropic", "gpt-4o")


def test_lenient_models_accepts_anything(engine: Engine) -> None:
    info = engine.resolve_model("openai", "my-own-model")
    assert (info.id, info.provider) == ("my-own-model", "openai")
    assert engine.complete(chat("long answer", model="my-own-model")).choices[0].text == LONG


def test_strict_models_setting_overrides_the_file(tmp_path: Path) -> None:
    assert make_engine(tmp_path, STRICT, strict_models=False).resolve_model("openai", "x").id == "x"
    with pytest.raises(MockError):
        make_engine(tmp_path, CONFIG, strict_models=True).resolve_model("openai", "x")


def test_strict_models_accepts_models_added_in_the_config(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, STRICT + "models:\n  - id: my-model\n    aliases: [mine]\n")
    assert engine.resolve_model("openai", "mine").id == "my-model"


# --- models: overrides --------------------------------------------------------------------------

MODELS_CONFIG = """\
models:
  - id: gpt-4o
    context_window: 1234
  - id: my-model
    context_window: 4096
    max_output_tokens: 100
    tokenizer: cl100k_base
    capabilities: [streaming]
    owned_by: me
  - id: my-claude
    provider: anthropic
    display_name: My Claude
"""


def test_override_merges_into_builtin_entry(tmp_path: Path) -> None:
    registry = make_engine(tmp_path, MODELS_CONFIG).store.current.models
    builtin = next(m for m in OPENAI_MODELS if m.id == "gpt-4o")
    merged = registry.get("openai", "gpt-4o")
    assert merged is not None
    assert merged.context_window == 1234
    assert (merged.max_output_tokens, merged.aliases, merged.tokenizer, merged.capabilities) == (
        builtin.max_output_tokens,
        builtin.aliases,
        builtin.tokenizer,
        builtin.capabilities,
    )
    assert registry.get("openai", "gpt-4o-2024-08-06") is merged
    ids = [m.id for m in registry.for_provider("openai")]
    assert ids.count("gpt-4o") == 1


def test_override_adds_new_models(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, MODELS_CONFIG)
    registry = engine.store.current.models
    mine = registry.get("openai", "my-model")
    assert mine is not None
    assert (mine.context_window, mine.max_output_tokens, mine.tokenizer, mine.owned_by) == (
        4096,
        100,
        "cl100k_base",
        "me",
    )
    assert mine.capabilities == frozenset({"streaming"})
    claude = registry.get("anthropic", "my-claude")
    assert claude is not None and claude.display_name == "My Claude"
    assert registry.get("openai", "my-claude") is None
    assert engine.resolve_model("openai", "my-model").tokenizer == "cl100k_base"
    assert len(OPENAI_MODELS) + 1 == len(registry.for_provider("openai"))


def test_models_section_through_a_real_server() -> None:
    with MockServer(config_text=MODELS_CONFIG) as server, httpx.Client(base_url=server.url) as c:
        listing = c.get("/v1/models").json()
        ids = [m["id"] for m in listing["data"]]
        assert "my-model" in ids and "gpt-4o" in ids
        assert ids.count("gpt-4o") == 1
        assert "my-claude" not in ids
        mine = c.get("/v1/models/my-model").json()
        assert (mine["id"], mine["object"], mine["owned_by"]) == ("my-model", "model", "me")
        anthropic = {"anthropic-version": "2023-06-01"}
        page = c.get("/v1/models", params={"limit": 1000}, headers=anthropic).json()
        assert "my-claude" in [m["id"] for m in page["data"]]
        claude = c.get("/v1/models/my-claude", headers=anthropic).json()
        assert (claude["id"], claude["display_name"]) == ("my-claude", "My Claude")


# --- lag ---------------------------------------------------------------------------------------


def test_lag_settings(tmp_path: Path) -> None:
    text = CONFIG + "settings:\n  lag_enabled: true\n  lag_factor: 20\n"
    completion = make_engine(tmp_path, text).complete(chat("long answer"))
    assert completion.delay_per_char == pytest.approx(1 / 200)
    assert completion.delay_total == pytest.approx(len(LONG) / 200)


def test_lag_factor_without_lag_enabled_is_no_delay(tmp_path: Path) -> None:
    text = CONFIG + "settings:\n  lag_factor: 20\n"
    assert make_engine(tmp_path, text).complete(chat("long answer")).delay_total == 0
