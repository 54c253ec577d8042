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

import base64
import functools
import hashlib
import importlib
import ipaddress
import math
import random
import re
import string
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from fractions import Fraction
from typing import Any, Final, TypeGuard
from urllib.parse import unquote, urljoin

__all__ = ["FORMATS", "RECURSION_LIMIT", "UnsatisfiableSchema", "generate"]

RECURSION_LIMIT: Final = 2
"""Expansions of one ``$ref`` along a path after which generation heads for the exit."""

_HARD_LIMIT: Final = RECURSION_LIMIT + 12  # expansions after which recursion is called endless
_TOP_ATTEMPTS: Final = 3  # whole-value attempts before giving up
_BUDGET: Final = 2000  # branch/retry steps allowed for one value
_NOT_ATTEMPTS: Final = 12  # values tried against a "not"
_UNIQUE_ATTEMPTS: Final = 6  # tries for one distinct array item

_ABSENT: Final[Any] = object()

_ALL_TYPES: Final = ("string", "integer", "number", "boolean", "object", "array", "null")
_RANK_AT_LIMIT: Final = {
    "null": 0,
    "boolean": 1,
    "integer": 1,
    "number": 1,
    "string": 1,
    "array": 2,
    "object": 3,
}

# Keyword families: one pass over a schema's keys tells which families it uses.
_F_TYPE: Final = 1
_F_ENUM: Final = 2
_F_NUM: Final = 4
_F_STR: Final = 8
_F_OBJ: Final = 16
_F_ARR: Final = 32
_F_COMB: Final = 64
_F_META: Final = 128
_FAMILY: Final[dict[str, int]] = {
    "type": _F_TYPE,
    "enum": _F_ENUM,
    "const": _F_ENUM,
    "minimum": _F_NUM,
    "maximum": _F_NUM,
    "exclusiveMinimum": _F_NUM,
    "exclusiveMaximum": _F_NUM,
    "multipleOf": _F_NUM,
    "minLength": _F_STR,
    "maxLength": _F_STR,
    "pattern": _F_STR,
    "format": _F_STR,
    "properties": _F_OBJ,
    "patternProperties": _F_OBJ,
    "additionalProperties": _F_OBJ,
    "required": _F_OBJ,
    "propertyNames": _F_OBJ,
    "minProperties": _F_OBJ,
    "maxProperties": _F_OBJ,
    "dependentRequired": _F_OBJ,
    "dependentSchemas": _F_OBJ,
    "dependencies": _F_OBJ,
    "unevaluatedProperties": _F_OBJ,
    "items": _F_ARR,
    "prefixItems": _F_ARR,
    "additionalItems": _F_ARR,
    "minItems": _F_ARR,
    "maxItems": _F_ARR,
    "uniqueItems": _F_ARR,
    "contains": _F_ARR,
    "unevaluatedItems": _F_ARR,
    "anyOf": _F_COMB,
    "oneOf": _F_COMB,
    "not": _F_COMB,
    "if": _F_COMB,
    "title": _F_META,
    "examples": _F_META,
}


class UnsatisfiableSchema(ValueError):
    """No JSON value satisfies the schema, or none that this generator could find.

    ``pointer`` is the JSON pointer, in URI-fragment form (``#/properties/age``), of the schema
    location where generation gave up (a ``$ref`` target is named by its own pointer);
    ``reason`` says why. The message carries both.
    """

    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(f"unsatisfiable schema at {pointer}: {reason}")
        self.pointer = pointer
        self.reason = reason

    def __reduce__(self) -> tuple[type[UnsatisfiableSchema], tuple[str, str]]:
        return (type(self), (self.pointer, self.reason))


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


def _seed_int(seed: int | str) -> int:
    """An int seed for :class:`random.Random`, stable across processes (SHA-256, not hash())."""
    if isinstance(seed, bool) or not isinstance(seed, int | str):
        raise TypeError(f"seed is an int or a str, not {type(seed).__name__}")
    # Hashing ints too spreads neighbouring seeds (0, 1, 2...) over unrelated random streams.
    text = f"str:{seed}" if isinstance(seed, str) else f"int:{seed}"
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "big")


# -- context and references ------------------------------------------------------------------


_DROPPED: Final = {"if": ("if", "then", "else"), "$ref": ("$ref", "$dynamicRef", "allOf")}


class _Ctx:
    """One generation: the root schema, the random stream and the caches."""

    __slots__ = (
        "active",
        "anchors",
        "budget",
        "ids",
        "nullables",
        "ref_cache",
        "refs_in",
        "rng",
        "root",
        "stripped",
        "variant",
    )

    def __init__(self, root: Any, rng: random.Random) -> None:
        self.root = root
        self.rng = rng
        self.budget = _BUDGET
        self.active: set[tuple[str, int]] = set()
        self.ref_cache: dict[str, tuple[Any, str]] = {}
        # Caches keyed by id() hold the schema too, so that the id cannot be reused.
        self.refs_in: dict[int, tuple[Any, bool]] = {}
        self.nullables: dict[int, tuple[Any, Mapping[str, Any]]] = {}
        self.variant = 0  # > 0 while retrying against a "not": vary the style of strings
        self.stripped: dict[tuple[int, str], tuple[Any, Mapping[str, Any]]] = {}
        self.ids: dict[str, Any] | None = None
        self.anchors: dict[str, Any] | None = None

    def without(self, part: Mapping[str, Any], keyword: str) -> Mapping[str, Any]:
        """``part`` less ``keyword`` (less then/else with ``if``, less allOf and $dynamicRef
        with ``$ref``), the same object each time."""
        hit = self.stripped.get((id(part), keyword))
        if hit is None:
            dropped = _DROPPED.get(keyword, (keyword,))
            rest = {k: v for k, v in part.items() if k not in dropped}
            hit = self.stripped[(id(part), keyword)] = (part, rest)
        return hit[1]

    def spend(self, pointer: str) -> None:
        """Count one search step; raise once the budget for this value is spent."""
        self.budget -= 1
        if self.budget < 0:
            raise UnsatisfiableSchema(pointer, "search budget exhausted")

    def resolve(self, ref: str, pointer: str) -> tuple[Any, str]:
        """The schema a ``$ref`` names, and that schema's pointer (for messages)."""
        hit = self.ref_cache.get(ref)
        if hit is None:
            hit = self.ref_cache[ref] = self._resolve(ref, pointer)
        return hit

    def _resolve(self, ref: str, pointer: str) -> tuple[Any, str]:
        base, _, fragment = ref.partition("#")
        doc: Any = self.root
        where = "#"
        if base:
            self._index()
            assert self.ids is not None
            doc = self.ids.get(base, _ABSENT)
            if doc is _ABSENT and isinstance(self.root, Mapping):
                root_id = self.root.get("$id")
                if isinstance(root_id, str):
                    doc = self.ids.get(urljoin(root_id, base), _ABSENT)
            if doc is _ABSENT:
                raise UnsatisfiableSchema(
                    pointer, f"cannot resolve $ref {ref!r}: only references inside the schema work"
                )
            where = base + "#"
        fragment = unquote(fragment)
        if not fragment:
            return doc, where
        if fragment.startswith("/"):
            node = doc
            for token in fragment[1:].split("/"):
                token = token.replace("~1", "/").replace("~0", "~")
                if isinstance(node, Mapping) and token in node:
                    node = node[token]
                elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                    node = node[int(token)]
                else:
                    raise UnsatisfiableSchema(pointer, f"cannot resolve $ref {ref!r}")
            return node, where + fragment
        self._index()
        assert self.anchors is not None
        found = self.anchors.get(fragment, _ABSENT)
        if found is _ABSENT:
            raise UnsatisfiableSchema(pointer, f"cannot resolve $ref {ref!r}: no such anchor")
        return found, ref

    def _index(self) -> None:
        """Find every ``$id`` and anchor in the document, once."""
        if self.ids is not None:
            return
        ids: dict[str, Any] = {}
        anchors: dict[str, Any] = {}

        def walk(node: Any, base: str) -> None:
            if isinstance(node, Mapping):
                node_id = node.get("$id")
                if isinstance(node_id, str):
                    ids[node_id] = node
                    base = urljoin(base, node_id) if base else node_id
                    ids[base.partition("#")[0]] = node
                for key in ("$anchor", "$dynamicAnchor"):
                    name = node.get(key)
                    if isinstance(name, str):
                        anchors.setdefault(name, node)
                for key, sub in node.items():
                    if key not in ("enum", "const", "examples", "default"):
                        walk(sub, base)
            elif isinstance(node, list):
                for sub in node:
                    walk(sub, base)

        walk(self.root, "")
        self.ids = ids
        self.anchors = anchors

    def mentions_ref(self, schema: Any) -> bool:
        """Whether ``schema`` contains a ``$ref`` anywhere (a possibly recursive option)."""
        hit = self.refs_in.get(id(schema))
        if hit is None:
            hit = self.refs_in[id(schema)] = (schema, _mentions_ref(schema))
        return hit[1]

    def nullable(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """OpenAPI's ``{..., "nullable": true}`` as ``{"anyOf": [{...}, {"type": "null"}]}``."""
        hit = self.nullables.get(id(schema))
        if hit is None:
            rest = {k: v for k, v in schema.items() if k != "nullable"}
            hit = (schema, {"anyOf": [rest, {"type": "null"}]})
            self.nullables[id(schema)] = hit
        return hit[1]


def _mentions_ref(node: Any) -> bool:
    if isinstance(node, Mapping):
        if "$ref" in node or "$dynamicRef" in node:
            return True
        return any(
            _mentions_ref(sub)
            for key, sub in node.items()
            if key not in ("enum", "const", "examples", "default", "$defs", "definitions")
        )
    if isinstance(node, list):
        return any(_mentions_ref(sub) for sub in node)
    return False


def _esc(token: str) -> str:
    if "~" not in token and "/" not in token:
        return token
    return token.replace("~", "~0").replace("/", "~1")


# -- flattening and merging ------------------------------------------------------------------

_Part = tuple[Mapping[str, Any], str]


def _collect(
    ctx: _Ctx, schema: Any, pointer: str, out: list[_Part], refs: list[str], seen: tuple[str, ...]
) -> None:
    """Flatten ``schema`` into ``out``: the conjunction of its ``allOf`` members and ``$ref``
    targets, none of which has an ``allOf`` or ``$ref`` left. ``refs`` receives every reference
    expanded; a reference met again while flattening (a cycle with no nesting) adds nothing."""
    if schema is True:
        return
    if schema is False:
        raise UnsatisfiableSchema(pointer, "the schema is false: no value is valid")
    if not isinstance(schema, dict) and not isinstance(schema, Mapping):
        raise UnsatisfiableSchema(pointer, f"a schema is a mapping or a bool, not {schema!r}")
    if schema.get("nullable") is True:
        out.append((ctx.nullable(schema), pointer))
        return
    ref = schema.get("$ref")
    dynamic = schema.get("$dynamicRef")
    all_of = schema.get("allOf")
    if ref is None and dynamic is None and all_of is None:
        out.append((schema, pointer))
        return
    rest = ctx.without(schema, "$ref")
    if rest:
        out.append((rest, pointer))
    for target in (ref, dynamic):
        if isinstance(target, str) and target not in seen:
            resolved, where = ctx.resolve(target, pointer)
            refs.append(target)
            _collect(ctx, resolved, where, out, refs, (*seen, target))
    if isinstance(all_of, list):
        for i, sub in enumerate(all_of):
            _collect(ctx, sub, f"{pointer}/allOf/{i}", out, refs, seen)


def _descend(path: tuple[str, ...], rec: int, refs: list[str]) -> tuple[tuple[str, ...], int]:
    """The reference path and recursion level after expanding ``refs``."""
    for ref in refs:
        path = (*path, ref)
        rec = max(rec, path.count(ref))
    return path, rec


def _is_num(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integral(value: object) -> TypeGuard[int | float]:
    """An int, or a float with an integral value (bools are not numbers)."""
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


class _Merged:
    """The keywords of a conjunction of schemas, combined: the tightest bounds, the common
    types, every pattern, per-part object and array keywords, the pending applicators."""

    __slots__ = (
        "arr_parts",
        "candidates",
        "choices",
        "conds",
        "contains",
        "dep_required",
        "dep_schemas",
        "examples",
        "fam",
        "forbidden",
        "formats",
        "hi",
        "hi_ex",
        "lo",
        "lo_ex",
        "max_items",
        "max_len",
        "max_props",
        "min_items",
        "min_len",
        "min_props",
        "multiples",
        "not_types",
        "nots",
        "obj_parts",
        "patterns",
        "prop_names",
        "prop_order",
        "ptr",
        "required",
        "title",
        "types",
        "unevaluated",
        "unique",
    )

    def __init__(self, pointer: str) -> None:
        self.ptr = pointer
        self.fam = 0
        self.types: list[str] | None = None
        self.not_types: list[str] = []
        self.candidates: list[Any] | None = None
        self.examples: list[Any] | None = None
        self.title: str | None = None
        self.lo: float | None = None
        self.lo_ex = False
        self.hi: float | None = None
        self.hi_ex = False
        self.multiples: list[int | float] = []
        self.min_len = 0
        self.max_len: int | None = None
        self.patterns: list[tuple[str, str]] = []
        self.formats: list[str] = []
        self.obj_parts: list[tuple[Mapping[str, Any], Mapping[str, Any], Any, str]] = []
        self.prop_order: dict[str, None] = {}
        self.required: dict[str, None] = {}
        self.forbidden: list[str] = []
        self.prop_names: list[tuple[Any, str]] = []
        self.min_props = 0
        self.max_props: int | None = None
        self.dep_required: dict[str, list[str]] = {}
        self.dep_schemas: list[tuple[str, Any, str]] = []
        self.unevaluated: list[tuple[Any, str]] | None = None
        self.arr_parts: list[tuple[Sequence[Any], str, Any, str]] = []
        self.min_items = 0
        self.max_items: int | None = None
        self.unique = False
        self.contains: list[tuple[Any, str, int, int | None]] = []
        self.choices: list[tuple[int, str]] = []
        self.conds: list[int] = []
        self.nots: list[_Part] = []


def _merge(parts: list[_Part], pointer: str) -> _Merged:
    m = _Merged(parts[0][1] if parts else pointer)
    for i, (s, ptr) in enumerate(parts):
        fam = 0
        for key in s:
            fam |= _FAMILY.get(key, 0)
        if not fam:
            continue
        if not m.fam & ~_F_META:
            m.ptr = ptr  # messages name the first part that constrains anything
        m.fam |= fam
        if fam & _F_TYPE:
            _merge_type(m, s)
        if fam & _F_ENUM:
            _merge_enum(m, s)
        if fam & _F_NUM:
            _merge_num(m, s, ptr)
        if fam & _F_STR:
            _merge_str(m, s, ptr)
        if fam & _F_OBJ:
            _merge_obj(m, s, ptr)
        if fam & _F_ARR:
            _merge_arr(m, s, ptr)
        if fam & _F_COMB:
            _merge_comb(m, s, ptr, i)
        if fam & _F_META:
            if m.title is None and isinstance(s.get("title"), str):
                m.title = s["title"]
            examples = s.get("examples")
            if m.examples is None and isinstance(examples, list) and examples:
                m.examples = examples
    return m


def _type_names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.lower()]
    if isinstance(value, list):
        return [t.lower() for t in value if isinstance(t, str)]
    return list(_ALL_TYPES)


def _merge_type(m: _Merged, s: Mapping[str, Any]) -> None:
    if "type" not in s:
        return
    names = _type_names(s["type"])
    if m.types is None:
        m.types = names
        return
    both = [t for t in m.types if t in names or (t == "integer" and "number" in names)]
    if "number" in m.types and "integer" in names and "integer" not in both:
        both.append("integer")
    m.types = both


def _merge_enum(m: _Merged, s: Mapping[str, Any]) -> None:
    for key in ("const", "enum"):
        if key not in s:
            continue
        values = [s["const"]] if key == "const" else s["enum"]
        if not isinstance(values, list):
            continue
        if m.candidates is None:
            m.candidates = list(values)
        else:
            m.candidates = [c for c in m.candidates if any(_eq(c, v) for v in values)]


def _merge_num(m: _Merged, s: Mapping[str, Any], ptr: str) -> None:
    lo, lo_ex = s.get("minimum"), s.get("exclusiveMinimum")
    if _is_num(lo) and math.isfinite(lo):
        _lower(m, lo, lo_ex is True)
    if _is_num(lo_ex) and math.isfinite(lo_ex):
        _lower(m, lo_ex, True)
    hi, hi_ex = s.get("maximum"), s.get("exclusiveMaximum")
    if _is_num(hi) and math.isfinite(hi):
        _upper(m, hi, hi_ex is True)
    if _is_num(hi_ex) and math.isfinite(hi_ex):
        _upper(m, hi_ex, True)
    step = s.get("multipleOf")
    if _is_num(step):
        if step <= 0 or not math.isfinite(step):
            raise UnsatisfiableSchema(f"{ptr}/multipleOf", f"multipleOf must be positive: {step}")
        m.multiples.append(step)


def _lower(m: _Merged, value: float, exclusive: bool) -> None:
    if m.lo is None or value > m.lo or (value == m.lo and exclusive):
        m.lo, m.lo_ex = value, exclusive


def _upper(m: _Merged, value: float, exclusive: bool) -> None:
    if m.hi is None or value < m.hi or (value == m.hi and exclusive):
        m.hi, m.hi_ex = value, exclusive


def _merge_str(m: _Merged, s: Mapping[str, Any], ptr: str) -> None:
    lo, hi = s.get("minLength"), s.get("maxLength")
    if _integral(lo):
        m.min_len = max(m.min_len, int(lo))
    if _integral(hi):
        m.max_len = int(hi) if m.max_len is None else min(m.max_len, int(hi))
    pattern = s.get("pattern")
    if isinstance(pattern, str):
        m.patterns.append((pattern, f"{ptr}/pattern"))
    fmt = s.get("format")
    if isinstance(fmt, str) and fmt.lower() in FORMATS:
        m.formats.append(fmt.lower())


def _merge_obj(m: _Merged, s: Mapping[str, Any], ptr: str) -> None:
    props = s.get("properties")
    props = props if isinstance(props, Mapping) else {}
    patterns = s.get("patternProperties")
    patterns = patterns if isinstance(patterns, Mapping) else {}
    additional = s.get("additionalProperties", _ABSENT)
    if props or patterns or additional is not _ABSENT:
        m.obj_parts.append((props, patterns, additional, ptr))
        for key in props:
            m.prop_order[key] = None
    required = s.get("required")
    if isinstance(required, list):
        for key in required:
            if isinstance(key, str):
                m.required[key] = None
    names = s.get("propertyNames", _ABSENT)
    if names is not _ABSENT:
        m.prop_names.append((names, f"{ptr}/propertyNames"))
    lo, hi = s.get("minProperties"), s.get("maxProperties")
    if _integral(lo):
        m.min_props = max(m.min_props, int(lo))
    if _integral(hi):
        m.max_props = int(hi) if m.max_props is None else min(m.max_props, int(hi))
    for keyword in ("dependentRequired", "dependentSchemas", "dependencies"):
        deps = s.get(keyword)
        if not isinstance(deps, Mapping):
            continue
        for key, dep in deps.items():
            if isinstance(dep, list):
                m.dep_required.setdefault(key, []).extend(d for d in dep if isinstance(d, str))
            else:
                m.dep_schemas.append((key, dep, f"{ptr}/{keyword}/{_esc(key)}"))
    unevaluated = s.get("unevaluatedProperties", _ABSENT)
    if unevaluated is not _ABSENT and unevaluated is not True:
        if m.unevaluated is None:
            m.unevaluated = []
        m.unevaluated.append((unevaluated, f"{ptr}/unevaluatedProperties"))


def _merge_arr(m: _Merged, s: Mapping[str, Any], ptr: str) -> None:
    items = s.get("items", _ABSENT)
    if isinstance(items, list):  # draft-07 tuple form
        prefix: Sequence[Any] = items
        prefix_kw = "items"
        rest = s.get("additionalItems", _ABSENT)
        rest_ptr = f"{ptr}/additionalItems"
    else:
        prefix = s.get("prefixItems") or ()
        prefix_kw = "prefixItems"
        rest = items
        rest_ptr = f"{ptr}/items"
    if rest is _ABSENT and s.get("unevaluatedItems") is False:
        rest = False
        rest_ptr = f"{ptr}/unevaluatedItems"
    if prefix or rest is not _ABSENT:
        m.arr_parts.append((prefix, f"{ptr}/{prefix_kw}", rest, rest_ptr))
    lo, hi = s.get("minItems"), s.get("maxItems")
    if _integral(lo):
        m.min_items = max(m.min_items, int(lo))
    if _integral(hi):
        m.max_items = int(hi) if m.max_items is None else min(m.max_items, int(hi))
    if s.get("uniqueItems") is True:
        m.unique = True
    if "contains" in s:
        lo_c, hi_c = s.get("minContains", 1), s.get("maxContains")
        m.contains.append(
            (
                s["contains"],
                f"{ptr}/contains",
                int(lo_c) if _integral(lo_c) else 1,
                int(hi_c) if _integral(hi_c) else None,
            )
        )


def _merge_comb(m: _Merged, s: Mapping[str, Any], ptr: str, index: int) -> None:
    for keyword in ("anyOf", "oneOf"):
        if keyword in s:
            m.choices.append((index, keyword))
    if "if" in s:
        m.conds.append(index)
    if "not" in s:
        negated = s["not"]
        m.nots.append((negated, f"{ptr}/not"))
        if isinstance(negated, Mapping):
            keys = set(negated) - {"title", "description"}
            if keys == {"type"}:
                m.not_types.extend(_type_names(negated["type"]))
            elif keys == {"required"} and isinstance(negated["required"], list):
                m.forbidden.extend(k for k in negated["required"] if isinstance(k, str))


# -- generation ------------------------------------------------------------------------------


def _gen_node(
    ctx: _Ctx, schema: Any, pointer: str, rec: int, path: tuple[str, ...], hint: str | None
) -> Any:
    parts: list[_Part] = []
    refs: list[str] = []
    _collect(ctx, schema, pointer, parts, refs, ())
    if refs:
        path, rec = _descend(path, rec, refs)
    return _gen_parts(ctx, parts, pointer, rec, path, hint)


def _gen_parts(
    ctx: _Ctx,
    parts: list[_Part],
    pointer: str,
    rec: int,
    path: tuple[str, ...],
    hint: str | None,
) -> Any:
    """A value valid against every schema in ``parts``."""
    if rec > _HARD_LIMIT:
        raise UnsatisfiableSchema(
            pointer, "the schema recurses without end: every valid value would be infinite"
        )
    m = _merge(parts, pointer)
    if m.candidates is not None:
        return _gen_enum(ctx, m, parts)
    if m.examples is not None:
        valid = [e for e in m.examples if all(_valid(ctx, e, s) for s, _ in parts)]
        if valid:
            return _copy(valid[ctx.rng.randrange(len(valid))])
    if m.choices:
        return _gen_choice(ctx, m, parts, pointer, rec, path, hint)
    if m.conds:
        return _gen_cond(ctx, m, parts, pointer, rec, path, hint)
    if m.nots:
        saved = ctx.variant
        try:
            for attempt in range(_NOT_ATTEMPTS):
                ctx.spend(m.ptr)
                ctx.variant = attempt
                value = _gen_typed(ctx, m, parts, rec, path, hint, attempt)
                if not any(_valid(ctx, value, s) for s, _ in m.nots):
                    return value
        finally:
            ctx.variant = saved
        raise UnsatisfiableSchema(m.nots[0][1], "every value tried matches the negated schema")
    return _gen_typed(ctx, m, parts, rec, path, hint, 0)


def _gen_enum(ctx: _Ctx, m: _Merged, parts: list[_Part]) -> Any:
    assert m.candidates is not None
    if not m.candidates:
        raise UnsatisfiableSchema(m.ptr, "no value is in every enum/const")
    valid = [c for c in m.candidates if all(_valid(ctx, c, s) for s, _ in parts)]
    if not valid:
        raise UnsatisfiableSchema(m.ptr, "no enum/const value satisfies the other keywords")
    return _copy(valid[ctx.rng.randrange(len(valid))])


def _copy(value: Any) -> Any:
    """A fresh copy of a JSON value (schema constants must not be shared with results)."""
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(v) for v in value]
    return value


def _is_null_branch(branch: Any) -> bool:
    return isinstance(branch, Mapping) and (
        _type_names(branch["type"]) == ["null"]
        if "type" in branch
        else branch.get("const", 0) is None
    )


def _branch_order(ctx: _Ctx, branches: list[Any], at_limit: bool) -> list[int]:
    order = list(range(len(branches)))
    if at_limit:

        def rank(i: int) -> int:
            branch = branches[i]
            if _is_null_branch(branch):
                return 0
            return 2 if ctx.mentions_ref(branch) else 1

        order.sort(key=rank)
    elif len(order) > 1:
        ctx.rng.shuffle(order)
        order.sort(key=lambda i: _is_null_branch(branches[i]))
    return order


def _gen_choice(
    ctx: _Ctx,
    m: _Merged,
    parts: list[_Part],
    pointer: str,
    rec: int,
    path: tuple[str, ...],
    hint: str | None,
) -> Any:
    """Resolve the first ``anyOf``/``oneOf``: generate from one branch at a time (in an order
    drawn from the seed, the non-recursive ones first at the recursion limit) until a value
    fits; for ``oneOf`` the value must match no other branch."""
    index, keyword = m.choices[0]
    part, part_ptr = parts[index]
    branches = part[keyword]
    where = f"{part_ptr}/{keyword}"
    if not isinstance(branches, list) or not branches:
        raise UnsatisfiableSchema(where, f"{keyword} must be a non-empty array")
    stripped = ctx.without(part, keyword)
    base = [*parts[:index], (stripped, part_ptr), *parts[index + 1 :]]
    order = _branch_order(ctx, branches, rec >= RECURSION_LIMIT)
    if keyword == "oneOf" and len(branches) > 1:
        order = order + order  # a second value per branch when the first matched another
    first: UnsatisfiableSchema | None = None
    for b in order:
        ctx.spend(where)
        sub = list(base)
        refs: list[str] = []
        try:
            _collect(ctx, branches[b], f"{where}/{b}", sub, refs, ())
            sub_path, sub_rec = _descend(path, rec, refs)
            value = _gen_parts(ctx, sub, pointer, sub_rec, sub_path, hint)
        except UnsatisfiableSchema as exc:
            first = first or exc
            continue
        if keyword == "oneOf" and any(
            _valid(ctx, value, other) for j, other in enumerate(branches) if j != b
        ):
            continue
        return value
    if len(branches) == 1 and first is not None:
        raise first
    detail = f" (first failure: {first})" if first is not None else ""
    raise UnsatisfiableSchema(where, f"no branch of {keyword} yields a valid value{detail}")


def _gen_cond(
    ctx: _Ctx,
    m: _Merged,
    parts: list[_Part],
    pointer: str,
    rec: int,
    path: tuple[str, ...],
    hint: str | None,
) -> Any:
    """Resolve the first ``if``: generate from ``if`` + ``then`` or from ``else`` (order drawn
    from the seed) and keep a value that satisfies the conditional as a whole."""
    index = m.conds[0]
    part, part_ptr = parts[index]
    stripped = ctx.without(part, "if")
    base = [*parts[:index], (stripped, part_ptr), *parts[index + 1 :]]
    if "then" not in part and "else" not in part:
        return _gen_parts(ctx, base, pointer, rec, path, hint)
    options: list[list[tuple[Any, str]]] = [[(part["if"], f"{part_ptr}/if")]]
    if "then" in part:
        options[0].append((part["then"], f"{part_ptr}/then"))
    options.append([(part["else"], f"{part_ptr}/else")] if "else" in part else [])
    if ctx.rng.random() < 0.5:
        options.reverse()
    first: UnsatisfiableSchema | None = None
    for option in options + options:
        ctx.spend(part_ptr)
        sub = list(base)
        refs: list[str] = []
        try:
            for schema, where in option:
                _collect(ctx, schema, where, sub, refs, ())
            sub_path, sub_rec = _descend(path, rec, refs)
            value = _gen_parts(ctx, sub, pointer, sub_rec, sub_path, hint)
        except UnsatisfiableSchema as exc:
            first = first or exc
            continue
        if _valid(ctx, value, part):
            return value
    detail = f" (first failure: {first})" if first is not None else ""
    raise UnsatisfiableSchema(part_ptr, f"neither if/then nor else yields a valid value{detail}")


def _type_order(ctx: _Ctx, m: _Merged, at_limit: bool, attempt: int) -> list[str]:
    preferred: list[str] = []
    if m.fam & _F_OBJ:
        preferred.append("object")
    if m.fam & _F_ARR:
        preferred.append("array")
    if m.fam & _F_STR:
        preferred.append("string")
    if m.fam & _F_NUM:
        preferred.append("number")
    if m.types is None:
        # Keywords say which type is meant; at the recursion limit null comes right after it.
        rest = [t for t in _ALL_TYPES if t not in preferred]
        if at_limit:
            rest.sort(key=_RANK_AT_LIMIT.__getitem__)
        order = preferred + rest
    else:
        order = [t for t in dict.fromkeys(m.types) if t in _RANK_AT_LIMIT]
        if len(order) > 1:
            ctx.rng.shuffle(order)
            hinted = [t for t in preferred if t in order]
            if "number" in preferred and "integer" in order and "number" not in order:
                hinted.append("integer")
            order = hinted + [t for t in order if t not in hinted]
            order.sort(key=lambda t: t == "null")
        if at_limit:
            order.sort(key=_RANK_AT_LIMIT.__getitem__)
    if m.not_types:
        order = [
            t
            for t in order
            if t not in m.not_types and not (t == "integer" and "number" in m.not_types)
        ]
    if attempt and order:
        shift = attempt % len(order)
        order = order[shift:] + order[:shift]
    return order


def _gen_typed(
    ctx: _Ctx,
    m: _Merged,
    parts: list[_Part],
    rec: int,
    path: tuple[str, ...],
    hint: str | None,
    attempt: int,
) -> Any:
    order = _type_order(ctx, m, rec >= RECURSION_LIMIT, attempt)
    if not order:
        raise UnsatisfiableSchema(m.ptr, "no JSON type is allowed by every 'type'")
    first: UnsatisfiableSchema | None = None
    for name in order:
        try:
            return _TYPE_GENERATORS[name](ctx, m, parts, rec, path, hint)
        except UnsatisfiableSchema as exc:
            first = first or exc
    assert first is not None
    raise first


def _gen_null(
    ctx: _Ctx, m: _Merged, parts: list[_Part], rec: int, path: tuple[str, ...], hint: str | None
) -> None:
    return None


def _gen_boolean(
    ctx: _Ctx, m: _Merged, parts: list[_Part], rec: int, path: tuple[str, ...], hint: str | None
) -> bool:
    return ctx.rng.random() < 0.5


# -- numbers ---------------------------------------------------------------------------------


_WINDOWS: Final = ((1, 100), (-100, -1), (0, 0), (101, 1000))
"""Preferred ranges for numbers: the first always, the others while avoiding a ``not``."""


def _pick_int(rng: random.Random, lo: int | None, hi: int | None, plo: int, phi: int) -> int:
    """An int in [lo, hi] (either may be open), from the preferred window [plo, phi] when the
    two overlap, else from a window of the same width at the nearest bound."""
    a = plo if lo is None else max(lo, plo)
    b = phi if hi is None else min(hi, phi)
    if a <= b:
        return rng.randint(a, b)
    width = phi - plo
    if lo is not None and lo > phi:
        a, b = lo, lo + width
        if hi is not None:
            b = min(b, hi)
    else:
        assert hi is not None
        a, b = hi - width, hi
        if lo is not None:
            a = max(a, lo)
    return rng.randint(a, b)


def _int_bounds(m: _Merged) -> tuple[int | None, int | None]:
    lo = hi = None
    if m.lo is not None:
        lo = math.floor(m.lo) + 1 if m.lo_ex else math.ceil(m.lo)
    if m.hi is not None:
        hi = math.ceil(m.hi) - 1 if m.hi_ex else math.floor(m.hi)
    return lo, hi


def _bounds_text(m: _Merged) -> str:
    low = "-inf" if m.lo is None else f"{m.lo}"
    high = "inf" if m.hi is None else f"{m.hi}"
    return f"{'(' if m.lo_ex else '['}{low}, {high}{')' if m.hi_ex else ']'}"


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


def _in_bounds(m: _Merged, value: float) -> bool:
    if m.lo is not None and (value <= m.lo if m.lo_ex else value < m.lo):
        return False
    return not (m.hi is not None and (value >= m.hi if m.hi_ex else value > m.hi))


def _gen_integer(
    ctx: _Ctx, m: _Merged, parts: list[_Part], rec: int, path: tuple[str, ...], hint: str | None
) -> int:
    lo, hi = _int_bounds(m)
    if lo is not None and hi is not None and lo > hi:
        raise UnsatisfiableSchema(m.ptr, f"no integer in {_bounds_text(m)}")
    step = 1
    fractional: list[float] = []
    for multiple in m.multiples:
        if _integral(multiple):
            step = math.lcm(step, int(multiple))
        else:
            fractional.append(float(multiple))
    klo = None if lo is None else -(-lo // step)
    khi = None if hi is None else hi // step
    if klo is not None and khi is not None and klo > khi:
        raise UnsatisfiableSchema(m.ptr, f"no multiple of {step} in {_bounds_text(m)}")
    plo, phi = _WINDOWS[ctx.variant % len(_WINDOWS)]
    k = _pick_int(ctx.rng, klo, khi, plo // step, max(plo // step, phi // step))
    for delta in _DELTAS[:129]:
        kk = k + delta
        if (klo is not None and kk < klo) or (khi is not None and kk > khi):
            continue
        value = kk * step
        if all(_multiple_ok(value, f) for f in fractional):
            return value
    raise UnsatisfiableSchema(m.ptr, "no integer is a multiple of every multipleOf in bounds")


_DELTAS: Final = (0, *(d * sign for d in range(1, 201) for sign in (1, -1)))
"""0, 1, -1, 2, -2, ...: a search outward from a chosen point."""


def _gen_number(
    ctx: _Ctx, m: _Merged, parts: list[_Part], rec: int, path: tuple[str, ...], hint: str | None
) -> int | float:
    if m.lo is not None and m.hi is not None:
        if m.lo > m.hi or (m.lo == m.hi and (m.lo_ex or m.hi_ex)):
            raise UnsatisfiableSchema(m.ptr, f"no number in {_bounds_text(m)}")
    if m.multiples:
        if all(_integral(x) for x in m.multiples):
            return _gen_integer(ctx, m, parts, rec, path, hint)
        return _gen_number_multiple(ctx, m)
    # Two decimals, inside [0, 100] where the bounds allow.
    clo = None if m.lo is None else math.floor(m.lo * 100)
    chi = None if m.hi is None else math.ceil(m.hi * 100)
    if clo is None or chi is None or clo < chi:
        plo, phi = _WINDOWS[ctx.variant % len(_WINDOWS)]
        cents = _pick_int(ctx.rng, clo, chi, plo * 100, phi * 100)
        for delta in _DELTAS[:9]:
            value = (cents + delta) / 100
            if _in_bounds(m, value):
                return value
    candidates: list[float] = []
    if m.lo is not None and m.hi is not None:
        candidates.append(m.lo + (m.hi - m.lo) / 2)
    candidates += [b for b in (m.lo, m.hi) if b is not None]
    for value in candidates:
        if _in_bounds(m, value):
            return value
    raise UnsatisfiableSchema(m.ptr, f"no number found in {_bounds_text(m)}")


def _gen_number_multiple(ctx: _Ctx, m: _Merged) -> int | float:
    step: Fraction | None = None  # the least common multiple, in decimal terms
    for multiple in m.multiples:
        exact = Fraction(repr(multiple)) if isinstance(multiple, float) else Fraction(multiple)
        step = (
            exact
            if step is None
            else Fraction(
                math.lcm(step.numerator, exact.numerator),
                math.gcd(step.denominator, exact.denominator),
            )
        )
    assert step is not None
    klo = None if m.lo is None else math.floor(Fraction(m.lo) / step)
    khi = None if m.hi is None else math.ceil(Fraction(m.hi) / step)
    plo, phi = _WINDOWS[ctx.variant % len(_WINDOWS)]
    k = _pick_int(ctx.rng, klo, khi, math.floor(plo / step), max(1, math.floor(phi / step)))
    for delta in _DELTAS:
        exact_value = (k + delta) * step
        value: int | float = (
            int(exact_value) if exact_value.denominator == 1 else float(exact_value)
        )
        if _in_bounds(m, value) and all(_multiple_ok(value, x) for x in m.multiples):
            return value
    raise UnsatisfiableSchema(
        m.ptr, f"no multiple of {', '.join(map(str, m.multiples))} in {_bounds_text(m)}"
    )


# -- strings ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _label(hint: str | None) -> str:
    """Short lower-case words from a property name: ``firstName`` -> ``first name``."""
    if not hint:
        return "text"
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", hint)
    words = re.sub(r"[\W_]+", " ", words).strip().lower()
    return words[:32].strip() or "text"


@functools.lru_cache(maxsize=1024)
def _singular(hint: str | None) -> str | None:
    """A name for one item of an array property: ``tags`` -> ``tag``, ``cities`` -> ``city``."""
    if not hint:
        return hint
    if hint.endswith("ies") and len(hint) > 4:
        return hint[:-3] + "y"
    if hint.endswith("s") and not hint.endswith("ss") and len(hint) > 3:
        return hint[:-1]
    return hint


def _slug(label: str, sep: str = "-") -> str:
    slug = re.sub(r"[^a-z0-9]+", sep, label.lower()).strip(sep)[:40].strip(sep)
    return slug or "item"


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return None


_NAMES: Final = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")


def _fmt_date(rng: random.Random) -> str:
    return f"{rng.randint(2023, 2025):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _fmt_time(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.choice((0, 15, 30, 45)):02d}:00Z"


def _fmt_duration(rng: random.Random, n: int) -> str:
    return rng.choice((f"P{n % 30 + 1}D", f"PT{n % 23 + 1}H", f"PT{n % 59 + 1}M"))


FORMATS: Final[dict[str, Callable[[random.Random, str, int], str]]] = {
    "date-time": lambda r, s, n: f"{_fmt_date(r)}T{_fmt_time(r)}",
    "date": lambda r, s, n: _fmt_date(r),
    "time": lambda r, s, n: _fmt_time(r),
    "duration": lambda r, s, n: _fmt_duration(r, n),
    "email": lambda r, s, n: f"{r.choice(_NAMES)}.{n}@example.com",
    "idn-email": lambda r, s, n: f"{r.choice(_NAMES)}.{n}@example.com",
    "name-email": lambda r, s, n: f"{(name := r.choice(_NAMES)).title()} <{name}.{n}@example.com>",
    "hostname": lambda r, s, n: f"{_slug(s)}-{n}.example.com",
    "idn-hostname": lambda r, s, n: f"{_slug(s)}-{n}.example.com",
    "ipv4": lambda r, s, n: f"192.0.2.{n % 254 + 1}",
    "ipv6": lambda r, s, n: f"2001:db8::{n:x}",
    "ipvanyaddress": lambda r, s, n: f"192.0.2.{n % 254 + 1}",
    "ipvanyinterface": lambda r, s, n: f"192.0.2.{n % 254 + 1}/24",
    "ipvanynetwork": lambda r, s, n: "192.0.2.0/24",
    "uri": lambda r, s, n: f"https://example.com/{_slug(s)}/{n}",
    "url": lambda r, s, n: f"https://example.com/{_slug(s)}/{n}",
    "iri": lambda r, s, n: f"https://example.com/{_slug(s)}/{n}",
    "multi-host-uri": lambda r, s, n: f"https://example.com/{_slug(s)}/{n}",
    "uri-reference": lambda r, s, n: f"/{_slug(s)}/{n}",
    "iri-reference": lambda r, s, n: f"/{_slug(s)}/{n}",
    "uri-template": lambda r, s, n: f"https://example.com/{_slug(s)}/{{id}}",
    "uuid": lambda r, s, n: str(uuid.UUID(int=r.getrandbits(128), version=4)),
    "json-pointer": lambda r, s, n: f"/{_slug(s)}/{n}",
    "relative-json-pointer": lambda r, s, n: f"{n % 3}/{_slug(s)}",
    "regex": lambda r, s, n: r.choice((r"^[a-z]+$", r"^\d{3}-\d{4}$", r"^[A-Z][a-z]*$")),
    "byte": lambda r, s, n: base64.b64encode(f"{s} {n}".encode()).decode("ascii"),
    "binary": lambda r, s, n: f"{s} {n}",
    "password": lambda r, s, n: f"s3cret-{n}",
    "path": lambda r, s, n: f"/tmp/{_slug(s)}-{n}",
    "color": lambda r, s, n: f"#{r.getrandbits(24):06x}",
}
"""The string formats produced (names compared lower-cased); other formats are ignored."""


def _parses(parse: Callable[[str], object]) -> Callable[[str], bool]:
    def test(text: str) -> bool:
        try:
            parse(text)
        except ValueError:
            return False
        return True

    return test


_DATE: Final = r"\d{4}-\d{2}-\d{2}"
_TIME: Final = r"\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
_FORMAT_TESTS: Final[dict[str, Callable[[str], bool]]] = {
    "date": lambda t: bool(re.fullmatch(_DATE, t, re.ASCII)) and _parses(date.fromisoformat)(t),
    "date-time": lambda t: (
        bool(re.fullmatch(f"{_DATE}[Tt ]{_TIME}", t, re.ASCII))
        and _parses(datetime.fromisoformat)(t.upper().replace("Z", "+00:00"))
    ),
    "time": lambda t: (
        bool(re.fullmatch(_TIME, t, re.ASCII))
        and _parses(datetime.fromisoformat)("1970-01-01T" + t.upper().replace("Z", "+00:00"))
    ),
    "uuid": lambda t: bool(re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", t)),
    "ipv4": _parses(ipaddress.IPv4Address),
    "ipv6": _parses(ipaddress.IPv6Address),
    "ipvanyaddress": _parses(ipaddress.ip_address),
    "ipvanyinterface": _parses(ipaddress.ip_interface),
    "ipvanynetwork": _parses(ipaddress.ip_network),
    "email": lambda t: "@" in t,
    "idn-email": lambda t: "@" in t,
    "duration": lambda t: bool(
        re.fullmatch(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?", t)
    ),
    "hostname": lambda t: bool(
        re.fullmatch(
            r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?", t
        )
    ),
    "idn-hostname": lambda t: bool(t) and not any(c.isspace() for c in t),
    "uri": lambda t: bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:\S*", t)),
    "iri": lambda t: bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:\S*", t)),
    "url": lambda t: bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:\S*", t)),
    "uri-reference": lambda t: not any(c.isspace() for c in t),
    "iri-reference": lambda t: not any(c.isspace() for c in t),
    "uri-template": lambda t: not any(c.isspace() for c in t),
    "json-pointer": lambda t: bool(re.fullmatch(r"(/([^~/]|~[01])*)*", t)),
    "relative-json-pointer": lambda t: bool(
        re.fullmatch(r"(0|[1-9][0-9]*)(#|(/([^~/]|~[01])*)*)", t)
    ),
    "regex": lambda t: _compiled(t) is not None,
}
"""Checks for the formats above, close to :mod:`jsonschema`'s format checker: the validator
here asserts ``format`` with them (so that ``oneOf``/``not``/``if`` decide as a format-checking
client would), and a string made from a pattern narrower than its format must pass one."""


_STYLES: Final[tuple[Callable[[str, int], str], ...]] = (
    lambda label, n: f"{label} {n}",
    lambda label, n: f"{label.title()} {n}",
    lambda label, n: f"{n} {label}",
    lambda label, n: f"{label.upper().replace(' ', '_')}_{n}",
    lambda label, n: f"#{n}",
    lambda label, n: f"-{label}-",
)
"""String styles: the first always, the others while a value must avoid a ``not``."""


def _length_ok(text: str, lo: int, hi: int | None) -> bool:
    return len(text) >= lo and (hi is None or len(text) <= hi)


def _gen_string(
    ctx: _Ctx, m: _Merged, parts: list[_Part], rec: int, path: tuple[str, ...], hint: str | None
) -> str:
    lo, hi = m.min_len, m.max_len
    if hi is not None and lo > hi:
        raise UnsatisfiableSchema(m.ptr, f"minLength {lo} is greater than maxLength {hi}")
    label = _label(hint or m.title)
    n = ctx.rng.randint(1, 99)
    if m.formats:
        fmt = m.formats[0]
        for _ in range(20 if m.patterns else 1):
            text = FORMATS[fmt](ctx.rng, label, n)
            if _length_ok(text, lo, hi) and all(_regex(p, w).search(text) for p, w in m.patterns):
                return text
            n = ctx.rng.randint(1, 99)
        if not m.patterns:
            raise UnsatisfiableSchema(m.ptr, f"no {fmt} string has length in [{lo}, {hi}]")
        # The pattern is narrower than the values the format makes: walk the pattern and keep
        # a string the format accepts (only for formats checked here).
        test = _FORMAT_TESTS.get(fmt)
        if test is None:
            raise UnsatisfiableSchema(m.ptr, f"found no {fmt} string matching the pattern")
        for _ in range(30):
            text = _string_from_patterns(ctx.rng, m.patterns, lo, hi, m.ptr)
            if test(text):
                return text
        raise UnsatisfiableSchema(m.ptr, f"found no {fmt} string matching the pattern")
    if m.patterns:
        return _string_from_patterns(ctx.rng, m.patterns, lo, hi, m.ptr)
    text = _STYLES[ctx.variant % len(_STYLES)](label, n)
    if len(text) < lo:
        text = (text + (" " + label) * (lo // (len(label) + 1) + 1))[:lo]
        if text.endswith(" "):
            text = text[:-1] + "x"
    if hi is not None and len(text) > hi:
        text = text[:hi]
        if len(text.rstrip()) >= lo:
            text = text.rstrip()
    return text


# -- strings from regular expressions ---------------------------------------------------------

_P: Final[Any] = importlib.import_module("re._parser")
_C: Final[Any] = importlib.import_module("re._constants")
_ALNUM: Final = string.ascii_lowercase + string.digits + string.ascii_uppercase
_POOL: Final = string.ascii_lowercase + string.digits + string.ascii_uppercase + " -_.,:/@"
_CATEGORY_POOLS: Final[dict[Any, str]] = {
    _C.CATEGORY_DIGIT: string.digits,
    _C.CATEGORY_NOT_DIGIT: string.ascii_lowercase,
    _C.CATEGORY_SPACE: " ",
    _C.CATEGORY_NOT_SPACE: string.ascii_lowercase + string.digits,
    _C.CATEGORY_WORD: string.ascii_lowercase + string.digits,
    _C.CATEGORY_NOT_WORD: " -.,",
    _C.CATEGORY_LINEBREAK: "\n",
    _C.CATEGORY_NOT_LINEBREAK: string.ascii_lowercase,
}
_CATEGORY_TESTS: Final[dict[Any, Callable[[str], bool]]] = {
    _C.CATEGORY_DIGIT: str.isdigit,
    _C.CATEGORY_NOT_DIGIT: lambda c: not c.isdigit(),
    _C.CATEGORY_SPACE: str.isspace,
    _C.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
    _C.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
    _C.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_"),
    _C.CATEGORY_LINEBREAK: lambda c: c == "\n",
    _C.CATEGORY_NOT_LINEBREAK: lambda c: c != "\n",
}
_REPEATS: Final = tuple(
    op
    for op in (_C.MAX_REPEAT, _C.MIN_REPEAT, getattr(_C, "POSSESSIVE_REPEAT", None))
    if op is not None
)


class _RegexFail(Exception):
    """The walk met a construct it cannot produce text for."""


def _regex(pattern: str, pointer: str) -> re.Pattern[str]:
    compiled = _compiled(pattern)
    if compiled is None:
        raise UnsatisfiableSchema(pointer, f"{pattern!r} is not a regular expression Python runs")
    return compiled


@functools.lru_cache(maxsize=1024)
def _parsed(pattern: str) -> Any:
    return _P.parse(pattern)


def _string_from_patterns(
    rng: random.Random, patterns: list[tuple[str, str]], lo: int, hi: int | None, pointer: str
) -> str:
    """A string of length in [lo, hi] that every pattern finds (``re.search``), by walking
    each pattern's parse tree with growing repeat caps and padding short results."""
    compiled = [_regex(p, w) for p, w in patterns]

    def ok(text: str) -> bool:
        return _length_ok(text, lo, hi) and all(c.search(text) for c in compiled)

    caps = (3, 1, 0, 2, 5, 8, 16, max(lo, 4), 32, 64)
    for pattern, _ in patterns:
        parsed = _parsed(pattern)
        for cap in caps:
            for _ in range(2):
                out: list[str] = []
                try:
                    _walk(parsed, rng, cap, {}, out)
                except _RegexFail:
                    break
                text = "".join(out)
                if ok(text):
                    return text
                if len(text) < lo:
                    short = lo - len(text)
                    tail = (text[-1:] or "x") * short
                    head = (text[:1] or "x") * short
                    for padded in (text + tail, head + text, text + "x" * short):
                        if ok(padded):
                            return padded
    shown = " and ".join(repr(p) for p, _ in patterns)
    raise UnsatisfiableSchema(
        patterns[0][1], f"found no string matching {shown} with length in [{lo}, {hi}]"
    )


def _walk(sub: Any, rng: random.Random, cap: int, groups: dict[int, str], out: list[str]) -> None:
    for op, av in sub:
        if op is _C.LITERAL:
            out.append(chr(av))
        elif op is _C.NOT_LITERAL:
            out.append(rng.choice([c for c in _ALNUM if ord(c) != av]))
        elif op is _C.ANY:
            out.append(rng.choice(string.ascii_lowercase))
        elif op is _C.IN:
            out.append(_class_char(av, rng))
        elif op is _C.BRANCH:
            _walk(rng.choice(av[1]), rng, cap, groups, out)
        elif op is _C.SUBPATTERN:
            group, _, _, inner = av
            mark = len(out)
            _walk(inner, rng, cap, groups, out)
            if group:
                groups[group] = "".join(out[mark:])
        elif op in _REPEATS:
            low, high, inner = av
            top = low + cap if high is _C.MAXREPEAT or high - low > cap * 3 else high
            for _ in range(rng.randint(low, max(low, top))):
                _walk(inner, rng, cap, groups, out)
        elif op is _C.AT or op is _C.ASSERT or op is _C.ASSERT_NOT:
            continue  # anchors and lookarounds produce no text; the final search checks them
        elif op is _C.GROUPREF:
            out.append(groups.get(av, ""))
        elif op is _C.GROUPREF_EXISTS:
            group, yes, no = av
            branch = yes if group in groups else no
            if branch is not None:
                _walk(branch, rng, cap, groups, out)
        elif op is getattr(_C, "ATOMIC_GROUP", None):
            _walk(av, rng, cap, groups, out)
        else:
            raise _RegexFail(op)


def _class_has(items: Any, char: str) -> bool:
    code = ord(char)
    for op, av in items:
        if op is _C.LITERAL and av == code:
            return True
        if op is _C.RANGE and av[0] <= code <= av[1]:
            return True
        if op is _C.CATEGORY:
            test = _CATEGORY_TESTS.get(av)
            if test is not None and test(char):
                return True
    return False


def _class_char(items: Any, rng: random.Random) -> str:
    if items and items[0][0] is _C.NEGATE:
        allowed = [c for c in _POOL if not _class_has(items[1:], c)]
        if not allowed:
            raise _RegexFail("negated class")
        return rng.choice(allowed)
    op, av = items[rng.randrange(len(items))]
    if op is _C.LITERAL:
        return chr(av)
    if op is _C.CATEGORY:
        pool = _CATEGORY_POOLS.get(av)
        if pool is None:
            raise _RegexFail(av)
        return rng.choice(pool)
    if op is _C.RANGE:
        low, high = av
        nice = [c for c in _ALNUM if low <= ord(c) <= high]
        if nice:
            return rng.choice(nice)
        code = rng.randint(low, min(high, low + 64))
        if 0xD800 <= code <= 0xDFFF:
            code = 0xE000 if high >= 0xE000 else low
        return chr(code)
    raise _RegexFail(op)


# -- objects ---------------------------------------------------------------------------------


def _key_schemas(m: _Merged, key: str) -> list[tuple[Any, str]]:
    """The schemas a property named ``key`` must satisfy, per ``properties``,
    ``patternProperties`` and ``additionalProperties`` of each merged part."""
    out: list[tuple[Any, str]] = []
    declared = False
    for props, patterns, additional, ptr in m.obj_parts:
        matched = False
        if key in props:
            out.append((props[key], f"{ptr}/properties/{_esc(key)}"))
            matched = True
        for pattern, schema in patterns.items():
            compiled = _compiled(pattern)
            if compiled is not None and compiled.search(key):
                out.append((schema, f"{ptr}/patternProperties/{_esc(pattern)}"))
                matched = True
        if not matched and additional is not _ABSENT:
            out.append((additional, f"{ptr}/additionalProperties"))
        declared = declared or matched
    if not declared and m.unevaluated:
        out.extend(m.unevaluated)
    return out


def _key_allowed(ctx: _Ctx, m: _Merged, key: str) -> bool:
    if not m.prop_names and len(m.obj_parts) == 1 and key in m.obj_parts[0][0]:
        return m.obj_parts[0][0][key] is not False  # the common case: one declared property
    if any(schema is False for schema, _ in _key_schemas(m, key)):
        return False
    return all(_valid(ctx, key, schema) for schema, _ in m.prop_names)


def _gen_object(
    ctx: _Ctx, m: _Merged, parts: list[_Part], rec: int, path: tuple[str, ...], hint: str | None
) -> dict[str, Any]:
    at_limit = rec >= RECURSION_LIMIT
    item_hint = _singular(hint)
    if m.max_props is not None and m.min_props > m.max_props:
        raise UnsatisfiableSchema(
            m.ptr, f"minProperties {m.min_props} is greater than maxProperties {m.max_props}"
        )
    applied: set[str] = set()
    while True:  # dependentSchemas of properties sure to be present join the conjunction
        needed = _closure(m, list(m.required))
        pending = [d for d in m.dep_schemas if d[0] in needed and d[0] not in applied]
        if not pending:
            break
        parts = list(parts)
        for key, schema, where in pending:
            applied.add(key)
            _collect(ctx, schema, where, parts, [], ())
        m = _merge(parts, m.ptr)
    triggers = {key for key, _, _ in m.dep_schemas}

    for key in needed:
        if not _key_allowed(ctx, m, key):
            raise UnsatisfiableSchema(m.ptr, f"required property {key!r} is not allowed")
    keys: list[str] = []
    spare: list[str] = []  # optional properties left out, usable for minProperties
    for key in m.prop_order:
        if key in needed:
            keys.append(key)
        elif key in m.forbidden or key in triggers or not _key_allowed(ctx, m, key):
            continue
        elif at_limit:
            spare.append(key)
        else:
            keys.append(key)
    keys += [key for key in needed if key not in m.prop_order]
    keys = list(_closure(m, keys))
    if m.max_props is not None and len(keys) > m.max_props:
        optional = [k for k in keys if k not in needed and not m.dep_required.get(k)]
        while len(keys) > m.max_props and optional:
            keys.remove(optional.pop())
        if len(keys) > m.max_props:
            raise UnsatisfiableSchema(
                m.ptr, f"{len(keys)} properties are required but maxProperties is {m.max_props}"
            )
    extras = 0
    if len(keys) < m.min_props:
        while spare and len(keys) < m.min_props:
            keys.append(spare.pop(0))
        extras = m.min_props - len(keys)
    elif not m.prop_order and not at_limit and (m.max_props is None or len(keys) < m.max_props):
        # A map (additionalProperties or patternProperties schema, no properties): 1-2 entries.
        if any(p[1] or (p[2] is not _ABSENT and p[2] is not False) for p in m.obj_parts):
            extras = ctx.rng.randint(1, 2)
            if m.max_props is not None:
                extras = min(extras, m.max_props - len(keys))
    if extras:
        keys += _extra_keys(ctx, m, keys, extras, rec, path, item_hint)
        if len(keys) < m.min_props:
            raise UnsatisfiableSchema(
                m.ptr, f"cannot find {m.min_props} allowed property names (minProperties)"
            )

    obj: dict[str, Any] = {}
    for key in keys:
        sub: list[_Part] = []
        refs: list[str] = []
        declared = key in m.prop_order
        try:
            for schema, where in _key_schemas(m, key):
                _collect(ctx, schema, where, sub, refs, ())
            sub_path, sub_rec = _descend(path, rec, refs)
            where = f"{m.ptr}/properties/{_esc(key)}"
            obj[key] = _gen_parts(
                ctx, sub, where, sub_rec, sub_path, key if declared else item_hint
            )
        except UnsatisfiableSchema:
            if key in needed:
                raise
            continue  # an optional property that cannot be satisfied is left out
    if len(obj) < m.min_props:
        raise UnsatisfiableSchema(m.ptr, f"fewer than minProperties {m.min_props} properties")
    if m.max_props is not None and len(obj) > m.max_props:
        raise UnsatisfiableSchema(m.ptr, f"more than maxProperties {m.max_props} properties")
    return obj


def _closure(m: _Merged, keys: list[str]) -> dict[str, None]:
    """``keys`` and, transitively, the properties ``dependentRequired`` adds to them."""
    out = dict.fromkeys(keys)
    todo = list(keys)
    while todo:
        for dep in m.dep_required.get(todo.pop(), ()):
            if dep not in out:
                out[dep] = None
                todo.append(dep)
    return out


def _extra_keys(
    ctx: _Ctx,
    m: _Merged,
    taken: list[str],
    count: int,
    rec: int,
    path: tuple[str, ...],
    hint: str | None,
) -> list[str]:
    """``count`` new property names that every part and ``propertyNames`` allow: made from
    ``propertyNames`` or a ``patternProperties`` pattern, else ``<hint>_1``, ``<hint>_2``..."""
    stem = _slug(_label(hint), "_") if hint else "key"
    number = 0
    patterns = [
        (pattern, f"{ptr}/patternProperties/{_esc(pattern)}")
        for _, pats, _, ptr in m.obj_parts
        for pattern in pats
    ]
    closed = m.unevaluated is not None and any(s is False for s, _ in m.unevaluated)
    out: list[str] = []
    for attempt in range(count * 4 + 8):
        if len(out) == count:
            break
        try:
            if m.prop_names:
                names: list[_Part] = []
                for schema, where in m.prop_names:
                    _collect(ctx, schema, where, names, [], ())
                names.append(({"type": "string"}, m.ptr))
                key = _gen_parts(ctx, names, m.ptr, rec, path, "key")
            elif patterns and (attempt % 2 == 0 or closed):
                key = _string_from_patterns(
                    ctx.rng, [patterns[attempt // 2 % len(patterns)]], 0, None, m.ptr
                )
            else:
                number += 1
                key = f"{stem}_{number}"
        except UnsatisfiableSchema:
            continue
        if not isinstance(key, str) or key in taken or key in out or key in m.forbidden:
            continue
        if closed and not any(
            key in props or any(_regex(p, m.ptr).search(key) for p in pats)
            for props, pats, _, _ in m.obj_parts
        ):
            continue
        if _key_allowed(ctx, m, key):
            out.append(key)
    return out


# -- arrays ----------------------------------------------------------------------------------


def _gen_array(
    ctx: _Ctx, m: _Merged, parts: list[_Part], rec: int, path: tuple[str, ...], hint: str | None
) -> list[Any]:
    at_limit = rec >= RECURSION_LIMIT
    cap = m.max_items
    tuple_len = 0
    for prefix, _, rest, _ in m.arr_parts:
        tuple_len = max(tuple_len, len(prefix))
        for j, schema in enumerate(prefix):
            if schema is False:
                cap = j if cap is None else min(cap, j)
                break
        if rest is False:
            cap = len(prefix) if cap is None else min(cap, len(prefix))
    need = sum(lo for _, _, lo, _ in m.contains)
    lo = max(m.min_items, need)
    if cap is not None and lo > cap:
        raise UnsatisfiableSchema(m.ptr, f"needs at least {lo} items but at most {cap} fit")
    if at_limit:
        n = lo
    elif tuple_len:
        n = max(lo, tuple_len if cap is None else min(cap, tuple_len))
    else:
        base = max(lo, 1)
        n = ctx.rng.randint(base, base + 2)
        if cap is not None:
            n = min(n, cap)
    # Items that must match "contains" go after the tuple prefix where there is room.
    start = max(0, min(tuple_len, n - need))
    slots: list[list[tuple[Any, str]]] = [[] for _ in range(n)]
    position = start
    for schema, where, count, _ in m.contains:
        for _ in range(count):
            slots[position].append((schema, where))
            position += 1
    capped = [(s, w) for s, w, _, hi in m.contains if hi is not None]
    item_hint = _singular(hint)
    rest_cache: tuple[list[_Part], list[str]] | None = None
    items: list[Any] = []
    for i in range(n):
        sub: list[_Part]
        refs: list[str]
        if i >= tuple_len and not slots[i] and not capped:
            if rest_cache is None:
                rest_cache = ([], [])
                for schema, where in _index_schemas(m, i):
                    _collect(ctx, schema, where, rest_cache[0], rest_cache[1], ())
            sub, refs = list(rest_cache[0]), rest_cache[1]
        else:
            sub, refs = [], []
            for schema, where in _index_schemas(m, i) + slots[i]:
                _collect(ctx, schema, where, sub, refs, ())
            if not slots[i]:
                sub += [({"not": s}, w) for s, w in capped]
        sub_path, sub_rec = _descend(path, rec, refs)
        for _ in range(_UNIQUE_ATTEMPTS if m.unique else 1):
            value = _gen_parts(ctx, sub, f"{m.ptr}/items", sub_rec, sub_path, item_hint)
            if not m.unique or not any(_eq(value, other) for other in items):
                break
        else:
            if len(items) >= lo and i >= tuple_len:
                break  # shorter but still long enough
            raise UnsatisfiableSchema(m.ptr, f"cannot find {lo} distinct items (uniqueItems)")
        items.append(value)
    return items


def _index_schemas(m: _Merged, i: int) -> list[tuple[Any, str]]:
    out: list[tuple[Any, str]] = []
    for prefix, prefix_ptr, rest, rest_ptr in m.arr_parts:
        if i < len(prefix):
            out.append((prefix[i], f"{prefix_ptr}/{i}"))
        elif rest is not _ABSENT:
            out.append((rest, rest_ptr))
    return out


_TYPE_GENERATORS: Final[dict[str, Callable[..., Any]]] = {
    "null": _gen_null,
    "boolean": _gen_boolean,
    "integer": _gen_integer,
    "number": _gen_number,
    "string": _gen_string,
    "object": _gen_object,
    "array": _gen_array,
}


# -- validation ------------------------------------------------------------------------------
# A boolean validator for the keywords above, used to check branches, negations and the
# final value. It mirrors jsonschema's semantics (type and equality rules, multipleOf on
# floats) and asserts ``format`` as a client with a format checker does.


def _valid(ctx: _Ctx, inst: Any, schema: Any) -> bool:
    if schema is True:
        return True
    if schema is False:
        return False
    if not isinstance(schema, dict) and not isinstance(schema, Mapping):
        return True
    if inst is None and schema.get("nullable") is True:
        return True
    for key, value in schema.items():
        check = _CHECKS.get(key)
        if check is not None and not check(ctx, inst, value, schema):
            return False
    return True


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


def _c_type(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if isinstance(value, str):
        return _is_type(inst, value.lower())
    if not isinstance(value, list):
        return True
    return any(_is_type(inst, t.lower()) for t in value if isinstance(t, str))


def _c_ref(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(value, str):
        return True
    key = (value, id(inst))
    if key in ctx.active:  # the same reference on the same value: a cycle, assume it holds
        return True
    target = ctx.resolve(value, "#")[0]
    ctx.active.add(key)
    try:
        return _valid(ctx, inst, target)
    finally:
        ctx.active.discard(key)


def _c_minimum(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not _is_num(inst) or not _is_num(value):
        return True
    return bool(inst > value if schema.get("exclusiveMinimum") is True else inst >= value)


def _c_maximum(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not _is_num(inst) or not _is_num(value):
        return True
    return bool(inst < value if schema.get("exclusiveMaximum") is True else inst <= value)


def _c_ex_minimum(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not _is_num(inst) or not _is_num(value) or bool(inst > value)


def _c_ex_maximum(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not _is_num(inst) or not _is_num(value) or bool(inst < value)


def _c_multiple(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not _is_num(inst) or not _is_num(value) or value <= 0 or _multiple_ok(inst, value)


def _c_min_length(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(inst, str) or len(inst) >= value


def _c_max_length(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(inst, str) or len(inst) <= value


def _c_pattern(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(inst, str) or _regex(value, "#").search(inst) is not None


def _c_items(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(inst, list | tuple):
        return True
    if isinstance(value, list):
        return all(_valid(ctx, i, s) for i, s in zip(inst, value, strict=False))
    start = len(schema.get("prefixItems") or ())
    return all(_valid(ctx, i, value) for i in inst[start:])


def _c_prefix_items(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(inst, list | tuple) or not isinstance(value, list):
        return True
    return all(_valid(ctx, i, s) for i, s in zip(inst, value, strict=False))


def _c_additional_items(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    items = schema.get("items")
    if not isinstance(inst, list | tuple) or not isinstance(items, list):
        return True
    return all(_valid(ctx, i, value) for i in inst[len(items) :])


def _c_min_items(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(inst, list | tuple) or len(inst) >= value


def _c_max_items(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(inst, list | tuple) or len(inst) <= value


def _c_unique(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if value is not True or not isinstance(inst, list | tuple):
        return True
    return not any(_eq(inst[i], inst[j]) for i in range(len(inst)) for j in range(i))


def _c_contains(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(inst, list | tuple):
        return True
    count = sum(1 for i in inst if _valid(ctx, i, value))
    low, high = schema.get("minContains", 1), schema.get("maxContains")
    return count >= low and (high is None or count <= high)


def _c_required(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(inst, Mapping) or all(k in inst for k in value)


def _c_properties(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(inst, Mapping):
        return True
    return all(_valid(ctx, inst[k], s) for k, s in value.items() if k in inst)


def _c_pattern_properties(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(inst, Mapping):
        return True
    for pattern, sub in value.items():
        compiled = _regex(pattern, "#")
        for key, item in inst.items():
            if compiled.search(key) and not _valid(ctx, item, sub):
                return False
    return True


def _c_additional_properties(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(inst, Mapping):
        return True
    props = schema.get("properties") or {}
    patterns = [_regex(p, "#") for p in schema.get("patternProperties") or ()]
    for key, item in inst.items():
        if key in props or any(p.search(key) for p in patterns):
            continue
        if not _valid(ctx, item, value):
            return False
    return True


def _c_property_names(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(inst, Mapping) or all(_valid(ctx, k, value) for k in inst)


def _c_min_properties(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(inst, Mapping) or len(inst) >= value


def _c_max_properties(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(inst, Mapping) or len(inst) <= value


def _c_dependent(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(inst, Mapping) or not isinstance(value, Mapping):
        return True
    for key, dep in value.items():
        if key not in inst:
            continue
        if isinstance(dep, list):
            if not all(d in inst for d in dep):
                return False
        elif not _valid(ctx, inst, dep):
            return False
    return True


def _c_all_of(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return all(_valid(ctx, inst, s) for s in value)


def _c_any_of(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return any(_valid(ctx, inst, s) for s in value)


def _c_one_of(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return sum(1 for s in value if _valid(ctx, inst, s)) == 1


def _c_not(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not _valid(ctx, inst, value)


def _c_if(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if _valid(ctx, inst, value):
        return _valid(ctx, inst, schema.get("then", True))
    return _valid(ctx, inst, schema.get("else", True))


def _c_enum(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(value, list) or any(_eq(inst, v) for v in value)


def _c_const(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return _eq(inst, value)


def _c_format(ctx: _Ctx, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(inst, str) or not isinstance(value, str):
        return True
    test = _FORMAT_TESTS.get(value.lower())
    return test is None or test(inst)


_CHECKS: Final[dict[str, Callable[[_Ctx, Any, Any, Mapping[str, Any]], bool]]] = {
    "$ref": _c_ref,
    "$dynamicRef": _c_ref,
    "type": _c_type,
    "enum": _c_enum,
    "const": _c_const,
    "minimum": _c_minimum,
    "maximum": _c_maximum,
    "exclusiveMinimum": _c_ex_minimum,
    "exclusiveMaximum": _c_ex_maximum,
    "multipleOf": _c_multiple,
    "minLength": _c_min_length,
    "maxLength": _c_max_length,
    "pattern": _c_pattern,
    "items": _c_items,
    "prefixItems": _c_prefix_items,
    "additionalItems": _c_additional_items,
    "minItems": _c_min_items,
    "maxItems": _c_max_items,
    "uniqueItems": _c_unique,
    "contains": _c_contains,
    "required": _c_required,
    "properties": _c_properties,
    "patternProperties": _c_pattern_properties,
    "additionalProperties": _c_additional_properties,
    "propertyNames": _c_property_names,
    "minProperties": _c_min_properties,
    "maxProperties": _c_max_properties,
    "dependentRequired": _c_dependent,
    "dependentSchemas": _c_dependent,
    "dependencies": _c_dependent,
    "allOf": _c_all_of,
    "anyOf": _c_any_of,
    "oneOf": _c_one_of,
    "not": _c_not,
    "if": _c_if,
    "format": _c_format,
}
