"""Regular expressions of a schema (``pattern``, ``patternProperties``): checked and parsed with
Python's :mod:`re` (the syntax :mod:`jsonschema` accepts), run with the :mod:`regex` package
under a timeout, and strings made to match them by a walk over :mod:`re`'s parse tree.

Running a client's pattern with :mod:`re` could backtrack for minutes (``^(a+)+b$``); the
:mod:`regex` package, in its ``re``-compatible ``V0`` mode, takes a ``timeout`` instead. Its
syntax is a superset of :mod:`re`'s, so a pattern is first accepted or refused by :mod:`re`
and then given to :mod:`regex` with the two constructs that would mean something else there
escaped: POSIX classes (``[[:alpha:]]`` is a plain set in :mod:`re`) and braces that are not
a repeat (``a{e<=1}`` is text in :mod:`re`, fuzzy matching in :mod:`regex`). :mod:`regex`
expands counted repeats when it compiles (``a{100000}`` is 100,000 nodes), so a pattern whose
expansion exceeds ``json_max_string`` is refused before it is compiled."""

from __future__ import annotations

import functools
import importlib
import random
import re
import string
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import regex as _rx

from .context import REGEX_TOTAL_FACTOR, Context, UnsatisfiableSchema
from .values import length_ok

__all__ = ["PatternInfo", "search_pattern", "string_from_patterns"]

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

_SHARED_LENGTH: Final = 1000  # patterns up to this long are cached across requests...
_SHARED_WEIGHT: Final = 256  # ...when their regex program is this small
_COMPILE_COST: Final = 8  # work steps charged per character of a pattern compiled
_WALK_STEPS: Final = 20_000  # parse-tree steps of one walk


class _RegexFail(Exception):
    """The walk met a construct it cannot produce text for, or made too long a string."""


@dataclass(frozen=True, slots=True)
class PatternInfo:
    """A pattern, checked: its :mod:`re` parse tree, the size of the program :mod:`regex`
    would build (``weight``), the shortest string it matches, and the compiled :mod:`regex`
    (``None`` until compiled). Made here only; :class:`~.context.Context` caches them per
    pattern string (``ctx.patterns``)."""

    parsed: Any
    weight: int
    min_width: int
    compiled: Any


def _weight(sub: Any) -> int:
    """Nodes of the program :mod:`regex` compiles from a parse tree: counted repeats are
    expanded to their minimum."""
    total = 0
    for op, av in sub:
        total += 1
        if op in _REPEATS:
            low, _, inner = av
            total += max(low, 1) * _weight(inner)
        elif op is _C.SUBPATTERN:
            total += _weight(av[3])
        elif op is _C.BRANCH:
            total += sum(_weight(b) for b in av[1])
        elif op is _C.ASSERT or op is _C.ASSERT_NOT:
            total += _weight(av[1])
        elif op is _C.GROUPREF_EXISTS:
            total += _weight(av[1]) + (_weight(av[2]) if av[2] is not None else 0)
        elif op is getattr(_C, "ATOMIC_GROUP", None):
            total += _weight(av)
    return total


_BRACE_REPEAT: Final = re.compile(r"\{\d*(?:,\d*)?\}")


def _regex_source(pattern: str) -> str:
    """``pattern`` for :mod:`regex`, meaning what :mod:`re` makes of it: POSIX-class openers
    (``[:``, ``[=``, ``[.``) and braces that are not a repeat are escaped."""
    if "{" not in pattern and "[" not in pattern:
        return pattern
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if pattern.startswith("N{", i + 1):  # \N{NAME}
                end = pattern.find("}", i)
                end = n - 1 if end < 0 else end
                out.append(pattern[i : end + 1])
                i = end + 1
            else:
                out.append(pattern[i : i + 2])
                i += 2
        elif c == "{":
            found = _BRACE_REPEAT.match(pattern, i)
            if found is None or found.end() == i + 2:  # not a repeat, or "{}"
                out.append("\\{")
                i += 1
            else:
                out.append(found.group())
                i = found.end()
        elif c == "[" and pattern.startswith((":", "=", "."), i + 1):
            out.append("[\\" + pattern[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _check(pattern: str) -> PatternInfo | None:
    """``pattern`` parsed and measured, or ``None`` when :mod:`re` refuses it."""
    try:
        with warnings.catch_warnings():  # "Possible nested set" ([[:alpha:]]): a plain set
            warnings.simplefilter("ignore", FutureWarning)
            re.compile(pattern)
            parsed = _P.parse(pattern)
        low = parsed.getwidth()[0]
    except (re.error, RecursionError, OverflowError, ValueError, TypeError):
        return None
    return PatternInfo(parsed, _weight(parsed), low, None)


@functools.lru_cache(maxsize=1024)
def _shared(pattern: str) -> PatternInfo | None:
    """:func:`_check` and the compilation of a short pattern with a small program, cached
    across requests."""
    info = _check(pattern)
    if info is None or info.weight > _SHARED_WEIGHT:
        return info
    return _compile(info, pattern)


def _compile(info: PatternInfo, pattern: str) -> PatternInfo | None:
    try:
        compiled = _rx.compile(_regex_source(pattern), _rx.V0)
    except (_rx.error, RecursionError, OverflowError, ValueError):
        return None
    return PatternInfo(info.parsed, info.weight, info.min_width, compiled)


def _info(ctx: Context, pattern: Any, pointer: str) -> PatternInfo:
    """The checked and compiled ``pattern``; :class:`UnsatisfiableSchema` when it is not a
    regular expression Python runs, :class:`~.context.SchemaTooLarge` when compiling it would
    take more than the budgets allow."""
    if not isinstance(pattern, str):
        raise UnsatisfiableSchema(pointer, f"a pattern is a string, not {pattern!r}")
    info = ctx.patterns.get(pattern)
    if info is not None:
        return info
    ctx.charge(_COMPILE_COST * len(pattern), pointer)  # compiled, or found in the cache
    found = _shared(pattern) if len(pattern) <= _SHARED_LENGTH else _check(pattern)
    if found is None:
        raise UnsatisfiableSchema(pointer, f"{pattern!r} is not a regular expression Python runs")
    if found.compiled is None:
        if found.weight > ctx.regex_room:
            shown = pattern if len(pattern) <= 80 else pattern[:77] + "..."
            raise ctx.too_big(
                pointer,
                f"the pattern {shown!r} expands to {found.weight} nodes when compiled, more "
                f"than {ctx.regex_room} left for this schema's patterns",
                "json_max_string",
            )
        ctx.regex_room -= found.weight
        ctx.charge(found.weight, pointer)
        found = _compile(found, pattern)
        if found is None:
            raise UnsatisfiableSchema(
                pointer, f"{pattern!r} is not a regular expression Python runs"
            )
    ctx.patterns[pattern] = found
    return found


def search_pattern(ctx: Context, pattern: Any, pointer: str, text: str) -> bool:
    """Whether ``pattern`` finds a match in ``text`` (JSON Schema's ``pattern``), within the
    time allowed (``regex_timeout_ms`` for this match, four times that for all the matches
    made for one value). ``pointer`` names the pattern in errors: raises
    :class:`~.context.UnsatisfiableSchema` when ``pattern`` is not a regular expression Python
    runs, :class:`~.context.SchemaTooLarge` when it is too large to compile or a match runs out
    of time (a pattern that timed out fails every later search of the same generation)."""
    info = _info(ctx, pattern, pointer)
    slow = ctx.regex_spent or ctx.slow.get(pattern)
    if slow is not None:
        raise slow
    ctx.charge(4 + len(text) // 64, pointer)
    limit = ctx.limits.regex_timeout_ms / 1000
    left = ctx.regex_left
    started = time.perf_counter()
    try:
        found = info.compiled.search(text, timeout=max(min(limit, left), 1e-6))
    except TimeoutError:
        shown = pattern if len(pattern) <= 80 else pattern[:77] + "..."
        if left < limit:  # the time for all the matches is spent: every pattern stops here
            total = ctx.limits.regex_timeout_ms * REGEX_TOTAL_FACTOR
            reason = (
                f"the patterns of this schema took more than {total} ms in all (four times "
                f"regex_timeout_ms), the last {shown!r} on a string of {len(text)} characters"
            )
            ctx.regex_spent = exc = ctx.too_big(pointer, reason, "regex_timeout_ms")
        else:
            reason = (
                f"the pattern {shown!r} takes more than {ctx.limits.regex_timeout_ms} ms to "
                f"match a string of {len(text)} characters (catastrophic backtracking)"
            )
            ctx.slow[pattern] = exc = ctx.too_big(pointer, reason, "regex_timeout_ms")
        raise exc from None
    finally:
        ctx.regex_left -= time.perf_counter() - started
    return found is not None


def string_from_patterns(
    ctx: Context, patterns: list[tuple[str, str]], lo: int, hi: int | None, pointer: str
) -> str:
    """A string of length in [lo, hi] (``hi`` ``None``: up to ``json_max_string`` and the bytes
    left) that every pattern of ``patterns`` (pattern, pointer) finds (``re.search``), by
    walking each pattern's parse tree with growing repeat caps and padding short results.
    Raises :class:`~.context.UnsatisfiableSchema` (at the first pattern's pointer) when none is
    found, :class:`~.context.SchemaTooLarge` when a pattern's shortest match passes a budget;
    ``pointer`` is charged the work of the walks."""
    infos = [_info(ctx, p, w) for p, w in patterns]
    longest = ctx.max_string if hi is None else min(hi, ctx.max_string)
    for info, (pattern, where) in zip(infos, patterns, strict=True):
        if hi is not None and info.min_width > hi:
            raise UnsatisfiableSchema(
                where,
                f"the pattern {pattern[:80]!r} only matches strings of {info.min_width} "
                f"characters or more, but maxLength is {hi}",
            )
        if info.min_width > ctx.max_string:
            raise ctx.too_big(
                where,
                f"the pattern {pattern[:80]!r} only matches strings of {info.min_width} "
                f"characters or more, longer than {ctx.max_string}",
                "json_max_string",
            )
        ctx.room(info.min_width + 2, where, f"the pattern {pattern[:80]!r}")
    room = max(0, ctx.limits.json_max_bytes - ctx.size - 2)
    longest = min(longest, room)

    def ok(text: str) -> bool:
        return length_ok(text, lo, hi) and all(search_pattern(ctx, p, w, text) for p, w in patterns)

    caps = (3, 1, 0, 2, 5, 8, 16, max(lo, 4), 32, 64)
    for info in infos:
        for cap in caps:
            for _ in range(2):
                out: list[str] = []
                budget = [longest, _WALK_STEPS]
                try:
                    _walk(info.parsed, ctx.rng, cap, {}, out, budget)
                except _RegexFail:
                    break
                finally:
                    ctx.charge(1 + (_WALK_STEPS - budget[1]) // 4, pointer)
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


def _walk(
    sub: Any,
    rng: random.Random,
    cap: int,
    groups: dict[int, str],
    out: list[str],
    budget: list[int],
) -> None:
    """Append to ``out`` a string the parse tree ``sub`` matches (anchors and lookarounds
    aside). ``budget`` is [characters left, steps left]; past either the walk fails."""
    budget[1] -= len(sub) + 1
    if budget[1] < 0:
        raise _RegexFail("steps")
    for op, av in sub:
        if op is _C.LITERAL:
            _emit(out, chr(av), budget)
        elif op is _C.NOT_LITERAL:
            _emit(out, rng.choice([c for c in _ALNUM if ord(c) != av]), budget)
        elif op is _C.ANY:
            _emit(out, rng.choice(string.ascii_lowercase), budget)
        elif op is _C.IN:
            _emit(out, _class_char(av, rng), budget)
        elif op is _C.BRANCH:
            _walk(rng.choice(av[1]), rng, cap, groups, out, budget)
        elif op is _C.SUBPATTERN:
            group, _, _, inner = av
            mark = len(out)
            _walk(inner, rng, cap, groups, out, budget)
            if group:
                groups[group] = "".join(out[mark:])
        elif op in _REPEATS:
            low, high, inner = av
            top = low + cap if high is _C.MAXREPEAT or high - low > cap * 3 else high
            for _ in range(rng.randint(low, max(low, top))):
                _walk(inner, rng, cap, groups, out, budget)
        elif op is _C.AT or op is _C.ASSERT or op is _C.ASSERT_NOT:
            continue  # anchors and lookarounds produce no text; the final search checks them
        elif op is _C.GROUPREF:
            _emit(out, groups.get(av, ""), budget)
        elif op is _C.GROUPREF_EXISTS:
            group, yes, no = av
            branch = yes if group in groups else no
            if branch is not None:
                _walk(branch, rng, cap, groups, out, budget)
        elif op is getattr(_C, "ATOMIC_GROUP", None):
            _walk(av, rng, cap, groups, out, budget)
        else:
            raise _RegexFail(op)


def _emit(out: list[str], text: str, budget: list[int]) -> None:
    budget[0] -= len(text)
    if budget[0] < 0:
        raise _RegexFail("length")
    out.append(text)


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
