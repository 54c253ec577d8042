"""The OpenAI dialect: Chat Completions (and the stored ones), the Responses API, models,
embeddings, legacy completions and moderations (wire-formats.md sections 2 to 4)."""

from __future__ import annotations

import time

from ...core.traits import Traits
from ...wire import HttpCall
from ..base import Provider, RouteSpec
from . import responses, stored
from .errors import render_error, reword, stream_error
from .limits import limit_headers
from .models import MODELS, guess_tokenizer
from .routes import (
    chat_completions,
    create_completion,
    create_embeddings,
    create_moderation,
    delete_model,
    fixed_chat,
    list_models,
    retrieve_model,
)


def response_headers(call: HttpCall) -> dict[str, str]:
    """Headers real OpenAI answers carry (request id, processing time, API version)."""
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
            RouteSpec(
                "/v1/chat/completions",
                ("POST",),
                chat_completions,
                "chat.completions",
                fixed=fixed_chat,
            ),
            *_stored_completions(),
            RouteSpec("/v1/models", ("GET",), list_models, "models.list"),
            RouteSpec("/v1/models/{model:path}", ("GET",), retrieve_model, "models.retrieve"),
            RouteSpec("/v1/models/{model:path}", ("DELETE",), delete_model, "models.delete"),
            *responses.api_routes(),
            RouteSpec("/v1/embeddings", ("POST",), create_embeddings, "embeddings"),
            RouteSpec("/v1/completions", ("POST",), create_completion, "completions"),
            RouteSpec("/v1/moderations", ("POST",), create_moderation, "moderations"),
        ),
        render_error=render_error,
        stream_error=stream_error,
        reword=reword,
        models=MODELS,
        capabilities=frozenset({"streaming", "tools", "vision", "json_schema"}),
        prefixes=("/v1/",),
        response_headers=response_headers,
        limit_headers=limit_headers,
        traits=Traits(tokenizer_for=guess_tokenizer),
        rank=0,
        state={**responses.state(), stored.STATE: stored.factory()},
    )


def _stored_completions() -> tuple[RouteSpec, ...]:
    """The stored Chat Completions endpoints (``store: true``; see :mod:`.stored`)."""
    item = "/v1/chat/completions/{completion_id}"
    return (
        RouteSpec("/v1/chat/completions", ("GET",), stored.list_completions, "chat.list"),
        RouteSpec(item, ("GET",), stored.retrieve, "chat.retrieve"),
        RouteSpec(item, ("POST",), stored.update, "chat.update"),
        RouteSpec(item, ("DELETE",), stored.delete, "chat.delete"),
        RouteSpec(item + "/messages", ("GET",), stored.list_messages, "chat.messages.list"),
    )
