"""The OpenAI dialect: Chat Completions and models (wire-formats.md sections 2 and 4)."""

from __future__ import annotations

from ...core.traits import Traits
from ...wire import HttpCall
from ..base import Provider, RouteSpec
from . import completions, embeddings, moderations, responses
from .errors import render_error, stream_error
from .models import MODELS
from .routes import chat_completions, list_models, retrieve_model


def response_headers(call: HttpCall) -> dict[str, str]:
    """Headers real OpenAI answers carry (request id, processing time, API version)."""
    import time

    elapsed = int((time.perf_counter() - call.started) * 1000)
    return {
        "x-request-id": call.request_id,
        "openai-processing-ms": str(elapsed),
        "openai-version": "2020-10-01",
        "openai-organization": "mockllm",
    }


def provider() -> Provider:
    """Entry point ``mockllm.providers: openai``."""
    return Provider(
        name="openai",
        routes=(
            RouteSpec("/v1/chat/completions", ("POST",), chat_completions, "chat.completions"),
            RouteSpec("/v1/models", ("GET",), list_models, "models.list"),
            RouteSpec("/v1/models/{model:path}", ("GET",), retrieve_model, "models.retrieve"),
            *responses.routes(),
            *embeddings.routes(),
            *completions.routes(),
            *moderations.routes(),
        ),
        render_error=render_error,
        stream_error=stream_error,
        models=MODELS,
        capabilities=frozenset({"streaming", "tools", "vision", "json_schema"}),
        prefixes=("/v1/",),
        response_headers=response_headers,
        traits=Traits(openai_model_names=True),
    )
