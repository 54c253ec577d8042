"""The YAML config: the original MockLLM format, the schema, and errors with file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockllm.core.types import ChatRequest, Message, TextPart
from mockllm.rules.loader import (
    EMBEDDED_NAME,
    ConfigError,
    LoadedConfig,
    load_config_file,
    load_embedded_config,
    parse_config,
)
from mockllm.rules.schema import DEFAULT_UNKNOWN_RESPONSE

SKY = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
ORIGINAL = f"""\
responses:
  "what colour is the sky?": "{SKY}"
  "what is 2+2?": "2+2 equals 4."
  "Tell Me A Joke": "Why did the mock cross the road?"

defaults:
  unknown_response: "I don't know the answer to that. This is a mock response."

settings:
  lag_enabled: true
  lag_factor: 10
"""


def ask(config: LoadedConfig, prompt: str, model: str = "gpt-4o") -> str:
    request = ChatRequest(
        provider="openai",
        endpoint="chat.completions",
        model=model,
        messages=(Message("user", (TextPart(prompt),)),),
    )
    return config.rules.answer(request).text


def problems(text: str) -> list[str]:
    """Each problem of ``text`` (read as ``f.yml``) as ``file:line:col: message``."""
    with pytest.raises(ConfigError) as info:
        parse_config(text, "f.yml")
    return [str(p) for p in info.value.problems]


# --- the original MockLLM format ------------------------------------------------------------


def test_original_format_loads(tmp_path: Path) -> None:
    path = tmp_path / "responses.yml"
    path.write_text(ORIGINAL, encoding="utf-8")
    config = load_config_file(path)
    assert config.source == str(path)
    assert len(config.rules.responses) == 3
    assert config.rules.rules == ()
    default = "I don't know the answer to that. This is a mock response."
    assert config.rules.default_text.source == default
    assert config.settings.lag_enabled is True
    assert config.settings.lag_factor == 10


@pytest.mark.parametrize(
    "prompt",
    [
        "what colour is the sky?",
        "What Colour Is The Sky?",
        "WHAT COLOUR IS THE SKY?",
        "   what colour is the sky?\n",
        "\twhat colour is the SKY?  ",
    ],
)
def test_original_responses_ignore_case_and_surrounding_whitespace(prompt: str) -> None:
    config = parse_config(ORIGINAL, "f.yml")
    assert ask(config, prompt) == SKY


def test_original_keys_written_in_mixed_case_match_too() -> None:
    config = parse_config(ORIGINAL, "f.yml")
    assert ask(config, "tell me a joke") == "Why did the mock cross the road?"


def test_original_format_inner_text_must_still_match() -> None:
    config = parse_config(ORIGINAL, "f.yml")
    assert ask(config, "what colour is the sky") != SKY  # no question mark
    assert ask(config, "what  colour is the sky?") != SKY  # inner whitespace differs


def test_original_default_answer_otherwise() -> None:
    config = parse_config(ORIGINAL, "f.yml")
    answer = config.rules.answer(
        ChatRequest("openai", "chat.completions", "gpt-4o", (Message("user", (TextPart("?"),)),))
    )
    assert answer.text == "I don't know the answer to that. This is a mock response."
    assert answer.rule is None


def test_custom_unknown_response() -> None:
    config = parse_config("defaults:\n  unknown_response: nope\n", "f.yml")
    assert ask(config, "anything") == "nope"


def test_responses_are_checked_before_rules() -> None:
    text = """\
rules:
  - name: catch-all
    reply: from the rules
responses:
  hello: from responses
"""
    config = parse_config(text, "f.yml")
    answer = config.rules.answer(
        ChatRequest(
            "openai", "chat.completions", "gpt-4o", (Message("user", (TextPart("Hello"),)),)
        )
    )
    assert (answer.text, answer.rule) == ("from responses", "responses")
    assert ask(config, "something else") == "from the rules"


def test_minimal_files_are_valid() -> None:
    for text in ("", "# just a comment\n", "responses:\n", "responses: {}\n", "rules: []\n"):
        config = parse_config(text, "f.yml")
        assert config.rules.default_text.source == DEFAULT_UNKNOWN_RESPONSE
        assert config.settings.lag_enabled is False
        assert config.settings.strict_models is False


def test_only_rules_no_responses_section() -> None:
    config = parse_config("rules:\n  - reply: always this\n", "f.yml")
    assert config.rules.responses == {}
    assert ask(config, "x") == "always this"


def test_embedded_default_config_is_valid_and_answers_the_sky() -> None:
    config = load_embedded_config()
    assert config.source == EMBEDDED_NAME
    assert ask(config, "What colour is the sky?") == SKY
    assert ask(config, "ping") == "pong"


def test_shorthands_expand() -> None:
    text = """\
rules:
  - match: {prompt: hi, model: gpt-4o}
    reply: short
  - match:
      prompt: {exact: hi}
      model: {exact: gpt-4}
    reply: {text: long}
"""
    config = parse_config(text, "f.yml")
    assert ask(config, "hi", "gpt-4o") == "short"
    assert ask(config, "hi", "gpt-4") == "long"


def test_models_section_is_kept_as_overrides() -> None:
    text = (
        "models:\n  - id: gpt-4o\n    context_window: 50\n  - id: mine\n    provider: anthropic\n"
    )
    config = parse_config(text, "f.yml")
    assert config.model_overrides == (
        {"id": "gpt-4o", "context_window": 50},
        {"id": "mine", "provider": "anthropic"},
    )


def test_models_entry_without_provider_finds_the_builtin_it_overrides() -> None:
    from mockllm.core.models import ModelInfo, ModelRegistry

    builtins = [ModelInfo("gpt-4o", "openai"), ModelInfo("claude-opus-4-6", "anthropic")]
    overrides = parse_config(
        "models:\n  - id: claude-opus-4-6\n    context_window: 10\n"
        "  - id: claude-new\n  - id: other-new\n",
        "f.yml",
    ).model_overrides
    registry = ModelRegistry.build(builtins, overrides)
    claude = registry.get("anthropic", "claude-opus-4-6")
    assert claude is not None and claude.context_window == 10
    assert registry.get("openai", "claude-opus-4-6") is None
    assert registry.get("anthropic", "claude-new") is not None
    assert registry.get("openai", "other-new") is not None


# --- validation errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        pytest.param(
            "responses:\n  a: b\n   c: d\n", "f.yml:3:", "invalid YAML", id="yaml-bad-indent"
        ),
        pytest.param("responses:\n\ta: b\n", "f.yml:2:", "invalid YAML", id="yaml-tab"),
        pytest.param(
            "responses:\n  a: [b\n  e: f\nrules: []\n", "f.yml:3:", "invalid YAML", id="yaml-flow"
        ),
        pytest.param("responses:\n  a: b\nrulez: []\n", "f.yml:3:1", "unknown field", id="top-key"),
        pytest.param(
            "rules:\n  - match:\n      promt: x\n    reply: y\n",
            "f.yml:3:7",
            "rules.0.match.promt: unknown field",
            id="nested-key",
        ),
        pytest.param(
            "settings:\n  lag_factor: fast\n", "f.yml:2:15", "settings.lag_factor", id="type-float"
        ),
        pytest.param(
            "settings:\n  lag_enabled: maybe\n", "f.yml:2:16", "valid boolean", id="type-bool"
        ),
        pytest.param("settings:\n  lag_factor: 0\n", "f.yml:2:15", "greater than 0", id="lag-0"),
        pytest.param("responses: [a, b]\n", "f.yml:1:12", "responses", id="responses-list"),
        pytest.param(
            "responses:\n  'what is 2+2?': [4]\n", "f.yml:2:19", "valid string", id="answer-list"
        ),
        pytest.param("rules:\n  - reply: 3\n", "f.yml:2:12", "rules.0.reply", id="reply-int"),
        pytest.param(
            "rules:\n  - match: {prompt: x}\n",
            "f.yml:2:5",
            "rules.0: give either reply or sequence",
            id="reply-missing",
        ),
        pytest.param(
            "rules:\n  - match:\n      prompt: {exact: a, regex: b}\n    reply: y\n",
            "f.yml:3:15",
            "give exactly one of",
            id="two-conditions",
        ),
        pytest.param(
            "rules:\n  - match:\n      prompt: {}\n    reply: y\n",
            "f.yml:3:15",
            "give exactly one of",
            id="no-condition",
        ),
        pytest.param(
            "rules:\n  - match:\n      model: {exact: a, glob: 'b*'}\n    reply: y\n",
            "f.yml:3:14",
            "rules.0.match.model: give exactly one of",
            id="two-model-conditions",
        ),
        pytest.param(
            "rules:\n  - match:\n      prompt:\n        regex: '(unclosed'\n    reply: y\n",
            "f.yml:4:16",
            "rules.0.match.prompt.regex: invalid regex",
            id="bad-regex",
        ),
        pytest.param(
            "rules:\n  - match:\n      model: {regex: '*'}\n    reply: y\n",
            "f.yml:3:22",
            "rules.0.match.model.regex: invalid regex",
            id="bad-model-regex",
        ),
        pytest.param("responses:\n  a: b\n  a: c\n", "f.yml:3:3", "duplicate key 'a'", id="dup"),
        pytest.param(
            "rules:\n  - reply: x\n    reply: y\n",
            "f.yml:3:5",
            "duplicate key 'reply'",
            id="dup-nested",
        ),
        pytest.param("- a\n- b\n", "f.yml:1:1", "must be a mapping", id="top-list"),
        pytest.param("just a string\n", "f.yml:1:1", "must be a mapping", id="top-scalar"),
        pytest.param(
            "models:\n  - id: x\n    capabilities: [flying]\n",
            "f.yml:2:5",
            "unknown capabilities ['flying']",
            id="capability",
        ),
    ],
)
def test_problem_location_and_message(text: str, where: str, fragment: str) -> None:
    found = problems(text)
    assert len(found) == 1, found
    assert found[0].startswith(where), found
    assert fragment in found[0], found


def test_multiple_problems_reported_together_in_file_order() -> None:
    text = """\
rules:
  - match: {prompt: {regex: '['}}
    reply: y
bogus: 1
settings:
  lag_factor: fast
  lag_enabled: maybe
"""
    found = problems(text)
    assert [p.split(": ")[0] for p in found] == [
        "f.yml:2:29",
        "f.yml:4:1",
        "f.yml:6:15",
        "f.yml:7:16",
    ]
    assert "invalid regex" in found[0]
    assert "bogus: unknown field" in found[1]
    assert "settings.lag_factor" in found[2]
    assert "settings.lag_enabled" in found[3]


def test_config_error_message_lists_every_problem_one_per_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("a: 1\nb: 2\n", "f.yml")
    assert str(info.value).splitlines() == [
        "f.yml:1:1: a: unknown field",
        "f.yml:2:1: b: unknown field",
    ]
    first = info.value.problems[0]
    assert (first.location.file, first.location.line, first.location.column) == ("f.yml", 1, 1)


def test_duplicate_keys_and_schema_problems_reported_together() -> None:
    """BUG: parse_config stops after duplicate keys, hiding the other problems of the file
    (its docstring promises "every problem found")."""
    found = problems("responses:\n  a: b\n  a: c\nbogus: 1\n")
    assert [p.split(": ")[0] for p in found] == ["f.yml:3:3", "f.yml:4:1"]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param('responses:\n  "a": "b"\n  "c" "d"\n  "e": "f"\n', 3, id="missing-colon"),
        pytest.param('responses:\n  a: "b\n  e: f\n', 2, id="unclosed-quote"),
    ],
)
def test_invalid_yaml_names_the_line_where_the_broken_construct_is(text: str, line: int) -> None:
    """BUG: for YAML errors whose problem mark lies after the real mistake (PyYAML reports a
    ``context_mark`` there, e.g. "while scanning a simple key" at line 3), only the later
    mark is reported, and the context line is dropped from the message."""
    (found,) = problems(text)
    assert found.startswith(f"f.yml:{line}:") or f"line {line}" in found, found


def test_unreadable_files_are_problems_at_line_1(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yml"
    binary = tmp_path / "binary.yml"
    binary.write_bytes(b"responses:\n  a: \xff\xfe\n")
    for path in (missing, binary, tmp_path):
        with pytest.raises(ConfigError) as info:
            load_config_file(path)
        (problem,) = info.value.problems
        assert str(problem).startswith(f"{path}:1:1: cannot read the file"), str(problem)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "conf.yml"
    path.write_text("responses:\n  a: b\nrulez: []\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config_file(path)
    assert str(info.value) == f"{path}:3:1: rulez: unknown field"
