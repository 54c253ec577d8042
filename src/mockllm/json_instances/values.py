"""Predicates on JSON values shared by generation and validation: number and integral tests,
JSON equality (``1 == 1.0``, ``True != 1``) and its hashable keys, JSON type membership, exact
``multipleOf``, string length bounds and the serialized size of a value. Pure functions of
their arguments, with no state: this module imports nothing from the rest of the package."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from fractions import Fraction
from typing import Any, TypeGuard

__all__ = [
    "int_size",
    "is_finite_number",
    "is_integral",
    "is_multiple",
    "is_num",
    "is_type",
    "is_writable",
    "json_equal",
    "json_key",
    "json_size",
    "length_ok",
]


def is_num(value: object) -> TypeGuard[int | float]:
    """A JSON number: an int or a float, not a bool (NaN and infinities included)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_finite_number(value: object) -> TypeGuard[int | float]:
    """A number that is not NaN or infinite (ints of any size are finite)."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


def is_integral(value: object) -> TypeGuard[int | float]:
    """An int, or a float with an integral value (bools are not numbers)."""
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


def is_multiple(value: int | float, step: int | float) -> bool:
    """``value`` is a multiple of ``step`` exactly as :mod:`jsonschema` decides it."""
    if isinstance(step, float):
        try:
            quotient = value / step
            return int(quotient) == quotient
        except OverflowError:
            if not (is_finite_number(value) and is_finite_number(step)) or not step:
                return False
            return (Fraction(value) / Fraction(step)).denominator == 1
        except (ValueError, ZeroDivisionError):
            return False
    if not step:
        return False
    try:
        return not value % step
    except OverflowError:  # a float against an int too large for a float
        return is_finite_number(value) and Fraction(value) % step == 0


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: ``1 == 1.0`` but ``True != 1``; containers compared deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if is_num(a) and is_num(b):
        return bool(a == b)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return a is None and b is None


def json_key(value: Any) -> Hashable:
    """A hashable key for ``value``: two values have equal keys exactly when :func:`json_equal`
    says they are equal (NaN and non-JSON objects equal nothing, themselves included)."""
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, int | float):
        if value != value:
            return (9, object())
        return (3, value)  # 1 == 1.0 and hash(1) == hash(1.0)
    if isinstance(value, Mapping):
        return (4, frozenset((k, json_key(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (5, tuple(json_key(v) for v in value))
    if value is None:
        return (6,)
    return (9, object())


def is_writable(value: Any) -> bool:
    """Whether ``value`` can be written as JSON as it is: integers within 64 bits (what JSON
    writers, orjson included, carry), finite floats, text without lone surrogates, string
    keys, JSON types only."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, str):
        return value.isascii() or _utf8(value)
    if isinstance(value, int):
        return -(2**63) <= value < 2**64
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Mapping):
        return all(
            isinstance(k, str) and is_writable(k) and is_writable(v) for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return all(is_writable(v) for v in value)
    return False


def _utf8(text: str) -> bool:
    """Whether ``text`` has no lone surrogate (``"\\ud800"`` in JSON): UTF-8 can carry it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_size(value: Any) -> tuple[int, int]:
    """The serialized size of a JSON value in bytes (approximately: escapes are not counted)
    and the number of values in it."""
    if isinstance(value, str):
        return (len(value) if value.isascii() else len(value.encode("utf-8", "replace"))) + 2, 1
    if isinstance(value, Mapping):
        size, count = 2, 1
        for key, item in value.items():
            item_size, item_count = json_size(item)
            size += len(str(key)) + 4 + item_size
            count += item_count
        return size, count
    if isinstance(value, list | tuple):
        size, count = 2, 1
        for item in value:
            item_size, item_count = json_size(item)
            size += item_size + 1
            count += item_count
        return size, count
    if value is None or value is True:
        return 4, 1
    if value is False:
        return 5, 1
    if isinstance(value, int):
        return int_size(value), 1
    return 24, 1


def int_size(value: int) -> int:
    """Digits of an int, at most 25 (past that the exact count does not matter here)."""
    if -(10**24) < value < 10**24:
        return len(str(value))
    return 25


def is_type(inst: Any, name: str) -> bool:
    """Whether ``inst`` is of the JSON type ``name`` (lower-case) as :mod:`jsonschema` decides:
    an integral float is an ``integer``, a bool is no number, a tuple is an ``array``; an
    unknown type name matches nothing."""
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
        return is_num(inst)
    if name == "integer":
        return is_num(inst) and is_integral(inst)
    return False


def length_ok(text: str, lo: int, hi: int | None) -> bool:
    """Whether ``text`` has from ``lo`` to ``hi`` characters (``hi`` ``None``: no upper bound)."""
    return len(text) >= lo and (hi is None or len(text) <= hi)
