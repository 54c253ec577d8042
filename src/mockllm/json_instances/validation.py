"""The internal boolean validator: one check per keyword, following :mod:`jsonschema`'s rules,
used to test branches, negations and every final value before it is returned.

It mirrors jsonschema's semantics (type and equality rules, multipleOf on floats) and asserts
``format`` as a client with a format checker does. A keyword whose value has the wrong type
(``properties`` as an array, ``minItems`` as a string, ``required`` as a bool...) is ignored,
as the generator ignores it, where jsonschema would crash; a ``pattern`` that is not a regular
expression raises :class:`~.context.UnsatisfiableSchema`. Every check is counted against the
work budget (``ctx.charge``), and nested ``$ref`` checks against the depth budget."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from .context import REF_CHAIN_FACTOR, Context
from .formats import FORMAT_TESTS
from .regex import search_pattern
from .values import is_multiple, is_num, is_type, json_equal, json_key

__all__ = ["satisfies"]

_MAPS: Final = (dict, Mapping)  # dict first: the usual case, without the ABC machinery


def satisfies(ctx: Context, inst: Any, schema: Any) -> bool:
    """Whether the JSON value ``inst`` is valid against ``schema`` (a schema object or a bool;
    anything else accepts every value), as :mod:`jsonschema` with a format checker decides,
    ``$ref`` resolved in ``ctx``'s document. Counts its work against ``ctx``; raises
    :class:`~.context.UnsatisfiableSchema` for a ``pattern`` that is not a regular expression
    and :class:`~.context.SchemaTooLarge` when a budget is passed (work, regex time, nested
    ``$ref``\\ s)."""
    if schema is True:
        return True
    if schema is False:
        return False
    if not isinstance(schema, dict) and not isinstance(schema, Mapping):
        return True
    ctx.charge(1 + len(schema), "#")
    if inst is None and schema.get("nullable") is True:
        return True
    for key, value in schema.items():
        check = _CHECKS.get(key)
        if check is not None and not check(ctx, inst, value, schema):
            return False
    return True


def _c_type(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if isinstance(value, str):
        return is_type(inst, value.lower())
    if not isinstance(value, list):
        return True
    ctx.charge(len(value), "#")
    return any(is_type(inst, t.lower()) for t in value if isinstance(t, str))


def _c_ref(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(value, str):
        return True
    key = (value, id(inst))
    if key in ctx.active:  # the same reference on the same value: a cycle, assume it holds
        ctx.assumed += 1
        return True
    hit = ctx.ref_results.get(key)
    if hit is not None:
        return hit[1]
    target, where = ctx.resolve(value, "#")
    if ctx.ref_depth >= REF_CHAIN_FACTOR * ctx.max_depth:
        raise ctx.too_big(
            where,
            f"checking a value follows more than {ctx.ref_depth} nested $refs",
            "json_max_depth",
        )
    ctx.active.add(key)
    ctx.ref_depth += 1
    assumed = ctx.assumed
    try:
        result = satisfies(ctx, inst, target)
    finally:
        ctx.ref_depth -= 1
        ctx.active.discard(key)
    if ctx.assumed == assumed:  # no cycle assumed on the way: the verdict holds for good
        ctx.ref_results[key] = (inst, result)  # (the value is kept: its id stays its own)
    return result


def _c_minimum(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not is_num(inst) or not is_num(value):
        return True
    return bool(inst > value if schema.get("exclusiveMinimum") is True else inst >= value)


def _c_maximum(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not is_num(inst) or not is_num(value):
        return True
    return bool(inst < value if schema.get("exclusiveMaximum") is True else inst <= value)


def _c_ex_minimum(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not is_num(inst) or not is_num(value) or bool(inst > value)


def _c_ex_maximum(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not is_num(inst) or not is_num(value) or bool(inst < value)


def _c_multiple(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not is_num(inst) or not is_num(value) or value <= 0 or is_multiple(inst, value)


def _c_min_length(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(inst, str) or not is_num(value) or len(inst) >= value


def _c_max_length(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(inst, str) or not is_num(value) or len(inst) <= value


def _c_pattern(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(inst, str) or not isinstance(value, str):
        return True
    return search_pattern(ctx, value, "#/pattern", inst)


def _c_items(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(inst, list | tuple):
        return True
    if isinstance(value, list):
        return all(satisfies(ctx, i, s) for i, s in zip(inst, value, strict=False))
    prefix = schema.get("prefixItems")
    start = len(prefix) if isinstance(prefix, list) else 0
    return all(satisfies(ctx, i, value) for i in inst[start:])


def _c_prefix_items(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(inst, list | tuple) or not isinstance(value, list):
        return True
    return all(satisfies(ctx, i, s) for i, s in zip(inst, value, strict=False))


def _c_additional_items(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    items = schema.get("items")
    if not isinstance(inst, list | tuple) or not isinstance(items, list):
        return True
    return all(satisfies(ctx, i, value) for i in inst[len(items) :])


def _c_min_items(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(inst, list | tuple) or not is_num(value) or len(inst) >= value


def _c_max_items(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(inst, list | tuple) or not is_num(value) or len(inst) <= value


def _c_unique(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if value is not True or not isinstance(inst, list | tuple):
        return True
    ctx.charge(len(inst), "#/uniqueItems")
    seen = set()
    for item in inst:
        key = json_key(item)
        if key in seen:
            return False
        seen.add(key)
    return True


def _c_contains(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(inst, list | tuple):
        return True
    count = sum(1 for i in inst if satisfies(ctx, i, value))
    low, high = schema.get("minContains", 1), schema.get("maxContains")
    if not is_num(low):
        low = 1
    return count >= low and (not is_num(high) or count <= high)


def _c_required(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(inst, _MAPS) or not isinstance(value, list):
        return True
    ctx.charge(len(value), "#/required")
    for key in value:
        if isinstance(key, str) and key not in inst:
            return False
    return True


def _c_properties(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(inst, _MAPS) or not isinstance(value, _MAPS):
        return True
    if len(value) > len(inst):
        ctx.charge(len(inst), "#/properties")
        return all(satisfies(ctx, item, value[k]) for k, item in inst.items() if k in value)
    ctx.charge(len(value), "#/properties")
    return all(satisfies(ctx, inst[k], s) for k, s in value.items() if k in inst)


def _c_pattern_properties(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(inst, _MAPS) or not isinstance(value, _MAPS):
        return True
    for pattern, sub in value.items():
        for key, item in inst.items():
            if (
                isinstance(key, str)
                and search_pattern(ctx, pattern, "#/patternProperties", key)
                and not satisfies(ctx, item, sub)
            ):
                return False
    return True


def _c_additional_properties(
    ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]
) -> bool:
    if not isinstance(inst, _MAPS):
        return True
    props = schema.get("properties")
    if not isinstance(props, Mapping):
        props = {}
    patterns = schema.get("patternProperties")
    if not isinstance(patterns, Mapping):
        patterns = {}
    for key, item in inst.items():
        if key in props or any(
            isinstance(key, str) and search_pattern(ctx, p, "#/patternProperties", key)
            for p in patterns
        ):
            continue
        if not satisfies(ctx, item, value):
            return False
    return True


def _c_property_names(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(inst, _MAPS) or all(satisfies(ctx, k, value) for k in inst)


def _c_min_properties(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(inst, _MAPS) or not is_num(value) or len(inst) >= value


def _c_max_properties(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(inst, _MAPS) or not is_num(value) or len(inst) <= value


def _c_dependent(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(inst, _MAPS) or not isinstance(value, _MAPS):
        return True
    ctx.charge(len(value), "#")
    for key, dep in value.items():
        if not isinstance(key, str) or key not in inst:
            continue
        if isinstance(dep, list):
            if not all(d in inst for d in dep if isinstance(d, str)):
                return False
        elif not satisfies(ctx, inst, dep):
            return False
    return True


def _c_all_of(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(value, list) or all(satisfies(ctx, inst, s) for s in value)


def _c_any_of(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(value, list) or any(satisfies(ctx, inst, s) for s in value)


def _c_one_of(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(value, list) or sum(1 for s in value if satisfies(ctx, inst, s)) == 1


def _c_not(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return not satisfies(ctx, inst, value)


def _c_if(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if satisfies(ctx, inst, value):
        return satisfies(ctx, inst, schema.get("then", True))
    return satisfies(ctx, inst, schema.get("else", True))


def _c_enum(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(value, list):
        return True
    if len(value) <= 4:
        return any(json_equal(inst, v) for v in value)
    return json_key(inst) in ctx.keys_of(value)


def _c_const(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    return json_equal(inst, value)


def _c_format(ctx: Context, inst: Any, value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(inst, str) or not isinstance(value, str):
        return True
    test = FORMAT_TESTS.get(value.lower())
    if test is None:
        return True
    ctx.charge(1 + len(inst) // 64 if value.lower() != "regex" else 8 * len(inst), "#/format")
    return test(inst)


_CHECKS: Final[dict[str, Callable[[Context, Any, Any, Mapping[str, Any]], bool]]] = {
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
