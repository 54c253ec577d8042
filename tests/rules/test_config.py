"""The YAML config: the original MockLLM format, the schema, and errors with file:line:col."""

from __future__ import annotations

import ast
import re
import tempfile
import time
from pathlib import Path

import jsonschema
import pytest
import yaml
from pydantic import BaseModel

from mockllm.core.limits import Limits
from mockllm.core.types import ChatRequest, Message, TextPart
from mockllm.rules.jsonschema import config_json_schema
from mockllm.rules.loader import (
    EMBEDDED_NAME,
    ConfigError,
    LoadedConfig,
    embedded_config_text,
    load_config_file,
    load_embedded_config,
    parse_config,
)
from mockllm.rules.schema import DEFAULT_UNKNOWN_RESPONSE, ConfigFile
from test_docs import _yaml_blocks

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
    # Providers declare their model id prefixes (Traits.model_prefixes); the first
    # provider owns the rest.
    registry = ModelRegistry.build(builtins, overrides, [("claude", "anthropic"), ("", "openai")])
    claude = registry.get("anthropic", "claude-opus-4-6")
    assert claude is not None and claude.context_window == 10
    assert registry.get("openai", "claude-opus-4-6") is None
    assert registry.get("anthropic", "claude-new") is not None
    assert registry.get("openai", "other-new") is not None


def test_the_app_gives_config_models_to_the_dialect_that_declares_their_prefix() -> None:
    from mockllm.app import create_app
    from mockllm.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.yml"
        path.write_text("models:\n  - id: claude-next\n  - id: gemini-next\n  - id: mine\n")
        models = create_app(Settings(config=path)).services.store.current.models
    assert models.get("anthropic", "claude-next") is not None
    assert models.get("gemini", "gemini-next") is not None
    assert models.get("openai", "mine") is not None


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
            "rule #1: match.promt: unknown field; did you mean 'prompt'?",
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
        pytest.param("rules:\n  - reply: 3\n", "f.yml:2:12", "rule #1: reply", id="reply-int"),
        pytest.param(
            "rules:\n  - match: {prompt: x}\n",
            "f.yml:2:5",
            "rule #1: give either reply or sequence",
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
            "rule #1: match.model: give exactly one of",
            id="two-model-conditions",
        ),
        pytest.param(
            "rules:\n  - match:\n      prompt:\n        regex: '(unclosed'\n    reply: y\n",
            "f.yml:4:16",
            "rule #1: match.prompt.regex: invalid regex",
            id="bad-regex",
        ),
        pytest.param(
            "rules:\n  - match:\n      model: {regex: '*'}\n    reply: y\n",
            "f.yml:3:22",
            "rule #1: match.model.regex: invalid regex",
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
    assert "did you mean" not in found[1]  # nothing is spelled like "bogus"
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
    assert str(info.value) == f"{path}:3:1: rulez: unknown field; did you mean 'rules'?"


# --- unknown fields: did you mean -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("rulez: []\n", "rulez: unknown field; did you mean 'rules'?", id="top"),
        pytest.param(
            "settings: {lag_factr: 2}\n",
            "settings.lag_factr: unknown field; did you mean 'lag_factor'?",
            id="settings",
        ),
        pytest.param(
            "defaults: {unknown_respons: x}\n",
            "defaults.unknown_respons: unknown field; did you mean 'unknown_response'?",
            id="defaults",
        ),
        pytest.param(
            "rules:\n  - {match: {Prompt: x}, reply: y}\n",
            "rule #1: match.Prompt: unknown field; did you mean 'prompt'?",
            id="case",
        ),
        pytest.param(
            "rules:\n  - {match: {prompt: {contain: x}}, reply: y}\n",
            "rule #1: match.prompt.contain: unknown field; did you mean 'contains'?",
            id="text-condition",
        ),
        pytest.param(
            "rules:\n  - {match: {headers: {x-a: {regx: b}}}, reply: y}\n",
            "rule #1: match.headers.x-a.regx: unknown field; did you mean 'regex'?",
            id="dict-value",
        ),
        pytest.param(
            "rules:\n  - {match: {tool_result: {tool: {glb: f}}}, reply: y}\n",
            "rule #1: match.tool_result.tool.glb: unknown field; did you mean 'glob'?",
            id="name-condition",
        ),
        pytest.param(
            "rules:\n  - {match: {turn: {mn: 1}}, reply: y}\n",
            "rule #1: match.turn.mn: unknown field; did you mean 'min'?",
            id="count",
        ),
        pytest.param(
            "rules:\n  - {name: r, sequence: [a, {txt: b}]}\n",
            "rule 'r' (#1): sequence.1.txt: unknown field; did you mean 'text'?",
            id="list-item",
        ),
        pytest.param(
            "rules:\n  - {reply: {tool_calls: [{name: f, argumnts: {}}]}}\n",
            "rule #1: reply.tool_calls.0.argumnts: unknown field; did you mean 'arguments'?",
            id="tool-call",
        ),
        pytest.param(
            "rules:\n  - {reply: {jsn: {a: 1}}}\n",
            "rule #1: reply.jsn: unknown field; did you mean 'json'?",  # the alias
            id="alias",
        ),
        pytest.param(
            "rules:\n  - {reply: {error: {status: 500, retry_afer: 1}}}\n",
            "rule #1: reply.error.retry_afer: unknown field; did you mean 'retry_after'?",
            id="error",
        ),
        pytest.param(
            "models:\n  - {id: x, context_windw: 3}\n",
            "models.0.context_windw: unknown field; did you mean 'context_window'?",
            id="models",
        ),
        pytest.param(
            "rules:\n  - {match: {xyzzy: 1}, reply: y}\n",
            "rule #1: match.xyzzy: unknown field",
            id="nothing-close",
        ),
    ],
)
def test_unknown_field_suggests_the_field_spelled_alike(text: str, message: str) -> None:
    [found] = problems(text)
    assert found.split(": ", 1)[1] == message


# --- how messages name rules ----------------------------------------------------------------

NAMED = """\
rules:
  - name: greeting
    match: {prompt: hi}
    reply: hello
  - name: weather
    match:
      promt: weather
    reply: sunny
  - match: {prompt: x}
"""


def test_problems_name_rules_by_name_or_by_position_from_1() -> None:
    assert problems(NAMED) == [
        "f.yml:7:7: rule 'weather' (#2): match.promt: unknown field; did you mean 'prompt'?",
        "f.yml:9:5: rule #3: give either reply or sequence",
    ]


def test_template_errors_name_rules_the_same_way() -> None:
    text = 'rules:\n  - reply: ok\n  - name: bad\n    reply: "{{ oops"\n  - reply: "{% if %}"\n'
    found = problems(text)
    assert [p.split(": template error")[0] for p in found] == [
        "f.yml:4:12: rule 'bad' (#2): reply.text",
        "f.yml:5:12: rule #3: reply.text",
    ]


def test_a_rule_with_an_invalid_name_is_named_by_position() -> None:
    [found] = problems("rules:\n  - {name: [x], reply: y}\n")
    assert found.startswith("f.yml:2:"), found
    assert "rule #1: name: " in found


def test_an_unnamed_rule_answers_as_its_position_from_1_and_location() -> None:
    text = "rules:\n  - {name: first, match: {prompt: a}, reply: A}\n  - reply: other\n"
    answer = parse_config(text, "f.yml").rules.answer(
        ChatRequest("openai", "chat.completions", "gpt-4o", (Message("user", (TextPart("b"),)),))
    )
    assert answer.rule == "rule #2 at f.yml:3:5"


def test_rules_are_named_to_clients_by_the_file_base_name_problems_by_the_path_given(
    tmp_path: Path,
) -> None:
    path = tmp_path / "configs" / "rules.yml"
    path.parent.mkdir()
    path.write_text(
        "rules:\n  - {match: {prompt: a}, reply: A}\n  - {match: {prompt: a}, reply: B}\n",
        encoding="utf-8",
    )
    config = load_config_file(path)
    assert [r.name for r in config.rules.rules] == [
        "rule #1 at rules.yml:2:5",
        "rule #2 at rules.yml:3:5",
    ]
    assert [str(r.location) for r in config.rules.rules] == ["rules.yml:2:5", "rules.yml:3:5"]
    [warning] = config.warnings  # for the user's terminal: the path as given
    assert str(warning.location) == f"{path}:3:5"
    assert f"rule #1 at {path}:2:5 is tried first" in warning.message
    windows = parse_config("rules:\n  - reply: x\n", "C:\\Users\\me\\rules.yml")
    assert windows.rules.rules[0].name == "rule #1 at rules.yml:2:5"


# --- loading is bounded: aliases, nesting, values YAML cannot build --------------------------


def aliases(count: int) -> str:
    """A valid config using ``count`` aliases of one reply."""
    rules = "".join(f"  - {{match: {{prompt: p{i}}}, reply: *r}}\n" for i in range(count))
    return f"rules:\n  - {{match: {{prompt: first}}, reply: &r hello}}\n{rules}"


def test_aliases_up_to_the_limit_are_fine_one_more_is_refused_where_it_is() -> None:
    config = parse_config(aliases(100), "f.yml")
    assert len(config.rules.rules) == 101
    assert problems(aliases(101)) == [
        "f.yml:103:36: too many YAML aliases (101 > 100, counting the aliases inside what an "
        "alias copies): alias bombs are refused; MOCKLLM_LIMIT_YAML_MAX_ALIASES raises the limit"
    ]
    assert len(parse_config(aliases(101), "f.yml", Limits(yaml_max_aliases=101)).rules.rules)


def test_aliases_inside_copied_content_count_each_time_it_is_copied() -> None:
    # a list holding 3 aliases, then 3 aliases of it: 3 + 3 * (1 + 3) = 15
    text = (
        "rules:\n"
        "  - {match: {prompt: a}, reply: {text: &t x}}\n"
        "  - {match: {any_message: {contains: &l [*t, *t, *t]}}, reply: y}\n"
        "  - {match: {prompt: b}, reply: {json: [*l, *l, *l]}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "f.yml", Limits(yaml_max_aliases=14))
    assert "too many YAML aliases (15 > 14" in str(caught.value)
    with pytest.raises(ConfigError) as caught:  # valid YAML, then a schema problem
        parse_config(text, "f.yml", Limits(yaml_max_aliases=15))
    assert "aliases" not in str(caught.value)


def test_a_billion_laughs_is_refused_in_milliseconds() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for name, previous in zip("bcdefghi", "abcdefgh", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    started = time.monotonic()
    found = problems("\n".join(lines) + "\n")
    assert time.monotonic() - started < 0.5
    assert found == [
        "f.yml:4:8: too many YAML aliases (190 > 100, counting the aliases inside what an "
        "alias copies): alias bombs are refused; MOCKLLM_LIMIT_YAML_MAX_ALIASES raises the limit"
    ]


def test_merge_keys_merge_and_keys_written_win() -> None:
    text = (
        "rules:\n"
        "  - name: base\n"
        "    match: {prompt: base}\n"
        "    reply: &base {text: base text, finish_reason: length}\n"
        "  - name: child\n"
        "    match: {prompt: child}\n"
        "    reply:\n"
        "      <<: [*base, {text: ignored, seed: 7}]\n"
        "      text: child text\n"
    )
    rules = parse_config(text, "f.yml").rules.rules
    child = rules[1].replies[0].spec
    assert (child.text, child.finish_reason, child.seed) == ("child text", "length", 7)
    assert problems("rules:\n  - reply:\n      <<: 3\n") == [
        "f.yml:3:11: a merge key (<<) takes a mapping or a list of mappings",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "rules: &r\n  - reply: *r\n",
            "f.yml:1:8: recursive YAML alias: this anchor's content uses itself",
            id="recursive-alias",
        ),
        pytest.param(
            "rules:\n  - reply: {seed: " + "1" * 5000 + "}\n",
            "f.yml:2:19: cannot read this value: Exceeds the limit (4300 digits)",
            id="huge-integer",
        ),
        pytest.param(
            "rules:\n  - reply: 2001-13-45\n",
            "f.yml:2:12: cannot read this value: month must be in 1..12",
            id="impossible-date",
        ),
        pytest.param(
            "rules:\n  - reply: {json: " + "[" * 200 + "]" * 200 + "}\n",
            "f.yml:2:115: the YAML nests more than 100 levels deep",
            id="deep-flow",
        ),
    ],
)
def test_yaml_that_cannot_be_read_is_a_problem_never_a_crash(text: str, expected: str) -> None:
    started = time.monotonic()
    found = problems(text)
    assert time.monotonic() - started < 1.0
    assert any(p.startswith(expected) for p in found), found


def test_deep_flow_nesting_is_refused_quickly_whatever_its_depth() -> None:
    started = time.monotonic()
    assert problems("[" * 100_000 + "]" * 100_000) == [
        "f.yml:1:101: the YAML nests more than 100 levels deep"
    ]
    assert time.monotonic() - started < 1.0  # PyYAML alone: minutes


def test_templates_compile_without_being_evaluated() -> None:
    text = (
        "rules:\n"
        "  - reply: \"{{ 'a' * 10**8 }}\"\n"
        "  - reply: \"{{ 'a' | center(10**9) }}{{ 'b' | center(1000000000) }}\"\n"
        '  - reply: "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}'
        '{% endfor %}"\n'
        "defaults:\n  unknown_response: \"{{ 'x' * 10**9 }}\"\n"
    )
    started = time.monotonic()
    config = parse_config(text, "f.yml")
    assert time.monotonic() - started < 0.5
    assert len(config.rules.rules) == 3


def test_regexes_likely_to_backtrack_are_warnings_naming_the_rule_and_field() -> None:
    text = (
        "rules:\n"
        "  - name: ok\n"
        "    match: {prompt: {regex: '^(a|b)+$'}}\n"
        "    reply: x\n"
        "  - match:\n"
        "      headers: {X-Trace: {regex: '(\\w+\\s?)*$'}}\n"
        "      tool_result: {tool: {regex: '(a+)+'}}\n"
        "    reply: y\n"
    )
    config = parse_config(text, "f.yml", Limits(regex_timeout_ms=30))
    found = [str(w) for w in config.warnings]
    assert len(found) == 2, found
    assert found[0].startswith(
        "f.yml:6:34: rule #2: match.headers.X-Trace.regex: '(\\\\w+\\\\s?)*$': a repeated part of "
        "it can match the same text in more than one way"
    )
    assert found[0].endswith(
        "each match is stopped after 30 ms (MOCKLLM_LIMIT_REGEX_TIMEOUT_MS) and the "
        "condition then does not hold"
    )
    assert found[1].startswith("f.yml:7:35: rule #2: match.tool_result.tool.regex: '(a+)+'")


# --- the JSON Schema of the config file (mockllm schema) ------------------------------------

ROOT = Path(__file__).parent.parent.parent
TOP_LEVEL = re.compile(r"^(responses|rules|defaults|settings|models)\s*:", re.M)


def _loads(text: str) -> bool:
    try:
        parse_config(text, "f.yml")
    except ConfigError:
        return False
    return True


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(config_json_schema())


def _schema_errors(text: str) -> list[str]:
    return [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _validator().iter_errors(yaml.safe_load(text))
    ]


def _project_configs() -> list[tuple[str, str]]:
    """``(where, text)`` of every config the project holds that the loader accepts: the
    embedded default config, each ``yaml`` block of README.md and docs/*.md (extracted as
    tests/test_docs.py does), and each string constant in tests/ that looks like a config
    (it starts a line with a top-level section), tests/conftest.py's TEST_CONFIG among them."""
    found = [("default.yml", embedded_config_text())]
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        found += [(doc.name, block) for block in _yaml_blocks(doc)]
    for module in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and TOP_LEVEL.search(node.value)
            ):
                found.append((f"{module.relative_to(ROOT)}:{node.lineno}", node.value))
    return [(where, text) for where, text in found if _loads(text)]


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = config_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert config_json_schema() == schema  # a fresh, equal dict each call
    assert config_json_schema() is not schema


def test_every_config_of_the_docs_and_tests_is_valid_against_the_schema() -> None:
    configs = _project_configs()
    sources = {where.split(":")[0] for where, _ in configs}
    assert {"default.yml", "README.md", "rules.md", "tests/conftest.py"} <= sources, sources
    assert len(configs) >= 50
    invalid = {where: errors for where, text in configs if (errors := _schema_errors(text))}
    assert not invalid


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty-file"),
        pytest.param("# only a comment\n", id="comment-only"),
        pytest.param("responses:\ndefaults:\nsettings:\nrules:\nmodels:\n", id="null-sections"),
        pytest.param("rules:\n  - reply: plain\n", id="reply-string"),
        pytest.param(
            "rules:\n  - match: {prompt: a, any_message: b, system: c, model: d, provider: e,"
            " endpoint: f, headers: {x-a: g}, metadata: {k: h}}\n    reply: r\n",
            id="condition-strings",
        ),
        pytest.param(
            "rules:\n  - match: {turn: 2, tool_calls_before: 0, tool_result: false}\n"
            "    reply: r\n",
            id="count-int-tool-result-bool",
        ),
        pytest.param(
            "rules:\n  - match: {tool_result: {tool: f, content: {icontains: ok}}}\n    reply: r\n",
            id="tool-result-mapping",
        ),
        pytest.param(
            "rules:\n  - match: {prompt: {exact: a, regex: null}}\n    reply: r\n",
            id="condition-with-a-null-field",
        ),
        pytest.param(
            "rules:\n  - {sequence: [a, {json: auto}, {json: [1]}], after_sequence: restart}\n"
            "  - {reply: {tool_calls: [{name: f, arguments: auto}], finish_reason: tool_calls}}\n"
            "  - {reply: {error: {status: 429, type: rate_limit, retry_after: 1.5}}}\n"
            "  - {reply: {text: a, usage: {prompt_tokens: 3}}, name: null}\n",
            id="replies",
        ),
        pytest.param(
            "models:\n  - {id: mine, capabilities: [vision], context_window: 10}\n", id="models"
        ),
    ],
)
def test_configs_the_loader_accepts_are_valid_against_the_schema(text: str) -> None:
    assert _loads(text)
    assert _schema_errors(text) == []


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("rulez: []\n", id="unknown-top-field"),
        pytest.param("rules:\n  - {match: {promt: x}, reply: y}\n", id="unknown-nested-field"),
        pytest.param("rules:\n  - {reply: {txt: y}}\n", id="unknown-reply-field"),
        pytest.param("settings: {lag_factor: fast}\n", id="wrong-type-number"),
        pytest.param("settings: {lag_factor: 0}\n", id="not-positive"),
        pytest.param("responses: [a, b]\n", id="responses-list"),
        pytest.param("responses: {a: [b]}\n", id="answer-list"),
        pytest.param("rules:\n  - reply: 3\n", id="reply-int"),
        pytest.param("rules:\n  - match: {prompt: x}\n", id="no-reply"),
        pytest.param("rules:\n  - {reply: a, sequence: [b]}\n", id="reply-and-sequence"),
        pytest.param("rules:\n  - {sequence: []}\n", id="empty-sequence"),
        pytest.param("rules:\n  - {match: {prompt: {exact: a, regex: b}}, reply: y}\n", id="two"),
        pytest.param("rules:\n  - {match: {prompt: {}}, reply: y}\n", id="no-condition"),
        pytest.param("rules:\n  - {match: {turn: -1}, reply: y}\n", id="negative-count"),
        pytest.param("rules:\n  - {match: {tool_result: 1}, reply: y}\n", id="tool-result-int"),
        pytest.param("rules:\n  - {match: {response_format: xml}, reply: y}\n", id="format"),
        pytest.param("rules:\n  - {reply: a, after_sequence: loop}\n", id="after-sequence"),
        pytest.param("rules:\n  - {reply: {finish_reason: done}}\n", id="finish-reason"),
        pytest.param("rules:\n  - {reply: {json: yes please}}\n", id="json-string"),
        pytest.param("rules:\n  - {reply: {error: {status: 200}}}\n", id="error-status"),
        pytest.param("rules:\n  - {reply: {error: {status: 500, type: oops}}}\n", id="err-type"),
        pytest.param("models:\n  - {id: x, capabilities: [flying]}\n", id="capability"),
        pytest.param("models:\n  - {provider: openai}\n", id="model-without-id"),
        pytest.param("- a list\n", id="top-level-list"),
    ],
)
def test_invalid_configs_are_rejected_by_the_loader_and_the_schema(text: str) -> None:
    assert not _loads(text)
    assert _schema_errors(text) != []


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    todo = [root]
    while todo:
        model = todo.pop()
        if model not in seen:
            seen.append(model)
            for field in model.model_fields.values():
                todo += [m for m in _classes(field.annotation) if issubclass(m, BaseModel)]
    return seen


def _classes(annotation: object) -> list[type]:
    own = [annotation] if isinstance(annotation, type) else []
    return own + [c for arg in getattr(annotation, "__args__", ()) for c in _classes(arg)]


def test_every_shorthand_of_the_models_is_in_the_schema() -> None:
    """A model that expands a shorthand (a ``mode="before"`` validator) accepts a non-object
    in the schema too, and every model forbids unknown fields."""
    schema = config_json_schema()
    for model in _models(ConfigFile):
        definition = schema if model is ConfigFile else schema["$defs"][model.__name__]
        before = [
            d
            for d in model.__pydantic_decorators__.model_validators.values()
            if d.info.mode == "before"
        ]
        arms = definition.get("anyOf", [definition])
        objects = [a for a in arms if "object" in a.get("type", ())]  # root: [object, null]
        assert len(objects) == 1, model
        assert objects[0]["additionalProperties"] is False, model
        shorthands = [a for a in arms if a.get("type") in ("string", "integer", "boolean")]
        assert bool(before) == bool(shorthands), model
