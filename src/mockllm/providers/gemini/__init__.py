"""The Gemini dialect: the Generative Language API's generateContent (JSON, SSE and JSON
array streams), countTokens, embeddings and models, under both ``/v1beta`` and ``/v1``
(wire-formats.md section 6)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from urllib.parse import unquote_plus

from ...core.traits import Traits
from ...wire import HttpCall
from ..base import Provider, RouteSpec, deferred
from .calls import GOOGLE_KEY_HEADER, ID_PREFIX
from .errors import render_error, reword, stream_error
from .listing import list_models
from .models import MODELS


def response_headers(call: HttpCall) -> dict[str, str]:
    """Headers real Gemini answers carry."""
    elapsed = int((time.perf_counter() - call.started) * 1000)
    return {
        "server-timing": f"gfet4t7; dur={elapsed}",
        "vary": "Origin, X-Origin, Referer",
        "x-content-type-options": "nosniff",
    }


def api_key(call: HttpCall) -> str | None:
    """``x-goog-api-key``, else the ``key`` query parameter."""
    found = call.headers.get(GOOGLE_KEY_HEADER)
    if found:
        return str(found)
    for part in call.query.split("&"):
        name, _, value = part.partition("=")
        if name == "key" and value:
            return unquote_plus(value)
    return None


def _gemini_post(path: str, headers: Mapping[str, str]) -> bool:
    """A POST on the shared ``/v1/models/...`` path is Gemini's when it names an action
    (``model:generateContent``) or carries the Google key; otherwise the other providers'
    GET-only route answers it (with their 405)."""
    return ":" in path.rsplit("/", 1)[-1] or GOOGLE_KEY_HEADER in headers


def provider() -> Provider:
    """Entry point ``mockllm.providers: gemini``.

    ``/v1beta`` is Gemini's alone. ``/v1/models`` and ``/v1/models/{id}`` (GET) are shared
    with OpenAI and Anthropic: Gemini answers them when the request carries
    ``x-goog-api-key``, as google-genai always does. ``POST /v1/models/{id}:{action}`` is
    Gemini's only (the others serve GET there).
    """
    resource = "/{ver}/models/{model:path}"
    # Imported with the request models on the dialect's first request.
    models_resource = deferred(f"{__name__}.routes", "models_resource", generating=True)
    routes: list[RouteSpec] = []
    for ver in ("v1beta", "v1"):
        shared = GOOGLE_KEY_HEADER if ver == "v1" else None
        path = resource.replace("{ver}", ver)
        routes.append(RouteSpec(f"/{ver}/models", ("GET",), list_models, "models.list", shared))
        if shared:
            routes.append(RouteSpec(path, ("GET",), models_resource, "models.get", shared))
            routes.append(
                RouteSpec(path, ("POST",), models_resource, "models.action", when=_gemini_post)
            )
        else:
            routes.append(RouteSpec(path, ("GET", "POST"), models_resource, "models"))
    return Provider(
        name="gemini",
        routes=tuple(routes),
        render_error=render_error,
        stream_error=stream_error,
        reword=reword,
        models=MODELS,
        capabilities=frozenset({"streaming", "tools", "vision", "json_schema", "reasoning"}),
        prefixes=("/v1beta/", "/v1/"),
        claim_header=GOOGLE_KEY_HEADER,
        response_headers=response_headers,
        api_key=api_key,
        traits=Traits(
            tool_call_id_prefix=ID_PREFIX,
            model_prefixes=("gemini", "gemma", "text-embedding-00"),
        ),
        rank=3,
    )
