"""OpenAI Responses API (wire-formats.md section 3)."""

from __future__ import annotations

from ...base import RouteSpec


def routes() -> tuple[RouteSpec, ...]:
    """The Responses API routes of one app (per-app state lives in their closures)."""
    return ()
