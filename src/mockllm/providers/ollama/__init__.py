"""The Ollama dialect: the native ``/api/*`` API (wire-formats.md section 7).

Chat and generate stream NDJSON by default, embeddings come from the neutral embedding
function, and the model-management endpoints (``/api/tags``, ``/api/show``, ``/api/ps``,
``/api/pull``, ``/api/version``) describe a catalogue of typical local models. ``GET /``
answers "Ollama is running", the probe clients send before anything else.
"""

from __future__ import annotations

from ...core.traits import Traits
from ...wire import Handler
from ..base import Provider, RouteSpec, deferred
from .errors import render_error, reword, stream_error
from .models import MODELS
from .runtime import LoadedModels


def provider() -> Provider:
    """Entry point ``mockllm.providers: ollama``. Each app gets its own set of loaded
    models (``/api/ps``): the per-app state ``ollama.loaded``."""

    def handler(module: str, name: str) -> Handler:
        """Imported with the request models on the dialect's first request."""
        return deferred(f"{__name__}.{module}", name, generating=module == "routes")

    return Provider(
        name="ollama",
        routes=(
            RouteSpec("/", ("GET", "HEAD"), handler("management", "root"), "ollama.root"),
            RouteSpec(
                "/api/version", ("GET", "HEAD"), handler("management", "version"), "ollama.version"
            ),
            RouteSpec("/api/chat", ("POST",), handler("routes", "chat"), "ollama.chat"),
            RouteSpec("/api/generate", ("POST",), handler("routes", "generate"), "ollama.generate"),
            RouteSpec("/api/embed", ("POST",), handler("embeddings", "embed"), "ollama.embed"),
            RouteSpec(
                "/api/embeddings",
                ("POST",),
                handler("embeddings", "embeddings"),
                "ollama.embeddings",
            ),
            RouteSpec("/api/tags", ("GET", "HEAD"), handler("management", "tags"), "ollama.tags"),
            RouteSpec("/api/show", ("POST",), handler("management", "show"), "ollama.show"),
            RouteSpec("/api/ps", ("GET",), handler("management", "ps"), "ollama.ps"),
            RouteSpec("/api/pull", ("POST",), handler("management", "pull"), "ollama.pull"),
        ),
        render_error=render_error,
        stream_error=stream_error,
        reword=reword,
        models=MODELS,
        capabilities=frozenset({"streaming", "tools", "vision", "reasoning", "embeddings"}),
        prefixes=("/api/",),
        traits=Traits(tool_call_id_prefix="call_"),
        rank=4,
        state={"ollama.loaded": lambda _limits: LoadedModels()},
    )
