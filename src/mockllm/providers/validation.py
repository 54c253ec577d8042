"""Turning a pydantic validation error into what a provider reports: which request field
is wrong, and how.

pydantic's error locations include union member and tag names that are not request fields;
:func:`field_path` keeps only the steps that exist in the request body.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError
from pydantic_core import ErrorDetails

Path = tuple[str | int, ...]


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
    when the body is not a JSON object at all."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return first_error(error, data) if isinstance(data, dict) else None


def first_error(error: ValidationError, data: Any) -> FieldError:
    """The first problem of ``data`` reported in ``error``, with all errors at that place."""
    details = error.errors()
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
