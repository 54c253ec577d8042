"""Decoding a request body, and turning a pydantic validation error into what a provider
reports: which request field is wrong, and how.

pydantic's error locations include union member and tag names that are not request fields;
:func:`field_path` keeps only the steps that exist in the request body.

Integers: pydantic decodes JSON integers of any size, orjson serializes only 64-bit ones,
and no real API takes more. Integer fields of the request schemas are bounded (``le`` /
``ge``, see :data:`INT32_MAX` and :data:`INT64_MAX`); :func:`parse_json` deals with the
integers of free-form JSON (tool schemas, unknown fields, arguments).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import orjson
import pydantic_core
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, InitErrorDetails

Path = tuple[str | int, ...]

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

BOUNDS = frozenset({"greater_than_equal", "greater_than", "less_than_equal", "less_than"})
"""pydantic's error types for a number out of a field's bounds."""

OUT_OF_RANGE = "integer out of range"
"""The title of the :class:`ValidationError` :func:`parse_json` raises for a huge integer
of free-form JSON; its error's ``loc`` is the integer's path in the body, as sent."""


def _shapes() -> bytes:
    table = bytearray(b" " * 256)
    table[ord("0") : ord("9") + 1] = b"0" * 10
    table[ord("e")] = table[ord("E")] = ord("e")
    for char in b"NaIfinty":
        table[char] = char
    return bytes(table)


_SHAPES = _shapes()
"""A body's shape: digits are 0, exponents e, the letters of NaN and Infinity kept, the
rest blank (and signs deleted)."""


def suspect(body: bytes) -> bool:
    """Whether ``body`` may hold an integer outside int64 (19 digits or more), a number
    beyond a double (an exponent of 3 digits, or 309 digits), NaN or Infinity. False
    positives (digits in a string) cost a walk of the parsed body; the check costs a few
    milliseconds per megabyte, much less than a regular expression would."""
    shape = body.translate(_SHAPES, b"+-")
    return (
        b"0000000000000000000" in shape
        or b"e000" in shape
        or b"NaN" in shape
        or b"Infinity" in shape
    )


Model = TypeVar("Model", bound=BaseModel)


def parse_json(
    model: type[Model], body: bytes, huge: Literal["reject", "float"] = "reject"
) -> Model:
    """``body`` validated as ``model`` (``model.model_validate_json``), with no integer
    outside int64 and no infinite or NaN number left anywhere in it, free-form JSON
    included.

    pydantic's JSON parser accepts ``NaN``, ``Infinity`` and numbers that overflow a
    double (``1e400``), which are not JSON for the real APIs or for orjson: a body holding
    one is a :class:`ValidationError` that the dialects report as invalid JSON (their
    ``orjson.loads`` of the body fails too). An integer outside int64 is a
    :class:`ValidationError` too (``huge="reject"``; the :data:`OUT_OF_RANGE` error, which
    :func:`first_error` reports at the integer's path) or, with ``huge="float"``, becomes
    a float, as in Go's ``encoding/json`` (``any``) and protobuf's ``Struct``, whose numbers
    are doubles. The integer fields of ``model`` are bounded by their own schema, checked
    first. A body with none of these costs one scan (:func:`suspect`)."""
    parsed: Model = model.__pydantic_validator__.validate_json(body)  # model_validate_json
    if not suspect(body):
        return parsed
    data = pydantic_core.from_json(body)
    found = _first_unsafe(data)
    if found is None:
        return parsed
    path, value = found
    if isinstance(value, int) and huge == "float":
        try:
            data = _with_floats(data)
        except OverflowError:
            value = math.inf  # beyond a double's range
        else:
            found = _first_unsafe(data)  # only a float that is not finite is left to find
            if found is None:
                return model.model_validate(data)
            path, value = found
    if isinstance(value, float):
        invalid: InitErrorDetails = {
            "type": "json_invalid",
            "loc": path,
            "input": value,
            "ctx": {"error": "number out of range"},
        }
        raise ValidationError.from_exception_data("invalid JSON", [invalid])
    bound: dict[str, Any] = {"le": INT64_MAX} if value > 0 else {"ge": INT64_MIN}
    error: InitErrorDetails = {
        "type": "less_than_equal" if value > 0 else "greater_than_equal",
        "loc": path,
        "input": value,
        "ctx": bound,
    }
    raise ValidationError.from_exception_data(OUT_OF_RANGE, [error])


def parse_body(
    model: type[Model],
    body: bytes,
    invalid: Callable[[ValidationError], Exception],
    huge: Literal["reject", "float"] = "reject",
) -> Model:
    """:func:`parse_json`, with a validation error turned into the dialect's own error
    by ``invalid`` (which words it from the error and the body it closes over)."""
    try:
        return parse_json(model, body, huge)
    except ValidationError as exc:
        raise invalid(exc) from None


def _first_unsafe(data: Any) -> tuple[Path, int | float] | None:
    """The first number of ``data`` (decoded JSON) that is an integer outside int64 or a
    float that is not finite, with its path."""
    stack: list[tuple[Path, Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if _huge(value) or (type(value) is float and not math.isfinite(value)):
            return path, value
        if isinstance(value, dict):
            stack.extend((path + (k,), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((path + (i,), v) for i, v in reversed(list(enumerate(value))))
    return None


def _huge(value: Any) -> bool:
    return type(value) is int and not INT64_MIN <= value <= INT64_MAX


def _with_floats(value: Any) -> Any:
    """``value`` with its integers outside int64 as floats (OverflowError beyond a double)."""
    if _huge(value):
        return float(value)
    if isinstance(value, dict):
        return {k: _with_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_floats(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class FieldError:
    """The first problem of a request body: where, the pydantic error type, and details.

    ``errors`` holds every pydantic error reported for that same place (several when the
    field accepts a union of types).
    """

    path: Path
    type: str
    value: Any
    present: bool
    errors: tuple[ErrorDetails, ...]


def field_path(loc: Sequence[str | int], data: Any) -> tuple[Path, Any, bool]:
    """The request-body path along ``loc``, the value found there and whether it exists."""
    path: list[str | int] = []
    current = data
    present = True
    tag_skipped: object = None  # the dict whose discriminator tag was already skipped
    for step in loc:
        if isinstance(current, dict) and isinstance(step, str):
            is_tag = step in (current.get("type"), current.get("role"))
            if is_tag and tag_skipped is not current:
                tag_skipped = current  # pydantic names the tag once, before the fields
                continue
            if step in current:
                current = current[step]
                path.append(step)
            elif is_member_name(step):
                continue  # a union member, not a field
            else:
                path.append(step)
                present = False
                current = None
        elif isinstance(current, list) and isinstance(step, int) and step < len(current):
            current = current[step]
            path.append(step)
        elif isinstance(step, str) and not is_member_name(step) and current is None and not present:
            path.append(step)
    return tuple(path), current, present


def is_member_name(step: str) -> bool:
    """Whether a location step is a pydantic union member name (``str``, ``list[...]``,
    a model class name, a validator kind) rather than a field."""
    return (
        step[:1].isupper()
        or "[" in step
        or step
        in {
            "str",
            "int",
            "float",
            "bool",
            "dict",
            "list",
            "literal",
            "none",
            "nullable",
            "function-after",
            "function-before",
            "function-wrap",
            "function-plain",
        }
    )


def body_error(error: ValidationError, body: bytes) -> FieldError | None:
    """The first problem of the request ``body`` (JSON bytes) reported in ``error``; None
    when the body is not a JSON object at all, or not one pydantic reads (nested deeper
    than its parser goes, which orjson reads)."""
    if any(item["type"] == "json_invalid" for item in error.errors()):
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return first_error(error, data) if isinstance(data, dict) else None


def first_error(error: ValidationError, data: Any) -> FieldError:
    """The first problem of ``data`` reported in ``error``, with all errors at that place."""
    details = error.errors()
    if error.title == OUT_OF_RANGE:  # from parse_json: the location is the body's own path
        item = details[0]
        return FieldError(tuple(item["loc"]), item["type"], item["input"], True, (item,))
    grouped: dict[Path, list[ErrorDetails]] = {}
    info: dict[Path, tuple[Any, bool]] = {}
    for item in details:
        path, value, present = field_path(item["loc"], data)
        grouped.setdefault(path, []).append(item)
        info.setdefault(path, (value, present))
    # pydantic reports every member of a union; the member that got deepest into the
    # request is the one the client meant (an array of parts, not a string).
    root = next(iter(grouped))[:1]
    path = max((p for p in grouped if p[:1] == root), key=len)
    errors = tuple(grouped[path])
    value, present = info[path]
    kinds = [e["type"] for e in errors]
    missing = "missing" in kinds and not present
    kind = "missing" if missing else next((k for k in kinds if k != "missing"), kinds[0])
    if kind in BOUNDS:  # the number as decoded (orjson turns huge integers into floats)
        value = next(e["input"] for e in errors if e["type"] == kind)
    return FieldError(path, kind, value, present and not missing, errors)


def json_kind(value: Any) -> str:
    """How OpenAI names the JSON type of ``value`` in its error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "none_required": "null",
}


def expected_kinds(errors: Sequence[ErrorDetails]) -> list[str]:
    """The JSON types the field would accept, from its type errors, without repeats."""
    out: list[str] = []
    for item in errors:
        kind = EXPECTED.get(item["type"])
        if kind and kind not in out:
            out.append(kind)
    return out
