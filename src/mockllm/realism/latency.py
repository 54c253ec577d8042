"""Latency: fixed values and bounded distributions, drawn from a seeded generator, and the
built-in profiles.

Every random draw of a request comes from its own generator, seeded from the config's
``settings.seed``, the request's identity (model, conversation, length) and how many times
that identity was served before (:func:`request_random`): the same seed and the same
requests give the same timings, in any order and under any concurrency, and a load test
repeating one prompt still sees the distribution, not one value.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

from ..rules.schema import Distribution, Latency, Value

PROFILES: dict[str, Latency] = {
    "fast": Latency(
        ttft_ms=Distribution(distribution="lognormal", median=120, sigma=0.25, max=400),
        prefill_ms_per_token=0.02,
        itl_ms=Distribution(distribution="normal", mean=8, sd=1.5, min=3, max=20),
    ),
    "large": Latency(
        ttft_ms=Distribution(distribution="lognormal", median=450, sigma=0.3, max=2000),
        prefill_ms_per_token=0.1,
        itl_ms=Distribution(distribution="normal", mean=35, sd=6, min=15, max=90),
    ),
    "reasoning": Latency(
        ttft_ms=Distribution(distribution="lognormal", median=4000, sigma=0.4, max=20000),
        prefill_ms_per_token=0.15,
        itl_ms=Distribution(distribution="normal", mean=15, sd=3, min=6, max=40),
    ),
}
"""The built-in profiles: a small fast model, a large slow one, a reasoning model with a
long first token. A config's ``profiles:`` adds names and may replace these."""


def draw(value: Value | None, rng: random.Random | None) -> float:
    """One value: a fixed number as is (0 for None), a distribution drawn from ``rng`` and
    clamped to its bounds (its centre when there is no generator)."""
    if value is None:
        return 0.0
    if not isinstance(value, Distribution):
        return float(value)
    low, high = value.low, value.high
    if value.distribution == "uniform":
        x = rng.uniform(low, high) if rng is not None else (low + high) / 2
    elif value.distribution == "normal":
        mean, sd = value.mean or 0.0, value.sd or 0.0
        x = rng.gauss(mean, sd) if rng is not None else mean
    else:
        median, sigma = value.median or 0.0, value.sigma or 0.0
        x = rng.lognormvariate(math.log(median), sigma) if rng is not None else median
    return min(max(x, low), high)


def is_random(value: Value | None) -> bool:
    return isinstance(value, Distribution)


def request_random(seed: int, identity: str, occurrence: int) -> random.Random:
    """The generator of one request: from ``seed``, the request's ``identity`` and how
    many requests of that identity came before (``occurrence``, from 1)."""
    digest = hashlib.blake2b(
        f"{seed}\x00{identity}\x00{occurrence}".encode("utf-8", "surrogatepass"), digest_size=8
    ).digest()
    return random.Random(int.from_bytes(digest, "big"))


@dataclass(slots=True)
class Timing:
    """When a request's answer goes out (seconds): ``ttft`` before the first stream event
    (or before a JSON answer, with ``itl`` for each of its token events after the first);
    ``itl`` between events that carry tokens (``itl_value`` drawn again for each event
    when it is a distribution); ``per_char`` more per character of a token event (the
    original ``lag_*`` settings); ``stall`` once, after the first event; ``scale`` the
    load model's slowdown, multiplying ``ttft`` and every inter-token wait."""

    ttft: float = 0.0
    itl: float = 0.0
    itl_value: Value | None = None
    per_char: float = 0.0
    stall: float = 0.0
    scale: float = 1.0
    rng: random.Random | None = None

    @property
    def idle(self) -> bool:
        return not (self.ttft or self.itl or self.itl_value or self.per_char or self.stall)

    def next_itl(self) -> float:
        """The wait before the next token event (drawn anew for a distribution)."""
        if isinstance(self.itl_value, Distribution):
            return draw(self.itl_value, self.rng) / 1000 * self.scale
        return self.itl * self.scale


__all__ = ["PROFILES", "Timing", "draw", "is_random", "request_random"]
