"""OpenAI's rate-limit headers (wire-formats.md section 2.5): ``x-ratelimit-limit-*``,
``x-ratelimit-remaining-*`` and ``x-ratelimit-reset-*`` (a Go duration until the bucket is
full again) for requests and tokens, on every answer."""

from __future__ import annotations

from ...realism.quotas import QuotaView, go_duration


def limit_headers(view: QuotaView) -> dict[str, str]:
    """The ``x-ratelimit-*`` headers of ``view`` (``remaining`` counts this request)."""
    requests, tokens = view.requests, view.tokens
    return {  # names in order: the same header block for every answer
        "x-ratelimit-limit-requests": str(requests.limit),
        "x-ratelimit-limit-tokens": str(tokens.limit),
        "x-ratelimit-remaining-requests": str(requests.remaining),
        "x-ratelimit-remaining-tokens": str(tokens.remaining),
        "x-ratelimit-reset-requests": go_duration(requests.reset),
        "x-ratelimit-reset-tokens": go_duration(tokens.reset),
    }


__all__ = ["limit_headers"]
