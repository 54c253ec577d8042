"""Generation (:func:`mockllm.json_instances.generate`): every keyword family gives values
jsonschema accepts (draft-04/07 spellings and Gemini's upper-case types included), the
values are plausible (small numbers, optional properties included, bounded recursion), an
unsatisfiable schema is an error -- never an invalid value --, real-world pydantic and
OpenAI strict schemas work, and a typical tool schema is fast."""

from __future__ import annotations

import datetime
import enum
import json
import time
import uuid
from typing import Annotated, Any, Literal

import pytest
from jsonschema import Draft4Validator, Draft7Validator
from pydantic import BaseModel, Field, HttpUrl

from json_instances.support import SEEDS, check, errors
from mockllm.json_instances import RECURSION_LIMIT, UnsatisfiableSchema, generate

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
