"""Property tests over many schemas (hypothesis): random well-formed schemas always get
valid values, loose ones a valid value or UnsatisfiableSchema, and the fuzzer's arbitrary
JSON documents never crash or stall generation."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from json_instances.support import errors
from mockllm.core.limits import Limits
from mockllm.json_instances import UnsatisfiableSchema, generate

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
