"""A rule's match compiled into named conditions, each a predicate over a conversation.

Each condition carries a description (``prompt contains 'weather'``) so that diagnostics
can say which conditions of the closest rules failed.

Regular expressions (``regex``, and ``glob`` once translated) run on the ``regex`` engine
in its ``V0`` mode (the syntax and semantics of Python's :mod:`re`; a pattern must compile
with both) with a time budget per match (``Limits.regex_timeout_ms``): a match that runs
out of time means the condition does not hold, and a warning is logged (at most once a
minute per rule and condition), so that a pattern that backtracks catastrophically on some
text costs one request a few milliseconds instead of stalling the server.
:func:`backtracking_risk` spots such patterns at load, for a warning.
"""

from __future__ import annotations

import fnmatch
import importlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import regex

from ..core.conversation import Conversation
from ..core.limits import Limits
from .schema import Count, Match, NameCondition, TextCondition, ToolResultCondition

TextTest = Callable[[str], bool]

log = logging.getLogger("mockllm.rules")


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition of a rule: its field, a description, and the test."""

    field: str
    description: str
    test: Callable[[Conversation], bool]


class RateLimitedLog:
    """Logs a warning to ``logger`` once per key and ``interval`` seconds, counting the ones
    it held back (a bad pattern hit by a flood of requests logs one line a minute, not one
    a request)."""

    def __init__(self, logger: logging.Logger, interval: float = 60.0, max_keys: int = 1024):
        self.logger = logger
        self.interval = interval
        self.max_keys = max_keys
        self._seen: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def warning(self, key: str, message: str) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._seen.get(key)
            if last is not None and now - last[0] < self.interval:
                self._seen[key] = (last[0], last[1] + 1)
                return
            if len(self._seen) >= self.max_keys:  # old rules, after many reloads
                self._seen.clear()
            self._seen[key] = (now, 0)
        held = last[1] if last is not None else 0
        if held:
            message += f" ({held} more time(s) in the last {self.interval:.0f} s)"
        self.logger.warning("%s", message)


regex_warnings = RateLimitedLog(log)
"""Where regex conditions that ran out of time are reported."""


_RE_QUANTIFIER = re.compile(r"\{\d*(?:,\d*)?\}")
"""A brace :mod:`re` reads as a repeat count (``{2}``, ``{2,}``, ``{,3}``, ``{2,3}``)."""


def as_re_reads_it(pattern: str, verbose: bool = False) -> str:
    """``pattern`` (valid for :mod:`re`) written so that the ``regex`` engine (``V0``)
    reads it as :mod:`re` does: a brace :mod:`re` takes literally is escaped (``regex``
    would read ``a{e<=1}`` as fuzzy matching), and so is a ``[`` inside a set (``regex``
    would read ``[[:alpha:]]`` as a POSIX class). ``verbose``: the pattern is in
    :data:`re.VERBOSE` mode (comments are copied as they are)."""
    out: list[str] = []
    i, end = 0, len(pattern)
    in_set = False
    set_start = 0
    while i < end:
        char = pattern[i]
        if char == "\\":
            stop = i + 2
            if pattern.startswith("N{", i + 1):  # a named character, \N{EM DASH}
                close = pattern.find("}", i)
                stop = end if close < 0 else close + 1
            out.append(pattern[i:stop])
            i = stop
            continue
        if in_set:
            if char == "]" and i > set_start:
                in_set = False
            out.append("\\[" if char == "[" else char)
            i += 1
            continue
        if char == "[":
            in_set = True
            set_start = i + 1 + (pattern.startswith("^", i + 1))  # a first ']' is literal
        elif char == "{":
            count = _RE_QUANTIFIER.match(pattern, i)
            if count is None:
                out.append("\\{")
                i += 1
                continue
            out.append(count.group())
            i = count.end()
            continue
        elif char == "#" and verbose:
            close = pattern.find("\n", i)
            stop = end if close < 0 else close
            out.append(pattern[i:stop])
            i = stop
            continue
        out.append(char)
        i += 1
    return "".join(out)


def compile_pattern(pattern: str, flags: int = 0) -> regex.Pattern[str]:
    """``pattern`` compiled for the ``regex`` engine with Python :mod:`re` syntax and
    semantics (``V0``, :func:`as_re_reads_it`). Raises ``re.error`` when :mod:`re`
    rejects it and ``regex.error`` when ``regex`` does."""
    compiled = re.compile(pattern, flags)
    verbose = bool(compiled.flags & re.VERBOSE)
    return regex.compile(as_re_reads_it(pattern, verbose), flags | regex.V0)


class GuardedRegex:
    """A config regex with a time budget: :meth:`__call__` says whether it is found in a
    text (``search``) or matches all of it (``fullmatch``); a match that runs out of time
    counts as no match and is logged (rate-limited) naming ``what`` (the rule and field)."""

    __slots__ = ("pattern", "compiled", "full", "what", "timeout_ms", "_find", "_seconds")

    def __init__(
        self, pattern: str, *, full: bool, what: str, limits: Limits, shown: str | None = None
    ) -> None:
        self.pattern = shown if shown is not None else pattern
        self.compiled = compile_pattern(pattern)
        self.full = full
        self.what = what
        self.timeout_ms = limits.regex_timeout_ms
        self._find = self.compiled.fullmatch if full else self.compiled.search
        self._seconds = self.timeout_ms / 1000

    def __call__(self, text: str) -> bool:
        try:
            return self._find(text, timeout=self._seconds) is not None
        except TimeoutError:
            self._timed_out(len(text))
            return False

    def first_of(self, texts: Iterable[str]) -> bool:
        """Whether the pattern matches one of ``texts``, all of them sharing one budget."""
        deadline = time.monotonic() + self._seconds
        for text in texts:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                if self._find(text, timeout=remaining) is not None:
                    return True
            except TimeoutError:
                self._timed_out(len(text))
                return False
        return False

    def _timed_out(self, length: int) -> None:
        regex_warnings.warning(
            f"{self.what}\x00{self.pattern}",
            f"{self.what} {self.pattern!r} was stopped after {self.timeout_ms} ms "
            f"(MOCKLLM_LIMIT_REGEX_TIMEOUT_MS) on a {length}-character text: the condition "
            "does not hold (the pattern backtracks catastrophically on such texts; "
            "`mockllm validate` warns about it)",
        )


def text_predicate(
    condition: TextCondition, *, what: str = "a condition", limits: Limits | None = None
) -> TextTest:
    """A predicate for a text condition; a ``regex`` is searched anywhere in the text
    (:class:`GuardedRegex`, ``what`` naming it in warnings). Raises ``re.error`` or
    ``regex.error`` for a bad regex."""
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
    return GuardedRegex(
        condition.regex, full=False, what=f"{what} regex", limits=limits or Limits()
    )


def name_predicate(
    condition: NameCondition, *, what: str = "a condition", limits: Limits | None = None
) -> TextTest:
    """A predicate for a name condition: ``exact``, or a ``glob`` or ``regex`` matching
    the whole name (:class:`GuardedRegex`). Raises ``re.error`` or ``regex.error`` for a
    bad regex."""
    if condition.exact is not None:
        exact = condition.exact
        return lambda name: name == exact
    if condition.glob is not None:
        return GuardedRegex(
            fnmatch.translate(condition.glob),
            full=True,
            what=f"{what} glob",
            limits=limits or Limits(),
            shown=condition.glob,
        )
    assert condition.regex is not None
    return GuardedRegex(condition.regex, full=True, what=f"{what} regex", limits=limits or Limits())


# --- catastrophic backtracking, spotted at load ----------------------------------------------

_PROBES = frozenset(
    [chr(c) for c in range(128)] + list("\u00a0\u00e9\u00df\u0416\u0663\u2028\u4e2d\U0001f600")
)
_CATEGORIES = {
    "CATEGORY_DIGIT": re.compile(r"\d"),
    "CATEGORY_NOT_DIGIT": re.compile(r"\D"),
    "CATEGORY_SPACE": re.compile(r"\s"),
    "CATEGORY_NOT_SPACE": re.compile(r"\S"),
    "CATEGORY_WORD": re.compile(r"\w"),
    "CATEGORY_NOT_WORD": re.compile(r"\W"),
    "CATEGORY_LINEBREAK": re.compile(r"\n"),
    "CATEGORY_NOT_LINEBREAK": re.compile(r"[^\n]"),
}
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT")
_NOTHING: frozenset[str] = frozenset()


class _Conflict(Exception):
    """A repeated part of the pattern can match the same text in more than one way."""


class _Ambiguity:
    """The heuristic behind :func:`backtracking_risk`, over :mod:`re`'s parse tree.

    Inside a part repeated more than once, a choice (repeat once more or stop; take this
    alternative or that one) whose options can consume the same next character lets the
    engine split one text in exponentially many ways before it fails: ``(a+)+``,
    ``(a|aa)*``, ``(.*)*``, ``(\\w+\\s?)*``. Each part is summed up by the characters it
    may start with (among probe characters) and whether it may match nothing."""

    def __init__(self, parsed: Any) -> None:
        self.fold = bool(parsed.state.flags & re.IGNORECASE)
        self.universe = frozenset(_PROBES | self._literals(parsed))

    @staticmethod
    def _literals(parsed: Any) -> set[str]:
        """Every character the pattern names (literals, range bounds)."""
        out: set[str] = set()
        todo: list[Any] = [parsed]
        while todo:
            item = todo.pop()
            if hasattr(item, "data"):  # a parsed sub-pattern
                todo.extend(item.data)
            elif isinstance(item, tuple) and len(item) == 2 and not isinstance(item[0], tuple):
                name = str(item[0])
                if name in ("LITERAL", "NOT_LITERAL"):
                    out.add(chr(item[1]))
                elif name == "RANGE":
                    out.update((chr(item[1][0]), chr(item[1][1])))
                else:
                    todo.append(item[1])
            elif isinstance(item, list | tuple):
                todo.extend(item)
        return out

    def _norm(self, chars: Iterable[str]) -> frozenset[str]:
        return frozenset(c.lower() for c in chars) if self.fold else frozenset(chars)

    def _in_set(self, items: Any, char: str) -> bool:
        negate = False
        found = False
        for op, av in items:
            name = str(op)
            if name == "NEGATE":
                negate = True
            elif name == "LITERAL":
                found = found or char == chr(av)
            elif name == "RANGE":
                found = found or av[0] <= ord(char) <= av[1]
            elif name == "CATEGORY":
                test = _CATEGORIES.get(str(av))
                found = found or test is None or test.match(char) is not None
            else:
                found = True
        return found != negate

    def _chars(self, test: Callable[[str], bool]) -> frozenset[str]:
        return self._norm(c for c in self.universe if test(c) or (self.fold and test(c.swapcase())))

    def first_item(self, op: Any, av: Any) -> tuple[frozenset[str], bool]:
        """The characters the part ``(op, av)`` may start with, and whether it may be empty."""
        name = str(op)
        if name == "LITERAL":
            return self._norm((chr(av),)), False
        if name == "NOT_LITERAL":
            return self._chars(lambda c: c != chr(av)), False
        if name == "ANY":
            return self.universe, False
        if name == "IN":
            return self._chars(lambda c: self._in_set(av, c)), False
        if name in ("AT", "ASSERT", "ASSERT_NOT"):
            return _NOTHING, True
        if name in (*_REPEATS, "POSSESSIVE_REPEAT"):
            chars, empty = self.first(av[2])
            return chars, empty or av[0] == 0
        if name == "SUBPATTERN":
            return self.first(av[3])
        if name == "ATOMIC_GROUP":
            return self.first(av)
        if name in ("BRANCH", "GROUPREF_EXISTS"):
            alts = self._alternatives(name, av)
            firsts = [self.first(alt) for alt in alts]
            return frozenset().union(*(f for f, _ in firsts)), any(e for _, e in firsts)
        return self.universe, True  # a backreference, or anything unknown

    def first(self, seq: Sequence[Any]) -> tuple[frozenset[str], bool]:
        out: frozenset[str] = _NOTHING
        for op, av in seq:
            chars, empty = self.first_item(op, av)
            out |= chars
            if not empty:
                return out, False
        return out, True

    @staticmethod
    def _alternatives(name: str, av: Any) -> list[Any]:
        if name == "BRANCH":
            return list(av[1])
        return [av[1], av[2] if av[2] is not None else []]

    def walk(self, seq: Sequence[Any], follow: frozenset[str], in_loop: bool) -> None:
        """Check ``seq``, followed by text starting with one of ``follow``; ``in_loop``:
        inside a part repeated more than once. Raises :class:`_Conflict`."""
        items = list(seq)
        for index, (op, av) in enumerate(items):
            rest, rest_empty = self.first(items[index + 1 :])
            after = rest | follow if rest_empty else rest
            name = str(op)
            if name in _REPEATS:
                low, high, body = av
                starts, _empty = self.first(body)
                if in_loop and high != low and starts & after:
                    raise _Conflict
                if high >= 2:
                    self.walk(body, starts | after, True)
                else:
                    self.walk(body, after, in_loop)
            elif name == "POSSESSIVE_REPEAT":
                self.walk(av[2], _NOTHING, False)
            elif name == "ATOMIC_GROUP":
                self.walk(av, _NOTHING, False)
            elif name in ("ASSERT", "ASSERT_NOT"):
                self.walk(av[1], _NOTHING, False)
            elif name == "SUBPATTERN":
                self.walk(av[3], after, in_loop)
            elif name in ("BRANCH", "GROUPREF_EXISTS"):
                alts = self._alternatives(name, av)
                if in_loop:
                    options = []
                    for alt in alts:
                        chars, empty = self.first(alt)
                        options.append(chars | after if empty else chars)
                    for i, one in enumerate(options):
                        if any(one & other for other in options[i + 1 :]):
                            raise _Conflict
                for alt in alts:
                    self.walk(alt, after, in_loop)


def backtracking_risk(pattern: str) -> str | None:
    """Why ``pattern`` (valid for :mod:`re`) is likely to backtrack catastrophically on
    some text, or None. A heuristic (see :class:`_Ambiguity`): it may miss slow patterns,
    and it never fails (a pattern it cannot analyse gets None)."""
    try:
        parsed = importlib.import_module("re._parser").parse(pattern)
        checker = _Ambiguity(parsed)
        checker.walk(parsed, _NOTHING, False)
    except _Conflict:
        return (
            "a repeated part of it can match the same text in more than one way (nested "
            "quantifiers, as in '(a+)+', '(a|aa)*' or '(.*)*'), so it is likely to "
            "backtrack catastrophically on a text it does not match"
        )
    except Exception:  # the heuristic must never break loading
        return None
    return None


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


def _tool_result(
    condition: ToolResultCondition, rule: str, limits: Limits
) -> Callable[[Conversation], bool]:
    tool = (
        name_predicate(condition.tool, what=f"{rule}: tool_result.tool", limits=limits)
        if condition.tool is not None
        else None
    )
    content = (
        text_predicate(condition.content, what=f"{rule}: tool_result.content", limits=limits)
        if condition.content is not None
        else None
    )
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
    field: str,
    condition: TextCondition,
    read: Callable[[Conversation], str],
    rule: str,
    limits: Limits,
) -> Condition:
    test = text_predicate(condition, what=f"{rule}: {field}", limits=limits)
    return Condition(field, f"{field} {describe(condition)}", lambda conv: test(read(conv)))


def _name_field(
    field: str,
    condition: NameCondition,
    read: Callable[[Conversation], str],
    rule: str,
    limits: Limits,
) -> Condition:
    test = name_predicate(condition, what=f"{rule}: {field}", limits=limits)
    return Condition(field, f"{field} {describe(condition)}", lambda conv: test(read(conv)))


def _tool_choice(conv: Conversation) -> str:
    choice = conv.request.tool_choice
    return choice.name or "" if choice.mode == "named" else choice.mode


def _format(conv: Conversation) -> str:
    fmt = conv.request.response_format
    return str(fmt.get("type", "text")) if fmt else "text"


def _header(name: str, condition: TextCondition, rule: str, limits: Limits) -> Condition:
    test = text_predicate(condition, what=f"{rule}: header {name}", limits=limits)

    def holds(conv: Conversation) -> bool:
        value = conv.request.headers.get(name)
        return value is not None and test(value)

    return Condition("headers", f"header {name} {describe(condition)}", holds)


def _metadata(key: str, condition: TextCondition, rule: str, limits: Limits) -> Condition:
    test = text_predicate(condition, what=f"{rule}: metadata {key}", limits=limits)

    def holds(conv: Conversation) -> bool:
        value = conv.request.metadata.get(key)
        return value is not None and test(str(value))

    return Condition("metadata", f"metadata {key} {describe(condition)}", holds)


def _any_message(condition: TextCondition, rule: str, limits: Limits) -> Condition:
    test = text_predicate(condition, what=f"{rule}: any_message", limits=limits)

    def holds(conv: Conversation) -> bool:
        texts = (m.text for m in conv.request.messages)
        if isinstance(test, GuardedRegex):  # one budget for all the messages
            return test.first_of(texts)
        return any(test(text) for text in texts)

    return Condition("any_message", f"some message {describe(condition)}", holds)


def compile_match(
    match: Match, *, rule: str = "a rule", limits: Limits | None = None
) -> tuple[Condition, ...]:
    """The conditions of ``match``, cheapest first. ``rule`` names the rule in warnings
    (a regex that ran out of its ``limits.regex_timeout_ms``). Raises ``re.error`` or
    ``regex.error`` for a bad regex."""
    limits = limits or Limits()
    out: list[Condition] = []
    if match.model is not None:
        out.append(_name_field("model", match.model, lambda c: c.request.model, rule, limits))
    if match.provider is not None:
        out.append(
            _name_field("provider", match.provider, lambda c: c.request.provider, rule, limits)
        )
    if match.endpoint is not None:
        out.append(
            _name_field("endpoint", match.endpoint, lambda c: c.request.endpoint, rule, limits)
        )
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
        out.append(_text_field("prompt", match.prompt, lambda c: c.request.prompt, rule, limits))
    if match.system is not None:
        out.append(_text_field("system", match.system, lambda c: c.request.system, rule, limits))
    if match.any_message is not None:
        out.append(_any_message(match.any_message, rule, limits))
    if match.tool_result is not None:
        out.append(
            Condition(
                "tool_result",
                _describe_tool_result(match.tool_result),
                _tool_result(match.tool_result, rule, limits),
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
        out.append(_header(header.lower(), condition, rule, limits))
    for key, condition in (match.metadata or {}).items():
        out.append(_metadata(key, condition, rule, limits))
    return tuple(out)
