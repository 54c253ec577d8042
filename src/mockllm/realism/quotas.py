"""Rate limits: request and token buckets per API key and model, refilled continuously;
and the API keys a config accepts.

A bucket holds up to ``limit`` units and refills at ``limit`` per window (a minute or a
day), continuously. A request takes one unit of each request bucket and its prompt's tokens
from the token buckets before it is answered (a 429 when one is short, with ``retry-after``
the real wait until it is not), and its output tokens once the answer is decided (a
bucket may go below zero then: later requests wait longer). ``remaining`` in the headers
counts the request it answers.

Defaults (no ``rate_limits`` in the config) are generous enough never to trip a test that
did not ask for limits, load tests included: :data:`DEFAULTS`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import NamedTuple

from ..core.errors import MockError, retry_headers
from ..rules.schema import RateLimits

MINUTE = 60.0
DAY = 86_400.0

DEFAULTS = RateLimits(
    requests_per_minute=1_000_000,
    tokens_per_minute=1_000_000_000,
    input_tokens_per_minute=1_000_000_000,
    output_tokens_per_minute=1_000_000_000,
)
"""The limits in force where the config sets none (per API key and model)."""

MAX_KEYS = 10_000
"""Bucket sets kept at most (the least recently used (key, model) is forgotten)."""


class Bucket:
    """``limit`` units, refilled at ``limit`` per ``window`` seconds, continuously."""

    __slots__ = ("limit", "window", "rate", "level", "stamp")

    def __init__(self, limit: int, window: float, now: float) -> None:
        self.limit = limit
        self.window = window
        self.rate = limit / window
        self.level = float(limit)
        self.stamp = now

    def refill(self, now: float) -> None:
        if now > self.stamp:
            level = self.level + (now - self.stamp) * self.rate
            self.level = level if level < self.limit else float(self.limit)
            self.stamp = now

    def wait(self, amount: float) -> float:
        """Seconds until ``amount`` units are there (0: now; refilled first)."""
        short = amount - self.level
        return 0.0 if short <= 0 else short * self.window / self.limit

    def reset(self) -> float:
        """Seconds until the bucket is full again."""
        return max(0.0, (self.limit - self.level) * self.window / self.limit)

    @property
    def remaining(self) -> int:
        return max(0, math.floor(self.level))


class Meter(NamedTuple):
    """What a header family reports of one kind of unit: the limit, what remains, and the
    seconds until the bucket is full."""

    limit: int
    remaining: int
    reset: float


_new_meter = tuple.__new__


class QuotaView:
    """The buckets of one (API key, model) after a request: what the dialects' rate-limit
    headers report (each family shows its tighter window, minute or day), computed when a
    header family asks for it. ``at`` is the wall-clock time of the view (seconds since the
    epoch), for absolute reset times."""

    __slots__ = ("_buckets", "at")

    def __init__(self, buckets: dict[str, list[Bucket]], at: float) -> None:
        self._buckets = buckets
        self.at = at

    def _meter(self, kind: str) -> Meter:
        found = self._buckets[kind]
        tight = found[0] if len(found) == 1 else min(found, key=lambda b: b.level / b.limit)
        level, limit = tight.level, tight.limit
        reset = (limit - level) / tight.rate if level < limit else 0.0
        # tuple.__new__: the Meter without the Python frame of its __new__ (every answer)
        return _new_meter(Meter, (limit, math.floor(level) if level > 0 else 0, reset))

    @property
    def requests(self) -> Meter:
        return self._meter("requests")

    @property
    def tokens(self) -> Meter:
        return self._meter("tokens")

    @property
    def input_tokens(self) -> Meter:
        return self._meter("input_tokens")

    @property
    def output_tokens(self) -> Meter:
        return self._meter("output_tokens")


_KINDS = ("requests", "tokens", "input_tokens", "output_tokens")


class Account:
    """The buckets of one (API key, model)."""

    __slots__ = (
        "buckets",
        "limits",
        "model",
        "all",
        "requests",
        "tokens",
        "input_tokens",
        "output_tokens",
    )

    def __init__(self, limits: RateLimits, now: float, model: str = "") -> None:
        self.limits = limits
        self.model = model
        self.buckets: dict[str, list[Bucket]] = {}
        for kind in _KINDS:
            found: list[Bucket] = []
            for window, suffix in ((MINUTE, "per_minute"), (DAY, "per_day")):
                limit = getattr(limits, f"{kind}_{suffix}", None)
                if limit is None and suffix == "per_minute":
                    limit = getattr(DEFAULTS, f"{kind}_{suffix}")
                if limit is not None:
                    found.append(Bucket(limit, window, now))
            self.buckets[kind] = found
        b = self.buckets
        self.requests, self.tokens = b["requests"], b["tokens"]
        self.input_tokens, self.output_tokens = b["input_tokens"], b["output_tokens"]
        self.all = tuple(bucket for found in b.values() for bucket in found)

    def refill(self, now: float) -> None:
        for bucket in self.all:
            if now > bucket.stamp:
                level = bucket.level + (now - bucket.stamp) * bucket.rate
                bucket.level = level if level < bucket.limit else float(bucket.limit)
                bucket.stamp = now

    def view(self, wall: float) -> QuotaView:
        return QuotaView(self.buckets, wall)


_NO_LIMITS = RateLimits()


def _merge(base: RateLimits | None, over: RateLimits | None) -> RateLimits:
    if base is None:
        return over or _NO_LIMITS
    if over is None:
        return base
    fields = {k: v for k, v in over.model_dump().items() if v is not None}
    return base.model_copy(update=fields)


class Quotas:
    """Every (API key, model)'s buckets, bounded to :data:`MAX_KEYS` sets (cleared by
    ``POST /-/reset``). ``clock`` is monotonic, ``wall`` the epoch clock (tests pass
    their own)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.wall = wall
        self._accounts: dict[tuple[str, str], Account] = {}  # oldest created first
        # merged limits by the identity of what was merged (the objects are kept with the
        # result, so that an id is never reused while it is a key here)
        self._merged: dict[tuple[int, int], tuple[object, object, RateLimits]] = {}

    def _limits(self, config: RateLimits | None, model: RateLimits | None) -> RateLimits:
        key = (id(config), id(model))
        found = self._merged.get(key)
        if found is None:
            if len(self._merged) > 1024:
                self._merged.clear()
            found = (config, model, _merge(config, model))
            self._merged[key] = found
        return found[2]

    def _account(self, key: str, model: str, limits: RateLimits) -> Account:
        accounts = self._accounts
        found = accounts.get((key, model))
        now = self.clock()
        if found is None or found.limits is not limits:  # a new config: buckets start full
            found = Account(limits, now, model)
            accounts[(key, model)] = found
            while len(accounts) > MAX_KEYS:
                del accounts[next(iter(accounts))]
        else:
            found.refill(now)
        return found

    def account(
        self, key: str, model: str, config: RateLimits | None, model_limits: RateLimits | None
    ) -> Account:
        """The buckets of (``key``, ``model``) under the config's limits (and the model's
        over them), refilled to now."""
        return self._account(key, model, self._limits(config, model_limits))

    def take_request(self, account: Account) -> None:
        """Take one request from ``account``'s request buckets, or raise the 429 naming
        the one that is short, with ``retry-after`` the time until it is not (nothing is
        taken then)."""
        found = account.requests
        for bucket in found:
            if bucket.level < 1:
                raise _limited("requests", bucket, 1, account.model, bucket.wait(1))
        for bucket in found:
            bucket.level -= 1

    def affords(self, account: Account, prompt_tokens: int) -> bool:
        """Whether :meth:`take_request` and then :meth:`take` of ``prompt_tokens`` would
        both succeed on ``account`` as it is now (nothing is taken)."""
        for bucket in account.requests:
            if bucket.level < 1:
                return False
        for found in (account.tokens, account.input_tokens):
            for bucket in found:
                if bucket.level < prompt_tokens:
                    return False
        return True

    def admit(
        self,
        key: str,
        model: str,
        prompt_tokens: int,
        config: RateLimits | None,
        model_limits: RateLimits | None,
    ) -> Account:
        """:meth:`account`, then one request and ``prompt_tokens`` taken (the 429 when a
        bucket is short)."""
        account = self.account(key, model, config, model_limits)
        self.take_request(account)
        if prompt_tokens:
            self.take(account, prompt_tokens)
        return account

    def take(self, account: Account, prompt_tokens: int) -> None:
        """Take ``prompt_tokens`` from the token buckets, or raise the 429 naming the one
        that is short (nothing is taken then)."""
        for kind, found in (("tokens", account.tokens), ("input_tokens", account.input_tokens)):
            for bucket in found:
                if bucket.level < prompt_tokens:
                    wait = bucket.wait(prompt_tokens)
                    raise _limited(kind, bucket, prompt_tokens, account.model, wait)
        for bucket in account.tokens:
            bucket.level -= prompt_tokens
        for bucket in account.input_tokens:
            bucket.level -= prompt_tokens

    def charge(self, account: Account, output_tokens: int) -> QuotaView:
        """Take the answer's ``output_tokens`` (may go below zero) and return the view the
        headers report."""
        for bucket in account.tokens:
            bucket.level -= output_tokens
        for bucket in account.output_tokens:
            bucket.level -= output_tokens
        return QuotaView(account.buckets, self.wall())

    def clear(self) -> None:
        self._accounts.clear()

    def stats(self) -> dict[str, int]:
        return {"entries": len(self._accounts)}


def _limited(kind: str, bucket: Bucket, amount: float, model: str, wait: float) -> MockError:
    unit = kind.replace("_", " ")
    per = "min" if bucket.window == MINUTE else "day"
    used = bucket.limit - bucket.remaining
    seconds = max(1, math.ceil(wait))
    if amount > bucket.limit:
        message = (
            f"Request too large for {model} on {unit} per {per}: Limit {bucket.limit}, "
            f"Requested {int(amount)}. The input or output tokens must be reduced in order "
            "to run successfully."
        )
    else:
        message = (
            f"Rate limit reached for {model} on {unit} per {per}: Limit {bucket.limit}, "
            f"Used {used}, Requested {int(amount)}. Please try again in {go_duration(wait)}."
        )
    headers = retry_headers(seconds)
    headers["retry-after-ms"] = str(max(1, math.ceil(wait * 1000)))
    return MockError(
        "rate_limit",
        message,
        code="rate_limit_exceeded",
        headers=headers,
        detail={"bucket": kind, "limit": bucket.limit, "count": int(amount), "model": model},
    )


def go_duration(seconds: float) -> str:
    """A duration as Go prints one, as OpenAI's ``x-ratelimit-reset-*`` headers do:
    ``120ms``, ``8.64s``, ``6m0s``, ``1h2m3s``."""
    if seconds < 1:
        return "0s" if seconds <= 0 else _MILLISECONDS[round(seconds * 1000)]
    if seconds < 60:
        return f"{round(seconds, 3):g}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    secs_text = f"{round(secs + seconds - whole, 3):g}s"
    return (f"{hours}h" if hours else "") + f"{minutes}m" + secs_text


_MILLISECONDS = ("1ms", *(f"{ms}ms" for ms in range(1, 1001)))
""":func:`go_duration` below a second, by rounded milliseconds (0 shows as ``1ms``)."""


def check_key(key: str | None, keys: frozenset[str]) -> None:
    """Raise the 401 :class:`MockError` (structured: ``invalid_api_key``, the dialect words
    it) when ``key`` is not one of ``keys``."""
    if key is not None and key in keys:
        return
    shown = None if not key else (key[:3] + "*" * 4 + key[-4:] if len(key) > 8 else "****")
    message = (
        "You didn't provide an API key." if not key else f"Incorrect API key provided: {shown}."
    )
    raise MockError("authentication", message, code="invalid_api_key", detail={"key": shown})


__all__ = [
    "DEFAULTS",
    "Account",
    "Bucket",
    "Meter",
    "QuotaView",
    "Quotas",
    "check_key",
    "go_duration",
]
