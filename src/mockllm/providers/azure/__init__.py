"""The Azure OpenAI dialect (wire-formats.md section 8): OpenAI's bodies on Azure's paths.

* ``/openai/deployments/{deployment}/{chat/completions|completions|embeddings}`` with a
  required ``?api-version=`` (any value; without it Azure answers 404), the deployment
  naming the model;
* the v1 form ``/openai/v1/{chat/completions|completions|embeddings|models}``, with the
  model in the body and no ``api-version`` needed;
* ``/openai/models`` (versioned) for ``AzureOpenAI().models.list()``.

Requests are answered as ``provider: azure`` with OpenAI's token counting and tool-call ids
(the same :class:`~mockllm.core.traits.Traits`) and a copy of OpenAI's catalogue. docs/azure.md
is the user's guide.
"""

from __future__ import annotations

from random import getrandbits
from uuid import UUID

from ...core.traits import Traits
from ...realism.quotas import QuotaView
from ...wire import Handler, HttpCall, header_value
from ..base import Provider, RouteSpec, bearer_key
from ..openai.interface import guess_tokenizer, limit_headers
from .errors import render_error, reword, stream_error
from .models import MODELS
from .routes import (
    PROVIDER,
    chat_completions,
    create_embeddings,
    guarded,
    list_models,
    retrieve_model,
    text_completions,
)

DEPLOYMENT = "/openai/deployments/{deployment}"


def response_headers(call: HttpCall) -> dict[str, str]:
    """Headers real Azure answers carry: request ids, and the deployment that answered."""
    headers = {
        "x-request-id": call.request_id,
        "apim-request-id": str(UUID(int=getrandbits(128), version=4)),
    }
    deployment = call.path_params.get("deployment")
    if deployment is not None:
        headers["x-ms-deployment-name"] = header_value(str(deployment))
    return headers


def api_key(call: HttpCall) -> str | None:
    """``api-key`` (a resource key), else ``Authorization: Bearer`` (an Entra ID token)."""
    return call.headers.get("api-key") or bearer_key(call)


def azure_limit_headers(view: QuotaView) -> dict[str, str]:
    """Azure sends the remaining requests and tokens of OpenAI's set."""
    headers = limit_headers(view)
    return {k: v for k, v in headers.items() if k.startswith("x-ratelimit-remaining-")}


def _route(method: str, path: str, handler: Handler, name: str, versioned: bool) -> RouteSpec:
    return RouteSpec(path, (method,), guarded(handler, versioned=versioned), name)


ROUTES = (
    ("POST", f"{DEPLOYMENT}/chat/completions", chat_completions, "chat.completions", True),
    ("POST", f"{DEPLOYMENT}/completions", text_completions, "completions", True),
    ("POST", f"{DEPLOYMENT}/embeddings", create_embeddings, "embeddings", True),
    ("POST", "/openai/v1/chat/completions", chat_completions, "v1.chat.completions", False),
    ("POST", "/openai/v1/completions", text_completions, "v1.completions", False),
    ("POST", "/openai/v1/embeddings", create_embeddings, "v1.embeddings", False),
    ("GET", "/openai/v1/models", list_models, "v1.models.list", False),
    ("GET", "/openai/v1/models/{model:path}", retrieve_model, "v1.models.retrieve", False),
    ("GET", "/openai/models", list_models, "models.list", True),
    ("GET", "/openai/models/{model:path}", retrieve_model, "models.retrieve", True),
)
"""(method, path, handler, name, whether ``api-version`` is required)."""


def provider() -> Provider:
    """Entry point ``mockllm.providers: azure``."""
    return Provider(
        name=PROVIDER,
        routes=tuple(_route(m, p, h, f"azure.{n}", v) for m, p, h, n, v in ROUTES),
        render_error=render_error,
        stream_error=stream_error,
        reword=reword,
        models=MODELS,
        capabilities=frozenset({"streaming", "tools", "vision", "json_schema", "embeddings"}),
        prefixes=("/openai/",),
        response_headers=response_headers,
        limit_headers=azure_limit_headers,
        api_key=api_key,
        # OpenAI's traits: exact tiktoken counts, "call_" tool-call ids.
        traits=Traits(tokenizer_for=guess_tokenizer),
        rank=2,
    )
