"""Strings from regular expressions: a walk over the parse tree of Python's :mod:`re` that
builds a string matching a pattern, checked against every pattern of the schema."""

from __future__ import annotations

import functools
import importlib
import random
import re
import string
from collections.abc import Callable
from typing import Any, Final

from .context import UnsatisfiableSchema
from .formats import _compiled


def _length_ok(text: str, lo: int, hi: int | None) -> bool:
    return len(text) >= lo and (hi is None or len(text) <= hi)


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
