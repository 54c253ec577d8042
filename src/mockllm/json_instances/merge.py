"""Flattening and merging of keywords: :func:`collect_parts` follows ``allOf`` and ``$ref``
into a list of parts, :func:`merge_schemas` combines the parts' keywords into one
:class:`Merged` (tightest bounds, common types, every pattern, per-part object and array
keywords, pending applicators), and the lookups on it of the subschemas that apply to a
property name (:func:`key_schemas`, :func:`key_allowed`) or an array index
(:func:`index_schemas`).

A target reached twice while flattening is taken once (a conjunction holds each schema once:
``allOf: [{$ref: a}, {$ref: a}]`` at every level stays linear), a chain of ``$ref``\\ s is
followed ``2 * json_max_depth`` deep, the same parts are merged once per generation, and the
work is counted (``ctx.charge``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from .context import (
    ABSENT,
    REF_CHAIN_FACTOR,
    Context,
    Part,
    SchemaTooLarge,
    UnsatisfiableSchema,
    escape_token,
)
from .formats import FORMATS
from .regex import search_pattern
from .validation import satisfies
from .values import is_finite_number, is_integral, is_num, json_key

__all__ = [
    "ALL_TYPES",
    "F_ARR",
    "F_COMB",
    "F_ENUM",
    "F_META",
    "F_NUM",
    "F_OBJ",
    "F_STR",
    "F_TYPE",
    "Merged",
    "collect_parts",
    "descend_refs",
    "index_schemas",
    "key_allowed",
    "key_schemas",
    "merge_schemas",
    "required_closure",
    "type_names",
]

ALL_TYPES: Final = ("string", "integer", "number", "boolean", "object", "array", "null")
"""The JSON types, in the order tried when nothing narrows them."""

# Keyword families: one pass over a schema's keys tells which families it uses.
F_TYPE: Final = 1
"""Keyword family flag (a bit of :attr:`Merged.fam`): ``type``."""
F_ENUM: Final = 2
"""Keyword family flag: ``enum``, ``const``."""
F_NUM: Final = 4
"""Keyword family flag: the numeric keywords (bounds, ``multipleOf``): a number is meant."""
F_STR: Final = 8
"""Keyword family flag: the string keywords (lengths, ``pattern``, ``format``)."""
F_OBJ: Final = 16
"""Keyword family flag: the object keywords (``properties``, ``required``...)."""
F_ARR: Final = 32
"""Keyword family flag: the array keywords (``items``, ``minItems``...)."""
F_COMB: Final = 64
"""Keyword family flag: the applicators left pending (``anyOf``, ``oneOf``, ``not``, ``if``)."""
F_META: Final = 128
"""Keyword family flag: ``title``, ``examples``."""
_FAMILY: Final[dict[str, int]] = {
    "type": F_TYPE,
    "enum": F_ENUM,
    "const": F_ENUM,
    "minimum": F_NUM,
    "maximum": F_NUM,
    "exclusiveMinimum": F_NUM,
    "exclusiveMaximum": F_NUM,
    "multipleOf": F_NUM,
    "minLength": F_STR,
    "maxLength": F_STR,
    "pattern": F_STR,
    "format": F_STR,
    "properties": F_OBJ,
    "patternProperties": F_OBJ,
    "additionalProperties": F_OBJ,
    "required": F_OBJ,
    "propertyNames": F_OBJ,
    "minProperties": F_OBJ,
    "maxProperties": F_OBJ,
    "dependentRequired": F_OBJ,
    "dependentSchemas": F_OBJ,
    "dependencies": F_OBJ,
    "unevaluatedProperties": F_OBJ,
    "items": F_ARR,
    "prefixItems": F_ARR,
    "additionalItems": F_ARR,
    "minItems": F_ARR,
    "maxItems": F_ARR,
    "uniqueItems": F_ARR,
    "contains": F_ARR,
    "unevaluatedItems": F_ARR,
    "anyOf": F_COMB,
    "oneOf": F_COMB,
    "not": F_COMB,
    "if": F_COMB,
    "title": F_META,
    "examples": F_META,
}


def collect_parts(
    ctx: Context, schema: Any, pointer: str, out: list[Part], refs: list[str], seen: tuple[str, ...]
) -> None:
    """Flatten ``schema`` into ``out``: the conjunction of its ``allOf`` members and ``$ref``
    targets, none of which has an ``allOf`` or ``$ref`` left. ``refs`` receives every reference
    expanded; a reference met again while flattening (a cycle with no nesting, or the same
    target reached twice: a conjunction holds each schema once) adds nothing; ``seen`` is the
    chain of references being followed (``()`` from outside). Raises
    :class:`~.context.UnsatisfiableSchema` for ``false``, a non-schema or an unresolvable
    ``$ref``, :class:`~.context.SchemaTooLarge` for a chain longer than ``2 * json_max_depth``.
    """
    if schema is True:
        return
    if schema is False:
        raise UnsatisfiableSchema(pointer, "the schema is false: no value is valid")
    if not isinstance(schema, dict) and not isinstance(schema, Mapping):
        shown = repr(schema) if len(repr(schema)) <= 60 else type(schema).__name__
        raise UnsatisfiableSchema(pointer, f"a schema is a mapping or a bool, not {shown}")
    ctx.charge(1, pointer)
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
        if isinstance(target, str) and target not in seen and target not in refs:
            if len(seen) >= REF_CHAIN_FACTOR * ctx.max_depth:
                raise ctx.too_big(
                    pointer,
                    f"more than {len(seen)} $refs lead one to the next without nesting",
                    "json_max_depth",
                )
            resolved, where = ctx.resolve(target, pointer)
            refs.append(target)
            collect_parts(ctx, resolved, where, out, refs, (*seen, target))
    if isinstance(all_of, list):
        for i, sub in enumerate(all_of):
            collect_parts(ctx, sub, f"{pointer}/allOf/{i}", out, refs, seen)


def descend_refs(path: tuple[str, ...], rec: int, refs: list[str]) -> tuple[tuple[str, ...], int]:
    """The reference path and recursion level after expanding ``refs`` (from
    :func:`collect_parts`) below ``path`` at level ``rec``: the level is the most times one
    reference appears along the path, compared with :data:`~.context.RECURSION_LIMIT`."""
    for ref in refs:
        path = (*path, ref)
        rec = max(rec, path.count(ref))
    return path, rec


class Merged:
    """The keywords of a conjunction of schemas, combined: the tightest bounds, the common
    types, every pattern, per-part object and array keywords, the pending applicators.

    Made by :func:`merge_schemas` only and never changed afterwards (generation caches work per
    merged schema); its attributes are read by the generators. ``ptr`` names the first part
    that constrains anything, ``fam`` has a bit (``F_*``) per keyword family present,
    ``types`` is ``None`` when no ``type`` narrows them and ``candidates`` ``None`` when no
    ``enum``/``const`` does."""

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
        self.forbidden: set[str] = set()
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
        self.nots: list[Part] = []


def merge_schemas(ctx: Context, parts: list[Part], pointer: str) -> Merged:
    """The keywords of ``parts`` (flattened by :func:`collect_parts`) combined; the same parts
    (every item of an array) are merged once per generation (a ``Merged`` is never changed once
    made). ``pointer`` names the result when no part constrains anything. Raises
    :class:`~.context.UnsatisfiableSchema` for a ``multipleOf`` that is not positive."""
    key = (pointer, *[(id(s), ptr) for s, ptr in parts])
    hit = ctx.merged.get(key)
    if hit is not None:
        ctx.charge(1, pointer)
        return hit[1]
    ctx.charge(4, pointer)
    m = _merge_parts(ctx, parts, pointer)
    ctx.merged[key] = ([s for s, _ in parts], m)  # the schemas are kept: their ids stay theirs
    return m


def _merge_parts(ctx: Context, parts: list[Part], pointer: str) -> Merged:
    m = Merged(parts[0][1] if parts else pointer)
    for i, (s, ptr) in enumerate(parts):
        ctx.charge(1 + len(s), ptr)
        fam = 0
        for key in s:
            fam |= _FAMILY.get(key, 0)
        if not fam:
            continue
        if not m.fam & ~F_META:
            m.ptr = ptr  # messages name the first part that constrains anything
        m.fam |= fam
        if fam & F_TYPE:
            ctx.charge(_length(s.get("type")), ptr)
            _merge_type(m, s)
        if fam & F_ENUM:
            _merge_enum(ctx, m, s)
        if fam & F_NUM:
            _merge_num(m, s, ptr)
        if fam & F_STR:
            _merge_str(m, s, ptr)
        if fam & F_OBJ:
            ctx.charge(_length(s.get("properties")) + _length(s.get("required")), ptr)
            _merge_obj(m, s, ptr)
        if fam & F_ARR:
            _merge_arr(m, s, ptr)
        if fam & F_COMB:
            _merge_comb(m, s, ptr, i)
        if fam & F_META:
            if m.title is None and isinstance(s.get("title"), str):
                m.title = s["title"]
            examples = s.get("examples")
            if m.examples is None and isinstance(examples, list) and examples:
                m.examples = examples
    return m


def _length(value: Any) -> int:
    return len(value) if isinstance(value, Mapping | list) else 0


def type_names(value: Any) -> list[str]:
    """The lower-cased type names of a ``type`` keyword's value (a name or a list of them,
    duplicates and non-strings dropped); every type (:data:`ALL_TYPES`) for anything else."""
    if isinstance(value, str):
        return [value.lower()]
    if isinstance(value, list):
        return list(dict.fromkeys(t.lower() for t in value if isinstance(t, str)))
    return list(ALL_TYPES)


def _merge_type(m: Merged, s: Mapping[str, Any]) -> None:
    if "type" not in s:
        return
    names = type_names(s["type"])
    if m.types is None:
        m.types = names
        return
    known = set(names)
    both = [t for t in m.types if t in known or (t == "integer" and "number" in known)]
    if "number" in m.types and "integer" in names and "integer" not in both:
        both.append("integer")
    m.types = both


def _merge_enum(ctx: Context, m: Merged, s: Mapping[str, Any]) -> None:
    for key in ("const", "enum"):
        if key not in s:
            continue
        values = [s["const"]] if key == "const" else s["enum"]
        if not isinstance(values, list):
            continue
        if m.candidates is None:
            m.candidates = list(values)
        else:
            keys = ctx.keys_of(values) if key == "enum" else frozenset((json_key(values[0]),))
            ctx.charge(len(m.candidates), "#")
            m.candidates = [c for c in m.candidates if json_key(c) in keys]


def _merge_num(m: Merged, s: Mapping[str, Any], ptr: str) -> None:
    lo, lo_ex = s.get("minimum"), s.get("exclusiveMinimum")
    if is_finite_number(lo):
        _lower(m, lo, lo_ex is True)
    if is_finite_number(lo_ex):
        _lower(m, lo_ex, True)
    hi, hi_ex = s.get("maximum"), s.get("exclusiveMaximum")
    if is_finite_number(hi):
        _upper(m, hi, hi_ex is True)
    if is_finite_number(hi_ex):
        _upper(m, hi_ex, True)
    step = s.get("multipleOf")
    if is_num(step):
        if not is_finite_number(step) or step <= 0:
            raise UnsatisfiableSchema(f"{ptr}/multipleOf", f"multipleOf must be positive: {step}")
        m.multiples.append(step)


def _lower(m: Merged, value: float, exclusive: bool) -> None:
    if m.lo is None or value > m.lo or (value == m.lo and exclusive):
        m.lo, m.lo_ex = value, exclusive


def _upper(m: Merged, value: float, exclusive: bool) -> None:
    if m.hi is None or value < m.hi or (value == m.hi and exclusive):
        m.hi, m.hi_ex = value, exclusive


def _merge_str(m: Merged, s: Mapping[str, Any], ptr: str) -> None:
    lo, hi = s.get("minLength"), s.get("maxLength")
    if is_integral(lo):
        m.min_len = max(m.min_len, int(lo))
    if is_integral(hi):
        m.max_len = int(hi) if m.max_len is None else min(m.max_len, int(hi))
    pattern = s.get("pattern")
    if isinstance(pattern, str):
        m.patterns.append((pattern, f"{ptr}/pattern"))
    fmt = s.get("format")
    if isinstance(fmt, str) and fmt.lower() in FORMATS:
        m.formats.append(fmt.lower())


def _merge_obj(m: Merged, s: Mapping[str, Any], ptr: str) -> None:
    props = s.get("properties")
    props = props if isinstance(props, Mapping) else {}
    patterns = s.get("patternProperties")
    patterns = patterns if isinstance(patterns, Mapping) else {}
    additional = s.get("additionalProperties", ABSENT)
    if props or patterns or additional is not ABSENT:
        m.obj_parts.append((props, patterns, additional, ptr))
        for key in props:
            if isinstance(key, str):
                m.prop_order[key] = None
    required = s.get("required")
    if isinstance(required, list):
        for key in required:
            if isinstance(key, str):
                m.required[key] = None
    names = s.get("propertyNames", ABSENT)
    if names is not ABSENT:
        m.prop_names.append((names, f"{ptr}/propertyNames"))
    lo, hi = s.get("minProperties"), s.get("maxProperties")
    if is_integral(lo):
        m.min_props = max(m.min_props, int(lo))
    if is_integral(hi):
        m.max_props = int(hi) if m.max_props is None else min(m.max_props, int(hi))
    for keyword in ("dependentRequired", "dependentSchemas", "dependencies"):
        deps = s.get(keyword)
        if not isinstance(deps, Mapping):
            continue
        for key, dep in deps.items():
            if not isinstance(key, str):
                continue
            if isinstance(dep, list):
                m.dep_required.setdefault(key, []).extend(d for d in dep if isinstance(d, str))
            else:
                m.dep_schemas.append((key, dep, f"{ptr}/{keyword}/{escape_token(key)}"))
    unevaluated = s.get("unevaluatedProperties", ABSENT)
    if unevaluated is not ABSENT and unevaluated is not True:
        if m.unevaluated is None:
            m.unevaluated = []
        m.unevaluated.append((unevaluated, f"{ptr}/unevaluatedProperties"))


def _merge_arr(m: Merged, s: Mapping[str, Any], ptr: str) -> None:
    items = s.get("items", ABSENT)
    if isinstance(items, list):  # draft-07 tuple form
        prefix: Sequence[Any] = items
        prefix_kw = "items"
        rest = s.get("additionalItems", ABSENT)
        rest_ptr = f"{ptr}/additionalItems"
    else:
        prefix = s.get("prefixItems") or ()
        if not isinstance(prefix, list):
            prefix = ()  # not an array: ignored, as by the validator
        prefix_kw = "prefixItems"
        rest = items
        rest_ptr = f"{ptr}/items"
    if rest is ABSENT and s.get("unevaluatedItems") is False:
        rest = False
        rest_ptr = f"{ptr}/unevaluatedItems"
    if prefix or rest is not ABSENT:
        m.arr_parts.append((prefix, f"{ptr}/{prefix_kw}", rest, rest_ptr))
    lo, hi = s.get("minItems"), s.get("maxItems")
    if is_integral(lo):
        m.min_items = max(m.min_items, int(lo))
    if is_integral(hi):
        m.max_items = int(hi) if m.max_items is None else min(m.max_items, int(hi))
    if s.get("uniqueItems") is True:
        m.unique = True
    if "contains" in s:
        lo_c, hi_c = s.get("minContains", 1), s.get("maxContains")
        m.contains.append(
            (
                s["contains"],
                f"{ptr}/contains",
                int(lo_c) if is_integral(lo_c) else 1,
                int(hi_c) if is_integral(hi_c) else None,
            )
        )


def _merge_comb(m: Merged, s: Mapping[str, Any], ptr: str, index: int) -> None:
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
                m.not_types.extend(type_names(negated["type"]))
            elif keys == {"required"} and isinstance(negated["required"], list):
                m.forbidden.update(k for k in negated["required"] if isinstance(k, str))


def key_schemas(ctx: Context, m: Merged, key: str) -> list[tuple[Any, str]]:
    """The schemas a property named ``key`` must satisfy, per ``properties``,
    ``patternProperties`` and ``additionalProperties`` of each merged part (a pattern that
    is not a regular expression matches nothing here; the validator refuses it)."""
    out: list[tuple[Any, str]] = []
    declared = False
    for props, patterns, additional, ptr in m.obj_parts:
        matched = False
        if key in props:
            out.append((props[key], f"{ptr}/properties/{escape_token(key)}"))
            matched = True
        for pattern, schema in patterns.items():
            where = f"{ptr}/patternProperties/{escape_token(str(pattern))}"
            try:
                found = search_pattern(ctx, pattern, where, key)
            except SchemaTooLarge:
                raise
            except UnsatisfiableSchema:
                continue
            if found:
                out.append((schema, where))
                matched = True
        if not matched and additional is not ABSENT:
            out.append((additional, f"{ptr}/additionalProperties"))
        declared = declared or matched
    if not declared and m.unevaluated:
        out.extend(m.unevaluated)
    return out


def key_allowed(ctx: Context, m: Merged, key: str) -> bool:
    """Whether a property named ``key`` may be present: no schema of :func:`key_schemas` is
    ``false`` and every ``propertyNames`` schema accepts the name."""
    if not m.prop_names and len(m.obj_parts) == 1 and key in m.obj_parts[0][0]:
        return m.obj_parts[0][0][key] is not False  # the common case: one declared property
    if any(schema is False for schema, _ in key_schemas(ctx, m, key)):
        return False
    return all(satisfies(ctx, key, schema) for schema, _ in m.prop_names)


def required_closure(m: Merged, keys: list[str]) -> dict[str, None]:
    """``keys`` and, transitively, the properties ``dependentRequired`` adds to them."""
    out = dict.fromkeys(keys)
    todo = list(keys)
    while todo:
        for dep in m.dep_required.get(todo.pop(), ()):
            if dep not in out:
                out[dep] = None
                todo.append(dep)
    return out


def index_schemas(m: Merged, i: int) -> list[tuple[Any, str]]:
    """The schemas (with their pointers) the array item at index ``i`` must satisfy: per
    merged part, its ``prefixItems`` (or draft-07 array ``items``) entry, else the schema for
    the rest (``items``, ``additionalItems``, ``unevaluatedItems: false``), if any."""
    out: list[tuple[Any, str]] = []
    for prefix, prefix_ptr, rest, rest_ptr in m.arr_parts:
        if i < len(prefix):
            out.append((prefix[i], f"{prefix_ptr}/{i}"))
        elif rest is not ABSENT:
            out.append((rest, rest_ptr))
    return out
