"""JSON instances for JSON Schemas: a valid value for a schema, the same for the same seed.

:func:`generate` answers a structured-output request (OpenAI ``response_format`` with a
``json_schema``, a forced tool call's ``parameters``, Gemini's ``responseSchema``) with a value
that the client's own validator accepts. The contract:

* **Valid.** The value is valid against the schema under JSON Schema draft 2020-12 (draft-07
  spellings -- ``definitions``, array-form ``items``, ``additionalItems``, ``dependencies``,
  and draft-04's boolean ``exclusiveMinimum`` -- are understood too), ``format`` included
  for the formats listed in :data:`FORMATS`. Every value is checked against the whole schema
  before it is returned, by a validator in this module that follows :mod:`jsonschema`'s rules
  (jsonschema itself is not needed at run time); when no value passes,
  :class:`UnsatisfiableSchema` is raised instead. An invalid value is never returned.
* **Deterministic.** The value depends only on the schema and the seed: a private
  :class:`random.Random` is seeded from SHA-256 of the seed (int or str; never ``hash()``, no
  module-level random state), so the same pair gives the same value in every process.
  Different seeds give different values wherever the schema leaves room (numbers, strings,
  array lengths, branch choices).
* **Plausible.** Strings come from the property name (``"city"`` gives ``"city 7"``), numbers
  are small and inside their bounds, unconstrained arrays have 1-3 items, optional properties
  are included, and a schema's own ``examples`` are preferred when one of them is valid.
* **Finite.** Recursive schemas are followed a few levels deep
  (:data:`RECURSION_LIMIT` expansions of the same ``$ref``); past that, optional properties
  are left out, arrays are as short as allowed and ``anyOf``/``oneOf``/``type`` prefer their
  non-recursive options (``null`` first).

Leniencies for schemas seen in the wild: type names are case-insensitive (Gemini's
``"OBJECT"``), and OpenAPI's ``nullable: true`` admits ``null``. ``$ref`` resolves inside the
document only (JSON pointers, ``$anchor``/``$dynamicAnchor`` names, embedded ``$id``\\ s);
``unevaluatedProperties``/``unevaluatedItems`` are honoured while generating but not checked.
JSON Schema regular expressions are run with Python's :mod:`re`, as :mod:`jsonschema` does.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from .context import _TOP_ATTEMPTS, RECURSION_LIMIT, UnsatisfiableSchema, _Ctx, _seed_int
from .formats import FORMATS
from .generation import _gen_node
from .validation import _valid

__all__ = ["FORMATS", "RECURSION_LIMIT", "UnsatisfiableSchema", "generate"]

UnsatisfiableSchema.__module__ = __name__  # its public home, in reprs and pickles


def generate(schema: Mapping[str, Any] | bool, *, seed: int | str = 0) -> Any:
    """A JSON value (dict/list/str/int/float/bool/None) valid against ``schema``.

    ``schema`` is a JSON Schema (draft 2020-12, draft-07 spellings accepted) as parsed JSON.
    The result is the same for the same ``(schema, seed)`` in any process, and is a fresh object
    (no part of ``schema`` is shared with it). Raises :class:`UnsatisfiableSchema` (a
    :class:`ValueError`) when no valid value can be produced -- the schema is ``false``, its
    bounds contradict each other, a ``$ref`` cannot be resolved, a pattern is not a valid
    regular expression -- and :class:`TypeError` when ``schema`` is not a mapping or a bool or
    ``seed`` is neither an int nor a str.
    """
    if not isinstance(schema, Mapping | bool):
        raise TypeError(f"a JSON Schema is a mapping or a bool, not {type(schema).__name__}")
    ctx = _Ctx(schema, random.Random(_seed_int(seed)))
    error: UnsatisfiableSchema | None = None
    for _ in range(_TOP_ATTEMPTS):
        try:
            value = _gen_node(ctx, schema, "#", 0, (), None)
        except UnsatisfiableSchema as exc:
            error = exc
            continue
        except RecursionError:
            error = UnsatisfiableSchema("#", "the schema nests or recurses too deeply")
            continue
        if _valid(ctx, value, schema):
            return value
        error = UnsatisfiableSchema(
            "#", "every value found breaks the schema (a combination of keywords not handled)"
        )
    assert error is not None
    raise error
