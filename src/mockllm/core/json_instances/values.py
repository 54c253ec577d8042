"""Predicates on JSON values shared by generation and validation: number and integral tests,
JSON equality (``1 == 1.0``, ``True != 1``), JSON type membership and exact ``multipleOf``."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any, TypeGuard


def _is_num(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integral(value: object) -> TypeGuard[int | float]:
    """An int, or a float with an integral value (bools are not numbers)."""
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


def _multiple_ok(value: int | float, step: int | float) -> bool:
    """``value`` is a multiple of ``step`` exactly as :mod:`jsonschema` decides it."""
    if isinstance(step, float):
        try:
            quotient = value / step
            return int(quotient) == quotient
        except OverflowError:
            return (Fraction(value) / Fraction(step)).denominator == 1
        except ValueError:
            return False
    return not value % step


def _eq(a: Any, b: Any) -> bool:
    """JSON equality: ``1 == 1.0`` but ``True != 1``; containers compared deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if _is_num(a) and _is_num(b):
        return bool(a == b)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_eq(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_eq(x, y) for x, y in zip(a, b, strict=True))
    return a is None and b is None


def _is_type(inst: Any, name: str) -> bool:
    if name == "string":
        return isinstance(inst, str)
    if name == "object":
        return isinstance(inst, Mapping)
    if name == "array":
        return isinstance(inst, list | tuple)
    if name == "null":
        return inst is None
    if name == "boolean":
        return isinstance(inst, bool)
    if name == "number":
        return _is_num(inst)
    if name == "integer":
        return _is_num(inst) and _integral(inst)
    return False
