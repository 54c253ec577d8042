"""OpenAI Responses API (wire-formats.md section 3): ``protocol`` (request schema),
``items`` (input items: their stored form and the neutral messages they stand for),
``decode`` (the neutral request), ``encode`` (the ``Response`` object and its event
stream), ``store`` (stored responses for ``previous_response_id``, retrieval and
``input_items``), ``compaction`` (``/responses/compact``) and ``routes`` (handlers). See
docs/responses.md."""

from __future__ import annotations

from collections.abc import Callable

from ....core.limits import Limits
from ....wire import Handler
from ...base import RouteSpec, deferred
from .store import DEFAULT_CAPACITY, STATE, ResponseStore, factory

__all__ = ["STATE", "ResponseStore", "api_routes", "state"]


def api_routes() -> tuple[RouteSpec, ...]:
    """The Responses API routes. Their handlers share the app's :class:`ResponseStore`,
    declared by :func:`state`. The router tries literal paths (``compact``,
    ``input_tokens``) before ``{response_id}``, whatever the order here.

    Not called ``routes``: the handlers' module is, and importing it (on the first
    request) makes the package's attribute ``routes`` that module."""
    item = "/v1/responses/{response_id}"
    handlers = f"{__name__}.routes"  # imported with the request models on first use

    def h(name: str) -> Handler:
        return deferred(handlers, name, generating=name == "create")

    return (
        RouteSpec("/v1/responses", ("POST",), h("create"), "responses.create"),
        RouteSpec(item, ("GET",), h("retrieve"), "responses.retrieve"),
        RouteSpec(item, ("DELETE",), h("delete"), "responses.delete"),
        RouteSpec(item + "/cancel", ("POST",), h("cancel"), "responses.cancel"),
        RouteSpec(item + "/input_items", ("GET",), h("input_items"), "responses.input_items"),
        RouteSpec(
            "/v1/responses/input_tokens", ("POST",), h("input_tokens"), "responses.input_tokens"
        ),
        RouteSpec("/v1/responses/compact", ("POST",), h("compact"), "responses.compact"),
    )


def state(capacity: int = DEFAULT_CAPACITY) -> dict[str, Callable[[Limits], object]]:
    """The per-app state the routes need (``Provider.state``): the stored responses, at
    most ``capacity`` of them."""
    return {STATE: factory(capacity)}
