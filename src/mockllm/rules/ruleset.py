"""Compiled, immutable rules and the pure function that picks an answer for a request."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..core.types import ChatRequest
from .schema import NameCondition, TextCondition

Predicate = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Location:
    """Where something was written: 1-based line and column."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to test: each condition a predicate, None when absent."""

    name: str
    location: Location | None
    prompt: Predicate | None
    model: Predicate | None
    text: str

    def matches(self, request: ChatRequest) -> bool:
        if self.model is not None and not self.model(request.model):
            return False
        return self.prompt is None or self.prompt(request.prompt)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the rules decided: the text and which rule gave it (None: the default)."""

    text: str
    rule: str | None


def normalize_prompt(text: str) -> str:
    """Key used by the original ``responses:`` map: trimmed and lower-cased."""
    return text.strip().lower()


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything that decides an answer. ``responses`` is checked before ``rules``."""

    responses: Mapping[str, str]
    rules: tuple[CompiledRule, ...]
    default_text: str

    def answer(self, request: ChatRequest) -> Answer:
        """First match wins: original responses (by prompt), then rules, then the default."""
        if self.responses:
            found = self.responses.get(normalize_prompt(request.prompt))
            if found is not None:
                return Answer(found, "responses")
        for rule in self.rules:
            if rule.matches(request):
                return Answer(rule.text, rule.name)
        return Answer(self.default_text, None)


def text_predicate(condition: TextCondition) -> Predicate:
    """A predicate for a prompt condition. Raises ``re.error`` for a bad regex."""
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


def name_predicate(condition: NameCondition) -> Predicate:
    """A predicate for a model condition. Raises ``re.error`` for a bad regex."""
    if condition.exact is not None:
        exact = condition.exact
        return lambda name: name == exact
    if condition.glob is not None:
        pattern = re.compile(fnmatch.translate(condition.glob))
    else:
        assert condition.regex is not None
        pattern = re.compile(condition.regex)
    return lambda name: pattern.fullmatch(name) is not None
