"""Rules: prompt and model conditions, AND, first match wins, and what "the prompt" is."""

from __future__ import annotations

import pytest

from mockllm.core.types import ChatRequest, ImagePart, Message, OtherPart, TextPart, ToolCall
from mockllm.rules.loader import parse_config
from mockllm.rules.ruleset import Answer, RuleSet


def user(*texts: str) -> Message:
    return Message("user", tuple(TextPart(t) for t in texts))


def chat(*messages: Message, model: str = "gpt-4o", provider: str = "openai") -> ChatRequest:
    return ChatRequest(
        provider=provider, endpoint="chat.completions", model=model, messages=messages
    )


def rules(text: str) -> RuleSet:
    return parse_config(text, "rules.yml").rules


def one_rule(match: str) -> RuleSet:
    return rules(f"rules:\n  - name: it\n    match: {match}\n    reply: matched\n")


def matched(ruleset: RuleSet, prompt: str, model: str = "gpt-4o") -> bool:
    return ruleset.answer(chat(user(prompt), model=model)).rule == "it"


@pytest.mark.parametrize(
    ("condition", "prompt", "expected"),
    [
        ("{exact: Hello there}", "Hello there", True),
        ("{exact: Hello there}", "  Hello there \n", True),
        ("{exact: '  Hello there  '}", "Hello there", True),
        ("{exact: Hello there}", "hello there", False),
        ("{exact: Hello there}", "Hello there!", False),
        ("Hello there", "Hello there", True),  # shorthand for exact
        ("Hello there", "HELLO THERE", False),
        ("{iexact: Hello there}", "hELLO THERE", True),
        ("{iexact: Hello there}", "  hello there  ", True),
        ("{iexact: Hello there}", "hello there!", False),
        ("{iexact: STRASSE}", "straße", True),  # case folding, not just lower()
        ("{contains: weather}", "How is the weather today?", True),
        ("{contains: weather}", "How is the WEATHER today?", False),
        ("{contains: weather}", "whether", False),
        ("{icontains: weather}", "How is the WEATHER today?", True),
        ("{icontains: WEATHER}", "the weather", True),
        ("{icontains: weather}", "climate", False),
        ("{regex: 'order #\\d+'}", "where is order #123 now?", True),  # searched anywhere
        ("{regex: '^order'}", "my order", False),
        ("{regex: '(?i)^HI\\b'}", "hi there", True),
        ("{regex: 'x'}", "X", False),
    ],
)
def test_prompt_conditions(condition: str, prompt: str, expected: bool) -> None:
    assert matched(one_rule(f"{{prompt: {condition}}}"), prompt) is expected


@pytest.mark.parametrize(
    ("condition", "model", "expected"),
    [
        ("{exact: gpt-4o}", "gpt-4o", True),
        ("{exact: gpt-4o}", "gpt-4o-mini", False),
        ("{exact: gpt-4o}", "GPT-4o", False),
        ("gpt-4o", "gpt-4o", True),  # shorthand for exact
        ("{glob: 'gpt-4o*'}", "gpt-4o-mini", True),
        ("{glob: 'gpt-4o*'}", "gpt-4o", True),
        ("{glob: 'gpt-4o*'}", "my-gpt-4o", False),
        ("{glob: 'claude-?-*'}", "claude-3-opus", True),
        ("{glob: 'claude-*'}", "gpt-4", False),
        ("{regex: 'gpt-4(o|\\.1)'}", "gpt-4o", True),
        ("{regex: 'gpt-4(o|\\.1)'}", "gpt-4.1", True),
        ("{regex: 'gpt-4(o|\\.1)'}", "gpt-4o-mini", False),  # the whole name must match
        ("{regex: 'gpt-4(o|\\.1)'}", "x-gpt-4o", False),
    ],
)
def test_model_conditions(condition: str, model: str, expected: bool) -> None:
    assert matched(one_rule(f"{{model: {condition}}}"), "anything", model) is expected


def test_all_conditions_must_hold() -> None:
    ruleset = one_rule("{prompt: {icontains: weather}, model: {glob: 'claude-*'}}")
    assert matched(ruleset, "The weather?", "claude-x")
    assert not matched(ruleset, "The weather?", "gpt-4o")
    assert not matched(ruleset, "The news?", "claude-x")


def test_empty_or_missing_match_always_holds() -> None:
    for text in ("rules:\n  - reply: always\n", "rules:\n  - match: {}\n    reply: always\n"):
        answer = rules(text).answer(chat(user("whatever"), model="any"))
        assert answer.text == "always"


FIRST_WINS = """\
rules:
  - name: specific
    match: {prompt: {exact: weather in paris}, model: {exact: gpt-4o}}
    reply: sunny in Paris
  - name: weather
    match: {prompt: {icontains: weather}}
    reply: generic weather
  - name: paris
    match: {prompt: {icontains: paris}}
    reply: about Paris
  - match: {prompt: {icontains: london}}
    reply: about London
defaults:
  unknown_response: no idea
"""


@pytest.mark.parametrize(
    ("prompt", "model", "answer"),
    [
        ("weather in paris", "gpt-4o", Answer("sunny in Paris", "specific")),
        ("weather in paris", "gpt-4", Answer("generic weather", "weather")),
        ("Paris weather", "gpt-4o", Answer("generic weather", "weather")),
        ("Paris", "gpt-4o", Answer("about Paris", "paris")),
        ("Rome", "gpt-4o", Answer("no idea", None)),
    ],
)
def test_first_matching_rule_wins(prompt: str, model: str, answer: Answer) -> None:
    assert rules(FIRST_WINS).answer(chat(user(prompt), model=model)) == answer


def test_unnamed_rule_is_named_by_its_index_and_location() -> None:
    answer = rules(FIRST_WINS).answer(chat(user("London"), model="gpt-4o"))
    assert answer.text == "about London"
    assert answer.rule is not None
    assert answer.rule.startswith("rule #4 at ")
    assert "rules.yml:11:" in answer.rule


def test_rules_carry_their_location() -> None:
    compiled = rules(FIRST_WINS).rules
    assert [r.name for r in compiled[:3]] == ["specific", "weather", "paris"]
    assert [r.location.line if r.location else None for r in compiled] == [2, 5, 8, 11]


def test_rules_apply_to_every_provider() -> None:
    ruleset = one_rule("{prompt: hi}")
    request = chat(user("hi"), model="claude-sonnet-5-5", provider="anthropic")
    assert ruleset.answer(request).rule == "it"


# --- what the prompt is -----------------------------------------------------------------------

PROMPT_RULE = one_rule("{prompt: {exact: the question}}")


@pytest.mark.parametrize(
    "messages",
    [
        pytest.param((user("the question"),), id="one-text-part"),
        pytest.param((Message("user", (TextPart("the question"),), name="bob"),), id="named"),
        pytest.param(
            (Message("user", (ImagePart(url="https://x/cat.png"), TextPart("the question"))),),
            id="image-then-text",
        ),
        pytest.param(
            (Message("user", (TextPart("the question"), OtherPart("input_audio"))),),
            id="text-then-audio",
        ),
        pytest.param(
            (
                Message("system", (TextPart("You are helpful."),)),
                user("an older question"),
                Message("assistant", (TextPart("an older answer"),)),
                user("the question"),
            ),
            id="last-user-message",
        ),
        pytest.param(
            (
                user("the question"),
                Message("assistant", tool_calls=(ToolCall("call_1", "f", "{}"),)),
                Message("tool", (TextPart("tool output"),), tool_call_id="call_1"),
            ),
            id="after-tool-result",
        ),
        pytest.param(
            (user("the question"), Message("assistant", (TextPart("partial answer"),))),
            id="assistant-prefill-after",
        ),
    ],
)
def test_prompt_is_the_last_user_messages_text(messages: tuple[Message, ...]) -> None:
    request = chat(*messages)
    assert request.prompt == "the question"
    assert PROMPT_RULE.answer(request).rule == "it"


def test_several_text_parts_are_joined_with_newlines() -> None:
    request = chat(user("first part", "second part"))
    assert request.prompt == "first part\nsecond part"
    ruleset = one_rule("{prompt: {regex: 'first part\\nsecond part'}}")
    assert ruleset.answer(request).rule == "it"


def test_no_user_message_means_an_empty_prompt() -> None:
    request = chat(Message("system", (TextPart("the question"),)))
    assert request.prompt == ""
    assert PROMPT_RULE.answer(request).rule is None
    assert one_rule("{prompt: {exact: ''}}").answer(request).rule == "it"


def test_system_prompt_is_not_the_prompt() -> None:
    request = chat(Message("developer", (TextPart("the question"),)), user("other"))
    assert request.system == "the question"
    assert PROMPT_RULE.answer(request).rule is None
