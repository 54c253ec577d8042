"""Generation of values from schemas: nodes and their merged parts, ``enum``/``const``,
``anyOf``/``oneOf`` choices, ``if``/``then``/``else`` conditionals, ``not``, the choice of a type,
null and boolean, objects and arrays. These functions recurse into each other, so they live
together; numbers and strings, which do not recurse, are in their own modules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from .context import (
    _ABSENT,
    _HARD_LIMIT,
    _NOT_ATTEMPTS,
    _UNIQUE_ATTEMPTS,
    RECURSION_LIMIT,
    UnsatisfiableSchema,
    _Ctx,
    _esc,
    _Part,
)
from .formats import _slug
from .merge import (
    _ALL_TYPES,
    _F_ARR,
    _F_NUM,
    _F_OBJ,
    _F_STR,
    _closure,
    _collect,
    _descend,
    _index_schemas,
    _key_allowed,
    _key_schemas,
    _merge,
    _Merged,
    _type_names,
)
from .numbers import _gen_integer, _gen_number
from .regex import _regex, _string_from_patterns
from .strings import _gen_string, _label, _singular
from .validation import _valid
from .values import _eq

_RANK_AT_LIMIT: Final = {
    "null": 0,
    "boolean": 1,
    "integer": 1,
    "number": 1,
    "string": 1,
    "array": 2,
    "object": 3,
}


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


# -- objects ---------------------------------------------------------------------------------


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


_TYPE_GENERATORS: Final[dict[str, Callable[..., Any]]] = {
    "null": _gen_null,
    "boolean": _gen_boolean,
    "integer": _gen_integer,
    "number": _gen_number,
    "string": _gen_string,
    "object": _gen_object,
    "array": _gen_array,
}
