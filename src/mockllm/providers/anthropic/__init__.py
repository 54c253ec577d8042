"""The Anthropic dialect: Messages, token counting and models (wire-formats.md section 5)."""

from __future__ import annotations

from ...core.traits import TokenCosts, Traits
from ...wire import HttpCall
from ..base import Provider, RouteSpec, bearer_key, deferred
from .errors import render_error, reword, stream_error
from .limits import limit_headers
from .models import MODELS

VERSION_HEADER = "anthropic-version"

_ROUTES = f"{__name__}.routes"
"""The handlers, imported with the request models on the dialect's first request."""


def response_headers(call: HttpCall) -> dict[str, str]:
    """Headers real Anthropic answers carry."""
    return {"request-id": call.request_id, "anthropic-organization-id": "mockllm"}


def api_key(call: HttpCall) -> str | None:
    """``x-api-key`` (the documented header), else ``Authorization: Bearer`` (what the
    2.x SDKs send)."""
    return call.headers.get("x-api-key") or bearer_key(call)


def provider() -> Provider:
    """Entry point ``mockllm.providers: anthropic``."""
    return Provider(
        name="anthropic",
        routes=(
            RouteSpec(
                "/v1/messages",
                ("POST",),
                deferred(_ROUTES, "messages", generating=True),
                "messages",
            ),
            RouteSpec(
                "/v1/messages/count_tokens",
                ("POST",),
                deferred(_ROUTES, "count_tokens"),
                "count_tokens",
            ),
            # /v1/models is shared with OpenAI: Anthropic's SDKs always send this header.
            RouteSpec(
                "/v1/models",
                ("GET",),
                deferred(_ROUTES, "list_models"),
                "models.list",
                VERSION_HEADER,
            ),
            RouteSpec(
                "/v1/models/{model:path}",
                ("GET",),
                deferred(_ROUTES, "retrieve_model"),
                "models.retrieve",
                VERSION_HEADER,
            ),
        ),
        render_error=render_error,
        stream_error=stream_error,
        reword=reword,
        models=MODELS,
        capabilities=frozenset({"streaming", "tools", "vision", "reasoning"}),
        prefixes=("/v1/messages", "/v1/"),
        claim_header=VERSION_HEADER,
        response_headers=response_headers,
        limit_headers=limit_headers,
        api_key=api_key,
        traits=Traits(
            tokens=TokenCosts(reply_priming=0, system=4),
            tool_call_id_prefix="toolu_01",
            model_prefixes=("claude",),
        ),
        rank=1,
    )
