"""Generation of values from schemas: nodes and their merged parts, ``enum``/``const``,
``anyOf``/``oneOf`` choices, ``if``/``then``/``else`` conditionals, ``not``, the choice of a type,
null and boolean, objects and arrays. These functions recurse into each other, so they live
together; numbers and strings, which do not recurse, are in their own modules.

Budgets are kept here as the value grows: the running size (``ctx.grow``; a branch that fails
gives its bytes back), the container depth (``ctx.depth``), the items of one array and the
properties of one object (checked before any item is made). Optional parts stay small instead
of failing: past a budget an optional property is left out and an array stops at the items
it must have."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from .context import (
    ABSENT,
    RECURSION_LIMIT,
    Context,
    Part,
    SchemaTooLarge,
    UnsatisfiableSchema,
    escape_token,
)
from .formats import slugify
from .merge import (
    ALL_TYPES,
    F_ARR,
    F_NUM,
    F_OBJ,
    F_STR,
    Merged,
    collect_parts,
    descend_refs,
    index_schemas,
    key_allowed,
    key_schemas,
    merge_schemas,
    required_closure,
    type_names,
)
from .numbers import gen_integer, gen_number
from .regex import search_pattern, string_from_patterns
from .strings import gen_string, hint_label, singular_hint
from .validation import satisfies
from .values import is_writable, json_key, json_size

__all__ = ["gen_node"]

_HARD_LIMIT: Final = RECURSION_LIMIT + 12  # expansions after which recursion is called endless
_NOT_ATTEMPTS: Final = 12  # values tried against a "not"
_UNIQUE_ATTEMPTS: Final = 6  # tries for one distinct array item

_RANK_AT_LIMIT: Final = {
    "null": 0,
    "boolean": 1,
    "integer": 1,
    "number": 1,
    "string": 1,
    "array": 2,
    "object": 3,
}


def gen_node(
    ctx: Context, schema: Any, pointer: str, rec: int, path: tuple[str, ...], hint: str | None
) -> Any:
    """A value valid against ``schema`` (a schema or a bool), found at ``pointer`` (for
    messages). ``rec`` is the recursion level reached (the most expansions of one ``$ref``
    along ``path``, the references expanded on the way here) and ``hint`` the property name the
    value is for (strings are made from it), or ``None``. The value counts its bytes and work
    against the budgets of ``ctx`` as it is made. A combination of keywords this module does
    not handle may still leave it invalid: the caller checks it against the whole schema
    (:func:`~.validation.satisfies`). Raises :class:`~.context.UnsatisfiableSchema` when no
    value is found, :class:`~.context.SchemaTooLarge` when a budget would be passed."""
    parts: list[Part] = []
    refs: list[str] = []
    collect_parts(ctx, schema, pointer, parts, refs, ())
    if refs:
        path, rec = descend_refs(path, rec, refs)
    return _gen_parts(ctx, parts, pointer, rec, path, hint)


def _gen_parts(
    ctx: Context,
    parts: list[Part],
    pointer: str,
    rec: int,
    path: tuple[str, ...],
    hint: str | None,
) -> Any:
    """A value valid against every schema in ``parts``; on failure the bytes it counted are
    given back."""
    if rec > _HARD_LIMIT:
        raise UnsatisfiableSchema(
            pointer, "the schema recurses without end: every valid value would be infinite"
        )
    ctx.charge(5, pointer)
    mark = ctx.size
    try:
        return _gen_merged(ctx, merge_schemas(ctx, parts, pointer), parts, pointer, rec, path, hint)
    except UnsatisfiableSchema:
        ctx.size = mark
        raise


def _at_limit(ctx: Context, rec: int) -> bool:
    """Whether to head for the exit: the recursion limit or the depth limit is reached, or
    the budgets are getting tight."""
    return rec >= RECURSION_LIMIT or ctx.depth >= ctx.max_depth or ctx.tight()


def _gen_merged(
    ctx: Context,
    m: Merged,
    parts: list[Part],
    pointer: str,
    rec: int,
    path: tuple[str, ...],
    hint: str | None,
) -> Any:
    if m.candidates is not None:
        return _gen_enum(ctx, m, parts)
    if m.examples is not None:
        valid = [
            e for e in m.examples if is_writable(e) and all(satisfies(ctx, e, s) for s, _ in parts)
        ]
        if valid:
            example = valid[ctx.rng.randrange(len(valid))]
            size, count = json_size(example)
            if ctx.size + size <= ctx.limits.json_max_bytes:  # else: made, not copied
                ctx.charge(count, m.ptr)
                ctx.grow(size, m.ptr)
                return _copy(example)
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
                mark = ctx.size
                value = _gen_typed(ctx, m, parts, rec, path, hint, attempt)
                if not any(satisfies(ctx, value, s) for s, _ in m.nots):
                    return value
                ctx.size = mark
        finally:
            ctx.variant = saved
        raise UnsatisfiableSchema(m.nots[0][1], "every value tried matches the negated schema")
    return _gen_typed(ctx, m, parts, rec, path, hint, 0)


def _gen_enum(ctx: Context, m: Merged, parts: list[Part]) -> Any:
    assert m.candidates is not None
    if not m.candidates:
        raise UnsatisfiableSchema(m.ptr, "no value is in every enum/const")
    # The same parts (the items of one array) have the same valid candidates: found once.
    cache_key = tuple(id(s) for s, _ in parts)
    hit = ctx.enum_valid.get(cache_key)
    if hit is None:
        valid = [c for c in m.candidates if all(satisfies(ctx, c, s) for s, _ in parts)]
        writable = [c for c in valid if is_writable(c)]
        hit = ctx.enum_valid[cache_key] = ([s for s, _ in parts], writable, len(valid))
    valid = hit[1]
    if not valid:
        if hit[2]:
            raise UnsatisfiableSchema(
                m.ptr,
                "no enum/const value can be written as JSON (an integer past 64 bits, NaN or "
                "infinity, a key that is not a string)",
            )
        raise UnsatisfiableSchema(m.ptr, "no enum/const value satisfies the other keywords")
    value = valid[ctx.rng.randrange(len(valid))]
    size, count = json_size(value)
    ctx.charge(count, m.ptr)
    ctx.grow(size, m.ptr)
    return _copy(value)


def _copy(value: Any) -> Any:
    """A fresh copy of a JSON value (schema constants must not be shared with results)."""
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(v) for v in value]
    return value


def _is_null_branch(branch: Any) -> bool:
    return isinstance(branch, Mapping) and (
        type_names(branch["type"]) == ["null"]
        if "type" in branch
        else branch.get("const", 0) is None
    )


def _branch_order(ctx: Context, branches: list[Any], at_limit: bool) -> list[int]:
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
    ctx: Context,
    m: Merged,
    parts: list[Part],
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
    ctx.charge(len(branches) + len(parts), where)
    order = _branch_order(ctx, branches, _at_limit(ctx, rec))
    if keyword == "oneOf" and len(branches) > 1:
        order = order + order  # a second value per branch when the first matched another
    first: UnsatisfiableSchema | None = None
    for b in order:
        ctx.spend(where)
        sub = list(base)
        refs: list[str] = []
        mark = ctx.size
        try:
            collect_parts(ctx, branches[b], f"{where}/{b}", sub, refs, ())
            sub_path, sub_rec = descend_refs(path, rec, refs)
            value = _gen_parts(ctx, sub, pointer, sub_rec, sub_path, hint)
        except UnsatisfiableSchema as exc:
            if ctx.exhausted is not None:
                raise ctx.exhausted from None
            first = first or exc
            continue
        if keyword == "oneOf" and any(
            satisfies(ctx, value, other) for j, other in enumerate(branches) if j != b
        ):
            ctx.size = mark
            continue
        return value
    if len(branches) == 1 and first is not None:
        raise first
    detail = f" (first failure: {first})" if first is not None else ""
    raise UnsatisfiableSchema(where, f"no branch of {keyword} yields a valid value{detail}")


def _gen_cond(
    ctx: Context,
    m: Merged,
    parts: list[Part],
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
        mark = ctx.size
        try:
            for schema, where in option:
                collect_parts(ctx, schema, where, sub, refs, ())
            sub_path, sub_rec = descend_refs(path, rec, refs)
            value = _gen_parts(ctx, sub, pointer, sub_rec, sub_path, hint)
        except UnsatisfiableSchema as exc:
            if ctx.exhausted is not None:
                raise ctx.exhausted from None
            first = first or exc
            continue
        if satisfies(ctx, value, part):
            return value
        ctx.size = mark
    detail = f" (first failure: {first})" if first is not None else ""
    raise UnsatisfiableSchema(part_ptr, f"neither if/then nor else yields a valid value{detail}")


def _type_order(ctx: Context, m: Merged, at_limit: bool, attempt: int) -> list[str]:
    preferred: list[str] = []
    if m.fam & F_OBJ:
        preferred.append("object")
    if m.fam & F_ARR:
        preferred.append("array")
    if m.fam & F_STR:
        preferred.append("string")
    if m.fam & F_NUM:
        preferred.append("number")
    if m.types is None:
        # Keywords say which type is meant; at the recursion limit null comes right after it.
        rest = [t for t in ALL_TYPES if t not in preferred]
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
    ctx: Context,
    m: Merged,
    parts: list[Part],
    rec: int,
    path: tuple[str, ...],
    hint: str | None,
    attempt: int,
) -> Any:
    order = _type_order(ctx, m, _at_limit(ctx, rec), attempt)
    if not order:
        raise UnsatisfiableSchema(m.ptr, "no JSON type is allowed by every 'type'")
    first: UnsatisfiableSchema | None = None
    for name in order:
        mark = ctx.size
        try:
            return _TYPE_GENERATORS[name](ctx, m, parts, rec, path, hint)
        except UnsatisfiableSchema as exc:
            if ctx.exhausted is not None:
                raise ctx.exhausted from None
            ctx.size = mark
            first = first or exc
    assert first is not None
    raise first


def _gen_null(
    ctx: Context, m: Merged, parts: list[Part], rec: int, path: tuple[str, ...], hint: str | None
) -> None:
    ctx.grow(4, m.ptr)
    return None


def _gen_boolean(
    ctx: Context, m: Merged, parts: list[Part], rec: int, path: tuple[str, ...], hint: str | None
) -> bool:
    ctx.grow(5, m.ptr)
    return ctx.rng.random() < 0.5


def _enter(ctx: Context, m: Merged, what: str) -> None:
    """Refuse a container that would nest deeper than ``json_max_depth``."""
    if ctx.depth >= ctx.max_depth:
        raise ctx.too_big(
            m.ptr,
            f"the value would nest deeper than {ctx.max_depth} levels (an {what} is needed "
            f"at level {ctx.depth + 1})",
            "json_max_depth",
        )


# -- objects ---------------------------------------------------------------------------------


def _gen_object(
    ctx: Context, m: Merged, parts: list[Part], rec: int, path: tuple[str, ...], hint: str | None
) -> dict[str, Any]:
    _enter(ctx, m, "object")
    at_limit = _at_limit(ctx, rec) or ctx.depth + 1 >= ctx.max_depth
    item_hint = singular_hint(hint)
    if m.max_props is not None and m.min_props > m.max_props:
        raise UnsatisfiableSchema(
            m.ptr, f"minProperties {m.min_props} is greater than maxProperties {m.max_props}"
        )
    if m.min_props > ctx.max_items:
        raise ctx.too_big(
            m.ptr,
            f"minProperties {m.min_props} is more than the {ctx.max_items} properties a "
            "generated object may have",
            "json_max_items",
        )
    applied: set[str] = set()
    while True:  # dependentSchemas of properties sure to be present join the conjunction
        needed = required_closure(m, list(m.required))
        if len(needed) > ctx.max_items:
            raise ctx.too_big(
                m.ptr,
                f"{len(needed)} properties are required, more than the {ctx.max_items} a "
                "generated object may have",
                "json_max_items",
            )
        pending = [d for d in m.dep_schemas if d[0] in needed and d[0] not in applied]
        if not pending:
            break
        parts = list(parts)
        for key, schema, where in pending:
            applied.add(key)
            collect_parts(ctx, schema, where, parts, [], ())
        m = merge_schemas(ctx, parts, m.ptr)
    triggers = {key for key, _, _ in m.dep_schemas}
    ctx.charge(len(m.prop_order) + len(needed) + len(m.dep_schemas), m.ptr)
    ctx.room(_least(ctx, m, _object_min), m.ptr, "an object with its required properties")

    for key in needed:
        if not key_allowed(ctx, m, key):
            raise UnsatisfiableSchema(m.ptr, f"required property {key!r} is not allowed")
    keys: list[str] = []
    spare: list[str] = []  # optional properties left out, usable for minProperties
    for key in m.prop_order:
        if key in needed:
            keys.append(key)
        elif key in m.forbidden or key in triggers or not key_allowed(ctx, m, key):
            continue
        elif at_limit:
            spare.append(key)
        else:
            keys.append(key)
    keys += [key for key in needed if key not in m.prop_order]
    keys = list(required_closure(m, keys))
    limit = m.max_props
    if len(keys) > ctx.max_items:  # optional properties past the budget are left out
        limit = ctx.max_items if limit is None else min(limit, ctx.max_items)
    if limit is not None and len(keys) > limit:
        optional = [k for k in keys if k not in needed and not m.dep_required.get(k)]
        drop = set(optional[max(0, len(optional) - (len(keys) - limit)) :])
        keys = [k for k in keys if k not in drop]
        if m.max_props is not None and len(keys) > m.max_props:
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
        if any(p[1] or (p[2] is not ABSENT and p[2] is not False) for p in m.obj_parts):
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
    ctx.grow(2, m.ptr)
    ctx.depth += 1
    try:
        for key in keys:
            sub: list[Part] = []
            refs: list[str] = []
            declared = key in m.prop_order
            mark = ctx.size
            try:
                ctx.grow(len(key) + (4 if obj else 3), m.ptr)  # "key": and a comma
                for schema, where in key_schemas(ctx, m, key):
                    collect_parts(ctx, schema, where, sub, refs, ())
                sub_path, sub_rec = descend_refs(path, rec, refs)
                where = f"{m.ptr}/properties/{escape_token(key)}"
                obj[key] = _gen_parts(
                    ctx, sub, where, sub_rec, sub_path, key if declared else item_hint
                )
            except UnsatisfiableSchema:
                ctx.size = mark
                if key in needed or ctx.exhausted is not None:
                    raise
                continue  # an optional property that cannot be satisfied is left out
    finally:
        ctx.depth -= 1
    if len(obj) < m.min_props:
        raise UnsatisfiableSchema(m.ptr, f"fewer than minProperties {m.min_props} properties")
    if m.max_props is not None and len(obj) > m.max_props:
        raise UnsatisfiableSchema(m.ptr, f"more than maxProperties {m.max_props} properties")
    return obj


def _extra_keys(
    ctx: Context,
    m: Merged,
    taken: list[str],
    count: int,
    rec: int,
    path: tuple[str, ...],
    hint: str | None,
) -> list[str]:
    """``count`` new property names that every part and ``propertyNames`` allow: made from
    ``propertyNames`` or a ``patternProperties`` pattern, else ``<hint>_1``, ``<hint>_2``..."""
    stem = slugify(hint_label(hint), "_") if hint else "key"
    number = 0
    patterns = [
        (pattern, f"{ptr}/patternProperties/{escape_token(pattern)}")
        for _, pats, _, ptr in m.obj_parts
        for pattern in pats
    ]
    closed = m.unevaluated is not None and any(s is False for s, _ in m.unevaluated)
    out: list[str] = []
    chosen: set[str] = set(taken)
    mark = ctx.size  # names are counted with their values, by the caller
    string_part: Part = ({"type": "string"}, m.ptr)
    for attempt in range(count * 4 + 8):
        if len(out) == count:
            break
        ctx.charge(3, m.ptr)
        try:
            if m.prop_names:
                names: list[Part] = []
                for schema, where in m.prop_names:
                    collect_parts(ctx, schema, where, names, [], ())
                names.append(string_part)
                key = _gen_parts(ctx, names, m.ptr, rec, path, "key")
            elif patterns and (attempt % 2 == 0 or closed):
                key = string_from_patterns(
                    ctx, [patterns[attempt // 2 % len(patterns)]], 0, None, m.ptr
                )
            else:
                number += 1
                key = f"{stem}_{number}"
        except SchemaTooLarge:
            if ctx.exhausted is not None:
                raise
            continue
        except UnsatisfiableSchema:
            continue
        finally:
            ctx.size = mark
        if not isinstance(key, str) or key in chosen or key in m.forbidden:
            continue
        if closed and not any(
            key in props or any(search_pattern(ctx, p, m.ptr, key) for p in pats)
            for props, pats, _, _ in m.obj_parts
        ):
            continue
        if key_allowed(ctx, m, key):
            out.append(key)
            chosen.add(key)
    return out


# -- arrays ----------------------------------------------------------------------------------


def _gen_array(
    ctx: Context, m: Merged, parts: list[Part], rec: int, path: tuple[str, ...], hint: str | None
) -> list[Any]:
    _enter(ctx, m, "array")
    at_limit = _at_limit(ctx, rec) or ctx.depth + 1 >= ctx.max_depth
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
    if lo > ctx.max_items:
        what = f"minItems {m.min_items}" if lo == m.min_items else f"minContains {need}"
        raise ctx.too_big(
            m.ptr,
            f"{what} is more than the {ctx.max_items} items a generated array may hold",
            "json_max_items",
        )
    ctx.room(_least(ctx, m, _array_min), m.ptr, f"an array of {lo} items")
    if at_limit:
        n = lo
    elif tuple_len:
        n = max(lo, min(tuple_len, ctx.max_items) if cap is None else min(cap, tuple_len))
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
    item_hint = singular_hint(hint)
    rest_cache: tuple[list[Part], list[str]] | None = None
    items: list[Any] = []
    seen: set[Any] = set()
    ctx.grow(2, m.ptr)
    ctx.depth += 1
    try:
        for i in range(n):
            sub: list[Part]
            refs: list[str]
            if i >= tuple_len and not slots[i] and not capped:
                if rest_cache is None:
                    rest_cache = ([], [])
                    for schema, where in index_schemas(m, i):
                        collect_parts(ctx, schema, where, rest_cache[0], rest_cache[1], ())
                sub, refs = list(rest_cache[0]), rest_cache[1]
            else:
                sub, refs = [], []
                for schema, where in index_schemas(m, i) + slots[i]:
                    collect_parts(ctx, schema, where, sub, refs, ())
                if not slots[i]:
                    sub += [({"not": s}, w) for s, w in capped]
            sub_path, sub_rec = descend_refs(path, rec, refs)
            mark = ctx.size
            try:
                for _ in range(_UNIQUE_ATTEMPTS if m.unique else 1):
                    ctx.grow(1 if items else 0, m.ptr)  # the comma
                    value = _gen_parts(ctx, sub, f"{m.ptr}/items", sub_rec, sub_path, item_hint)
                    if not m.unique:
                        break
                    key = json_key(value)
                    if key not in seen:
                        seen.add(key)
                        break
                    ctx.size = mark
                else:
                    if len(items) >= lo and i >= tuple_len:
                        break  # shorter but still long enough
                    raise UnsatisfiableSchema(
                        m.ptr, f"cannot find {lo} distinct items (uniqueItems)"
                    )
            except SchemaTooLarge:
                ctx.size = mark
                optional = len(items) >= lo and not any(slots[j] for j in range(i, n))
                if optional and ctx.exhausted is None:
                    break  # an optional item past a budget: the array stops here
                raise
            items.append(value)
    finally:
        ctx.depth -= 1
    return items


# -- lower bounds of sizes, to refuse before the work ---------------------------------------------

_MIN_SIZE_LEVELS: Final = 8  # nesting followed by the size estimate (deeper counts 1 byte)
_SCALAR_MIN: Final = {"null": 4, "boolean": 4, "integer": 1, "number": 1}


def _min_size(ctx: Context, schemas: list[tuple[Any, str]], level: int) -> int:
    """A lower bound of the serialized size of any value valid against every schema in
    ``schemas`` (applicators are left out: they only add constraints)."""
    if level > _MIN_SIZE_LEVELS or not schemas:
        return 1
    parts: list[Part] = []
    try:
        for schema, where in schemas:
            collect_parts(ctx, schema, where, parts, [], ())
    except SchemaTooLarge:
        raise
    except UnsatisfiableSchema:
        return 1  # generation reports it
    if not parts:
        return 1
    key = tuple(id(s) for s, _ in parts)
    hit = ctx.min_sizes.get(key)
    if hit is not None:
        return hit[1]
    ctx.min_sizes[key] = ([s for s, _ in parts], 1)  # a cycle counts 1 while it is measured
    m = merge_schemas(ctx, parts, parts[0][1])
    size = 1
    if m.candidates is None:
        types = m.types if m.types is not None else ALL_TYPES
        sizes = [_type_min(ctx, m, name, level) for name in types if name in _RANK_AT_LIMIT]
        size = min(sizes, default=1)
    ctx.min_sizes[key] = ([s for s, _ in parts], size)
    return size


def _least(ctx: Context, m: Merged, measure: Callable[[Context, Merged, int], int]) -> int:
    """``measure(ctx, m, 0)``, once per merged schema (every item of an array shares one)."""
    hit = ctx.least.get(id(m))
    if hit is None:
        hit = ctx.least[id(m)] = (m, measure(ctx, m, 0))
    return hit[1]


def _type_min(ctx: Context, m: Merged, name: str, level: int) -> int:
    if name == "string":
        return m.min_len + 2
    if name == "array":
        return _array_min(ctx, m, level)
    if name == "object":
        return _object_min(ctx, m, level)
    return _SCALAR_MIN[name]


def _array_min(ctx: Context, m: Merged, level: int) -> int:
    """At least the brackets and the items the array must have, with their separators (the
    items after a tuple prefix share their schemas: the smallest of them is measured)."""
    lo = max(m.min_items, max((count for _, _, count, _ in m.contains), default=0))
    if not lo:
        return 2
    prefix = max((len(p) for p, _, _, _ in m.arr_parts), default=0)
    rest = lo - min(prefix, lo)
    item = _min_size(ctx, index_schemas(m, prefix), level + 1) if rest else 1
    return 1 + 2 * (lo - rest) + rest * (item + 1)


def _object_min(ctx: Context, m: Merged, level: int) -> int:
    """At least the braces, each required property (name, colon, smallest value) and the
    commas; ``minProperties`` past them counts the shortest entry (``"":0``) each."""
    extra = max(0, m.min_props - len(m.required))
    size = 2 + 4 * extra + max(0, len(m.required) + extra - 1)
    for key in m.required:
        schemas = key_schemas(ctx, m, key) if level < _MIN_SIZE_LEVELS else []
        size += len(key) + 3 + _min_size(ctx, schemas, level + 1)
    return size


_TYPE_GENERATORS: Final[dict[str, Callable[..., Any]]] = {
    "null": _gen_null,
    "boolean": _gen_boolean,
    "integer": gen_integer,
    "number": gen_number,
    "string": gen_string,
    "object": _gen_object,
    "array": _gen_array,
}
