"""Regular expressions: patterns mean what Python's ``re`` makes of them, patterns ``re``
refuses are refused, and catastrophic backtracking is stopped by the regex budget."""

from __future__ import annotations

import re
import time

import pytest

from json_instances.support import too_large
from mockllm.json_instances import UnsatisfiableSchema, generate

# -- regular expressions ---------------------------------------------------------------------------


def test_catastrophic_backtracking_is_stopped() -> None:
    for size in (20, 26, 40):
        schema = {
            "type": "string",
            "allOf": [{"pattern": f"^a{{{size}}}$"}, {"pattern": "^(a+)+b$"}],
        }
        started = time.perf_counter()
        with pytest.raises(UnsatisfiableSchema):
            generate(schema, seed=0)
        assert time.perf_counter() - started < 0.5
    started = time.perf_counter()
    exc = too_large(
        {
            "type": "string",
            "pattern": "^(a|aa)+$",
            "minLength": 60,
            "not": {"pattern": "^(a|aa)+b$"},
        },
        "regex_timeout_ms",
    )
    assert "'^(a|aa)+b$'" in str(exc)
    keys = {"type": "object", "required": ["a" * 40], "patternProperties": {"^(a|a)+b$": {}}}
    too_large(keys, "regex_timeout_ms", regex_timeout_ms=20)


@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")
@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("[[:alpha:]]", "a", False),  # a set of '[', ':', 'a'... then ']' in re
        ("[[:alpha:]]", ":]", True),
        ("a{e<=1}", "b", False),  # literal text in re, fuzzy matching in the regex package
        ("a{e<=1}", "xa{e<=1}", True),
        ("a{,2}b", "aab", True),
        ("x{2}", "xx", True),
        ("x{}", "x{}", True),
        (r"\N{DIGIT ONE}{2}", "11", True),
        ("[{]", "{", True),
        (r"^\d{3}-\d{4}$", "555-1234", True),
        ("(?i)straße", "STRASSE", False),
    ],
)
def test_patterns_mean_what_re_makes_of_them(pattern: str, text: str, matches: bool) -> None:
    assert bool(re.search(pattern, text)) is matches
    schema = {"const": text, "pattern": pattern}
    if matches:
        assert generate(schema) == text
    else:
        with pytest.raises(UnsatisfiableSchema):
            generate(schema)


def test_patterns_re_refuses_are_refused() -> None:
    for pattern in (r"\p{L}", "(?|a)", "(?V1)a", "(a)(?1)", "[a--b]"):
        with pytest.raises(UnsatisfiableSchema, match="not a regular expression"):
            generate({"type": "string", "pattern": pattern})
