"""Helpers shared by the tests of :mod:`mockllm.json_instances`: the seeds tried, the
jsonschema oracle (with format checking) and the check that a schema is refused as too large.

Imported as ``json_instances.support`` (``tests/`` is on the path, as for ``golden_files``)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator

from mockllm.core.limits import Limits
from mockllm.json_instances import SchemaTooLarge, UnsatisfiableSchema, generate

__all__ = ["SEEDS", "check", "errors", "too_large"]

SEEDS: tuple[int | str, ...] = (0, 1, 2, 3, "alpha", 987654321)


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
