"""``mockllm validate`` warnings about rules that can never answer (docs/rules.md, "Rule").

A rule can never answer when a rule tried before it matches every request it matches:
an earlier rule with a subset of its conditions, an unconditional earlier rule, or a
``responses:`` entry for its exact prompt. ``priority`` changes what is tried first.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mockllm.cli import main
from mockllm.core.types import ChatRequest, Message, TextPart
from mockllm.rules.loader import parse_config

WARNING = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<column>\d+): warning: (?P<message>.+)$")


def validate(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str], *, strict: bool = False
) -> tuple[int, list[str], str]:
    """Exit code, warning lines and the whole stdout of ``mockllm validate``."""
    path = tmp_path / "rules.yml"
    path.write_text(text, encoding="utf-8")
    code = main(["validate", *(["--strict"] if strict else []), str(path)])
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if ": warning: " in line]
    return code, warnings, out


def warned(text: str) -> list[str]:
    """Messages of the warnings parse_config gives ``text``."""
    return [p.message for p in parse_config(text, "f.yml").warnings]


# --- shadowed by an earlier rule --------------------------------------------------------------

SUBSET = """\
rules:
  - name: weather
    match: {prompt: {icontains: weather}}
    reply: generic
  - name: weather-gpt
    match: {prompt: {icontains: weather}, model: gpt-4o}
    reply: never
"""


def test_rule_shadowed_by_an_earlier_rule_with_a_subset_of_its_conditions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, warnings, out = validate(tmp_path, SUBSET, capsys)
    assert code == 0
    assert len(warnings) == 1
    found = WARNING.match(warnings[0])
    assert found is not None, warnings[0]
    assert found["file"] == str(tmp_path / "rules.yml")
    assert (found["line"], found["column"]) == ("5", "5")  # where weather-gpt is written
    message = found["message"]
    assert message == (
        f"rule 'weather-gpt' (#2) can never answer: rule 'weather' (#1) at "
        f"{tmp_path / 'rules.yml'}:2:5 is tried first and matches every request it matches"
    )
    assert (
        out.splitlines()[-1]
        == f"{tmp_path / 'rules.yml'}: valid (0 responses, 2 rules, 1 warning(s))"
    )


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ("{prompt: hi}", "{prompt: hi}"),  # a duplicate
        ("{model: {glob: 'gpt-*'}}", "{model: {glob: 'gpt-*'}, tools: [f], turn: 1}"),
        ("{tools: []}", "{tools: [], system: {contains: x}}"),
        ("{tool_result: true}", "{tool_result: true, tool_calls_before: {min: 2}}"),
        ("{tool_result: {tool: f}}", "{tool_result: {tool: f}, prompt: {regex: a}}"),
        ("{headers: {x-test: a}}", "{headers: {x-test: a, x-other: b}}"),
        ("{metadata: {suite: s}}", "{metadata: {suite: s, user_id: u}, provider: openai}"),
        ("{tool_choice: required}", "{tool_choice: required, response_format: text}"),
        ("{any_message: {contains: x}}", "{any_message: {contains: x}, endpoint: messages}"),
    ],
)
def test_subset_of_conditions(earlier: str, later: str) -> None:
    text = (
        f"rules:\n  - {{name: early, match: {earlier}, reply: a}}\n"
        f"  - {{name: late, match: {later}, reply: b}}\n"
    )
    [message] = warned(text)
    assert message.startswith("rule 'late' (#2) can never answer: rule 'early' (#1) at f.yml:2:5")


@pytest.mark.parametrize("unconditional", ["{reply: always}", "{match: {}, reply: always}"])
def test_rules_after_an_unconditional_rule(unconditional: str) -> None:
    text = (
        f"rules:\n  - {unconditional}\n"
        "  - {name: one, match: {prompt: x}, reply: a}\n"
        "  - {match: {model: gpt-4o, turn: 2}, reply: b}\n"
    )
    messages = warned(text)
    assert len(messages) == 2
    assert messages[0].startswith("rule 'one' (#2) can never answer: rule #1 at f.yml:2:5")
    assert messages[1].startswith("rule #3 can never answer: rule #1 at f.yml:2:5")


def test_a_sequence_rule_shadows_like_any_rule() -> None:
    text = (
        "rules:\n  - {name: seq, match: {prompt: go}, sequence: [a, b], after_sequence: error}\n"
        "  - {name: late, match: {prompt: go}, reply: never}\n"
    )
    assert len(warned(text)) == 1


# --- shadowed by responses: -------------------------------------------------------------------

RESPONSES = """\
responses:
  "Hello there": from responses
rules:
  - name: exact
    match: {prompt: hello there}
    reply: never
  - name: iexact
    match: {prompt: {iexact: '  HELLO THERE '}, model: gpt-4o}
    reply: never either
  - name: contains
    match: {prompt: {contains: hello there}}
    reply: can answer 'well, hello there'
"""


def test_rule_shadowed_by_a_responses_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, warnings, _ = validate(tmp_path, RESPONSES, capsys)
    assert code == 0
    assert len(warnings) == 2
    assert warnings[0].startswith(f"{tmp_path / 'rules.yml'}:4:5: warning: rule 'exact'")
    assert "the responses: entry 'hello there' is tried first" in warnings[0]
    assert warnings[1].startswith(f"{tmp_path / 'rules.yml'}:7:5: warning: rule 'iexact'")
    assert "the responses: entry 'HELLO THERE' is tried first" in warnings[1]


def test_the_warning_about_responses_is_true() -> None:
    """What validate says agrees with what the rules answer."""
    rules = parse_config(RESPONSES, "f.yml").rules
    for prompt in ("hello there", "HELLO THERE", "Hello there "):
        request = ChatRequest(
            "openai", "chat.completions", "gpt-4o", (Message("user", (TextPart(prompt),)),)
        )
        assert rules.answer(request).rule == "responses"


def test_iexact_rule_that_responses_cannot_catch_is_not_reported() -> None:
    # responses: keys match after lower(); iexact compares case-folded text, so the prompt
    # "Straße" reaches the rule (the responses key is "strasse"): the rule can answer.
    text = (
        "responses: {strasse: from responses}\n"
        "rules:\n  - {name: folded, match: {prompt: {iexact: STRASSE}}, reply: from the rule}\n"
    )
    request = ChatRequest(
        "openai", "chat.completions", "gpt-4o", (Message("user", (TextPart("Straße"),)),)
    )
    assert parse_config(text, "f.yml").rules.answer(request).rule == "folded"
    assert warned(text) == []


# --- priority changes the verdict -------------------------------------------------------------


def test_positive_priority_puts_a_rule_before_responses() -> None:
    text = (
        "responses: {hello: from responses}\n"
        "rules:\n  - {name: first, priority: 1, match: {prompt: hello}, reply: rule}\n"
    )
    assert warned(text) == []
    assert len(warned(text.replace("priority: 1", "priority: 0"))) == 1
    assert len(warned(text.replace("priority: 1", "priority: -3"))) == 1


def test_priority_puts_a_narrower_rule_first() -> None:
    text = (
        "rules:\n  - {name: broad, match: {prompt: {icontains: weather}}, reply: a}\n"
        "  - {name: narrow, priority: PRIO, "
        "match: {prompt: {icontains: weather}, model: gpt-4o}, reply: b}\n"
    )
    assert warned(text.replace("PRIO", "5")) == []
    assert len(warned(text.replace("PRIO", "0"))) == 1
    # a lower priority than the broad rule: tried later still
    [message] = warned(text.replace("PRIO", "-1"))
    assert message.startswith("rule 'narrow' (#2) can never answer: rule 'broad' (#1)")


def test_a_high_priority_rule_shadows_rules_written_before_it() -> None:
    text = (
        "rules:\n  - {name: written-first, match: {prompt: go, model: gpt-4o}, reply: a}\n"
        "  - {name: catch-go, priority: 2, match: {prompt: go}, reply: b}\n"
    )
    [message] = warned(text)
    assert message.startswith(
        "rule 'written-first' (#1) can never answer: rule 'catch-go' (#2) at f.yml:3:5"
    )


def test_negative_priority_unconditional_rule_is_a_fallback() -> None:
    text = (
        "rules:\n  - {name: fallback, priority: -1, reply: fallback}\n"
        "  - {name: a, match: {prompt: a}, reply: a}\n"
        "  - {name: b, match: {model: gpt-4o}, reply: b}\n"
    )
    assert warned(text) == []


# --- no false warnings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        # narrower than the earlier rule on one field, but different on another
        ("{prompt: hi, model: gpt-4o}", "{prompt: hi}"),
        ("{prompt: {contains: weather}}", "{prompt: {icontains: weather}, model: gpt-4o}"),
        ("{prompt: {contains: a}, model: gpt-4o}", "{prompt: {contains: b}, model: gpt-4o}"),
        ("{model: {glob: 'gpt-*'}}", "{model: {glob: 'claude-*'}, turn: 1}"),
        ("{tools: []}", "{tools: [f]}"),
        ("{tools: [f]}", "{tools: []}"),
        ("{tool_result: true}", "{tool_result: false, prompt: x}"),
        ("{tool_result: {tool: f}}", "{tool_result: {tool: g}}"),
        ("{tool_result: {is_error: true}}", "{tool_result: {is_error: false}}"),
        ("{headers: {x-test: a}}", "{headers: {x-test: b}}"),
        ("{headers: {x-test: a, x-b: c}}", "{headers: {x-test: a}}"),
        ("{metadata: {suite: s}}", "{metadata: {suite: t}}"),
        ("{turn: 1}", "{turn: 2}"),
        ("{tool_calls_before: {max: 1}}", "{tool_calls_before: {min: 2}}"),
        ("{tool_choice: auto}", "{tool_choice: none}"),
        ("{response_format: json_object}", "{response_format: json_schema}"),
        ("{provider: openai}", "{provider: anthropic, prompt: x}"),
        ("{endpoint: messages}", "{endpoint: chat.completions}"),
        ("{system: a}", "{any_message: a}"),
    ],
)
def test_no_false_warning_for_a_rule_that_can_answer(earlier: str, later: str) -> None:
    text = (
        f"rules:\n  - {{name: early, match: {earlier}, reply: a}}\n"
        f"  - {{name: late, match: {later}, reply: b}}\n"
    )
    assert warned(text) == []


def test_responses_entry_does_not_shadow_rules_with_other_prompt_conditions() -> None:
    text = (
        "responses: {hello: from responses}\n"
        "rules:\n"
        "  - {name: contains, match: {prompt: {contains: hello}}, reply: a}\n"
        "  - {name: regex, match: {prompt: {regex: '^hello$'}}, reply: b}\n"
        "  - {name: other, match: {prompt: hello world}, reply: c}\n"
        "  - {name: none, match: {model: gpt-4o}, reply: d}\n"
    )
    # only an exact/iexact prompt equal to a responses: key is certain to be caught first
    assert warned(text) == []


# --- exit codes -------------------------------------------------------------------------------


def test_strict_exits_1_on_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, warnings, out = validate(tmp_path, SUBSET, capsys, strict=True)
    assert code == 1
    assert len(warnings) == 1
    assert out.splitlines()[-1] == (
        f"{tmp_path / 'rules.yml'}: valid (0 responses, 2 rules, 1 warning(s)); "
        "--strict: warnings fail the run"
    )


def test_strict_exits_0_without_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean = SUBSET.replace("{prompt: {icontains: weather}, model: gpt-4o}", "{prompt: news}")
    code, warnings, out = validate(tmp_path, clean, capsys, strict=True)
    assert (code, warnings) == (0, [])
    assert "warning" not in out
    assert out.strip().endswith("valid (0 responses, 2 rules)")


def test_invalid_file_exits_1_with_or_without_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = SUBSET + "  - {name: bad, reply: {txt: x}}\n"
    for strict in (False, True):
        code, warnings, out = validate(tmp_path, broken, capsys, strict=strict)
        assert code == 1
        assert warnings == []
        assert f"{tmp_path / 'rules.yml'}:8:" in out and "unknown field" in out
        assert out.splitlines()[-1] == f"{tmp_path / 'rules.yml'}: invalid (1 problem(s))"
        assert "--strict" not in out
