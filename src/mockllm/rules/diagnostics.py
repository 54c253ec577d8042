"""Static checks of a valid config: rules that can never answer.

A rule can never answer when a rule tried before it matches whenever it does: the earlier
rule's conditions are a subset of the later rule's (same fields, same values), so every
request the later rule matches, the earlier one matches first. A rule whose prompt
condition is an ``exact``/``iexact`` prompt of the ``responses:`` map is shadowed by that
entry, unless its priority puts it first.

Rules are named in messages by :func:`rule_label`: by ``name`` when given, else by their
1-based position in the file (``rule #2``), the same way everywhere (load errors,
warnings, the ``x-mockllm-rule`` header of an unnamed rule).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .ruleset import normalize_prompt
from .schema import ConfigFile, Rule


def _conditions(rule: Rule) -> dict[str, Any]:
    return rule.match.model_dump(exclude_none=True, mode="json")


def _subset(earlier: dict[str, Any], later: dict[str, Any]) -> bool:
    for key, value in earlier.items():
        if key not in later:
            return False
        if key in ("headers", "metadata"):
            if any(later[key].get(k) != v for k, v in value.items()):
                return False
        elif later[key] != value:
            return False
    return True


def _folds_like_lower(text: str) -> bool:
    """Whether every prompt that ``iexact: text`` matches (``casefold``) is also caught by
    ``responses:`` (``lower``): true for ASCII text without the letters that other
    characters fold into (``ß``/``ſ`` fold to ``s``, ligatures to ``f...``)."""
    return text.isascii() and not ({"s", "f"} & set(text.lower()))


def rule_label(name: str | None, index: int) -> str:
    """How messages name the rule at 0-based ``index`` of ``rules:``: ``rule 'weather' (#2)``
    when it has a name, else ``rule #2`` (positions count from 1, as a reader counts)."""
    return f"rule {name!r} (#{index + 1})" if name else f"rule #{index + 1}"


SHADOW_CHECK_RULES = 1000
"""Up to this many rules, each is compared with the rules tried before it (a cost growing
with the square of the count); a bigger config is loaded without that comparison."""


def shadowed_rules(config: ConfigFile, where: Callable[[int], str]) -> list[tuple[int, str]]:
    """``(index, message)`` for each rule (by 0-based index in the file) that can never
    answer. Messages name rules by :func:`rule_label`; ``where(index)`` gives a rule's
    position (``file:line:column``), added for the earlier rule that hides it."""
    order = sorted(range(len(config.rules)), key=lambda i: -config.rules[i].priority)
    keys = {normalize_prompt(k) for k in config.responses}
    found: list[tuple[int, str]] = []
    conditions = [_conditions(rule) for rule in config.rules]
    compare = len(config.rules) <= SHADOW_CHECK_RULES
    for position, index in enumerate(order):
        rule = config.rules[index]
        mine = conditions[index]
        prompt = rule.match.prompt
        if rule.priority <= 0 and prompt is not None:
            text = prompt.exact
            if text is None and prompt.iexact is not None and _folds_like_lower(prompt.iexact):
                text = prompt.iexact
            if text is not None and normalize_prompt(text) in keys:
                found.append(
                    (
                        index,
                        f"{rule_label(rule.name, index)} can never answer: the "
                        f"responses: entry {text.strip()!r} is tried first",
                    )
                )
                continue
        for earlier in order[:position] if compare else ():
            other = config.rules[earlier]
            if _subset(conditions[earlier], mine):
                found.append(
                    (
                        index,
                        f"{rule_label(rule.name, index)} can never answer: "
                        f"{rule_label(other.name, earlier)} at {where(earlier)} is tried first "
                        f"and matches every request it matches",
                    )
                )
                break
    return found
