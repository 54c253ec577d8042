"""Prometheus metrics (``GET /metrics``). Being built: see the issue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from .services import Services


def routes(services: Services) -> list[BaseRoute]:
    """The ``/metrics`` route (none yet)."""
    return []
