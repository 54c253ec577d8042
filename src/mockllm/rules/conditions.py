"""A rule's match compiled into named conditions, each a predicate over a conversation.

Each condition carries a description (``prompt contains 'weather'``) so that diagnostics
can say which conditions of the closest rules failed.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..core.conversation import Conversation
from .schema import Count, Match, NameCondition, TextCondition, ToolResultCondition

TextTest = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition of a rule: its field, a description, and the test."""

    field: str
    description: str
    test: Callable[[Conversation], bool]


def text_predicate(condition: TextCondition) -> TextTest:
    """A predicate for a text condition. Raises ``re.error`` for a bad regex."""
    if condition.exact is not None:
        exact = condition.exact.strip()
        return lambda text: text.strip() == exact
    if condition.iexact is not None:
        folded = condition.iexact.strip().casefold()
        return lambda text: text.strip().casefold() == folded
    if condition.contains is not None:
        needle = condition.contains
        return lambda text: needle in text
    if condition.icontains is not None:
        folded_needle = condition.icontains.casefold()
        return lambda text: folded_needle in text.casefold()
    assert condition.regex is not None
    pattern = re.compile(condition.regex)
    return lambda text: pattern.search(text) is not None


def name_predicate(condition: NameCondition) -> TextTest:
    """A predicate for a name condition. Raises ``re.error`` for a bad regex."""
    if condition.exact is not None:
        exact = condition.exact
        return lambda name: name == exact
    if condition.glob is not None:
        pattern = re.compile(fnmatch.translate(condition.glob))
    else:
        assert condition.regex is not None
        pattern = re.compile(condition.regex)
    return lambda name: pattern.fullmatch(name) is not None


def describe(condition: TextCondition | NameCondition) -> str:
    """``contains 'weather'`` for a condition given as ``{contains: weather}``."""
    for key, value in condition.model_dump().items():
        if value is not None:
            return f"{key} {value!r}"
    return "?"


def _count(count: Count) -> Callable[[int], bool]:
    low = count.min if count.min is not None else 0
    high = count.max
    return lambda n: n >= low and (high is None or n <= high)


def _describe_count(count: Count) -> str:
    if count.min == count.max:
        return f"= {count.min}"
    parts = []
    if count.min is not None:
        parts.append(f">= {count.min}")
    if count.max is not None:
        parts.append(f"<= {count.max}")
    return " and ".join(parts) or "any"


def _tool_result(condition: ToolResultCondition) -> Callable[[Conversation], bool]:
    tool = name_predicate(condition.tool) if condition.tool is not None else None
    content = text_predicate(condition.content) if condition.content is not None else None
    if not condition.present:
        return lambda conv: conv.last_tool_result is None

    def test(conv: Conversation) -> bool:
        last = conv.last_tool_result
        if last is None:
            return False
        if tool is not None and not tool(last.tool):
            return False
        if content is not None and not content(last.content):
            return False
        return condition.is_error is None or last.is_error == condition.is_error

    return test


def _describe_tool_result(condition: ToolResultCondition) -> str:
    if not condition.present:
        return "the last message is not a tool result"
    parts = ["the last message is a tool result"]
    if condition.tool is not None:
        parts.append(f"of tool {describe(condition.tool)}")
    if condition.content is not None:
        parts.append(f"whose content {describe(condition.content)}")
    if condition.is_error is not None:
        parts.append("reporting an error" if condition.is_error else "reporting success")
    return " ".join(parts)


def _text_field(
    field: str, condition: TextCondition, read: Callable[[Conversation], str]
) -> Condition:
    test = text_predicate(condition)
    return Condition(field, f"{field} {describe(condition)}", lambda conv: test(read(conv)))


def _name_field(
    field: str, condition: NameCondition, read: Callable[[Conversation], str]
) -> Condition:
    test = name_predicate(condition)
    return Condition(field, f"{field} {describe(condition)}", lambda conv: test(read(conv)))


def _tool_choice(conv: Conversation) -> str:
    choice = conv.request.tool_choice
    return choice.name or "" if choice.mode == "named" else choice.mode


def _format(conv: Conversation) -> str:
    fmt = conv.request.response_format
    return str(fmt.get("type", "text")) if fmt else "text"


def _header(name: str, condition: TextCondition) -> Condition:
    test = text_predicate(condition)

    def holds(conv: Conversation) -> bool:
        value = conv.request.headers.get(name)
        return value is not None and test(value)

    return Condition("headers", f"header {name} {describe(condition)}", holds)


def _metadata(key: str, condition: TextCondition) -> Condition:
    test = text_predicate(condition)

    def holds(conv: Conversation) -> bool:
        value = conv.request.metadata.get(key)
        return value is not None and test(str(value))

    return Condition("metadata", f"metadata {key} {describe(condition)}", holds)


def compile_match(match: Match) -> tuple[Condition, ...]:
    """The conditions of ``match``, cheapest first. Raises ``re.error`` for a bad regex."""
    out: list[Condition] = []
    if match.model is not None:
        out.append(_name_field("model", match.model, lambda c: c.request.model))
    if match.provider is not None:
        out.append(_name_field("provider", match.provider, lambda c: c.request.provider))
    if match.endpoint is not None:
        out.append(_name_field("endpoint", match.endpoint, lambda c: c.request.endpoint))
    if match.tool_choice is not None:
        wanted = "required" if match.tool_choice == "any" else match.tool_choice
        out.append(
            Condition(
                "tool_choice",
                f"tool_choice = {match.tool_choice!r}",
                lambda c: _tool_choice(c) == wanted,
            )
        )
    if match.response_format is not None:
        fmt = match.response_format
        out.append(
            Condition("response_format", f"response_format = {fmt!r}", lambda c: _format(c) == fmt)
        )
    if match.tools is not None:
        names = frozenset(match.tools)
        if names:
            out.append(
                Condition(
                    "tools",
                    f"tools offered include {sorted(names)}",
                    lambda c: names <= {t.name for t in c.request.tools},
                )
            )
        else:
            out.append(Condition("tools", "no tools offered", lambda c: not c.request.tools))
    if match.prompt is not None:
        out.append(_text_field("prompt", match.prompt, lambda c: c.request.prompt))
    if match.system is not None:
        out.append(_text_field("system", match.system, lambda c: c.request.system))
    if match.any_message is not None:
        test = text_predicate(match.any_message)
        out.append(
            Condition(
                "any_message",
                f"some message {describe(match.any_message)}",
                lambda c: any(test(m.text) for m in c.request.messages),
            )
        )
    if match.tool_result is not None:
        out.append(
            Condition(
                "tool_result",
                _describe_tool_result(match.tool_result),
                _tool_result(match.tool_result),
            )
        )
    if match.turn is not None:
        in_range = _count(match.turn)
        out.append(
            Condition(
                "turn", f"turn {_describe_count(match.turn)}", lambda c: in_range(c.user_turns)
            )
        )
    if match.tool_calls_before is not None:
        calls_in_range = _count(match.tool_calls_before)
        out.append(
            Condition(
                "tool_calls_before",
                f"tool calls before {_describe_count(match.tool_calls_before)}",
                lambda c: calls_in_range(len(c.tool_calls)),
            )
        )
    for header, condition in (match.headers or {}).items():
        out.append(_header(header.lower(), condition))
    for key, condition in (match.metadata or {}).items():
        out.append(_metadata(key, condition))
    return tuple(out)
