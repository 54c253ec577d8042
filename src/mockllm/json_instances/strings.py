"""Generation of strings: plausible text from the property name in a few styles, within the
length bounds, of the requested ``format`` or matching every ``pattern``; a ``minLength`` past
``json_max_string`` (or past the bytes left of ``json_max_bytes``) is refused before any text
is made."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Final

from .context import Context, Part, UnsatisfiableSchema
from .formats import FORMAT_TESTS, FORMATS
from .merge import Merged
from .regex import search_pattern, string_from_patterns
from .values import length_ok

__all__ = ["gen_string", "hint_label", "singular_hint"]


def hint_label(hint: str | None) -> str:
    """Short lower-case words from a property name: ``firstName`` -> ``first name``."""
    if not hint:
        return "text"
    return _label_of(hint[:256])


@functools.lru_cache(maxsize=1024)
def _label_of(hint: str) -> str:
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", hint)
    words = re.sub(r"[\W_]+", " ", words).strip().lower()
    return words[:32].strip() or "text"


def singular_hint(hint: str | None) -> str | None:
    """A name for one item of an array property: ``tags`` -> ``tag``, ``cities`` -> ``city``."""
    if not hint:
        return hint
    hint = hint[:256]  # only the first words make labels
    if hint.endswith("ies") and len(hint) > 4:
        return hint[:-3] + "y"
    if hint.endswith("s") and not hint.endswith("ss") and len(hint) > 3:
        return hint[:-1]
    return hint


_STYLES: Final[tuple[Callable[[str, int], str], ...]] = (
    lambda label, n: f"{label} {n}",
    lambda label, n: f"{label.title()} {n}",
    lambda label, n: f"{n} {label}",
    lambda label, n: f"{label.upper().replace(' ', '_')}_{n}",
    lambda label, n: f"#{n}",
    lambda label, n: f"-{label}-",
)
"""String styles: the first always, the others while a value must avoid a ``not``."""


def gen_string(
    ctx: Context, m: Merged, parts: list[Part], rec: int, path: tuple[str, ...], hint: str | None
) -> str:
    """A string valid against the string keywords of ``m`` (lengths, ``format``, every ``pattern``),
    made from ``hint`` (the property name) or ``m.title``, its bytes counted (``ctx.grow``).
    ``parts``, ``rec`` and ``path`` are not used (see :mod:`.generation`, whose other type
    generators share the signature). Raises :class:`~.context.UnsatisfiableSchema` when no such
    string is found, :class:`~.context.SchemaTooLarge` when ``minLength`` or a pattern passes a
    budget."""
    text = _make_string(ctx, m, hint)
    ctx.grow((len(text) if text.isascii() else len(text.encode("utf-8", "replace"))) + 2, m.ptr)
    return text


def _make_string(ctx: Context, m: Merged, hint: str | None) -> str:
    lo, hi = m.min_len, m.max_len
    if hi is not None and lo > hi:
        raise UnsatisfiableSchema(m.ptr, f"minLength {lo} is greater than maxLength {hi}")
    if lo > ctx.max_string:
        raise ctx.too_big(
            m.ptr,
            f"minLength {lo} is more than the {ctx.max_string} characters a generated string "
            "may have",
            "json_max_string",
        )
    ctx.room(lo + 2, m.ptr, f"a string of minLength {lo}")
    label = hint_label(hint or m.title)
    n = ctx.rng.randint(1, 99)
    if m.formats:
        fmt = m.formats[0]
        for _ in range(20 if m.patterns else 1):
            text = FORMATS[fmt](ctx.rng, label, n)
            if length_ok(text, lo, hi) and all(
                search_pattern(ctx, p, w, text) for p, w in m.patterns
            ):
                return text
            n = ctx.rng.randint(1, 99)
        if not m.patterns:
            raise UnsatisfiableSchema(m.ptr, f"no {fmt} string has length in [{lo}, {hi}]")
        # The pattern is narrower than the values the format makes: walk the pattern and keep
        # a string the format accepts (only for formats checked here).
        test = FORMAT_TESTS.get(fmt)
        if test is None:
            raise UnsatisfiableSchema(m.ptr, f"found no {fmt} string matching the pattern")
        for _ in range(30):
            text = string_from_patterns(ctx, m.patterns, lo, hi, m.ptr)
            if test(text):
                return text
        raise UnsatisfiableSchema(m.ptr, f"found no {fmt} string matching the pattern")
    if m.patterns:
        return string_from_patterns(ctx, m.patterns, lo, hi, m.ptr)
    text = _STYLES[ctx.variant % len(_STYLES)](label, n)
    if len(text) < lo:
        text = (text + (" " + label) * (lo // (len(label) + 1) + 1))[:lo]
        if text.endswith(" "):
            text = text[:-1] + "x"
    if hi is not None and len(text) > hi:
        text = text[:hi]
        if len(text.rstrip()) >= lo:
            text = text.rstrip()
    return text
