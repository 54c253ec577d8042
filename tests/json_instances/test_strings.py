"""Strings and formats: every ``format`` the JSON Schema format checker checks is produced
valid (with a pattern too), varies with the seed, and plain strings come from the
property names."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from json_instances.support import check
from mockllm.json_instances import generate

# The formats the JSON Schema format checker really checks (with jsonschema[format]).
CHECKED_FORMATS = (
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uri-template",
    "uuid",
    "json-pointer",
    "relative-json-pointer",
    "regex",
)


@pytest.mark.parametrize("fmt", CHECKED_FORMATS)
def test_formats_pass_the_format_checker(fmt: str) -> None:
    # The format checker must really check this format (the jsonschema[format] extras).
    assert fmt in Draft202012Validator.FORMAT_CHECKER.checkers
    for hint in ("email", "homepage", "Server Name", "ü", ""):
        schema = {"type": "object", "properties": {hint: {"type": "string", "format": fmt}}}
        for value in check(schema, seeds=(0, 1, 2, 3, 4, 5, 6, 7)):
            assert isinstance(value[hint], str)


def test_format_with_pattern() -> None:
    check({"type": "string", "format": "date", "pattern": "^2024-"})
    check({"type": "string", "format": "date", "pattern": "^1999-01-0[1-9]$"})


@pytest.mark.parametrize("fmt", ["uuid", "email", "date-time", "ipv4"])
def test_formats_vary_with_the_seed(fmt: str) -> None:
    values = {generate({"type": "string", "format": fmt}, seed=s) for s in range(10)}
    assert len(values) > 3


def test_strings_come_from_property_names() -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "firstName": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "countries": {"type": "array", "items": {"type": "string"}},
        },
    }
    value = generate(schema, seed=5)
    assert value["city"].startswith("city ")
    assert value["firstName"].startswith("first name ")
    assert 1 <= len(value["tags"]) <= 3
    assert all(tag.startswith("tag ") for tag in value["tags"])
    assert all(c.startswith("country ") for c in value["countries"])
