"""Flattening and merging of keywords: ``_collect`` follows ``allOf`` and ``$ref`` into a list of
parts, ``_merge`` combines the parts' keywords into one ``_Merged`` (tightest bounds, common
types, every pattern, per-part object and array keywords, pending applicators), and the
lookups on it of the subschemas that apply to a property name or an array index.

A target reached twice while flattening is taken once (a conjunction holds each schema once:
``allOf: [{$ref: a}, {$ref: a}]`` at every level stays linear), a chain of ``$ref``\\ s is
followed ``2 * json_max_depth`` deep, the same parts are merged once per generation, and the
work is counted (``ctx.charge``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from .context import (
    _ABSENT,
    _REF_CHAIN_FACTOR,
    SchemaTooLarge,
    UnsatisfiableSchema,
    _Ctx,
    _esc,
    _Part,
)
from .formats import FORMATS
from .regex import _search
from .validation import _valid
from .values import _finite, _integral, _is_num, _key

_ALL_TYPES: Final = ("string", "integer", "number", "boolean", "object", "array", "null")

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


def _collect(
    ctx: _Ctx, schema: Any, pointer: str, out: list[_Part], refs: list[str], seen: tuple[str, ...]
) -> None:
    """Flatten ``schema`` into ``out``: the conjunction of its ``allOf`` members and ``$ref``
    targets, none of which has an ``allOf`` or ``$ref`` left. ``refs`` receives every reference
    expanded; a reference met again while flattening (a cycle with no nesting, or the same
    target reached twice: a conjunction holds each schema once) adds nothing."""
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
            if len(seen) >= _REF_CHAIN_FACTOR * ctx.max_depth:
                raise ctx.too_big(
                    pointer,
                    f"more than {len(seen)} $refs lead one to the next without nesting",
                    "json_max_depth",
                )
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
        self.nots: list[_Part] = []


def _merge(ctx: _Ctx, parts: list[_Part], pointer: str) -> _Merged:
    """The parts' keywords combined; the same parts (every item of an array) are merged once
    per generation (a ``_Merged`` is never changed once made)."""
    key = (pointer, *[(id(s), ptr) for s, ptr in parts])
    hit = ctx.merged.get(key)
    if hit is not None:
        ctx.charge(1, pointer)
        return hit[1]
    ctx.charge(4, pointer)
    m = _merge_parts(ctx, parts, pointer)
    ctx.merged[key] = ([s for s, _ in parts], m)  # the schemas are kept: their ids stay theirs
    return m


def _merge_parts(ctx: _Ctx, parts: list[_Part], pointer: str) -> _Merged:
    m = _Merged(parts[0][1] if parts else pointer)
    for i, (s, ptr) in enumerate(parts):
        ctx.charge(1 + len(s), ptr)
        fam = 0
        for key in s:
            fam |= _FAMILY.get(key, 0)
        if not fam:
            continue
        if not m.fam & ~_F_META:
            m.ptr = ptr  # messages name the first part that constrains anything
        m.fam |= fam
        if fam & _F_TYPE:
            ctx.charge(_length(s.get("type")), ptr)
            _merge_type(m, s)
        if fam & _F_ENUM:
            _merge_enum(ctx, m, s)
        if fam & _F_NUM:
            _merge_num(m, s, ptr)
        if fam & _F_STR:
            _merge_str(m, s, ptr)
        if fam & _F_OBJ:
            ctx.charge(_length(s.get("properties")) + _length(s.get("required")), ptr)
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


def _length(value: Any) -> int:
    return len(value) if isinstance(value, Mapping | list) else 0


def _type_names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.lower()]
    if isinstance(value, list):
        return list(dict.fromkeys(t.lower() for t in value if isinstance(t, str)))
    return list(_ALL_TYPES)


def _merge_type(m: _Merged, s: Mapping[str, Any]) -> None:
    if "type" not in s:
        return
    names = _type_names(s["type"])
    if m.types is None:
        m.types = names
        return
    known = set(names)
    both = [t for t in m.types if t in known or (t == "integer" and "number" in known)]
    if "number" in m.types and "integer" in names and "integer" not in both:
        both.append("integer")
    m.types = both


def _merge_enum(ctx: _Ctx, m: _Merged, s: Mapping[str, Any]) -> None:
    for key in ("const", "enum"):
        if key not in s:
            continue
        values = [s["const"]] if key == "const" else s["enum"]
        if not isinstance(values, list):
            continue
        if m.candidates is None:
            m.candidates = list(values)
        else:
            keys = ctx.keys_of(values) if key == "enum" else frozenset((_key(values[0]),))
            ctx.charge(len(m.candidates), "#")
            m.candidates = [c for c in m.candidates if _key(c) in keys]


def _merge_num(m: _Merged, s: Mapping[str, Any], ptr: str) -> None:
    lo, lo_ex = s.get("minimum"), s.get("exclusiveMinimum")
    if _finite(lo):
        _lower(m, lo, lo_ex is True)
    if _finite(lo_ex):
        _lower(m, lo_ex, True)
    hi, hi_ex = s.get("maximum"), s.get("exclusiveMaximum")
    if _finite(hi):
        _upper(m, hi, hi_ex is True)
    if _finite(hi_ex):
        _upper(m, hi_ex, True)
    step = s.get("multipleOf")
    if _is_num(step):
        if not _finite(step) or step <= 0:
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
            if isinstance(key, str):
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
            if not isinstance(key, str):
                continue
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
        if not isinstance(prefix, list):
            prefix = ()  # not an array: ignored, as by the validator
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
                m.forbidden.update(k for k in negated["required"] if isinstance(k, str))


def _key_schemas(ctx: _Ctx, m: _Merged, key: str) -> list[tuple[Any, str]]:
    """The schemas a property named ``key`` must satisfy, per ``properties``,
    ``patternProperties`` and ``additionalProperties`` of each merged part (a pattern that
    is not a regular expression matches nothing here; the validator refuses it)."""
    out: list[tuple[Any, str]] = []
    declared = False
    for props, patterns, additional, ptr in m.obj_parts:
        matched = False
        if key in props:
            out.append((props[key], f"{ptr}/properties/{_esc(key)}"))
            matched = True
        for pattern, schema in patterns.items():
            where = f"{ptr}/patternProperties/{_esc(str(pattern))}"
            try:
                found = _search(ctx, pattern, where, key)
            except SchemaTooLarge:
                raise
            except UnsatisfiableSchema:
                continue
            if found:
                out.append((schema, where))
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
    if any(schema is False for schema, _ in _key_schemas(ctx, m, key)):
        return False
    return all(_valid(ctx, key, schema) for schema, _ in m.prop_names)


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


def _index_schemas(m: _Merged, i: int) -> list[tuple[Any, str]]:
    out: list[tuple[Any, str]] = []
    for prefix, prefix_ptr, rest, rest_ptr in m.arr_parts:
        if i < len(prefix):
            out.append((prefix[i], f"{prefix_ptr}/{i}"))
        elif rest is not _ABSENT:
            out.append((rest, rest_ptr))
    return out
