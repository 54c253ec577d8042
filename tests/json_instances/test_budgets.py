"""Budgets (:class:`mockllm.core.limits.Limits`): what a schema requires past a budget is
refused quickly with SchemaTooLarge naming the limit, what it merely allows stays small,
the size budget is exact for plain values, and the limits raise the budgets."""

from __future__ import annotations

import json
import pickle
import time
from typing import Any

import orjson
import pytest

from json_instances.support import errors, too_large
from mockllm.core.limits import Limits
from mockllm.json_instances import SchemaTooLarge, UnsatisfiableSchema, generate

# -- budgets (mockllm.core.limits.Limits) -------------------------------------------------------


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
