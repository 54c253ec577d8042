"""The Ollama dialect: the native ``/api/*`` API (wire-formats.md section 7).

Chat and generate stream NDJSON by default, embeddings come from the neutral embedding
function, and the model-management endpoints (``/api/tags``, ``/api/show``, ``/api/ps``,
``/api/pull``, ``/api/version``) describe a catalogue of typical local models. ``GET /``
answers "Ollama is running", the probe clients send before anything else.
"""

from __future__ import annotations

from ...core.traits import Traits
from ..base import Provider, RouteSpec
from .embeddings import embed, embeddings
from .errors import render_error, reword, stream_error
from .management import ps, pull, root, show, tags, version
from .models import MODELS
from .routes import chat, generate
from .runtime import LoadedModels


def provider() -> Provider:
    """Entry point ``mockllm.providers: ollama``. Each app gets its own set of loaded
    models (``/api/ps``): the per-app state ``ollama.loaded``."""
    return Provider(
        name="ollama",
        routes=(
            RouteSpec("/", ("GET", "HEAD"), root, "ollama.root"),
            RouteSpec("/api/version", ("GET", "HEAD"), version, "ollama.version"),
            RouteSpec("/api/chat", ("POST",), chat, "ollama.chat"),
            RouteSpec("/api/generate", ("POST",), generate, "ollama.generate"),
            RouteSpec("/api/embed", ("POST",), embed, "ollama.embed"),
            RouteSpec("/api/embeddings", ("POST",), embeddings, "ollama.embeddings"),
            RouteSpec("/api/tags", ("GET", "HEAD"), tags, "ollama.tags"),
            RouteSpec("/api/show", ("POST",), show, "ollama.show"),
            RouteSpec("/api/ps", ("GET",), ps, "ollama.ps"),
            RouteSpec("/api/pull", ("POST",), pull, "ollama.pull"),
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
