"""Every field of a rule's ``match`` (docs/rules.md, "Match"), tested on neutral requests.

Each test builds a vendor-neutral :class:`ChatRequest` and asks the compiled rules who
answers, through ``RuleSet.decide`` (with fresh counters) or the dry run ``RuleSet.answer``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import pytest

from mockllm.core.conversation import Conversation
from mockllm.core.limits import Limits
from mockllm.core.types import ChatRequest, Message, TextPart, ToolCall, ToolChoice, ToolSpec
from mockllm.rules.conditions import RateLimitedLog, backtracking_risk
from mockllm.rules.loader import ConfigError, parse_config
from mockllm.rules.ruleset import RuleSet
from mockllm.state import MemoryCounters

HEADER = "x-mockllm-conversation"
AUTO = ToolChoice()

# --- building requests ------------------------------------------------------------------------


def user(text: str) -> Message:
    return Message("user", (TextPart(text),))


def assistant(text: str = "", *calls: ToolCall) -> Message:
    return Message("assistant", (TextPart(text),) if text else (), calls)


def system(text: str) -> Message:
    return Message("system", (TextPart(text),))


def developer(text: str) -> Message:
    return Message("developer", (TextPart(text),))


def result(call_id: str, text: str, *, is_error: bool = False) -> Message:
    return Message("tool", (TextPart(text),), tool_call_id=call_id, is_error=is_error)


def request(
    *messages: Message,
    model: str = "gpt-4o",
    provider: str = "openai",
    endpoint: str = "chat.completions",
    tools: tuple[str, ...] = (),
    tool_choice: ToolChoice = AUTO,
    response_format: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> ChatRequest:
    return ChatRequest(
        provider=provider,
        endpoint=endpoint,
        model=model,
        messages=messages or (user("hello"),),
        tools=tuple(ToolSpec(name, f"the {name} tool") for name in tools),
        tool_choice=tool_choice,
        response_format=response_format,
        headers=headers or {},
        metadata=metadata or {},
    )


def ruleset(text: str) -> RuleSet:
    return parse_config(text, "f.yml").rules


def one_rule(match: str) -> RuleSet:
    return ruleset(f"rules:\n  - name: it\n    match: {match}\n    reply: matched\n")


def decide(rules: RuleSet, req: ChatRequest) -> str | None:
    """The name of the rule that answers ``req`` (None: nobody)."""
    return rules.decide(Conversation(req), MemoryCounters(), HEADER).rule


def holds(match: str, req: ChatRequest) -> bool:
    rules = one_rule(match)
    via_decide = decide(rules, req) == "it"
    via_answer = rules.answer(req).rule == "it"
    assert via_decide == via_answer
    return via_decide


# --- text conditions: prompt, any_message, system --------------------------------------------

WEATHER_CALL = ToolCall("call_1", "get_weather", '{"city": "Paris"}')
TOOL_ROUND = (
    user("weather in Paris?"),
    assistant("", WEATHER_CALL),
    result("call_1", "sunny, 22C"),
)


@pytest.mark.parametrize(
    ("condition", "messages", "expected"),
    [
        ("hello", (user("  hello \n"),), True),
        ("{exact: hello}", (user("Hello"),), False),
        ("{iexact: HELLO}", (user("hello "),), True),
        ("{contains: ell}", (user("hello"),), True),
        ("{contains: ELL}", (user("hello"),), False),
        ("{icontains: ELL}", (user("hello"),), True),
        ("{regex: 'l+o$'}", (user("hello"),), True),
        ("{regex: '^ell'}", (user("hello"),), False),
        # the last user message, not an earlier one and not the assistant's text
        ("first", (user("first"), assistant("ok"), user("second")), False),
        ("second", (user("first"), assistant("ok"), user("second")), True),
        ("ok", (user("first"), assistant("ok")), False),
        # a tool result is not part of the prompt: the prompt stays the user's question
        ("'weather in Paris?'", TOOL_ROUND, True),
        ("{contains: sunny}", TOOL_ROUND, False),
    ],
)
def test_prompt(condition: str, messages: tuple[Message, ...], expected: bool) -> None:
    assert holds(f"{{prompt: {condition}}}", request(*messages)) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("{contains: Paris}", True),  # the user's first message
        ("{icontains: SUNNY}", True),  # the tool result
        ("{exact: be brief}", True),  # the system prompt
        ("{regex: '^all done$'}", True),  # the assistant's text
        ("{contains: Rome}", False),
        ("{exact: sunny}", False),  # exact is on a whole message
    ],
)
def test_any_message(condition: str, expected: bool) -> None:
    req = request(system("be brief"), *TOOL_ROUND, assistant("all done"), user("thanks"))
    assert holds(f"{{any_message: {condition}}}", req) is expected


@pytest.mark.parametrize(
    ("condition", "messages", "expected"),
    [
        ("be brief", (system("be brief"), user("hi")), True),
        ("{icontains: BRIEF}", (developer("Be brief."), user("hi")), True),
        ("be brief", (user("be brief"),), False),  # the user's text is not the system prompt
        ("''", (user("hi"),), True),  # no system prompt is the empty text
        # system and developer messages joined with newlines
        ("{regex: '^one\\ntwo$'}", (system("one"), developer("two"), user("hi")), True),
    ],
)
def test_system(condition: str, messages: tuple[Message, ...], expected: bool) -> None:
    assert holds(f"{{system: {condition}}}", request(*messages)) is expected


# --- name conditions: model, provider, endpoint -----------------------------------------------


@pytest.mark.parametrize(
    ("condition", "model", "expected"),
    [
        ("gpt-4o", "gpt-4o", True),
        ("gpt-4o", "gpt-4o-mini", False),
        ("{glob: 'gpt-4o*'}", "gpt-4o-mini", True),
        ("{glob: 'gpt-4o*'}", "ft:gpt-4o", False),  # a glob matches the whole name
        ("{glob: 'claude-?-*'}", "claude-3-haiku", True),
        ("{glob: '[cg]*'}", "claude-opus-4-6", True),
        ("{regex: 'gpt-4o'}", "gpt-4o-mini", False),  # fullmatch, not search
        ("{regex: 'gpt-4o.*'}", "gpt-4o-mini", True),
        ("{regex: 'o\\d(-mini)?'}", "o3-mini", True),
        ("{regex: 'o\\d(-mini)?'}", "o3-pro", False),
    ],
)
def test_model(condition: str, model: str, expected: bool) -> None:
    assert holds(f"{{model: {condition}}}", request(model=model)) is expected


@pytest.mark.parametrize(
    ("condition", "provider", "expected"),
    [
        ("openai", "openai", True),
        ("openai", "anthropic", False),
        ("{glob: 'anth*'}", "anthropic", True),
        ("{regex: 'open|anthropic'}", "openai", False),  # whole name: 'open' != 'openai'
        ("{regex: 'openai|anthropic'}", "anthropic", True),
    ],
)
def test_provider(condition: str, provider: str, expected: bool) -> None:
    assert holds(f"{{provider: {condition}}}", request(provider=provider)) is expected


@pytest.mark.parametrize(
    ("condition", "endpoint", "expected"),
    [
        ("chat.completions", "chat.completions", True),
        ("messages", "chat.completions", False),
        ("messages", "messages", True),
        ("{glob: 'chat.*'}", "chat.completions", True),
        ("{regex: 'chat\\.completions|messages'}", "messages", True),
        ("{regex: 'chat'}", "chat.completions", False),
    ],
)
def test_endpoint(condition: str, endpoint: str, expected: bool) -> None:
    assert holds(f"{{endpoint: {condition}}}", request(endpoint=endpoint)) is expected


# --- tools, tool_choice, response_format ------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "offered", "expected"),
    [
        ("[get_weather]", ("get_weather",), True),
        ("[get_weather]", ("get_time", "get_weather"), True),  # a subset is enough
        ("[get_weather, get_time]", ("get_time", "get_weather", "search"), True),
        ("[get_weather, get_time]", ("get_weather",), False),  # every one must be offered
        ("[get_weather]", (), False),
        ("[]", (), True),  # [] means no tools are offered
        ("[]", ("get_weather",), False),
    ],
)
def test_tools(condition: str, offered: tuple[str, ...], expected: bool) -> None:
    assert holds(f"{{tools: {condition}}}", request(tools=offered)) is expected


@pytest.mark.parametrize(
    ("condition", "choice", "expected"),
    [
        ("auto", ToolChoice("auto"), True),
        ("auto", ToolChoice("none"), False),
        ("none", ToolChoice("none"), True),
        ("required", ToolChoice("required"), True),
        ("required", ToolChoice("auto"), False),
        ("any", ToolChoice("required"), True),  # Anthropic's name for required
        ("any", ToolChoice("named", "get_weather"), False),
        ("get_weather", ToolChoice("named", "get_weather"), True),
        ("get_weather", ToolChoice("named", "get_time"), False),
        ("get_weather", ToolChoice("required"), False),
        ("required", ToolChoice("named", "get_weather"), False),
    ],
)
def test_tool_choice(condition: str, choice: ToolChoice, expected: bool) -> None:
    req = request(tools=("get_weather", "get_time"), tool_choice=choice)
    assert holds(f"{{tool_choice: {condition}}}", req) is expected


def test_tool_choice_defaults_to_auto() -> None:
    assert holds("{tool_choice: auto}", request())


SCHEMA_FORMAT = {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}


@pytest.mark.parametrize(
    ("condition", "fmt", "expected"),
    [
        ("text", None, True),  # no response_format asks for text
        ("text", {"type": "text"}, True),
        ("text", {"type": "json_object"}, False),
        ("json_object", {"type": "json_object"}, True),
        ("json_object", None, False),
        ("json_schema", SCHEMA_FORMAT, True),
        ("json_schema", {"type": "json_object"}, False),
    ],
)
def test_response_format(condition: str, fmt: Mapping[str, Any] | None, expected: bool) -> None:
    assert holds(f"{{response_format: {condition}}}", request(response_format=fmt)) is expected


def test_response_format_must_be_a_known_format() -> None:
    with pytest.raises(Exception, match="response_format is one of"):
        one_rule("{response_format: yaml}")


# --- tool_result ------------------------------------------------------------------------------

SEARCH_CALL = ToolCall("call_2", "search", '{"q": "x"}')
ENDS_WITH_WEATHER = request(*TOOL_ROUND)
ENDS_WITH_ERROR = request(
    user("weather?"), assistant("", WEATHER_CALL), result("call_1", "city unknown", is_error=True)
)
ENDS_WITH_PARALLEL = request(
    user("weather and search"),
    assistant("", WEATHER_CALL, SEARCH_CALL),
    result("call_1", "sunny"),
    result("call_2", "found it"),
)
RESULT_THEN_USER = request(*TOOL_ROUND, assistant("It is sunny."), user("thanks"))
NO_TOOLS = request(user("hello"))


@pytest.mark.parametrize(
    ("condition", "req", "expected"),
    [
        ("true", ENDS_WITH_WEATHER, True),
        ("true", ENDS_WITH_ERROR, True),
        ("true", NO_TOOLS, False),
        ("true", RESULT_THEN_USER, False),  # a result earlier in the history is not the end
        ("false", NO_TOOLS, True),
        ("false", RESULT_THEN_USER, True),
        ("false", ENDS_WITH_WEATHER, False),
        ("{present: false}", NO_TOOLS, True),
        ("{present: false}", ENDS_WITH_WEATHER, False),
        # the tool is found through the call id in the history
        ("{tool: get_weather}", ENDS_WITH_WEATHER, True),
        ("{tool: search}", ENDS_WITH_WEATHER, False),
        ("{tool: {glob: 'get_*'}}", ENDS_WITH_WEATHER, True),
        ("{tool: {regex: 'get'}}", ENDS_WITH_WEATHER, False),
        # parallel results: the last of them
        ("{tool: search}", ENDS_WITH_PARALLEL, True),
        ("{tool: get_weather}", ENDS_WITH_PARALLEL, False),
        ("{content: {contains: sunny}}", ENDS_WITH_WEATHER, True),
        ("{content: sunny}", ENDS_WITH_WEATHER, False),
        ("{content: {regex: '\\d+C$'}}", ENDS_WITH_WEATHER, True),
        ("{is_error: true}", ENDS_WITH_ERROR, True),
        ("{is_error: true}", ENDS_WITH_WEATHER, False),
        ("{is_error: false}", ENDS_WITH_WEATHER, True),
        ("{is_error: false}", ENDS_WITH_ERROR, False),
        ("{is_error: false}", NO_TOOLS, False),  # a mapping means there is a result
        ("{tool: get_weather, content: {contains: sunny}}", ENDS_WITH_WEATHER, True),
        ("{tool: get_weather, content: {contains: rain}}", ENDS_WITH_WEATHER, False),
        ("{tool: get_weather, is_error: true}", ENDS_WITH_ERROR, True),
    ],
)
def test_tool_result(condition: str, req: ChatRequest, expected: bool) -> None:
    assert holds(f"{{tool_result: {condition}}}", req) is expected


def test_tool_result_of_an_unknown_call_id_falls_back_to_the_message_name() -> None:
    req = request(user("q"), Message("tool", (TextPart("42"),), name="legacy_fn"))
    assert holds("{tool_result: {tool: legacy_fn}}", req)


# --- counts: turn, tool_calls_before ----------------------------------------------------------

TURN_1 = request(system("s"), user("a"))
TURN_2 = request(user("a"), assistant("b"), user("c"))
TURN_3 = request(user("a"), assistant("b"), user("c"), assistant("d"), user("e"))


@pytest.mark.parametrize(
    ("condition", "req", "expected"),
    [
        ("1", TURN_1, True),
        ("1", TURN_2, False),
        ("2", TURN_2, True),
        ("{min: 2}", TURN_1, False),
        ("{min: 2}", TURN_2, True),
        ("{min: 2}", TURN_3, True),
        ("{max: 2}", TURN_3, False),
        ("{max: 2}", TURN_1, True),
        ("{min: 2, max: 2}", TURN_2, True),
        ("{min: 2, max: 3}", TURN_3, True),
        ("{min: 2, max: 3}", TURN_1, False),
        # a tool round does not add a user turn
        ("1", ENDS_WITH_WEATHER, True),
    ],
)
def test_turn(condition: str, req: ChatRequest, expected: bool) -> None:
    assert holds(f"{{turn: {condition}}}", req) is expected


TWO_ROUNDS = request(
    user("q"),
    assistant("", WEATHER_CALL),
    result("call_1", "sunny"),
    assistant("", SEARCH_CALL, ToolCall("call_3", "search", "{}")),
    result("call_2", "a"),
    result("call_3", "b"),
)


@pytest.mark.parametrize(
    ("condition", "req", "expected"),
    [
        ("0", NO_TOOLS, True),
        ("0", ENDS_WITH_WEATHER, False),
        ("1", ENDS_WITH_WEATHER, True),
        ("2", ENDS_WITH_PARALLEL, True),  # parallel calls count one each
        ("3", TWO_ROUNDS, True),
        ("{min: 1}", NO_TOOLS, False),
        ("{min: 1}", TWO_ROUNDS, True),
        ("{max: 2}", TWO_ROUNDS, False),
        ("{max: 2}", ENDS_WITH_PARALLEL, True),
        ("{min: 1, max: 2}", ENDS_WITH_WEATHER, True),
    ],
)
def test_tool_calls_before(condition: str, req: ChatRequest, expected: bool) -> None:
    assert holds(f"{{tool_calls_before: {condition}}}", req) is expected


@pytest.mark.parametrize("bad", ["{min: 3, max: 1}", "{min: -1}", "{most: 2}", "two", "true"])
def test_bad_counts_are_config_errors(bad: str) -> None:
    with pytest.raises(Exception, match=r"f\.yml:\d+:\d+"):
        one_rule(f"{{turn: {bad}}}")


# --- headers and metadata ---------------------------------------------------------------------

HEADERS = {"x-test-id": "test_checkout_42", "user-agent": "OpenAI/Python 3.57.0"}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("{x-test-id: test_checkout_42}", True),
        ("{X-Test-ID: test_checkout_42}", True),  # names are case-insensitive
        ("{X-TEST-ID: {contains: checkout}}", True),
        ("{x-test-id: {regex: '_\\d+$'}}", True),
        ("{x-test-id: test_login}", False),
        ("{x-test-id: {iexact: TEST_CHECKOUT_42}}", True),
        ("{x-missing: ''}", False),  # an absent header fails even an empty condition
        ("{x-test-id: test_checkout_42, User-Agent: {icontains: openai/python}}", True),
        ("{x-test-id: test_checkout_42, User-Agent: {contains: Anthropic}}", False),
    ],
)
def test_headers(condition: str, expected: bool) -> None:
    assert holds(f"{{headers: {condition}}}", request(headers=HEADERS)) is expected


METADATA = {"user_id": "alice", "suite": "smoke", "attempt": 3}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("{user_id: alice}", True),
        ("{user_id: bob}", False),
        ("{suite: {icontains: SMO}}", True),
        ("{attempt: '3'}", True),  # non-string values are matched as text
        ("{user_id: alice, suite: smoke}", True),
        ("{user_id: alice, suite: full}", False),
        ("{absent: ''}", False),
    ],
)
def test_metadata(condition: str, expected: bool) -> None:
    assert holds(f"{{metadata: {condition}}}", request(metadata=METADATA)) is expected


# --- AND semantics ----------------------------------------------------------------------------

EVERYTHING = """{
  prompt: {icontains: weather},
  any_message: {contains: sunny},
  system: {contains: brief},
  model: {glob: 'gpt-*'},
  provider: openai,
  endpoint: chat.completions,
  tools: [get_weather],
  tool_choice: auto,
  response_format: text,
  tool_result: {tool: get_weather},
  turn: 1,
  tool_calls_before: {min: 1},
  headers: {X-Test-Id: t1},
  metadata: {suite: smoke}
}"""


def everything(**changes: Any) -> ChatRequest:
    fields: dict[str, Any] = {
        "model": "gpt-4o",
        "tools": ("get_weather",),
        "headers": {"x-test-id": "t1"},
        "metadata": {"suite": "smoke"},
    }
    fields.update(changes)
    messages = fields.pop("messages", (system("be brief"), *TOOL_ROUND))
    return request(*messages, **fields)


def test_every_condition_together() -> None:
    assert holds(EVERYTHING, everything())


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"messages": (system("be brief"), user("weather?"))}, id="no-tool-result"),
        pytest.param({"messages": TOOL_ROUND}, id="no-system"),
        pytest.param({"model": "o3"}, id="model"),
        pytest.param({"provider": "anthropic"}, id="provider"),
        pytest.param({"endpoint": "messages"}, id="endpoint"),
        pytest.param({"tools": ("search",)}, id="tools"),
        pytest.param({"tool_choice": ToolChoice("none")}, id="tool_choice"),
        pytest.param({"response_format": {"type": "json_object"}}, id="response_format"),
        pytest.param({"headers": {"x-test-id": "t2"}}, id="headers"),
        pytest.param({"metadata": {}}, id="metadata"),
        pytest.param(
            {"messages": (system("be brief"), user("x"), *TOOL_ROUND)}, id="turn-and-prompt"
        ),
    ],
)
def test_one_failing_condition_fails_the_rule(changes: dict[str, Any]) -> None:
    assert not holds(EVERYTHING, everything(**changes))


def test_all_conditions_of_a_rule_must_hold_so_a_later_rule_answers() -> None:
    rules = ruleset(
        """\
rules:
  - name: both
    match: {prompt: {icontains: weather}, model: {glob: 'claude-*'}}
    reply: claude weather
  - name: weather
    match: {prompt: {icontains: weather}}
    reply: any weather
"""
    )
    assert decide(rules, request(user("weather?"), model="claude-opus-4-6")) == "both"
    assert decide(rules, request(user("weather?"), model="gpt-4o")) == "weather"
    assert decide(rules, request(user("news?"), model="claude-opus-4-6")) is None


# --- priority ---------------------------------------------------------------------------------

PRIORITIES = """\
responses:
  hello: from responses
rules:
  - name: zero-a
    match: {prompt: {icontains: hello}}
    reply: zero a
  - name: negative
    priority: -5
    reply: negative
  - name: high
    priority: 10
    match: {prompt: {icontains: hello}, model: gpt-4o}
    reply: high
  - name: zero-b
    match: {prompt: {icontains: hello}}
    reply: zero b
  - name: low-positive
    priority: 1
    match: {prompt: {contains: there}}
    reply: low positive
"""


@pytest.mark.parametrize(
    ("prompt", "model", "rule", "text"),
    [
        ("hello", "gpt-4o", "high", "high"),  # priority 10 first, before responses
        ("hello", "gpt-4", "responses", "from responses"),  # then responses
        ("hello there", "gpt-4", "low-positive", "low positive"),  # positive beats responses
        ("well hello", "gpt-4", "zero-a", "zero a"),  # equal priority: file order
        ("bye", "gpt-4", "negative", "negative"),  # negative priority after priority 0
    ],
)
def test_priority_order(prompt: str, model: str, rule: str, text: str) -> None:
    rules = ruleset(PRIORITIES)
    answer = rules.answer(request(user(prompt), model=model))
    assert (answer.rule, answer.text) == (rule, text)
    assert decide(rules, request(user(prompt), model=model)) == rule


def test_compiled_rules_are_sorted_by_priority_keeping_file_order() -> None:
    rules = ruleset(PRIORITIES)
    assert [r.name for r in rules.rules] == ["high", "low-positive", "zero-a", "zero-b", "negative"]
    assert [r.name for r in rules.first] == ["high", "low-positive"]


def test_zero_priority_rule_comes_after_responses() -> None:
    rules = ruleset(
        "responses: {hi: from responses}\n"
        "rules:\n  - {name: zero, match: {prompt: hi}, reply: rule}\n"
        "  - {name: one, priority: 1, match: {prompt: hi}, reply: first}\n"
    )
    assert rules.answer(request(user("hi"))).rule == "one"
    assert rules.answer(request(user("HI"))).rule == "responses"  # exact is case-sensitive
    no_priority = ruleset(
        "responses: {hi: from responses}\nrules:\n  - {name: zero, match: {prompt: hi}, "
        "reply: rule}\n"
    )
    assert no_priority.answer(request(user("hi"))).text == "from responses"


# --- closest(): what strict mode reports ------------------------------------------------------

CLOSEST = """\
rules:
  - name: weather-claude
    match: {prompt: {icontains: weather}, model: {glob: 'claude-*'}}
    reply: a
  - name: tool-answer
    match:
      tool_result: {tool: get_weather}
      tools: [get_weather]
      headers: {X-Test: abc}
    reply: b
  - name: far
    match: {prompt: nothing, system: nothing, turn: 5}
    reply: c
  - name: catch-all
    reply: d
"""


def test_closest_names_the_rules_and_their_failed_conditions() -> None:
    rules = ruleset(CLOSEST)
    conv = Conversation(request(user("The weather?"), model="gpt-4o"))
    found = rules.closest(conv)
    assert len(found) == 3
    # best first: half of its conditions held
    assert found[0].startswith("'weather-claude' (f.yml:2:")
    assert "failed model glob 'claude-*'" in found[0]
    assert "icontains" not in found[0]  # a condition that held is not listed
    tool = next(line for line in found if line.startswith("'tool-answer'"))
    assert "the last message is a tool result of tool exact 'get_weather'" in tool
    assert "tools offered include ['get_weather']" in tool
    assert "header x-test exact 'abc'" in tool
    far = next(line for line in found if line.startswith("'far'"))
    assert "prompt exact 'nothing'" in far
    assert "system exact 'nothing'" in far
    assert "turn = 5" in far
    # a rule without conditions is never "close": it would have matched
    assert not any("catch-all" in line for line in found)


@pytest.mark.parametrize(
    ("match", "req", "fragment"),
    [
        ("{any_message: {contains: zzz}}", NO_TOOLS, "some message contains 'zzz'"),
        ("{provider: {glob: 'anth*'}}", NO_TOOLS, "provider glob 'anth*'"),
        ("{endpoint: messages}", NO_TOOLS, "endpoint exact 'messages'"),
        ("{tools: []}", request(tools=("f",)), "no tools offered"),
        ("{tool_choice: any}", NO_TOOLS, "tool_choice = 'any'"),
        ("{response_format: json_object}", NO_TOOLS, "response_format = 'json_object'"),
        ("{tool_result: false}", ENDS_WITH_WEATHER, "the last message is not a tool result"),
        (
            "{tool_result: {content: {contains: rain}, is_error: true}}",
            ENDS_WITH_WEATHER,
            "the last message is a tool result whose content contains 'rain' reporting an error",
        ),
        ("{turn: {min: 2, max: 4}}", NO_TOOLS, "turn >= 2 and <= 4"),
        ("{tool_calls_before: {min: 1}}", NO_TOOLS, "tool calls before >= 1"),
        ("{metadata: {suite: smoke}}", NO_TOOLS, "metadata suite exact 'smoke'"),
    ],
)
def test_closest_describes_every_kind_of_condition(
    match: str, req: ChatRequest, fragment: str
) -> None:
    found = one_rule(match).closest(Conversation(req))
    assert found == [f"'it' (f.yml:2:5): failed {fragment}"]


def test_closest_limit_and_order() -> None:
    rules = ruleset(
        "rules:\n"
        + "".join(
            f"  - {{name: r{i}, match: {{prompt: p{i}, model: gpt-4o}}, reply: x}}\n"
            for i in range(5)
        )
        + "  - {name: best, match: {prompt: nope, model: gpt-4o, provider: openai}, reply: x}\n"
    )
    found = rules.closest(Conversation(request(user("hello"))))
    # 'best' held 2 of 3; the others 1 of 2; ties keep file order
    assert [line.split("'")[1] for line in found] == ["best", "r0", "r1"]
    assert len(rules.closest(Conversation(request(user("hello"))), limit=10)) == 6


def test_closest_of_a_config_without_rules_is_empty() -> None:
    assert ruleset("responses: {a: b}\n").closest(Conversation(NO_TOOLS)) == []


def test_closest_names_the_file_by_its_base_name_only() -> None:
    text = (
        "rules:\n  - {name: it, match: {prompt: a}, reply: x}\n  - {match: {prompt: b}, reply: y}\n"
    )
    rules = parse_config(text, "/home/someone/project/configs/rules.yml").rules
    found = rules.closest(Conversation(request(user("c"))))
    assert found == [
        "'it' (rules.yml:2:5): failed prompt exact 'a'",
        "rule #2 at rules.yml:3:5: failed prompt exact 'b'",
    ]


# --- regular expressions: re syntax, a time budget per match --------------------------------


@pytest.mark.parametrize(
    ("match", "text", "expected"),
    [
        ("{prompt: {regex: '(?i)^hello\\b'}}", "Hello there", True),
        ("{prompt: {regex: 'wor(?=ld)'}}", "hello world", True),  # searched anywhere
        ("{prompt: {regex: '(?P<w>o)(?P=w)'}}", "foo", True),
        ("{prompt: {regex: '\\d{3}'}}", "ab12c", False),
        ("{prompt: {regex: '\\d'}}", "\u0663", True),  # Unicode digits, as re does
        ("{prompt: {regex: '(?>a+)b'}}", "aab", True),  # atomic groups (Python 3.11 re)
        ("{prompt: {regex: 'x{e<=1}'}}", "y", False),  # literal braces, not fuzzy matching
        ("{prompt: {regex: 'x{e<=1}'}}", "say x{e<=1}", True),
        ("{model: {regex: 'gpt-4o'}}", "gpt-4o-mini", False),  # the whole name
        ("{model: {glob: 'gpt-4o*'}}", "gpt-4o-mini", True),
    ],
)
def test_regexes_keep_the_semantics_of_python_re(match: str, text: str, expected: bool) -> None:
    req = request(user(text), model=text if "model" in match else "gpt-4o")
    assert holds(match, req) is expected


@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")
def test_a_bracket_inside_a_set_is_a_character_as_in_python_re() -> None:
    # re reads '[[:alpha:]]+' as the set '[:alph' then ']+' (and warns); regex, as a class
    match = "{prompt: {regex: '^[[:alpha:]]+$'}}"
    assert not holds(match, request(user("alpha")))
    assert holds(match, request(user("a]]")))


@pytest.mark.parametrize("pattern", ["\\p{L}", "(?V1)a", "(?r)a", "(?|a)"])
def test_regex_syntax_beyond_python_re_is_a_config_error(pattern: str) -> None:
    with pytest.raises(ConfigError) as caught:
        one_rule(f"{{prompt: {{regex: '{pattern}'}}}}")
    assert "match.prompt.regex: invalid regex" in str(caught.value)


EVIL = "a" * 40 + "!"  # minutes for '^(a|aa)+$' without a budget


@pytest.mark.parametrize(
    ("match", "req"),
    [
        ("{prompt: {regex: '^(a|aa)+$'}}", request(user(EVIL))),
        ("{system: {regex: '^(a|aa)+$'}}", request(system(EVIL), user("x"))),
        ("{any_message: {regex: '^(a|aa)+$'}}", request(*[user(EVIL)] * 20)),
        ("{model: {regex: '(a|aa)+'}}", request(user("x"), model=EVIL[:-1] + "b")),
        ("{headers: {x-a: {regex: '^(a|aa)+$'}}}", request(user("x"), headers={"x-a": EVIL})),
        ("{metadata: {k: {regex: '^(a|aa)+$'}}}", request(user("x"), metadata={"k": EVIL})),
        (
            "{tool_result: {content: {regex: '^(a|aa)+$'}}}",
            request(user("x"), assistant("", ToolCall("c1", "f", "{}")), result("c1", EVIL)),
        ),
    ],
    ids=["prompt", "system", "any_message", "model", "header", "metadata", "tool_result"],
)
def test_a_regex_past_its_budget_does_not_hold_and_costs_its_budget_once(
    match: str, req: ChatRequest, caplog: pytest.LogCaptureFixture
) -> None:
    limits = Limits(regex_timeout_ms=20)
    rules = parse_config(
        f"rules:\n  - name: it\n    match: {match}\n    reply: matched\n", "f.yml", limits
    ).rules
    started = time.monotonic()
    assert decide(rules, req) is None
    assert time.monotonic() - started < 0.5  # any_message: one budget for all messages
    [record] = [r for r in caplog.records if r.name == "mockllm.rules"]
    assert record.levelname == "WARNING"
    assert record.getMessage().startswith("rule 'it': ")
    assert "was stopped after 20 ms (MOCKLLM_LIMIT_REGEX_TIMEOUT_MS)" in record.getMessage()
    assert "the condition does not hold" in record.getMessage()


def test_timeout_warnings_are_rate_limited_per_rule_and_condition(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limits = Limits(regex_timeout_ms=5)
    text = (
        "rules:\n"
        "  - {name: one, match: {prompt: {regex: '^(a|aa)+$'}}, reply: x}\n"
        "  - {name: two, match: {prompt: {regex: '^(a|aa)+$'}}, reply: y}\n"
    )
    rules = parse_config(text, "f.yml", limits).rules
    for _ in range(5):
        assert decide(rules, request(user(EVIL))) is None
    messages = [r.getMessage() for r in caplog.records if r.name == "mockllm.rules"]
    assert [m.split(":")[0] for m in messages] == ["rule 'one'", "rule 'two'"]


def test_the_rate_limited_log_counts_what_it_held_back(caplog: pytest.LogCaptureFixture) -> None:
    log = RateLimitedLog(logging.getLogger("mockllm.rules"), interval=0.05)
    for _ in range(3):
        log.warning("k", "slow")
    time.sleep(0.06)
    log.warning("k", "slow")
    messages = [r.getMessage() for r in caplog.records if r.name == "mockllm.rules"]
    assert messages == ["slow", "slow (2 more time(s) in the last 0 s)"]


@pytest.mark.parametrize(
    "pattern",
    [
        "^(a+)+$",
        "(a|aa)*",
        "(.*)*",
        "^(\\w+\\s?)*$",
        "^([a-z]+|[0-9]+)*$",
        "(x+x+)+y",
        "(.*a){20}",
        "^(.*?,)*$",
        "((ab)*)*c",
        "(?:\\d|\\d\\d)+$",
    ],
)
def test_backtracking_risk_spots_nested_quantifiers(pattern: str) -> None:
    assert backtracking_risk(pattern) is not None


@pytest.mark.parametrize(
    "pattern",
    [
        "^weather",
        "(?i)hello\\s+world",
        "(a|b)*",
        "(\\d+\\.){3}\\d+",
        "([^,]*,)*",
        "(a+b)*",
        "(\\s*,\\s*\\w+)*",
        "(https?://)+",
        "(a|ab)*c",
        "(foo|bar)+",
        "^gpt-4o(-mini)?$",
        "(?>a+)+b",
        "(a++)+b",
        "^(?:[a-z0-9-]+\\.)*example\\.com$",
        "[",  # not even a pattern: no opinion
    ],
)
def test_backtracking_risk_leaves_ordinary_patterns_alone(pattern: str) -> None:
    assert backtracking_risk(pattern) is None
