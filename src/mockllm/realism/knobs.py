"""The latency and fault knobs of one request, layered from the config and the headers.

Four levels, each field taken from the highest level that sets it: the global
``settings.latency`` / ``settings.faults``, the model's (``models:`` entry of the requested
model), the rule's (``latency:`` / ``faults:`` of the rule the request matches), and the
request's ``x-mockllm-*`` headers (:data:`HEADERS`). A level naming a ``profile`` takes the
profile's fields first, then its own. ``x-mockllm-ttft-ms`` is the whole time to first
token: it replaces the base and the prefill cost.

A header with a value that is not what it should be is the dialect's 400 naming it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import MockError
from ..rules.schema import Faults, Latency, Load, RateLimits, Value
from .latency import PROFILES


def _number(text: str) -> float:
    if not _PLAIN_NUMBER.fullmatch(text):  # no "1_000", "1e308", "inf", other digits
        raise ValueError
    value = float(text)
    if value > MAX_KNOB:
        raise ValueError
    return value


_PLAIN_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?|\.[0-9]+")
MAX_KNOB = 86_400_000
"""The largest number a header knob takes (a day in milliseconds; a year for seconds
would be absurd too)."""


def _count(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise ValueError
    value = int(text)
    if value < 0:
        raise ValueError
    return value


def _status(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 3:
        raise ValueError
    value = int(text)
    if not 400 <= value <= 599:
        raise ValueError
    return value


def _rate(text: str) -> float:
    if not _PLAIN_NUMBER.fullmatch(text):
        raise ValueError
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError
    return value


def _profile(text: str) -> str:
    if not text.strip():
        raise ValueError
    return text.strip()


HEADERS: dict[str, tuple[str, Callable[[str], Any], str]] = {
    "x-mockllm-ttft-ms": ("ttft_ms", _number, "a number of milliseconds >= 0"),
    "x-mockllm-itl-ms": ("itl_ms", _number, "a number of milliseconds >= 0"),
    "x-mockllm-tokens-per-chunk": ("tokens_per_chunk", _count, "a whole number >= 1"),
    "x-mockllm-profile": ("profile", _profile, "a profile name"),
    "x-mockllm-error": ("error", _status, "an HTTP status from 400 to 599"),
    "x-mockllm-error-rate": ("error_rate", _rate, "a probability from 0 to 1"),
    "x-mockllm-retry-after": ("retry_after", _number, "a number of seconds >= 0"),
    "x-mockllm-fail-first": ("fail_first", _count, "a whole number >= 0"),
    "x-mockllm-stream-cut-after": ("stream_cut_after", _count, "a whole number >= 0"),
    "x-mockllm-stall-ms": ("stall_ms", _number, "a number of milliseconds >= 0"),
    "x-mockllm-malformed-after": ("malformed_after", _count, "a whole number >= 0"),
    "x-mockllm-stream-error-after": ("stream_error_after", _count, "a whole number >= 0"),
}
"""Request headers (a public contract) and the knob each sets."""

LATENCY_FIELDS = ("ttft_ms", "prefill_ms_per_token", "itl_ms", "tokens_per_chunk")
FAULT_FIELDS = tuple(Faults.model_fields)


@dataclass(slots=True)
class Knobs:
    """What one request asked for, every level merged: latency fields are numbers (ms) or
    distributions, fault fields as :class:`~mockllm.rules.schema.Faults` names them."""

    ttft_ms: Value | None = None
    prefill_ms_per_token: Value | None = None
    itl_ms: Value | None = None
    tokens_per_chunk: Value | None = None
    error: int | None = None
    error_rate: float | None = None
    retry_after: float | None = None
    fail_first: int | None = None
    stream_cut_after: int | None = None
    stall_ms: float | None = None
    malformed_after: int | None = None
    stream_error_after: int | None = None

    @property
    def has_latency(self) -> bool:
        return any(getattr(self, f) for f in ("ttft_ms", "prefill_ms_per_token", "itl_ms"))

    @property
    def stream_faults(self) -> bool:
        return (
            self.stream_cut_after is not None
            or bool(self.stall_ms)
            or self.malformed_after is not None
            or self.stream_error_after is not None
        )

    @property
    def chunking(self) -> bool:
        return self.tokens_per_chunk is not None and self.tokens_per_chunk != 1


@dataclass(frozen=True, slots=True)
class ModelLevel:
    """The ``models:`` entry's behaviour for one model id."""

    latency: Latency | None = None
    faults: Faults | None = None
    rate_limits: RateLimits | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """The behaviour part of one loaded config: what :func:`resolve` layers, and the load
    model, rate limits and API keys. ``active`` is False when the config sets no latency
    and no fault anywhere (no level to look at but the headers)."""

    seed: int = 0
    latency: Latency | None = None
    faults: Faults | None = None
    load: Load | None = None
    rate_limits: RateLimits | None = None
    api_keys: frozenset[str] | None = None
    models: Mapping[str, ModelLevel] = field(default_factory=dict)
    profiles: Mapping[str, Latency] = field(default_factory=dict)
    rules_have_knobs: bool = False
    active: bool = field(init=False, repr=False, compare=False)
    """Whether any level of the config sets a latency or fault knob (computed once: every
    generating request asks)."""

    def __post_init__(self) -> None:
        active = bool(
            self.latency
            or self.faults
            or self.rules_have_knobs
            or any(m.latency or m.faults for m in self.models.values())
        )
        object.__setattr__(self, "active", active)

    def profile(self, name: str) -> Latency | None:
        """The profile called ``name``: the config's, else a built-in; None if unknown."""
        return self.profiles.get(name) or PROFILES.get(name)


def _layer(knobs: dict[str, Any], plan: Plan, latency: Latency | None) -> None:
    if latency is None:
        return
    if latency.profile is not None:
        profile = plan.profile(latency.profile)
        if profile is not None:
            _layer(knobs, plan, profile)
    for name in LATENCY_FIELDS:
        value = getattr(latency, name)
        if value is not None:
            knobs[name] = value


def _faults(knobs: dict[str, Any], faults: Faults | None) -> None:
    if faults is None:
        return
    for name in FAULT_FIELDS:
        value = getattr(faults, name)
        if value is not None:
            knobs[name] = value


def header_knobs(headers: Mapping[str, str]) -> dict[str, Any] | None:
    """The knobs the request's ``x-mockllm-*`` headers set (None when it sends none).
    Raises the 400 :class:`MockError` for a header whose value is not valid."""
    found: dict[str, Any] | None = None
    if not headers:
        return None
    for name, (knob, parse, expected) in HEADERS.items():
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            value = parse(raw.strip())
            if knob == "tokens_per_chunk" and value < 1:
                raise ValueError
        except ValueError:
            raise MockError(
                "invalid_request",
                f"mockllm: header {name} must be {expected}, got {raw!r}.",
                param=name,
                code="mockllm_invalid_header",
            ) from None
        if found is None:
            found = {}
        found[knob] = value
    return found


def resolve(
    plan: Plan,
    model: ModelLevel | None,
    rule: tuple[Latency | None, Faults | None] | None,
    headers: dict[str, Any] | None,
) -> Knobs:
    """The knobs of one request: the levels of ``plan`` (global), ``model``, ``rule`` and
    the parsed ``headers`` (:func:`header_knobs`), each over the one before."""
    knobs: dict[str, Any] = {}
    _layer(knobs, plan, plan.latency)
    _faults(knobs, plan.faults)
    if model is not None:
        _layer(knobs, plan, model.latency)
        _faults(knobs, model.faults)
    if rule is not None:
        _layer(knobs, plan, rule[0])
        _faults(knobs, rule[1])
    if headers:
        profile = headers.get("profile")
        if profile is not None:
            found = plan.profile(profile)
            if found is None:
                known = sorted({*PROFILES, *plan.profiles})
                raise MockError(
                    "invalid_request",
                    f"mockllm: header x-mockllm-profile names no profile: {profile!r} "
                    f"(known: {', '.join(known)}).",
                    param="x-mockllm-profile",
                    code="mockllm_invalid_header",
                )
            _layer(knobs, plan, found)
        for name, value in headers.items():
            if name != "profile":
                knobs[name] = value
        if "ttft_ms" in headers:  # the whole time to first token: no prefill on top
            knobs.pop("prefill_ms_per_token", None)
    return Knobs(**knobs)


__all__ = ["FAULT_FIELDS", "HEADERS", "Knobs", "ModelLevel", "Plan", "header_knobs", "resolve"]
