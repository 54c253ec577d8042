"""The internal boolean validator: one check per keyword, following :mod:`jsonschema`'s rules,
used to test branches, negations and every final value before it is returned."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from .context import _Ctx
from .formats import _FORMAT_TESTS
from .regex import _regex
from .values import _eq, _is_num, _is_type, _multiple_ok

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
