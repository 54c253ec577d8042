"""OpenAI completions endpoint (wire-formats.md section 4)."""

from __future__ import annotations

from ..base import RouteSpec


def routes() -> tuple[RouteSpec, ...]:
    """The completions routes of one app."""
    return ()
