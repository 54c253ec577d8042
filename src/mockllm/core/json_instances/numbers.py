"""Generation of integers and numbers: small values inside the merged bounds, with
``multipleOf`` honoured exactly (fractions for float steps)."""

from __future__ import annotations

import math
import random
from fractions import Fraction
from typing import Final

from .context import UnsatisfiableSchema, _Ctx, _Part
from .merge import _Merged
from .values import _integral, _multiple_ok

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
