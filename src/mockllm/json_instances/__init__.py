"""JSON instances for JSON Schemas: a valid value for a schema, the same for the same seed.

:func:`generate` answers a structured-output request (OpenAI ``response_format`` with a
``json_schema``, a forced tool call's ``parameters``, Gemini's ``responseSchema``, Ollama's
``format``) with a value that the client's own validator accepts. The contract:

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
  array lengths, branch choices). (A regular expression that runs out of time, below, is the
  one outcome that depends on the machine.)
* **Plausible.** Strings come from the property name (``"city"`` gives ``"city 7"``), numbers
  are small and inside their bounds, unconstrained arrays have 1-3 items, optional properties
  are included, and a schema's own ``examples`` are preferred when one of them is valid.
* **Finite.** Recursive schemas are followed a few levels deep
  (:data:`RECURSION_LIMIT` expansions of the same ``$ref``); past that, optional properties
  are left out, arrays are as short as allowed and ``anyOf``/``oneOf``/``type`` prefer their
  non-recursive options (``null`` first).
* **Bounded.** A request cannot make the server stall or grow: generation keeps to the budgets
  of :class:`~mockllm.core.limits.Limits` (``limits=``; the defaults when not given). A value
  has at most ``json_max_items`` items per array and properties per object,
  ``json_max_string`` characters per string, ``json_max_depth`` levels of nesting and
  ``json_max_bytes`` bytes serialized (a running count, exact for plain ASCII values); the
  work of making and checking it (values made, keywords checked) is at most one step per two
  bytes of ``json_max_bytes`` (50,000 at least); the schema document may nest
  ``4 * json_max_depth`` levels and chain ``2 * json_max_depth`` ``$ref``\\ s; a regular
  expression has ``regex_timeout_ms`` per match and four times that for all the matches of
  one value, and may not compile to more than ``json_max_string`` nodes. What the schema
  *requires* past a budget (``minItems``, ``minLength``, ``minProperties``, ``required``,
  nesting, the shortest match of a ``pattern``, the smallest size of the whole) is refused
  before the work, with :class:`SchemaTooLarge` (an :class:`UnsatisfiableSchema` whose
  message names the limit and the ``MOCKLLM_LIMIT_*`` setting that raises it); what it
  merely allows stays small instead: an optional property is left out and an array stops at
  the items it must have when they would not fit, and once a third of the work or half the
  bytes are spent only what is required is made.
* **Total.** Any JSON document is answered with a value or :class:`UnsatisfiableSchema`,
  never another exception. The document is checked first (:mod:`.checks`): a keyword whose
  value has the wrong type (``properties`` as an array, ``required`` as a string,
  ``minItems`` as ``null``, a number where a subschema belongs, ``NaN`` or infinite bounds)
  makes it malformed, an :class:`UnsatisfiableSchema` naming the keyword by its pointer, as
  the real services refuse such schemas; older and dialect spellings stay accepted (see
  :mod:`.checks`). Generation and validation still tolerate whatever gets past the check
  (a wrongly typed keyword is ignored by both alike).

Numbers: integers are generated within signed 64 bits and numbers as finite floats, what
every JSON writer carries; bounds past them (``"minimum": 2**70`` for an integer) make the
schema unsatisfiable, and an infinite or NaN bound (``1e400`` as parsed) makes it malformed.

Leniencies for schemas seen in the wild: type names are case-insensitive (Gemini's
``"OBJECT"``), and OpenAPI's ``nullable: true`` admits ``null``. ``$ref`` resolves inside the
document only (JSON pointers, ``$anchor``/``$dynamicAnchor`` names, embedded ``$id``\\ s);
``unevaluatedProperties``/``unevaluatedItems`` are honoured while generating but not checked.
JSON Schema regular expressions are accepted or refused by Python's :mod:`re`, as
:mod:`jsonschema` does, and run by the :mod:`regex` package in its ``re``-compatible mode,
which can stop a match that backtracks too long (see :mod:`.regex`).

**Dependencies.** The package is self-contained: the standard library, the :mod:`regex`
package (a declared dependency of mockllm) and, of mockllm, only
:class:`mockllm.core.limits.Limits` (the budgets). Nothing else of mockllm is imported, and
nothing here knows HTTP, the dialects or the engine (``tests/test_layers.py`` checks it).

**Layout.** The public API is this module's ``__all__``; the modules below share an internal
API, each through its own ``__all__`` (no module imports another's underscore names:
``tests/json_instances/test_api.py`` checks it):

* :mod:`.context` -- the errors, :class:`~.context.Context` (budgets, caches, ``$ref``
  resolution), seed hashing, JSON-pointer escaping;
* :mod:`.checks` -- the one pass over the schema document before any value is made;
* :mod:`.merge` -- ``allOf``/``$ref`` flattened and keywords merged into one
  :class:`~.merge.Merged`;
* :mod:`.generation` -- values from merged schemas (choices, conditionals, objects, arrays);
* :mod:`.numbers`, :mod:`.strings`, :mod:`.formats`, :mod:`.regex` -- the leaves: numbers,
  text, string formats and their checks, regular expressions run under a timeout;
* :mod:`.validation` -- the boolean validator every value is checked with;
* :mod:`.values` -- predicates on JSON values (equality, types, sizes).
"""

from __future__ import annotations

import gc
import random
from collections.abc import Mapping
from typing import Any, Final

from ..core.limits import Limits
from .checks import check_document
from .context import (
    RECURSION_LIMIT,
    Context,
    SchemaTooLarge,
    UnsatisfiableSchema,
    seed_int,
)
from .formats import FORMATS
from .generation import gen_node
from .validation import satisfies

__all__ = [
    "FORMATS",
    "RECURSION_LIMIT",
    "SchemaTooLarge",
    "UnsatisfiableSchema",
    "generate",
    "is_valid",
]

_TOP_ATTEMPTS: Final = 3  # whole-value attempts before giving up

UnsatisfiableSchema.__module__ = __name__  # its public home, in reprs and pickles
SchemaTooLarge.__module__ = __name__


def generate(
    schema: Mapping[str, Any] | bool, *, seed: int | str = 0, limits: Limits | None = None
) -> Any:
    """A JSON value (dict/list/str/int/float/bool/None) valid against ``schema``.

    ``schema`` is a JSON Schema (draft 2020-12, draft-07 spellings accepted) as parsed JSON.
    The result is the same for the same ``(schema, seed)`` in any process, and is a fresh object
    (no part of ``schema`` is shared with it). Raises :class:`UnsatisfiableSchema` (a
    :class:`ValueError`) when no valid value can be produced -- the schema is ``false``, its
    bounds contradict each other, a ``$ref`` cannot be resolved, a pattern is not a valid
    regular expression -- and its subclass :class:`SchemaTooLarge` when a value would pass
    one of the budgets of ``limits`` (:class:`~mockllm.core.limits.Limits`, the defaults when
    ``None``); :class:`TypeError` when ``schema`` is not a mapping or a bool or ``seed`` is
    neither an int nor a str.
    """
    if not isinstance(schema, Mapping | bool):
        raise TypeError(f"a JSON Schema is a mapping or a bool, not {type(schema).__name__}")
    ctx = Context(schema, random.Random(seed_int(seed)), limits)
    collecting = gc.isenabled()
    if collecting:  # the caches of one generation are many objects: no pauses to scan them
        gc.disable()
    try:
        return _generate(ctx, schema)
    finally:
        ctx.release()
        if collecting:
            gc.enable()


def _generate(ctx: Context, schema: Mapping[str, Any] | bool) -> Any:
    check_document(ctx, schema)
    error: UnsatisfiableSchema | None = None
    for _ in range(_TOP_ATTEMPTS):
        ctx.size = ctx.depth = ctx.ref_depth = 0
        try:
            value = gen_node(ctx, schema, "#", 0, (), None)
            if satisfies(ctx, value, schema):
                return value
        except SchemaTooLarge as exc:  # what the schema requires passes a budget
            raise ctx.exhausted or exc from None
        except UnsatisfiableSchema as exc:
            error = exc
            continue
        except RecursionError:
            raise ctx.too_big(
                "#", "the schema nests or recurses too deeply to follow", "json_max_depth"
            ) from None
        error = UnsatisfiableSchema(
            "#", "every value found breaks the schema (a combination of keywords not handled)"
        )
    if ctx.too_large is not None:
        raise ctx.too_large  # no value fits: the budget passed is the likely reason
    assert error is not None
    raise error


def is_valid(schema: Mapping[str, Any] | bool, value: Any, *, limits: Limits | None = None) -> bool:
    """Whether the JSON value ``value`` is valid against ``schema``, as :func:`generate` checks
    every value it returns: JSON Schema draft 2020-12 (draft-07 spellings understood), ``format``
    asserted for the formats it knows, this package's leniencies (case-insensitive type names,
    ``nullable``), ``unevaluated*`` not checked.

    The schema document is checked first, as by :func:`generate`: a malformed schema raises
    :class:`UnsatisfiableSchema` (so does a ``pattern`` that is not a regular expression) and
    checking keeps to the budgets of ``limits`` (:class:`~mockllm.core.limits.Limits`, the
    defaults when ``None``), raising :class:`SchemaTooLarge` past them; :class:`TypeError` when
    ``schema`` is not a mapping or a bool.
    """
    if not isinstance(schema, Mapping | bool):
        raise TypeError(f"a JSON Schema is a mapping or a bool, not {type(schema).__name__}")
    ctx = Context(schema, random.Random(0), limits)
    try:
        check_document(ctx, schema)
        return satisfies(ctx, value, schema)
    except RecursionError:
        raise ctx.too_big(
            "#", "the schema or the value nests too deeply to check", "json_max_depth"
        ) from None
    finally:
        ctx.release()
