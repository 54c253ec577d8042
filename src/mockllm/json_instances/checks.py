"""The schema document, checked once before any value is made: how deep it nests (every later
walk over it recurses), how large it is (counted as work), and whether each keyword has a value
of the type JSON Schema gives it.

A keyword of the wrong type -- ``properties`` as an array, ``required`` as a string,
``minItems`` as ``null``, a number where a subschema belongs -- is a malformed schema, which the
real services refuse too: :class:`~.context.UnsatisfiableSchema` names the keyword by its JSON
pointer. Spellings of other drafts and dialects stay accepted: draft-03's boolean ``required``,
draft-04's boolean ``exclusiveMinimum``/``exclusiveMaximum``, draft-07's array ``items`` and
``dependencies``, Gemini's upper-case type names and int64 counts written as strings
(``"minItems": "2"``, ignored as before), OpenAPI's ``nullable``, and ``null`` for an absent
keyword (``"format": null``, as some writers emit) except where a subschema is required.
Keywords this module does not know (``title``, ``propertyOrdering``, ``x-...``) are not
checked."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from .context import Context, UnsatisfiableSchema, escape_token

__all__ = ["check_document"]

_DOC_DEPTH_FACTOR: Final = 4  # a schema document may nest this many times json_max_depth

_SUBSCHEMA: Final = frozenset(
    {
        "not",
        "if",
        "then",
        "else",
        "additionalProperties",
        "unevaluatedProperties",
        "propertyNames",
        "contains",
        "additionalItems",
        "unevaluatedItems",
    }
)
_SUBSCHEMA_LISTS: Final = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SUBSCHEMA_MAPS: Final = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
_COUNTS: Final = frozenset(
    {
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "minProperties",
        "maxProperties",
        "minContains",
        "maxContains",
    }
)
_NUMBERS: Final = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
_STRINGS: Final = frozenset({"pattern", "format", "$ref", "$dynamicRef"})
_TYPES: Final = frozenset({"string", "integer", "number", "boolean", "object", "array", "null"})


def _kind(value: Any) -> str:
    """The JSON type of ``value``, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}" if len(repr(value)) <= 30 else "a number"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= 30 else "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def _is_schema(value: Any) -> bool:
    return isinstance(value, bool | dict | Mapping)


def _bad(pointer: str, reason: str) -> UnsatisfiableSchema:
    return UnsatisfiableSchema(pointer, f"not a valid schema: {reason}")


def check_document(ctx: Context, schema: Any) -> None:
    """Walk ``schema`` once, without recursing: refuse nesting deeper than
    ``4 * json_max_depth`` (:class:`~.context.SchemaTooLarge`) and keywords of the wrong
    type (:class:`~.context.UnsatisfiableSchema`); count its nodes as work."""
    if not _is_schema(schema):
        raise _bad("#", f"a schema is an object or a boolean, not {_kind(schema)}")
    most = _DOC_DEPTH_FACTOR * ctx.max_depth
    # (node, depth, pointer): pointer is None for data (enum values...), checked for depth only
    stack: list[tuple[Any, int, str | None]] = [(schema, 1, "#")]
    count = 0
    while stack:
        node, depth, pointer = stack.pop()
        count += 1
        if count % 1024 == 0:
            ctx.charge(1024, "#")
        if depth > most:
            raise ctx.too_big(
                pointer or "#",
                f"the schema document nests more than {most} levels deep",
                "json_max_depth",
            )
        if pointer is None:
            subs = node.values() if isinstance(node, dict | Mapping) else node
            stack.extend((sub, depth + 1, None) for sub in subs if _container(sub))
        elif isinstance(node, dict | Mapping):
            _check_keywords(node, depth, pointer, stack)


def _check_keywords(
    node: Mapping[Any, Any], depth: int, pointer: str, stack: list[tuple[Any, int, str | None]]
) -> None:
    """Check the keywords of one schema object and queue its subschemas and data."""
    deeper = depth + 1
    for key, value in node.items():
        if not isinstance(key, str):
            raise _bad(pointer, f"keywords are strings, not {_kind(key)}")
        where = f"{pointer}/{escape_token(key)}"
        if value is None and key not in _NO_NULL:
            continue  # null stands for an absent keyword (proto-JSON and OpenAPI writers)
        if key in _SUBSCHEMA:
            if not _is_schema(value):
                raise _bad(
                    where, f"{key} must be a schema (an object or a boolean), not {_kind(value)}"
                )
            stack.append((value, deeper, where))
        elif key in _SUBSCHEMA_LISTS:
            if not isinstance(value, list) or (not value and key != "prefixItems"):
                shown = "an empty array" if value == [] else _kind(value)
                raise _bad(where, f"{key} must be a non-empty array of schemas, not {shown}")
            _queue_schemas(list(enumerate(value)), deeper, where, stack)
        elif key in _SUBSCHEMA_MAPS:
            if not isinstance(value, dict | Mapping):
                raise _bad(where, f"{key} must be an object, not {_kind(value)}")
            _queue_schemas(value.items(), deeper, where, stack)
        elif key == "items":
            if isinstance(value, list):  # draft-07's tuple form
                _queue_schemas(list(enumerate(value)), deeper, where, stack)
            elif _is_schema(value):
                stack.append((value, deeper, where))
            else:
                raise _bad(
                    where, f"items must be a schema or an array of schemas, not {_kind(value)}"
                )
        elif key in _COUNTS:
            _check_count(key, value, where)
        elif key in _NUMBERS:
            if not (isinstance(value, bool) and key.startswith("exclusive")):  # draft-04
                _check_number(key, value, where)
        elif key == "multipleOf":
            _check_number(key, value, where)
            if value <= 0:
                raise _bad(where, f"multipleOf must be greater than 0, not {value!r}")
        elif key in _STRINGS:
            if not isinstance(value, str):
                raise _bad(where, f"{key} must be a string, not {_kind(value)}")
        elif key == "type":
            _check_type(value, where)
        elif key == "required":
            if isinstance(value, bool):  # draft-03: "required": true in the property
                continue
            _check_names(key, value, where)
        elif key == "enum":
            if not isinstance(value, list):
                raise _bad(where, f"enum must be an array, not {_kind(value)}")
            stack.append((value, deeper, None))
        elif key == "uniqueItems":
            if not isinstance(value, bool):
                raise _bad(where, f"uniqueItems must be a boolean, not {_kind(value)}")
        elif key == "dependentRequired":
            if not isinstance(value, dict | Mapping):
                raise _bad(where, f"dependentRequired must be an object, not {_kind(value)}")
            for name, names in value.items():
                _check_names(key, names, f"{where}/{escape_token(str(name))}")
        elif key == "dependencies":  # draft-07: property names or a schema per property
            if not isinstance(value, dict | Mapping):
                raise _bad(where, f"dependencies must be an object, not {_kind(value)}")
            for name, dep in value.items():
                at = f"{where}/{escape_token(str(name))}"
                if isinstance(dep, list):
                    _check_names(key, dep, at)
                elif _is_schema(dep):
                    stack.append((dep, deeper, at))
                else:
                    raise _bad(
                        at, f"a dependency is an array of names or a schema, not {_kind(dep)}"
                    )
        elif _container(value):  # data (enum, const, examples...) or a keyword not known here
            stack.append((value, deeper, None))


def _queue_schemas(
    entries: Any, depth: int, pointer: str, stack: list[tuple[Any, int, str | None]]
) -> None:
    """Queue the subschemas of an array (``enumerate``) or an object (``items()``)."""
    for token, sub in entries:
        if not isinstance(token, str) and not (isinstance(entries, list) and type(token) is int):
            raise _bad(pointer, f"property names are strings, not {_kind(token)}")
        where = f"{pointer}/{escape_token(str(token))}"
        if not _is_schema(sub):
            raise _bad(where, f"a schema is an object or a boolean, not {_kind(sub)}")
        stack.append((sub, depth, where))


def _check_count(key: str, value: Any, where: str) -> None:
    if isinstance(value, str) and value.isdigit():
        return  # Gemini writes int64 fields as strings; ignored, as it always was
    integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not integral or value < 0:
        raise _bad(where, f"{key} must be a non-negative integer, not {_kind(value)}")


def _check_number(key: str, value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(where, f"{key} must be a number, not {_kind(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise _bad(where, f"{key} must be a finite number, not {value!r}")


def _check_type(value: Any, where: str) -> None:
    names = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        raise _bad(where, "type must not be an empty array")
    for name in names:
        if not isinstance(name, str):
            raise _bad(where, f"type must be a type name or an array of them, not {_kind(name)}")
        if name.lower() not in _TYPES:
            raise _bad(where, f"{name!r} is not a JSON type")


def _check_names(key: str, value: Any, where: str) -> None:
    if not isinstance(value, list):
        raise _bad(where, f"{key} must be an array of property names, not {_kind(value)}")
    for name in value:
        if not isinstance(name, str):
            raise _bad(where, f"{key} lists property names (strings), not {_kind(name)}")


def _container(node: Any) -> bool:
    kind = type(node)
    if kind is dict or kind is list:
        return True
    if kind in _SCALARS:
        return False
    return isinstance(node, Mapping | list | tuple)


_SCALARS: Final = frozenset({str, int, float, bool, type(None)})
_NO_NULL: Final = _SUBSCHEMA | {"anyOf", "oneOf", "items"}
"""Keywords that must not be ``null``: a subschema (or the branches) generation follows."""
