"""Anthropic's rate-limit headers (wire-formats.md section 5.1):
``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}``,
the reset an RFC 3339 time (UTC) at which the bucket is full again."""

from __future__ import annotations

import datetime as _dt

from ...realism.quotas import Meter, QuotaView


def _at(epoch: float) -> str:
    moment = _dt.datetime.fromtimestamp(round(epoch), _dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def limit_headers(view: QuotaView) -> dict[str, str]:
    """The ``anthropic-ratelimit-*`` headers of ``view`` (``remaining`` counts this
    request)."""
    meters: tuple[tuple[str, Meter], ...] = (
        ("requests", view.requests),
        ("tokens", view.tokens),
        ("input-tokens", view.input_tokens),
        ("output-tokens", view.output_tokens),
    )
    headers: dict[str, str] = {}
    for name, meter in meters:
        headers[f"anthropic-ratelimit-{name}-limit"] = str(meter.limit)
        headers[f"anthropic-ratelimit-{name}-remaining"] = str(meter.remaining)
        headers[f"anthropic-ratelimit-{name}-reset"] = _at(view.at + meter.reset)
    return headers


__all__ = ["limit_headers"]
