"""Generation of integers and numbers: small values inside the merged bounds, with
``multipleOf`` honoured exactly (fractions for float steps). Integers are kept within signed
64 bits and numbers within the finite floats, what JSON output carries: bounds past them
(an integer ``"minimum": 2**70``, a number ``"minimum": 10**400``) make the schema
unsatisfiable, never an unwritable value. (Infinite bounds are refused by :mod:`.checks`.)"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from typing import Final

from .context import Context, Part, UnsatisfiableSchema
from .merge import Merged
from .values import int_size, is_integral, is_multiple

__all__ = ["INT_MAX", "INT_MIN", "gen_integer", "gen_number"]

INT_MIN: Final = -(2**63)
"""The smallest integer generated: signed 64 bits, what every JSON writer (orjson included)
carries exactly."""
INT_MAX: Final = 2**63 - 1
"""The largest integer generated (see :data:`INT_MIN`)."""
_FLOAT_MAX: Final = 1.7976931348623157e308
_SMALL: Final = 10**15  # bounds up to this size take the usual route (cents in a window)

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


def _int_bounds(m: Merged) -> tuple[int | None, int | None]:
    lo = hi = None
    if m.lo is not None:
        lo = math.floor(m.lo) + 1 if m.lo_ex else math.ceil(m.lo)
    if m.hi is not None:
        hi = math.ceil(m.hi) - 1 if m.hi_ex else math.floor(m.hi)
    return lo, hi


def _num_text(value: int | float) -> str:
    if isinstance(value, int) and abs(value).bit_length() > 96:
        return f"{'-' if value < 0 else ''}2**{abs(value).bit_length() - 1}+"
    return f"{value}"


def _bounds_text(m: Merged) -> str:
    low = "-inf" if m.lo is None else _num_text(m.lo)
    high = "inf" if m.hi is None else _num_text(m.hi)
    return f"{'(' if m.lo_ex else '['}{low}, {high}{')' if m.hi_ex else ']'}"


def _in_bounds(m: Merged, value: float) -> bool:
    if m.lo is not None and (value <= m.lo if m.lo_ex else value < m.lo):
        return False
    return not (m.hi is not None and (value >= m.hi if m.hi_ex else value > m.hi))


def gen_integer(
    ctx: Context, m: Merged, parts: list[Part], rec: int, path: tuple[str, ...], hint: str | None
) -> int:
    """An integer within the bounds of ``m`` and a multiple of each ``multipleOf``, from a small
    window drawn from ``ctx.rng`` (another window while ``ctx.variant`` avoids a ``not``), within
    [:data:`INT_MIN`, :data:`INT_MAX`]; its digits counted (``ctx.grow``). ``parts``, ``rec``,
    ``path`` and ``hint`` are not used (see :mod:`.generation`, whose other type generators share
    the signature). Raises :class:`~.context.UnsatisfiableSchema` when no such integer exists or is
    found."""
    value = _make_integer(ctx, m)
    ctx.grow(int_size(value), m.ptr)
    return value


def _make_integer(ctx: Context, m: Merged) -> int:
    lo, hi = _int_bounds(m)
    if lo is not None and hi is not None and lo > hi:
        raise UnsatisfiableSchema(m.ptr, f"no integer in {_bounds_text(m)}")
    if (lo is not None and lo > INT_MAX) or (hi is not None and hi < INT_MIN):
        raise UnsatisfiableSchema(
            m.ptr,
            f"no integer in {_bounds_text(m)} fits in 64 bits (mockllm writes integers from "
            "-2**63 to 2**63-1)",
        )
    lo = INT_MIN if lo is None or lo < INT_MIN else lo
    hi = INT_MAX if hi is None or hi > INT_MAX else hi
    step = 1
    fractional: list[float] = []
    for multiple in m.multiples:
        if is_integral(multiple):
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
        ctx.charge(1, m.ptr)
        kk = k + delta
        if (klo is not None and kk < klo) or (khi is not None and kk > khi):
            continue
        value = kk * step
        if all(is_multiple(value, f) for f in fractional):
            return value
    raise UnsatisfiableSchema(m.ptr, "no integer is a multiple of every multipleOf in bounds")


_DELTAS: Final = (0, *(d * sign for d in range(1, 201) for sign in (1, -1)))
"""0, 1, -1, 2, -2, ...: a search outward from a chosen point."""


def gen_number(
    ctx: Context, m: Merged, parts: list[Part], rec: int, path: tuple[str, ...], hint: str | None
) -> int | float:
    """A number within the bounds of ``m`` and a multiple of each ``multipleOf`` (an int when every
    step is integral), two decimals in a small window where the bounds allow, always finite; its
    characters counted (``ctx.grow``). ``parts``, ``rec``, ``path`` and ``hint`` are not used (see
    :mod:`.generation`, whose other type generators share the signature). Raises
    :class:`~.context.UnsatisfiableSchema` when no such number exists or is found."""
    value = _make_number(ctx, m)
    ctx.grow(int_size(value) if isinstance(value, int) else len(repr(value)), m.ptr)
    return value


def _make_number(ctx: Context, m: Merged) -> int | float:
    if m.lo is not None and m.hi is not None:
        if m.lo > m.hi or (m.lo == m.hi and (m.lo_ex or m.hi_ex)):
            raise UnsatisfiableSchema(m.ptr, f"no number in {_bounds_text(m)}")
    if (m.lo is not None and m.lo > _FLOAT_MAX) or (m.hi is not None and m.hi < -_FLOAT_MAX):
        raise UnsatisfiableSchema(
            m.ptr, f"no number in {_bounds_text(m)} can be written as a finite JSON number"
        )
    if m.multiples:
        if all(is_integral(x) for x in m.multiples):
            return _make_integer(ctx, m)
        return _gen_number_multiple(ctx, m)
    if (m.lo is not None and m.lo > _SMALL) or (m.hi is not None and m.hi < -_SMALL):
        return _number_near_bounds(m)
    # Two decimals, inside [0, 100] where the bounds allow (a far bound is as good as none).
    lo = None if m.lo is None or m.lo < -_SMALL else m.lo
    hi = None if m.hi is None or m.hi > _SMALL else m.hi
    clo = None if lo is None else math.floor(lo * 100)
    chi = None if hi is None else math.ceil(hi * 100)
    if clo is None or chi is None or clo < chi:
        plo, phi = _WINDOWS[ctx.variant % len(_WINDOWS)]
        cents = _pick_int(ctx.rng, clo, chi, plo * 100, phi * 100)
        for delta in _DELTAS[:9]:
            value = (cents + delta) / 100
            if _in_bounds(m, value):
                return value
    candidates: list[int | float] = []
    if lo is not None and hi is not None:
        candidates.append(lo + (hi - lo) / 2)
    candidates += [b for b in (lo, hi) if b is not None]
    for value in candidates:
        if _in_bounds(m, value):
            return value
    return _number_near_bounds(m)


def _clamped(bound: int | float) -> float:
    return float(max(-_FLOAT_MAX, min(_FLOAT_MAX, bound)))


def _number_near_bounds(m: Merged) -> int | float:
    """A number inside bounds too far out for the usual route: an int near a bound when it
    fits in 64 bits, else the float at (or just inside) a bound, or between two bounds."""
    candidates: list[int | float] = []
    if m.lo is not None and m.hi is not None:
        candidates.append(_clamped(m.lo) / 2 + _clamped(m.hi) / 2)
    for bound, inward in ((m.lo, 1), (m.hi, -1)):
        if bound is None:
            continue
        if is_integral(bound) and INT_MIN < bound < INT_MAX:
            candidates += [int(bound), int(bound) + inward]
        number = _clamped(bound)
        candidates += [number, math.nextafter(number, inward * math.inf)]
    for value in candidates:
        if math.isfinite(value) and _in_bounds(m, value):
            return value
    raise UnsatisfiableSchema(m.ptr, f"no number found in {_bounds_text(m)}")


def _gen_number_multiple(ctx: Context, m: Merged) -> int | float:
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
        ctx.charge(4, m.ptr)
        exact_value = (k + delta) * step
        if abs(exact_value) > _FLOAT_MAX:
            continue
        value: int | float = (
            int(exact_value) if exact_value.denominator == 1 else float(exact_value)
        )
        if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
            value = float(value)
            if value != exact_value:
                continue
        if _in_bounds(m, value) and all(is_multiple(value, x) for x in m.multiples):
            return value
    raise UnsatisfiableSchema(
        m.ptr, f"no multiple of {', '.join(map(str, m.multiples))} in {_bounds_text(m)}"
    )
