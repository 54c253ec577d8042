"""Numbers the wire carries: integers within 64 bits and finite floats, whatever the
bounds; bounds past them make the schema unsatisfiable (not too large)."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest

from json_instances.support import SEEDS, errors
from mockllm.json_instances import SchemaTooLarge, UnsatisfiableSchema, generate

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
