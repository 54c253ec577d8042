"""JSON instances for JSON Schemas: every value valid (formats included), the same for the same
seed in any process, varied across seeds, and an error -- never an invalid value -- when the
schema cannot be satisfied."""

from __future__ import annotations

import datetime
import enum
import json
import math
import os
import pickle
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator, Draft7Validator, Draft202012Validator
from jsonschema.protocols import Validator
from pydantic import BaseModel, Field, HttpUrl

from mockllm.core.json_instances import (
    RECURSION_LIMIT,
    SchemaTooLarge,
    UnsatisfiableSchema,
    generate,
)
from mockllm.core.limits import Limits

SEEDS: tuple[int | str, ...] = (0, 1, 2, 3, "alpha", 987654321)

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


def errors(
    schema: Mapping[str, Any] | bool,
    value: Any,
    cls: type[Validator] = Draft202012Validator,
) -> list[str]:
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]


def check(
    schema: Mapping[str, Any] | bool,
    seeds: tuple[int | str, ...] = SEEDS,
    cls: type[Validator] = Draft202012Validator,
) -> list[Any]:
    """Generate for every seed; every value must pass jsonschema with format checking."""
    values = []
    for seed in seeds:
        value = generate(schema, seed=seed)
        assert errors(schema, value, cls) == [], (seed, value)
        values.append(value)
    return values


# -- keyword families ------------------------------------------------------------------------

CASES: dict[str, dict[str, Any] | bool] = {
    "true": True,
    "empty": {},
    "type string": {"type": "string"},
    "type list": {"type": ["integer", "string", "null"]},
    "null": {"type": "null"},
    "boolean": {"type": "boolean"},
    "enum": {"enum": ["red", "green", 3, None, {"a": [1]}]},
    "enum with type": {"type": "string", "enum": ["a", 1, "b"]},
    "const": {"const": {"deep": [1, 2, {"x": None}]}},
    "integer bounds": {"type": "integer", "minimum": -3, "maximum": 4},
    "integer exclusive": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 2},
    "integer far": {"type": "integer", "minimum": 100000},
    "integer negative": {"type": "integer", "maximum": -1000},
    "integer fractional bounds": {"type": "integer", "minimum": 1.5, "maximum": 2.5},
    "integer multipleOf": {"type": "integer", "multipleOf": 7, "minimum": 10, "maximum": 40},
    "integer multipleOf big": {"type": "integer", "multipleOf": 1000},
    "integer multipleOf float": {"type": "integer", "multipleOf": 0.5},
    "number": {"type": "number"},
    "number bounds": {"type": "number", "minimum": 0.1, "maximum": 0.2},
    "number exclusive tight": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.001},
    "number point": {"type": "number", "minimum": 2.5, "maximum": 2.5},
    "number multipleOf 0.1": {"type": "number", "multipleOf": 0.1},
    "number multipleOf 0.01 bounded": {
        "type": "number",
        "multipleOf": 0.01,
        "exclusiveMinimum": 0,
        "maximum": 1,
    },
    "number multipleOf mixed": {"type": "number", "multipleOf": 0.25, "minimum": 3},
    "number multipleOf pair": {"allOf": [{"multipleOf": 0.3}, {"multipleOf": 0.5}]},
    "string lengths": {"type": "string", "minLength": 30, "maxLength": 31},
    "string short": {"type": "string", "maxLength": 2},
    "string empty": {"type": "string", "maxLength": 0},
    "pattern phone": {"type": "string", "pattern": r"^\+?\d{1,3}[- ]\d{3}-\d{4}$"},
    "pattern classes": {"type": "string", "pattern": r"^[^aeiou\s]{3}\w\s\S[a-fA-F0-9]{4}$"},
    "pattern alternation": {"type": "string", "pattern": r"^(cat|dog|bird)s?(-[0-9]+)*$"},
    "pattern unanchored": {"type": "string", "pattern": "x[yz]", "minLength": 12},
    "pattern backreference": {"type": "string", "pattern": r"^(ab|cd)-\1$"},
    "pattern lookahead": {"type": "string", "pattern": r"^(?!admin)[a-z]{3,8}$"},
    "pattern with lengths": {"type": "string", "pattern": "^[a-z]+$", "minLength": 20},
    "pattern dot": {"type": "string", "pattern": "^a.c$"},
    "pattern non-ascii": {"type": "string", "pattern": "^[α-ω]{2}é$", "maxLength": 3},
    "two patterns": {"allOf": [{"pattern": "^[a-z0-9]+$"}, {"pattern": "[0-9]"}], "type": "string"},
    "object": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city"],
    },
    "closed object": {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "additionalProperties": False,
    },
    "additionalProperties schema": {
        "type": "object",
        "additionalProperties": {"type": "integer", "minimum": 5},
        "minProperties": 3,
    },
    "map": {"type": "object", "additionalProperties": {"type": "string"}},
    "patternProperties": {
        "type": "object",
        "patternProperties": {"^x-[a-z]+$": {"type": "boolean"}},
        "additionalProperties": False,
        "minProperties": 2,
    },
    "propertyNames": {
        "type": "object",
        "propertyNames": {"pattern": "^[a-z]{2,5}$"},
        "minProperties": 2,
    },
    "propertyNames vs properties": {
        "type": "object",
        "properties": {"ok": {"type": "string"}, "Bad_Name": {"type": "string"}},
        "propertyNames": {"pattern": "^[a-z]+$"},
    },
    "required not declared": {"type": "object", "required": ["anything"]},
    "maxProperties": {
        "type": "object",
        "properties": {k: {"type": "integer"} for k in "abcdef"},
        "required": ["e"],
        "maxProperties": 2,
    },
    "minProperties from optional": {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "minProperties": 2,
    },
    "dependentRequired": {
        "type": "object",
        "properties": {"card": {"type": "string"}, "billing": {"type": "string"}},
        "dependentRequired": {"card": ["billing", "cvv"]},
    },
    "dependentSchemas": {
        "type": "object",
        "properties": {"card": {"type": "string"}},
        "required": ["card"],
        "dependentSchemas": {
            "card": {"properties": {"cvv": {"type": "integer"}}, "required": ["cvv"]}
        },
    },
    "draft-07 dependencies": {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a"],
        "dependencies": {"a": ["b"], "b": {"required": ["c"]}},
    },
    "array": {"type": "array", "items": {"type": "integer"}},
    "array bounds": {"type": "array", "items": {"type": "string"}, "minItems": 5, "maxItems": 6},
    "array empty only": {"type": "array", "maxItems": 0},
    "prefixItems": {
        "type": "array",
        "prefixItems": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}],
        "items": False,
    },
    "prefixItems with rest": {
        "type": "array",
        "prefixItems": [{"const": "head"}],
        "items": {"type": "number"},
        "minItems": 4,
    },
    "uniqueItems": {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": 5},
        "uniqueItems": True,
        "minItems": 5,
    },
    "uniqueItems enum": {"type": "array", "items": {"enum": ["a", "b"]}, "uniqueItems": True},
    "uniqueItems booleans": {
        "type": "array",
        "items": {"type": "boolean"},
        "uniqueItems": True,
        "minItems": 2,
    },
    "contains": {"type": "array", "items": {"type": "integer"}, "contains": {"const": 42}},
    "minContains maxContains": {
        "type": "array",
        "items": {"type": "integer", "minimum": 0, "maximum": 9},
        "contains": {"minimum": 5},
        "minContains": 2,
        "maxContains": 2,
        "minItems": 4,
    },
    "contains only": {"contains": {"type": "string", "format": "email"}},
    "allOf objects": {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            {"properties": {"a": {"maximum": 3}, "b": {"type": "string"}}, "required": ["b"]},
            {"properties": {"a": {"minimum": 2}}},
        ]
    },
    "allOf types": {"allOf": [{"type": ["number", "string"]}, {"type": ["integer", "null"]}]},
    "allOf closed parts": {
        "allOf": [
            {"properties": {"a": True, "b": True}, "additionalProperties": False},
            {"properties": {"b": True, "c": True}, "additionalProperties": False},
        ],
        "minProperties": 1,
    },
    "anyOf": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "integer", "minimum": 10}]},
    "anyOf with siblings": {
        "type": "object",
        "properties": {"kind": {"type": "string"}},
        "required": ["kind"],
        "anyOf": [{"required": ["a"]}, {"required": ["b"]}],
    },
    "anyOf unsatisfiable branch": {
        "anyOf": [{"type": "string", "minLength": 3, "maxLength": 1}, {}]
    },
    "oneOf overlapping": {"oneOf": [{"type": "number"}, {"type": "integer"}]},
    "oneOf multiples": {
        "type": "integer",
        "oneOf": [{"multipleOf": 3}, {"multipleOf": 5}],
        "minimum": 1,
    },
    "oneOf discriminated": {
        "oneOf": [
            {
                "type": "object",
                "properties": {"kind": {"const": "circle"}, "r": {"type": "number"}},
                "required": ["kind", "r"],
            },
            {
                "type": "object",
                "properties": {"kind": {"const": "square"}, "side": {"type": "number"}},
                "required": ["kind", "side"],
            },
        ]
    },
    "not type": {"not": {"type": ["string", "integer", "number"]}},
    "not const": {"type": "integer", "minimum": 1, "maximum": 2, "not": {"const": 1}},
    "not required": {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "not": {"required": ["b"]},
    },
    "not pattern": {"type": "string", "not": {"pattern": "^[a-z]"}},
    "not minimum": {"type": "integer", "not": {"minimum": 0}},
    "not in object": {
        "type": "object",
        "properties": {"n": {"type": "number"}},
        "required": ["n"],
        "not": {"properties": {"n": {"maximum": 100}}},
    },
    "nullable ref": {
        "$defs": {"a": {"type": "object", "properties": {"x": {"type": "integer"}}}},
        "allOf": [{"$ref": "#/$defs/a"}],
        "nullable": True,
    },
    "if then else": {
        "type": "object",
        "properties": {
            "country": {"enum": ["US", "FR"]},
            "postcode": {"type": "string"},
        },
        "required": ["country", "postcode"],
        "if": {"properties": {"country": {"const": "US"}}},
        "then": {"properties": {"postcode": {"pattern": r"^\d{5}$"}}},
        "else": {"properties": {"postcode": {"pattern": r"^[0-9]{2} [0-9]{3}$"}}},
    },
    "if only": {"type": "integer", "if": {"minimum": 3}},
    "if then no else": {"type": "integer", "if": {"minimum": 3}, "then": {"multipleOf": 10}},
    "ref defs": {
        "$defs": {"point": {"type": "object", "properties": {"x": {"type": "integer"}}}},
        "type": "array",
        "items": {"$ref": "#/$defs/point"},
    },
    "ref definitions": {
        "definitions": {"name": {"type": "string", "minLength": 3}},
        "properties": {"first": {"$ref": "#/definitions/name"}},
        "required": ["first"],
    },
    "ref escapes": {
        "$defs": {"a/b": {"const": "slash"}, "c~d": {"const": "tilde"}, "e f": {"const": "sp"}},
        "type": "array",
        "prefixItems": [
            {"$ref": "#/$defs/a~1b"},
            {"$ref": "#/$defs/c~0d"},
            {"$ref": "#/$defs/e%20f"},
        ],
        "minItems": 3,
    },
    "ref with siblings": {
        "$defs": {"n": {"type": "integer", "minimum": 0}},
        "$ref": "#/$defs/n",
        "maximum": 3,
    },
    "ref anchor": {
        "$defs": {"x": {"$anchor": "thing", "type": "string", "format": "uuid"}},
        "$ref": "#thing",
    },
    "ref chain": {
        "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/c"}, "c": {"type": "null"}},
        "$ref": "#/$defs/a",
    },
    "ref embedded id": {
        "$id": "https://example.com/root.json",
        "$defs": {"item": {"$id": "item.json", "type": "string", "maxLength": 4}},
        "properties": {"x": {"$ref": "item.json"}},
        "required": ["x"],
    },
    "recursive tree": {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
                "required": ["name", "children"],
            }
        },
        "$ref": "#/$defs/node",
    },
    "recursive root": {
        "type": "object",
        "properties": {"value": {"type": "integer"}, "next": {"$ref": "#"}},
        "required": ["value"],
    },
    "recursive linked list": {
        "$defs": {
            "cell": {
                "type": "object",
                "properties": {
                    "head": {"type": "integer"},
                    "tail": {"anyOf": [{"$ref": "#/$defs/cell"}, {"type": "null"}]},
                },
                "required": ["head", "tail"],
                "additionalProperties": False,
            }
        },
        "$ref": "#/$defs/cell",
    },
    "recursive type list": {
        "$defs": {
            "json": {
                "type": ["object", "array", "string", "null"],
                "additionalProperties": {"$ref": "#/$defs/json"},
                "items": {"$ref": "#/$defs/json"},
            }
        },
        "$ref": "#/$defs/json",
    },
    "nullable": {"type": "string", "nullable": True},
    "openai strict": {
        "type": "object",
        "properties": {
            "answer": {"type": "string"},
            "confidence": {"type": "number"},
            "sources": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"url": {"type": "string"}, "note": {"type": ["string", "null"]}},
                    "required": ["url", "note"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["answer", "confidence", "sources"],
        "additionalProperties": False,
    },
    "examples preferred": {"type": "string", "examples": ["Paris", 42, "Lisbon"]},
    "unevaluatedProperties": {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "unevaluatedProperties": False,
        "minProperties": 1,
    },
}


@pytest.mark.parametrize("name", list(CASES))
def test_keyword_families(name: str) -> None:
    check(CASES[name])


def test_draft7_items_array_form() -> None:
    schema = {
        "type": "array",
        "items": [{"type": "string"}, {"type": "integer"}],
        "additionalItems": False,
        "minItems": 2,
    }
    values = check(schema, cls=Draft7Validator)
    assert all(isinstance(v[0], str) and isinstance(v[1], int) and len(v) == 2 for v in values)


def test_draft4_exclusive_booleans() -> None:
    schema = {
        "type": "number",
        "minimum": 1,
        "exclusiveMinimum": True,
        "maximum": 2,
        "exclusiveMaximum": True,
    }
    check(schema, cls=Draft4Validator)
    check(
        {"type": "integer", "minimum": 1, "exclusiveMinimum": True, "maximum": 2},
        cls=Draft4Validator,
    )


def test_draft7_additional_items_schema() -> None:
    schema = {"items": [{"const": 0}], "additionalItems": {"type": "string"}, "minItems": 3}
    check(schema, cls=Draft7Validator)


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


def test_uppercase_gemini_types() -> None:
    schema = {
        "type": "OBJECT",
        "properties": {
            "name": {"type": "STRING"},
            "count": {"type": "INTEGER", "minimum": 1},
            "ratio": {"type": "NUMBER"},
            "ok": {"type": "BOOLEAN"},
            "tags": {"type": "ARRAY", "items": {"type": "STRING"}},
            "maybe": {"type": "STRING", "nullable": True},
        },
        "required": ["name", "count", "ratio", "ok", "tags", "maybe"],
    }
    lowered = _lower_types(schema)
    for seed in SEEDS:
        value = generate(schema, seed=seed)
        assert errors(lowered, value) == []
        assert isinstance(value["count"], int) and value["count"] >= 1


def _lower_types(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {
            k: (v.lower() if k == "type" and isinstance(v, str) else _lower_types(v))
            for k, v in schema.items()
            if k != "nullable"
        }
    if isinstance(schema, list):
        return [_lower_types(v) for v in schema]
    return schema


def test_nullable_allows_null_at_the_recursion_limit() -> None:
    schema = {
        "$defs": {
            "n": {
                "type": "object",
                "properties": {"next": {"$ref": "#/$defs/n", "nullable": True, "type": "object"}},
                "required": ["next"],
            }
        },
        "$ref": "#/$defs/n",
    }
    value = generate(schema)
    depth = 0
    while value is not None:
        value = value["next"]
        depth += 1
    assert 1 <= depth <= RECURSION_LIMIT + 1


# -- plausibility ----------------------------------------------------------------------------


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


def test_numbers_are_small_and_optional_properties_included() -> None:
    schema = {
        "type": "object",
        "properties": {
            "count": {"type": "integer"},
            "price": {"type": "number"},
            "maybe": {"type": "boolean"},
        },
    }
    for seed in range(20):
        value = generate(schema, seed=seed)
        assert set(value) == {"count", "price", "maybe"}
        assert 0 <= value["count"] <= 100
        assert 0 <= value["price"] <= 100


def test_optional_types_prefer_a_value_over_null() -> None:
    schema = {"anyOf": [{"type": "null"}, {"type": "integer"}]}
    assert all(isinstance(generate(schema, seed=s), int) for s in range(10))
    schema2 = {"type": ["null", "string"]}
    assert all(isinstance(generate(schema2, seed=s), str) for s in range(10))


def test_recursion_is_bounded() -> None:
    tree = CASES["recursive tree"]
    assert isinstance(tree, dict)
    for seed in SEEDS:
        value = generate(tree, seed=seed)
        assert _depth(value) <= 2 * (RECURSION_LIMIT + 1) + 1
    root = CASES["recursive root"]
    assert isinstance(root, dict)
    assert _depth(generate(root)) <= RECURSION_LIMIT + 2


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def test_ref_cycle_without_nesting() -> None:
    # jsonschema itself recurses forever on this one; the cycle adds no constraint.
    schema = {
        "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a", "type": "integer"}},
        "$ref": "#/$defs/a",
    }
    assert all(isinstance(generate(schema, seed=s), int) for s in SEEDS)


def test_result_shares_nothing_with_the_schema() -> None:
    schema = {"const": {"a": [1, 2]}}
    value = generate(schema)
    value["a"].append(3)
    assert schema == {"const": {"a": [1, 2]}}


# -- determinism -----------------------------------------------------------------------------

FREE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "count": {"type": "integer"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"sku": {"type": "string", "pattern": "^[A-Z]{2}-\\d{3}$"}},
            },
        },
        "choice": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    },
    "required": ["id", "name"],
}


def test_same_seed_same_value() -> None:
    for seed in SEEDS:
        assert generate(FREE_SCHEMA, seed=seed) == generate(FREE_SCHEMA, seed=seed)


def test_different_seeds_differ() -> None:
    values = [json.dumps(generate(FREE_SCHEMA, seed=s), sort_keys=True) for s in range(20)]
    assert len(set(values)) == 20
    lengths = {len(generate({"type": "array"}, seed=s)) for s in range(20)}
    assert lengths == {1, 2, 3}
    bounded = {generate({"type": "integer", "minimum": 1, "maximum": 5}, seed=s) for s in range(30)}
    assert bounded == {1, 2, 3, 4, 5}


def test_string_seeds_are_stable_and_distinct() -> None:
    assert generate(FREE_SCHEMA, seed="run-1") == generate(FREE_SCHEMA, seed="run-1")
    assert generate(FREE_SCHEMA, seed="run-1") != generate(FREE_SCHEMA, seed="run-2")


def test_no_global_random_state() -> None:
    import random

    random.seed(1)
    first = generate(FREE_SCHEMA, seed=3)
    state = random.getstate()
    random.seed(2)
    assert generate(FREE_SCHEMA, seed=3) == first
    random.seed(1)
    generate(FREE_SCHEMA, seed=4)
    assert random.getstate() == state


def test_same_value_in_other_processes() -> None:
    code = (
        "import json, sys\n"
        "from mockllm.core.json_instances import generate\n"
        "schema = json.loads(sys.stdin.read())\n"
        "print(json.dumps([generate(schema, seed=s) for s in (0, 7, 'text-seed')]))\n"
    )
    here = json.loads(json.dumps([generate(FREE_SCHEMA, seed=s) for s in (0, 7, "text-seed")]))
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps(FREE_SCHEMA),
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=60,
        )
        assert json.loads(done.stdout) == here


# -- unsatisfiable schemas -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "where"),
    [
        (False, "#"),
        ({"not": {}}, "#/not"),
        ({"type": "integer", "minimum": 5, "maximum": 1}, "#"),
        ({"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 1}, "#"),
        ({"type": "number", "minimum": 1, "maximum": 0.5}, "#"),
        ({"type": "integer", "minimum": 1.2, "maximum": 1.8}, "#"),
        ({"type": "integer", "multipleOf": 10, "minimum": 1, "maximum": 9}, "#"),
        ({"type": "string", "minLength": 5, "maxLength": 2}, "#"),
        ({"enum": []}, "#"),
        ({"type": "string", "enum": [1, 2]}, "#"),
        ({"allOf": [{"type": "string"}, {"type": "integer"}]}, "#"),
        (
            {
                "type": "object",
                "properties": {"age": {"type": "integer", "minimum": 3, "maximum": 2}},
                "required": ["age"],
            },
            "#/properties/age",
        ),
        ({"type": "object", "required": ["a"], "additionalProperties": False}, "#"),
        ({"type": "object", "required": ["a", "b"], "maxProperties": 1}, "#"),
        ({"type": "array", "minItems": 3, "maxItems": 1}, "#"),
        ({"type": "array", "items": {"const": 1}, "uniqueItems": True, "minItems": 2}, "#"),
        ({"type": "array", "prefixItems": [True], "items": False, "minItems": 2}, "#"),
        ({"type": "object", "required": ["a"], "properties": {"a": {"$ref": "#"}}}, "#"),
        ({"$ref": "#/$defs/missing"}, "#"),
        ({"$ref": "https://example.com/other.json"}, "#"),
        ({"type": "string", "pattern": "(["}, "#/pattern"),
        ({"type": "string", "pattern": "^a$", "minLength": 2}, "#/pattern"),
        ({"anyOf": [{"type": "string", "maxLength": -1}, False]}, "#"),
        ({"oneOf": [{"type": "integer"}, {"type": "integer"}]}, "#/oneOf"),
        ({"type": "integer", "multipleOf": -2}, "#/multipleOf"),
        (
            {
                "$defs": {"A": {"type": "string", "minLength": 3, "maxLength": 1}},
                "$ref": "#/$defs/A",
            },
            "#/$defs/A",
        ),
        ({"type": "object", "minProperties": 2, "maxProperties": 1}, "#"),
    ],
)
def test_unsatisfiable(schema: dict[str, Any] | bool, where: str) -> None:
    with pytest.raises(UnsatisfiableSchema) as caught:
        generate(schema, seed=0)
    assert caught.value.pointer.startswith(where), str(caught.value)
    assert str(caught.value).startswith(f"unsatisfiable schema at {caught.value.pointer}: ")


def test_unsatisfiable_is_a_value_error() -> None:
    assert issubclass(UnsatisfiableSchema, ValueError)
    with pytest.raises(ValueError, match="minLength 5 is greater than maxLength 2"):
        generate({"type": "string", "minLength": 5, "maxLength": 2})


def test_bad_arguments() -> None:
    with pytest.raises(TypeError):
        generate([], seed=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        generate({}, seed=1.5)  # type: ignore[arg-type]


# -- real-world schemas: pydantic and OpenAI strict mode ----------------------------------------


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Address(BaseModel):
    street: str
    city: str
    postcode: Annotated[str, Field(pattern=r"^\d{5}$")]
    country: Literal["FR", "DE", "US"] = "FR"


class LineItem(BaseModel):
    sku: Annotated[str, Field(min_length=3, max_length=12)]
    quantity: Annotated[int, Field(ge=1, le=99)]
    unit_price: Annotated[float, Field(gt=0, multiple_of=0.01)]
    discount_pct: Annotated[int, Field(multiple_of=5, ge=0, le=50)] = 0


class Order(BaseModel):
    id: uuid.UUID
    created_at: datetime.datetime
    due: datetime.date | None = None
    pickup: datetime.time
    lead_time: datetime.timedelta
    customer: Annotated[str, Field(min_length=2, max_length=40)]
    website: HttpUrl | None = None
    shipping: Address
    billing: Address | None = None
    items: Annotated[list[LineItem], Field(min_length=1, max_length=5)]
    colour: Colour
    priority: Priority = Priority.LOW
    tags: set[str] = set()
    notes: dict[str, int] = {}
    kind: Literal["order"] = "order"
    parent: Order | None = None


def test_pydantic_model_schema() -> None:
    schema = Order.model_json_schema()
    for seed in SEEDS:
        value = generate(schema, seed=seed)
        assert errors(schema, value) == [], value
        Order.model_validate(value)
        Order.model_validate_json(json.dumps(value))
        assert value["items"] and value["shipping"]["postcode"].isdigit()


def test_openai_strict_schema() -> None:
    pydantic_helpers = pytest.importorskip("openai.lib._pydantic")
    schema = pydantic_helpers.to_strict_json_schema(Order)
    for seed in SEEDS:
        value = generate(schema, seed=seed)
        assert errors(schema, value) == [], value
        Order.model_validate_json(json.dumps(value))
        assert set(value) == set(schema["properties"])


def test_pydantic_discriminated_union() -> None:
    class Cat(BaseModel):
        pet_type: Literal["cat"]
        meows: int

    class Dog(BaseModel):
        pet_type: Literal["dog"]
        barks: float

    class Owner(BaseModel):
        pet: Cat | Dog = Field(discriminator="pet_type")
        pets: list[Annotated[Cat | Dog, Field(discriminator="pet_type")]]

    schema = Owner.model_json_schema()
    kinds = set()
    for seed in range(10):
        value = generate(schema, seed=seed)
        assert errors(schema, value) == []
        owner = Owner.model_validate_json(json.dumps(value))
        kinds.add(type(owner.pet).__name__)
    assert kinds == {"Cat", "Dog"}


# -- speed -----------------------------------------------------------------------------------

TOOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "City name"},
        "country": {"type": "string", "enum": ["FR", "DE", "US", "JP"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 14},
        "units": {"type": "string", "enum": ["metric", "imperial"]},
        "start": {"type": "string", "format": "date"},
        "include_hourly": {"type": "boolean"},
        "max_results": {"type": ["integer", "null"]},
        "stops": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "lat": {"type": "number", "minimum": -90, "maximum": 90},
                    "lon": {"type": "number", "minimum": -180, "maximum": 180},
                },
                "required": ["name", "lat", "lon"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["city", "days", "stops"],
    "additionalProperties": False,
}


def test_typical_tool_schema_is_fast() -> None:
    check(TOOL_SCHEMA)
    runs = 300
    started = time.perf_counter()
    for seed in range(runs):
        generate(TOOL_SCHEMA, seed=seed)
    per_call = (time.perf_counter() - started) / runs
    assert per_call < 0.002, f"{per_call * 1e6:.0f} us per value"  # ~0.1 ms measured


# -- property tests over many schemas ------------------------------------------------------------

SAFE_PATTERNS = (
    "^[a-z]+$",
    r"^\d{3}-\d{4}$",
    "^[A-Z][a-z]{2,8}$",
    "^(red|green|blue)$",
    r"^[a-f0-9]{8}(-[a-f0-9]{4})?$",
    "ab+c",
    r"^\w+@\w+\.com$",
)
FORMAT_NAMES = ("date-time", "date", "time", "email", "uri", "uuid", "ipv4", "ipv6", "hostname")
NAMES = st.sampled_from(["id", "name", "city", "tags", "count", "price", "items", "note", "x"])


@st.composite
def string_schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    kind = draw(st.sampled_from(["plain", "lengths", "format", "pattern"]))
    if kind == "lengths":
        lo = draw(st.integers(0, 20))
        schema |= {"minLength": lo, "maxLength": lo + draw(st.integers(0, 10))}
    elif kind == "format":
        schema["format"] = draw(st.sampled_from(FORMAT_NAMES))
    elif kind == "pattern":
        schema["pattern"] = draw(st.sampled_from(SAFE_PATTERNS))
    return schema


@st.composite
def integer_schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer"}
    step = draw(st.sampled_from([1, 1, 2, 3, 7, 10]))
    if step > 1:
        schema["multipleOf"] = step
    if draw(st.booleans()):
        lo = draw(st.integers(-1000, 1000))
        schema["minimum" if draw(st.booleans()) else "exclusiveMinimum"] = lo
        if draw(st.booleans()):
            schema["maximum"] = lo + 2 * step + draw(st.integers(0, 50))
    elif draw(st.booleans()):
        schema["exclusiveMaximum"] = draw(st.integers(-1000, 1000))
    return schema


@st.composite
def number_schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "number"}
    if draw(st.booleans()):
        schema["multipleOf"] = draw(st.sampled_from([0.5, 0.25, 0.1, 0.01, 0.2, 2.5]))
    if draw(st.booleans()):
        lo = draw(st.floats(-1e4, 1e4, allow_nan=False))
        schema["minimum" if draw(st.booleans()) else "exclusiveMinimum"] = lo
        if draw(st.booleans()):
            schema["maximum"] = lo + draw(st.floats(5, 1e3))
    return schema


LEAVES = st.one_of(
    string_schemas(),
    integer_schemas(),
    number_schemas(),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.just({}),
    st.lists(
        st.one_of(st.integers(-5, 5), st.text(max_size=5), st.none(), st.booleans()),
        min_size=1,
        max_size=4,
    ).map(lambda values: {"enum": values}),
    st.sampled_from(["on", 3, None, [1, "a"], {"k": False}]).map(lambda value: {"const": value}),
)


def composite(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    objects = st.builds(
        lambda props, required_flags, closed: {
            "type": "object",
            "properties": props,
            "required": [k for k, flag in zip(props, required_flags, strict=False) if flag],
            **({"additionalProperties": False} if closed else {}),
        },
        st.dictionaries(NAMES, children, max_size=4),
        st.lists(st.booleans(), min_size=4, max_size=4),
        st.booleans(),
    )
    arrays = st.builds(
        lambda items, lo, extra, unique: {
            "type": "array",
            "items": items,
            "minItems": lo,
            "maxItems": lo + extra,
            **({"uniqueItems": True} if unique and lo <= 1 else {}),
        },
        children,
        st.integers(0, 3),
        st.integers(0, 3),
        st.booleans(),
    )
    maps = children.map(lambda value: {"type": "object", "additionalProperties": value})
    tuples = st.lists(children, min_size=1, max_size=3).map(
        lambda prefix: {"type": "array", "prefixItems": prefix, "items": False}
    )
    any_of = st.lists(children, min_size=1, max_size=3).map(lambda bs: {"anyOf": bs})
    nullable = children.map(lambda value: {"anyOf": [value, {"type": "null"}]})
    one_of = st.tuples(string_schemas(), integer_schemas()).map(
        lambda pair: {"oneOf": [pair[0], pair[1], {"type": "null"}]}
    )
    all_of = st.tuples(objects, objects).map(
        lambda pair: {
            "allOf": [
                {k: v for k, v in pair[0].items() if k != "additionalProperties"},
                {
                    "properties": {f"b_{k}": v for k, v in pair[1]["properties"].items()},
                    "required": [f"b_{k}" for k in pair[1]["required"]],
                },
            ]
        }
    )
    bounded = integer_schemas().map(
        lambda schema: {"allOf": [{"type": "integer"}, schema, {"not": {"const": 0}}]}
    )
    conditional = st.tuples(children, children).map(
        lambda pair: {
            "type": "object",
            "properties": {"kind": {"enum": ["a", "b"]}},
            "required": ["kind"],
            "if": {"properties": {"kind": {"const": "a"}}},
            "then": {"properties": {"payload": pair[0]}, "required": ["payload"]},
            "else": {"properties": {"payload": pair[1]}},
        }
    )
    contains = st.tuples(children, st.integers(0, 2)).map(
        lambda pair: {
            "type": "array",
            "contains": pair[0],
            "minContains": pair[1],
            "maxItems": pair[1] + 2,
        }
    )
    patterned = children.map(
        lambda value: {
            "type": "object",
            "patternProperties": {"^p_[a-z]+$": value},
            "additionalProperties": False,
            "minProperties": 1,
        }
    )
    named = children.map(
        lambda value: {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z]{1,8}$"},
            "additionalProperties": value,
            "minProperties": 1,
            "maxProperties": 3,
        }
    )
    negated = children.map(
        lambda value: {"anyOf": [value, {"type": "integer"}], "not": {"type": "boolean"}}
    )
    tagged = st.lists(children, min_size=2, max_size=3).map(
        lambda values: {
            "oneOf": [
                {
                    "type": "object",
                    "properties": {"tag": {"const": f"t{i}"}, "body": value},
                    "required": ["tag"],
                }
                for i, value in enumerate(values)
            ]
        }
    )
    dependent = st.tuples(children, children).map(
        lambda pair: {
            "type": "object",
            "properties": {"a": pair[0], "b": pair[1]},
            "dependentRequired": {"a": ["b"]},
        }
    )
    return st.one_of(
        objects,
        arrays,
        maps,
        tuples,
        any_of,
        nullable,
        one_of,
        all_of,
        bounded,
        conditional,
        contains,
        patterned,
        named,
        negated,
        tagged,
        dependent,
    )


SCHEMAS = st.recursive(LEAVES, composite, max_leaves=12)


@st.composite
def with_refs(draw: st.DrawFn) -> dict[str, Any]:
    """A random schema with some subschemas moved to ``$defs`` (or ``definitions``) and
    referenced, and sometimes a recursive wrapper around it."""
    schema = draw(SCHEMAS)
    defs_key = draw(st.sampled_from(["$defs", "definitions"]))
    defs: dict[str, Any] = {}

    def extract(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: extract(v) for k, v in node.items()}
            if node.get("type") in ("object", "array", "string") and draw(st.booleans()):
                name = f"def{len(defs)}"
                defs[name] = node
                return {"$ref": f"#/{defs_key}/{name}"}
            return node
        if isinstance(node, list):
            return [extract(v) for v in node]
        return node

    body = extract(schema)
    if draw(st.booleans()):
        defs["tree"] = {
            "type": "object",
            "properties": {
                "value": body,
                "children": {"type": "array", "items": {"$ref": f"#/{defs_key}/tree"}},
                "parent": {"anyOf": [{"$ref": f"#/{defs_key}/tree"}, {"type": "null"}]},
            },
            "required": ["value", "parent"],
        }
        body = {"$ref": f"#/{defs_key}/tree"}
    if not defs:
        return body if isinstance(body, dict) else {"allOf": [body]}
    if "$ref" in body:
        return {defs_key: defs, "allOf": [body]}
    return {defs_key: defs, **body}


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(schema=with_refs(), seed=st.integers(0, 2**32))
def test_random_schemas_get_valid_values(schema: dict[str, Any], seed: int) -> None:
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for s in (seed, seed + 1, str(seed)):
        value = generate(schema, seed=s)
        problems = [e.message for e in validator.iter_errors(value)]
        assert problems == [], (value, problems)
        assert generate(schema, seed=s) == value


@settings(max_examples=100, deadline=None, database=None)
@given(schema=LEAVES, seed=st.integers(0, 2**16))
def test_random_leaf_schemas_in_strict_objects(schema: dict[str, Any], seed: int) -> None:
    strict = {
        "type": "object",
        "properties": {"field": schema, "list": {"type": "array", "items": schema}},
        "required": ["field", "list"],
        "additionalProperties": False,
    }
    value = generate(strict, seed=seed)
    assert errors(strict, value) == [], value


# Schemas that may well be unsatisfiable: the contract is a valid value or UnsatisfiableSchema.
LOOSE_LEAVES = st.fixed_dictionaries(
    {},
    optional={
        "type": st.one_of(
            st.sampled_from(["string", "integer", "number", "boolean", "null", "object", "array"]),
            st.lists(st.sampled_from(["string", "integer", "number", "null"]), min_size=1),
        ),
        "minimum": st.integers(-5, 5),
        "exclusiveMaximum": st.floats(-5, 5, allow_nan=False),
        "multipleOf": st.sampled_from([2, 3, 0.5, 0.1]),
        "minLength": st.integers(0, 6),
        "maxLength": st.integers(0, 6),
        "pattern": st.sampled_from(SAFE_PATTERNS),
        "format": st.sampled_from(FORMAT_NAMES),
        "enum": st.lists(st.one_of(st.integers(-3, 3), st.sampled_from(["a", "b"]), st.none())),
        "const": st.sampled_from([0, 1, "a", None, True]),
        "minItems": st.integers(0, 3),
        "maxItems": st.integers(0, 3),
        "uniqueItems": st.booleans(),
        "minProperties": st.integers(0, 3),
        "maxProperties": st.integers(0, 3),
        "required": st.lists(NAMES, max_size=2, unique=True),
    },
)


def loose_composite(
    children: st.SearchStrategy[dict[str, Any]],
) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["object", "array"]),
            "properties": st.dictionaries(NAMES, children, max_size=3),
            "additionalProperties": st.one_of(st.booleans(), children),
            "items": children,
            "prefixItems": st.lists(children, max_size=2),
            "contains": children,
            "anyOf": st.lists(children, min_size=1, max_size=3),
            "oneOf": st.lists(children, min_size=1, max_size=3),
            "allOf": st.lists(children, min_size=1, max_size=2),
            "not": children,
            "if": children,
            "then": children,
            "else": children,
        },
    )


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(schema=st.recursive(LOOSE_LEAVES, loose_composite, max_leaves=8), seed=st.integers(0, 99))
def test_random_schemas_never_yield_invalid_values(schema: dict[str, Any], seed: int) -> None:
    try:
        value = generate(schema, seed=seed)
    except UnsatisfiableSchema:
        return
    assert errors(schema, value) == [], value


# -- budgets (mockllm.core.limits.Limits) -------------------------------------------------------


def too_large(schema: Mapping[str, Any] | bool, limit: str, **limits: Any) -> SchemaTooLarge:
    """Generation refuses ``schema`` quickly, naming ``limit`` and its MOCKLLM_LIMIT_* variable."""
    started = time.perf_counter()
    with pytest.raises(SchemaTooLarge) as caught:
        generate(schema, seed=0, limits=Limits(**limits))
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{elapsed:.2f} s to refuse"
    exc = caught.value
    assert exc.limit == limit, str(exc)
    assert f"MOCKLLM_LIMIT_{limit.upper()}" in str(exc) and limit in str(exc)
    assert isinstance(exc, UnsatisfiableSchema)  # a 400 like any unsatisfiable schema
    return exc


@pytest.mark.parametrize(
    ("schema", "limit"),
    [
        ({"type": "array", "minItems": 1_000_000, "items": {"type": "integer"}}, "json_max_items"),
        ({"type": "array", "minItems": 10**300}, "json_max_items"),
        ({"type": "array", "minItems": 1e300}, "json_max_items"),
        (
            {"type": "array", "contains": {"type": "integer"}, "minContains": 10**6},
            "json_max_items",
        ),
        ({"type": "string", "minLength": 5_000_000}, "json_max_string"),
        ({"type": "string", "minLength": 1e300}, "json_max_string"),
        ({"type": "object", "minProperties": 100_000}, "json_max_items"),
        ({"type": "object", "required": [f"p{i}" for i in range(20_000)]}, "json_max_items"),
        # combinations: each part within its budget, the whole too large
        (
            {"type": "array", "minItems": 10_000, "items": {"type": "string", "minLength": 10_000}},
            "json_max_bytes",
        ),
        (
            {
                "type": "array",
                "minItems": 10_000,
                "items": {"type": "array", "minItems": 10_000, "items": {"type": "integer"}},
            },
            "json_max_bytes",
        ),
        ({"type": "string", "pattern": "^a{1000000}$"}, "json_max_string"),
        ({"type": "string", "pattern": "^(?:[ab]{1000}){1000}$"}, "json_max_string"),
        (
            {
                "type": "string",
                "allOf": [{"pattern": "^a{30}$"}, {"not": {"pattern": "^(a|a)+b$"}}],
            },
            "regex_timeout_ms",
        ),
    ],
)
def test_budgets_refuse_what_the_schema_requires(schema: dict[str, Any], limit: str) -> None:
    too_large(schema, limit)


def test_ref_blow_ups_take_linear_time() -> None:
    """Each level refers to the next twice: 2**40 paths, each level checked once."""
    for keyword in ("allOf", "anyOf", "oneOf"):
        defs: dict[str, Any] = {
            f"a{i}": {keyword: [{"$ref": f"#/$defs/a{i + 1}"}, {"$ref": f"#/$defs/a{i + 1}"}]}
            for i in range(40)
        }
        defs["a40"] = {"type": "integer", "minimum": 1, "maximum": 3}
        schema = {"$defs": defs, "$ref": "#/$defs/a0"}
        started = time.perf_counter()
        try:
            value = generate(schema, seed=0)
        except UnsatisfiableSchema:  # oneOf: both branches always match
            assert keyword == "oneOf"
        else:
            assert 1 <= value <= 3
        assert time.perf_counter() - started < 1.0, keyword


def test_deep_required_nesting_is_refused() -> None:
    schema: dict[str, Any] = {"type": "integer"}
    for _ in range(40):
        schema = {"type": "array", "items": schema, "minItems": 1}
    exc = too_large(schema, "json_max_depth")
    assert "deeper than 32 levels" in str(exc)
    props: dict[str, Any] = {"type": "string"}
    for _ in range(40):
        props = {"type": "object", "properties": {"n": props}, "required": ["n"]}
    too_large(props, "json_max_depth")
    assert len(json.dumps(generate(schema, seed=0, limits=Limits(json_max_depth=64)))) > 80


def test_deep_schema_documents_are_refused_not_crashing() -> None:
    deep: Any = {}
    for _ in range(5000):
        deep = {"not": deep}
    too_large(deep, "json_max_depth")
    defs: dict[str, Any] = {f"r{i}": {"$ref": f"#/$defs/r{i + 1}"} for i in range(500)}
    defs["r500"] = {"type": "integer"}
    too_large({"$defs": defs, "$ref": "#/$defs/r0"}, "json_max_depth")


def test_optional_parts_stay_small_instead_of_failing() -> None:
    limits = Limits(json_max_bytes=20_000)
    big_string = {"type": "string", "minLength": 8_000}
    schema = {
        "type": "object",
        "properties": {
            "needed": big_string,
            "extra": big_string,
            "more": big_string,
            "list": {"type": "array", "items": big_string},
        },
        "required": ["needed"],
    }
    value = generate(schema, seed=0, limits=limits)
    assert errors(schema, value) == []
    assert len(json.dumps(value)) <= 20_000 and "needed" in value
    # deep optional nesting ends in scalars at the depth limit
    tree = {
        "$defs": {
            "t": {
                "type": "object",
                "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/t"}}},
            }
        },
        "$ref": "#/$defs/t",
    }
    value = generate(tree, seed=1, limits=Limits(json_max_depth=3))
    assert errors(tree, value) == []
    # an optional item past the byte budget ends the array
    arrays = {"type": "array", "items": {"type": "array", "items": big_string}}
    value = generate(arrays, seed=2, limits=limits)
    assert errors(arrays, value) == [] and len(json.dumps(value)) <= 20_000
    # unconstrained arrays nested 20 deep (1-3 items each: 3**20 leaves) stay small
    nested: dict[str, Any] = {"type": "integer"}
    for _ in range(20):
        nested = {"type": "array", "items": nested}
    started = time.perf_counter()
    value = generate(nested, seed=3)
    assert time.perf_counter() - started < 1.0
    assert len(json.dumps(value)) <= Limits().json_max_bytes
    assert errors(nested, value) == []


def test_within_budget_is_still_generated() -> None:
    """Large values inside the budgets are made, quickly (checked here without jsonschema,
    whose uniqueItems and enum checks are quadratic)."""

    def timed(schema: dict[str, Any]) -> Any:
        started = time.perf_counter()
        value = generate(schema, seed=0)
        assert time.perf_counter() - started < 1.0, schema
        return value

    ints = timed({"type": "array", "minItems": 10_000, "items": {"type": "integer"}})
    assert len(ints) >= 10_000 and all(type(i) is int for i in ints)
    assert len(timed({"type": "string", "minLength": 100_000, "maxLength": 100_000})) == 100_000
    unique = {"type": "array", "minItems": 3000, "uniqueItems": True, "items": {"format": "uuid"}}
    ids = timed(unique)
    assert len(ids) >= 3000 and len(set(ids)) == len(ids)
    many = timed({"type": "array", "minItems": 3000, "items": {"enum": list(range(5000))}})
    assert len(many) >= 3000 and all(type(i) is int and 0 <= i < 5000 for i in many)
    both = {"allOf": [{"enum": list(range(20_000))}, {"enum": list(range(10_000, 30_000))}]}
    assert 10_000 <= timed(both) < 20_000


@pytest.mark.parametrize(
    "schema",
    [
        {
            "type": "array",
            "minItems": 10,
            "maxItems": 10,
            "items": {"type": "string", "minLength": 98, "maxLength": 98},
        },
        {
            "type": "object",
            "properties": {f"k{i}": {"type": "string", "minLength": 20} for i in range(10)},
            "required": [f"k{i}" for i in range(10)],
            "additionalProperties": False,
        },
        {
            "type": "array",
            "minItems": 5,
            "maxItems": 5,
            "items": {
                "type": "array",
                "minItems": 3,
                "maxItems": 3,
                "items": {"type": "integer", "minimum": 100, "maximum": 999},
            },
        },
        {"type": "array", "minItems": 4, "maxItems": 4, "items": {"enum": [None, True]}},
    ],
)
def test_size_budget_is_exact_for_plain_values(schema: dict[str, Any]) -> None:
    """The running size is the serialized size (ASCII, no escapes): a value of exactly
    json_max_bytes is made, one byte less is refused."""
    value = generate(schema, seed=0)
    size = len(orjson.dumps(value))
    assert generate(schema, seed=0, limits=Limits(json_max_bytes=size)) == value
    too_large(schema, "json_max_bytes", json_max_bytes=size - 1)


def test_limits_raise_the_budgets() -> None:
    schema = {"type": "array", "minItems": 20_000, "items": {"type": "boolean"}}
    too_large(schema, "json_max_items")
    value = generate(schema, seed=0, limits=Limits(json_max_items=20_000))
    assert len(value) >= 20_000
    too_large({"type": "string", "minLength": 11}, "json_max_string", json_max_string=10)


def test_schema_too_large_pickles_and_names_its_limit() -> None:
    exc = too_large({"type": "string", "minLength": 10**7}, "json_max_string")
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is SchemaTooLarge and str(again) == str(exc)
    assert (again.limit, again.value, again.variable) == (
        "json_max_string",
        100_000,
        "MOCKLLM_LIMIT_JSON_MAX_STRING",
    )
    assert str(exc).startswith("schema too large at #: minLength 10000000 ")


# -- numbers the wire carries ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer", "minimum": 2**70},
        {"type": "integer", "minimum": 2**63},
        {"type": "integer", "maximum": -(2**63) - 1},
        {"type": "integer", "minimum": 1e300},
        {"type": "number", "minimum": 10**400},
        {"type": "number", "maximum": -(10**400)},
        {"type": "integer", "minimum": 10**5000},  # more digits than int() prints
    ],
)
def test_numbers_past_what_json_carries_are_unsatisfiable(schema: dict[str, Any]) -> None:
    with pytest.raises(UnsatisfiableSchema) as caught:
        generate(schema, seed=0)
    assert not isinstance(caught.value, SchemaTooLarge)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer", "minimum": 2**62, "maximum": 2**70},
        {"type": "integer", "maximum": 10**400},
        {"type": "integer", "minimum": -(10**400), "maximum": -(2**62)},
        {"type": "integer", "multipleOf": 10**30},
        {"type": "integer", "multipleOf": 2**40, "minimum": 1},
        {"type": "number", "minimum": 1e300},
        {"type": "number", "minimum": 1.7e308},
        {"type": "number", "maximum": -1e307, "exclusiveMaximum": -1e306},
        {"type": "number", "minimum": 0, "maximum": 10**400},
        {"type": "number", "exclusiveMinimum": 2**70, "maximum": 2**71},
        {"type": "number", "multipleOf": 1e-300, "minimum": 1e300},
        {"type": "number", "multipleOf": 0.5, "minimum": 2**70},
        {"type": "integer", "minimum": float("-inf"), "maximum": float("inf")},
        {"type": "number", "multipleOf": 10**400},
    ],
)
def test_huge_bounds_give_values_the_wire_carries(schema: dict[str, Any]) -> None:
    for seed in SEEDS:
        try:
            value = generate(schema, seed=seed)
        except UnsatisfiableSchema:
            continue
        orjson.dumps(value)  # ints within 64 bits, floats finite
        assert not isinstance(value, float) or math.isfinite(value)
        assert errors(schema, value) == [], value


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


# -- malformed schemas: a value or UnsatisfiableSchema, never another exception --------------------


@pytest.mark.parametrize(
    ("schema", "pointer", "words"),
    [
        ({"type": "object", "properties": []}, "#/properties", "properties must be an object"),
        ({"type": "object", "required": "name"}, "#/required", "required must be an array"),
        ({"type": "object", "required": ["a", 5]}, "#/required", "property names"),
        ({"type": "array", "items": 5}, "#/items", "items must be a schema"),
        ({"properties": {"a": {"minItems": "x"}}}, "#/properties/a/minItems", "non-negative"),
        ({"type": "array", "items": None}, "#/items", "items must be a schema"),
        ({"not": None}, "#/not", "must be a schema"),
        ({"maxLength": -1}, "#/maxLength", "non-negative integer"),
        ({"anyOf": {}}, "#/anyOf", "non-empty array"),
        ({"oneOf": []}, "#/oneOf", "not an empty array"),
        ({"$ref": 5}, "#/$ref", "must be a string"),
        ({"pattern": ["a"]}, "#/pattern", "must be a string"),
        ({"minimum": float("nan")}, "#/minimum", "finite number"),
        ({"maximum": float("inf")}, "#/maximum", "finite number"),
        ({"multipleOf": 0}, "#/multipleOf", "greater than 0"),
        ({"type": "foo"}, "#/type", "not a JSON type"),
        ({"type": ["string", 5]}, "#/type", "type name"),
        ({"$defs": {"a": 5}}, "#/$defs/a", "a schema is an object or a boolean"),
        ({"allOf": [{"not": 5}]}, "#/allOf/0/not", "must be a schema"),
        ({"enum": "abc"}, "#/enum", "enum must be an array"),
        ({"uniqueItems": "yes"}, "#/uniqueItems", "must be a boolean"),
        ({"dependentRequired": {"a": "b"}}, "#/dependentRequired/a", "property names"),
        ({"properties": {"a": {"properties": {"b": None}}}}, "#/properties/a/properties/b", "null"),
    ],
)
def test_malformed_keywords_are_named(schema: dict[str, Any], pointer: str, words: str) -> None:
    """A keyword of the wrong type is a 400 naming it (as docs/limits.md promises)."""
    with pytest.raises(UnsatisfiableSchema) as caught:
        generate(schema, seed=0)
    assert caught.value.pointer == pointer, str(caught.value)
    assert "not a valid schema" in str(caught.value) and words in str(caught.value)
    assert not isinstance(caught.value, SchemaTooLarge)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": "string", "required": True}}},  # draft-03
        {"type": "number", "minimum": 0, "exclusiveMinimum": True},  # draft-04
        {"type": "array", "items": [{"type": "string"}], "additionalItems": False},  # draft-07
        {"dependencies": {"a": ["b"], "c": {"required": ["d"]}}},  # draft-07
        {"type": "ARRAY", "items": {"type": "STRING"}, "minItems": "1", "maxItems": "3"},  # Gemini
        {
            "type": "object",
            "properties": {"a": {"type": "string", "nullable": True}},
            "propertyOrdering": ["a"],
            "x-vendor": {"anything": [1, {"properties": []}]},
        },
        {"enum": [{"properties": []}, [1, [2]]], "examples": [{"items": 5}]},  # data, not schemas
        {  # null for an absent keyword
            "type": "array",
            "minItems": None,
            "format": None,
            "pattern": None,
            "enum": None,
            "required": None,
            "properties": None,
            "items": {"type": "integer", "minimum": None, "multipleOf": None},
        },
    ],
)
def test_other_spellings_are_accepted(schema: dict[str, Any]) -> None:
    for seed in SEEDS:
        orjson.dumps(generate(schema, seed=seed))


MALFORMED: list[Any] = [
    {"type": "object", "properties": []},
    {"type": "object", "properties": {"a": 5}, "required": ["a"]},
    {"type": "object", "properties": "abc"},
    {"type": "object", "required": "name"},
    {"type": "object", "required": True, "properties": {"a": {"type": "object", "required": True}}},
    {"type": "object", "required": [[1], {"a": 1}, 5]},
    {"type": "object", "patternProperties": [], "additionalProperties": 5},
    {"type": "object", "patternProperties": {"(": {}}},
    {"type": "object", "minProperties": "2", "maxProperties": None},
    {"type": "object", "dependentRequired": {"a": "b"}, "dependencies": {"a": 5}},
    {"type": "object", "propertyNames": 5, "minProperties": 1},
    {"type": "array", "items": 5},
    {"type": "array", "items": None, "minItems": 1},
    {"type": "array", "prefixItems": {"a": {}}, "minItems": 2},
    {"type": "array", "prefixItems": 7},
    {"type": "array", "minItems": "3", "maxItems": [1]},
    {"type": "array", "contains": {}, "minContains": "x", "maxContains": None},
    {"type": "array", "uniqueItems": "yes", "items": {"enum": 5}},
    {"type": "string", "minLength": "5", "maxLength": {}},
    {"type": "string", "pattern": 5},
    {"type": "string", "pattern": None, "format": 7},
    {"enum": "abc"},
    {"enum": {"a": 1}},
    {"const": float("nan")},
    {"enum": [float("nan"), 1]},
    {"type": "integer", "minimum": float("nan"), "maximum": float("inf")},
    {"type": "number", "multipleOf": float("nan")},
    {"type": "number", "multipleOf": 10**400},
    {"type": "number", "multipleOf": True},
    {"type": 5},
    {"type": ["string", 5, None]},
    {"type": "OBJECT", "properties": {"x": {"type": "STRING"}}},
    {"anyOf": 5},
    {"anyOf": {}},
    {"oneOf": "ab"},
    {"allOf": 5},
    {"allOf": {"a": {}}},
    {"not": 5},
    {"if": 5, "then": 7, "else": None},
    {"$ref": 5},
    {"$ref": "#/properties/x/type", "properties": {"x": {"type": "string"}}},
    {"$ref": "#/$defs/" + "9" * 5000, "$defs": []},
    {"$ref": "#/items/99999999999999999999999999", "items": [{}]},
    {"$id": "http://[", "$ref": "other.json"},
    {"$id": 5, "$anchor": 7, "$ref": "#nowhere"},
    {"$ref": "#"},
    {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
    {"$defs": {"a": {"anyOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"},
    {"properties": {"a": {"$ref": "#"}}, "required": ["a"]},
    {"nullable": "yes", "type": "string"},
    {"examples": 5, "title": 7, "default": {}},
    {"examples": [{"a": [1, 2, 3]}], "type": "object"},
    {"unevaluatedProperties": 5, "unevaluatedItems": None},
    True,
    False,
    {},
]


@pytest.mark.parametrize(
    "schema", MALFORMED, ids=lambda s: json.dumps(s)[:60] if not isinstance(s, bool) else str(s)
)
def test_malformed_schemas_get_a_value_or_unsatisfiable(schema: Any) -> None:
    for seed in (0, 1):
        try:
            value = generate(schema, seed=seed)
        except UnsatisfiableSchema:
            continue
        orjson.dumps(value)


# -- the fuzzer: arbitrary JSON documents as schemas -----------------------------------------------

FUZZ_PATTERNS = (
    "^[a-z]+$",
    r"^\d{3}$",
    "a",
    "^(red|green)$",
    "(",  # not a regular expression
    "^(a+)+b$",  # catastrophic for backtracking engines
    "^(a|a)*$",
    "[[:alpha:]]",
    "a{e<=1}",
    r"\p{L}",
    "^a{100000}$",
    "(?:x{1000}){200}",
    "((((a*)*)*)*)*c",
    r"^(ab|cd)\1$",
    "",
)
FUZZ_NUMBERS = st.one_of(
    st.integers(-5, 20),
    st.sampled_from(
        [0, 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, 10**400]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.5, 1e-300, 1e300, 1.5, -0.0]),
)
FUZZ_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    FUZZ_NUMBERS,
    st.text(max_size=6),
    st.sampled_from(["string", "object", "array", "integer", "null", "OBJECT", "x"]),
)
FUZZ_JUNK = st.recursive(
    FUZZ_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=3,
)
FUZZ_NAMES = st.sampled_from(["a", "b", "name", "x", "tags", "0", "~/", "$defs"])
FUZZ_REFS = st.sampled_from(
    [
        "#",
        "#/$defs/a",
        "#/$defs/b",
        "#/definitions/a",
        "#/properties/a",
        "#/items",
        "#/anyOf/0",
        "#/$defs/a/properties/a",
        "#anchor",
        "#/$defs/missing",
        "other.json",
        "http://[",
        "#/items/0",
    ]
)
FUZZ_TYPES = st.one_of(
    st.sampled_from(["string", "integer", "number", "boolean", "null", "object", "array"]),
    st.lists(
        st.sampled_from(["string", "integer", "number", "null", "object", "array"]), max_size=3
    ),
    FUZZ_JUNK,
)
COUNTS = st.one_of(
    st.integers(0, 4), st.sampled_from([10_000, 10_001, 50_000, 10**6, 10**20]), FUZZ_JUNK
)


def fuzz_composite(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    schema_list = st.lists(children, max_size=3)
    schema_map = st.dictionaries(FUZZ_NAMES, children, max_size=3)
    either = st.one_of(children, FUZZ_JUNK)
    keywords: dict[str, st.SearchStrategy[Any]] = {
        "type": FUZZ_TYPES,
        "enum": st.one_of(st.lists(FUZZ_JUNK, max_size=4), FUZZ_JUNK),
        "const": FUZZ_JUNK,
        "minimum": FUZZ_NUMBERS,
        "maximum": st.one_of(FUZZ_NUMBERS, FUZZ_JUNK),
        "exclusiveMinimum": st.one_of(FUZZ_NUMBERS, st.booleans()),
        "exclusiveMaximum": FUZZ_NUMBERS,
        "multipleOf": st.one_of(FUZZ_NUMBERS, FUZZ_JUNK),
        "minLength": COUNTS,
        "maxLength": COUNTS,
        "pattern": st.one_of(st.sampled_from(FUZZ_PATTERNS), FUZZ_JUNK),
        "format": st.one_of(
            st.sampled_from(FORMAT_NAMES + ("regex", "duration", "bogus")), FUZZ_JUNK
        ),
        "properties": st.one_of(schema_map, FUZZ_JUNK),
        "patternProperties": st.one_of(
            st.dictionaries(st.sampled_from(FUZZ_PATTERNS), children, max_size=2), FUZZ_JUNK
        ),
        "additionalProperties": either,
        "required": st.one_of(st.lists(st.one_of(FUZZ_NAMES, FUZZ_JUNK), max_size=3), FUZZ_JUNK),
        "propertyNames": either,
        "minProperties": COUNTS,
        "maxProperties": COUNTS,
        "dependentRequired": st.one_of(
            st.dictionaries(FUZZ_NAMES, st.lists(FUZZ_NAMES, max_size=2), max_size=2), FUZZ_JUNK
        ),
        "dependentSchemas": st.one_of(schema_map, FUZZ_JUNK),
        "dependencies": st.one_of(st.dictionaries(FUZZ_NAMES, either, max_size=2), FUZZ_JUNK),
        "items": st.one_of(children, schema_list, FUZZ_JUNK),
        "prefixItems": st.one_of(schema_list, FUZZ_JUNK),
        "additionalItems": either,
        "minItems": COUNTS,
        "maxItems": COUNTS,
        "uniqueItems": st.one_of(st.booleans(), FUZZ_JUNK),
        "contains": either,
        "minContains": COUNTS,
        "maxContains": COUNTS,
        "anyOf": st.one_of(schema_list, FUZZ_JUNK),
        "oneOf": st.one_of(schema_list, FUZZ_JUNK),
        "allOf": st.one_of(schema_list, FUZZ_JUNK),
        "not": either,
        "if": either,
        "then": either,
        "else": either,
        "$ref": st.one_of(FUZZ_REFS, FUZZ_JUNK),
        "$defs": st.one_of(
            st.fixed_dictionaries({"a": children}, optional={"b": children}), FUZZ_JUNK
        ),
        "definitions": st.fixed_dictionaries({"a": children}),
        "$anchor": st.sampled_from(["anchor", "other"]),
        "$id": st.sampled_from(["http://example.com/s.json", "http://[", "other.json", "#x"]),
        "nullable": st.one_of(st.booleans(), FUZZ_JUNK),
        "examples": st.one_of(st.lists(FUZZ_JUNK, max_size=2), FUZZ_JUNK),
        "unevaluatedProperties": either,
        "unevaluatedItems": either,
    }
    # A few keywords at a time: drawing all of them optionally is slow and rarely useful.
    return st.lists(st.sampled_from(sorted(keywords)), max_size=6, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({k: keywords[k] for k in chosen})
    )


def deeply_nested(draw_depth: int, keyword: str) -> Any:
    node: Any = {"type": "integer"}
    for _ in range(draw_depth):
        node = (
            {keyword: [node]} if keyword in ("anyOf", "allOf", "prefixItems") else {keyword: node}
        )
    return node


FUZZ_DEEP = st.builds(
    deeply_nested,
    st.integers(20, 400),
    st.sampled_from(["not", "items", "anyOf", "allOf", "additionalProperties", "prefixItems"]),
)
FUZZ_SCHEMAS = st.integers(0, 9).flatmap(
    lambda pick: (
        FUZZ_DEEP
        if pick == 0
        else st.recursive(
            st.one_of(st.booleans(), FUZZ_JUNK, st.just({})), fuzz_composite, max_leaves=8
        )
    )
)
# Schemas jsonschema cannot judge the way this generator does (see the module docstring).
NOT_JUDGED = ("nullable", "unevaluated", "$id", "$anchor", "dependencies", "OBJECT", "[[:", "{e<")
FUZZ_LIMITS = Limits(json_max_bytes=100_000, regex_timeout_ms=5)
FUZZ_SECONDS = 1.0


def fuzz_one(schema: Any, seed: int) -> None:
    """``generate`` returns a value valid against ``schema`` (when jsonschema can judge) or
    raises UnsatisfiableSchema (SchemaTooLarge included), within FUZZ_SECONDS."""
    if not isinstance(schema, Mapping | bool):
        with pytest.raises(TypeError):
            generate(schema, seed=seed)  # the engine answers a 400 before calling generate()
        return
    started = time.process_time()  # CPU time: a loaded CI machine does not fail the test
    try:
        value = generate(schema, seed=seed, limits=FUZZ_LIMITS)
    except UnsatisfiableSchema:
        value = UnsatisfiableSchema
    elapsed = time.process_time() - started
    assert elapsed < FUZZ_SECONDS, f"{elapsed:.2f} s"
    if value is UnsatisfiableSchema:
        return
    assert len(orjson.dumps(value)) <= FUZZ_LIMITS.json_max_bytes
    text = json.dumps(schema, default=str)
    if any(word in text for word in NOT_JUDGED) or any(p in text for p in FUZZ_PATTERNS[5:13]):
        return
    try:
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        problems = [e.message for e in validator.iter_errors(value)]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # no verdict: not a schema jsonschema accepts, or jsonschema (or
        return  # referencing, whose Rust core panics on deep recursion) fails on it
    assert problems == [], (value, problems)


# CI runs a fixed set of examples; MOCKLLM_FUZZ_EXAMPLES=20000 MOCKLLM_FUZZ_RANDOM=1 hunts.
@settings(
    max_examples=int(os.environ.get("MOCKLLM_FUZZ_EXAMPLES", "200")),
    derandomize=not os.environ.get("MOCKLLM_FUZZ_RANDOM"),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(schema=FUZZ_SCHEMAS, seed=st.integers(0, 2**16))
def test_fuzzed_schemas_never_crash_or_stall(schema: Any, seed: int) -> None:
    fuzz_one(schema, seed)
