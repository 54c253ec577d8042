"""Malformed schemas: a keyword of the wrong type is refused naming it by its pointer,
other drafts' and dialects' spellings are accepted, and any malformed schema gets a value
or UnsatisfiableSchema, never another exception."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from json_instances.support import SEEDS
from mockllm.json_instances import SchemaTooLarge, UnsatisfiableSchema, generate

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
