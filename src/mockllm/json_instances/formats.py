"""String formats: :data:`FORMATS`, the generator for each supported ``format``,
:data:`FORMAT_TESTS`, the checks a client's format checker applies to them, and the small text
helpers they use (:func:`slugify`, cached regular-expression compilation). This module imports
nothing from the rest of the package."""

from __future__ import annotations

import base64
import functools
import ipaddress
import random
import re
import uuid
import warnings
from collections.abc import Callable
from datetime import date, datetime
from typing import Final

__all__ = ["FORMATS", "FORMAT_TESTS", "slugify"]


def slugify(label: str, sep: str = "-") -> str:
    """``label`` as a lower-case ASCII slug of letters and digits joined by ``sep`` (at most 40
    characters, ``"item"`` when nothing is left): for hostnames, paths and property names."""
    slug = re.sub(r"[^a-z0-9]+", sep, label.lower()).strip(sep)[:40].strip(sep)
    return slug or "item"


def _compiled(pattern: str) -> re.Pattern[str] | None:
    """``pattern`` compiled by :mod:`re` (the ``regex`` format's test), or ``None``."""
    if len(pattern) > 1000:  # long strings are not kept
        return _compile(pattern)
    return _compiled_short(pattern)


@functools.lru_cache(maxsize=1024)
def _compiled_short(pattern: str) -> re.Pattern[str] | None:
    return _compile(pattern)


def _compile(pattern: str) -> re.Pattern[str] | None:
    try:
        with warnings.catch_warnings():  # "Possible nested set": still a pattern re runs
            warnings.simplefilter("ignore", FutureWarning)
            return re.compile(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return None


_NAMES: Final = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")


def _fmt_date(rng: random.Random) -> str:
    return f"{rng.randint(2023, 2025):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _fmt_time(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.choice((0, 15, 30, 45)):02d}:00Z"


def _fmt_duration(rng: random.Random, n: int) -> str:
    return rng.choice((f"P{n % 30 + 1}D", f"PT{n % 23 + 1}H", f"PT{n % 59 + 1}M"))


FORMATS: Final[dict[str, Callable[[random.Random, str, int], str]]] = {
    "date-time": lambda r, s, n: f"{_fmt_date(r)}T{_fmt_time(r)}",
    "date": lambda r, s, n: _fmt_date(r),
    "time": lambda r, s, n: _fmt_time(r),
    "duration": lambda r, s, n: _fmt_duration(r, n),
    "email": lambda r, s, n: f"{r.choice(_NAMES)}.{n}@example.com",
    "idn-email": lambda r, s, n: f"{r.choice(_NAMES)}.{n}@example.com",
    "name-email": lambda r, s, n: f"{(name := r.choice(_NAMES)).title()} <{name}.{n}@example.com>",
    "hostname": lambda r, s, n: f"{slugify(s)}-{n}.example.com",
    "idn-hostname": lambda r, s, n: f"{slugify(s)}-{n}.example.com",
    "ipv4": lambda r, s, n: f"192.0.2.{n % 254 + 1}",
    "ipv6": lambda r, s, n: f"2001:db8::{n:x}",
    "ipvanyaddress": lambda r, s, n: f"192.0.2.{n % 254 + 1}",
    "ipvanyinterface": lambda r, s, n: f"192.0.2.{n % 254 + 1}/24",
    "ipvanynetwork": lambda r, s, n: "192.0.2.0/24",
    "uri": lambda r, s, n: f"https://example.com/{slugify(s)}/{n}",
    "url": lambda r, s, n: f"https://example.com/{slugify(s)}/{n}",
    "iri": lambda r, s, n: f"https://example.com/{slugify(s)}/{n}",
    "multi-host-uri": lambda r, s, n: f"https://example.com/{slugify(s)}/{n}",
    "uri-reference": lambda r, s, n: f"/{slugify(s)}/{n}",
    "iri-reference": lambda r, s, n: f"/{slugify(s)}/{n}",
    "uri-template": lambda r, s, n: f"https://example.com/{slugify(s)}/{{id}}",
    "uuid": lambda r, s, n: str(uuid.UUID(int=r.getrandbits(128), version=4)),
    "json-pointer": lambda r, s, n: f"/{slugify(s)}/{n}",
    "relative-json-pointer": lambda r, s, n: f"{n % 3}/{slugify(s)}",
    "regex": lambda r, s, n: r.choice((r"^[a-z]+$", r"^\d{3}-\d{4}$", r"^[A-Z][a-z]*$")),
    "byte": lambda r, s, n: base64.b64encode(f"{s} {n}".encode()).decode("ascii"),
    "binary": lambda r, s, n: f"{s} {n}",
    "password": lambda r, s, n: f"s3cret-{n}",
    "path": lambda r, s, n: f"/tmp/{slugify(s)}-{n}",
    "color": lambda r, s, n: f"#{r.getrandbits(24):06x}",
}
"""The string formats produced (names compared lower-cased); other formats are ignored."""


def _parses(parse: Callable[[str], object]) -> Callable[[str], bool]:
    def test(text: str) -> bool:
        try:
            parse(text)
        except ValueError:
            return False
        return True

    return test


_DATE: Final = r"\d{4}-\d{2}-\d{2}"
_TIME: Final = r"\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
FORMAT_TESTS: Final[dict[str, Callable[[str], bool]]] = {
    "date": lambda t: bool(re.fullmatch(_DATE, t, re.ASCII)) and _parses(date.fromisoformat)(t),
    "date-time": lambda t: (
        bool(re.fullmatch(f"{_DATE}[Tt ]{_TIME}", t, re.ASCII))
        and _parses(datetime.fromisoformat)(t.upper().replace("Z", "+00:00"))
    ),
    "time": lambda t: (
        bool(re.fullmatch(_TIME, t, re.ASCII))
        and _parses(datetime.fromisoformat)("1970-01-01T" + t.upper().replace("Z", "+00:00"))
    ),
    "uuid": lambda t: bool(re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", t)),
    "ipv4": _parses(ipaddress.IPv4Address),
    "ipv6": _parses(ipaddress.IPv6Address),
    "ipvanyaddress": _parses(ipaddress.ip_address),
    "ipvanyinterface": _parses(ipaddress.ip_interface),
    "ipvanynetwork": _parses(ipaddress.ip_network),
    "email": lambda t: "@" in t,
    "idn-email": lambda t: "@" in t,
    "duration": lambda t: bool(
        re.fullmatch(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?", t)
    ),
    "hostname": lambda t: bool(
        re.fullmatch(
            r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?", t
        )
    ),
    "idn-hostname": lambda t: bool(t) and not any(c.isspace() for c in t),
    "uri": lambda t: bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:\S*", t)),
    "iri": lambda t: bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:\S*", t)),
    "url": lambda t: bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:\S*", t)),
    "uri-reference": lambda t: not any(c.isspace() for c in t),
    "iri-reference": lambda t: not any(c.isspace() for c in t),
    "uri-template": lambda t: not any(c.isspace() for c in t),
    "json-pointer": lambda t: bool(re.fullmatch(r"(/([^~/]|~[01])*)*", t)),
    "relative-json-pointer": lambda t: bool(
        re.fullmatch(r"(0|[1-9][0-9]*)(#|(/([^~/]|~[01])*)*)", t)
    ),
    "regex": lambda t: _compiled(t) is not None,
}
"""Checks for the formats above, by lower-case format name (a format not listed is not
checked), close to :mod:`jsonschema`'s format checker: the validator
here asserts ``format`` with them (so that ``oneOf``/``not``/``if`` decide as a format-checking
client would), and a string made from a pattern narrower than its format must pass one."""
