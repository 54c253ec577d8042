"""OpenAI Responses API (wire-formats.md section 3): ``protocol`` (request schema),
``translate`` (decode, ``Response`` object and event stream), ``store`` (stored responses
for ``previous_response_id``, retrieval and ``input_items``) and ``routes`` (handlers).
See docs/responses.md."""

from __future__ import annotations

from ...base import RouteSpec
from .routes import handlers
from .store import DEFAULT_CAPACITY, ResponseStore


def routes(capacity: int = DEFAULT_CAPACITY) -> tuple[RouteSpec, ...]:
    """The Responses API routes of one app; its stored responses (at most ``capacity``,
    least recently used forgotten first) live in the handlers' closures."""
    h = handlers(ResponseStore(capacity))
    item = "/v1/responses/{response_id}"
    return (
        RouteSpec("/v1/responses", ("POST",), h["create"], "responses.create"),
        # Before the {response_id} routes, which would otherwise match it.
        RouteSpec(
            "/v1/responses/input_tokens", ("POST",), h["input_tokens"], "responses.input_tokens"
        ),
        RouteSpec(item, ("GET",), h["retrieve"], "responses.retrieve"),
        RouteSpec(item, ("DELETE",), h["delete"], "responses.delete"),
        RouteSpec(item + "/cancel", ("POST",), h["cancel"], "responses.cancel"),
        RouteSpec(item + "/input_items", ("GET",), h["input_items"], "responses.input_items"),
    )
