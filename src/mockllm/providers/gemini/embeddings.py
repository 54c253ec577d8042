"""Gemini embeddings: ``embedContent`` and ``batchEmbedContents``, unit vectors from
:func:`mockllm.core.embeddings.embed` of the model's (or the requested) dimensionality."""

from __future__ import annotations

from typing import Any

from ...core.embeddings import embed
from ...core.errors import MockError
from ...wire import HttpCall, JsonResult, Result
from . import calls
from . import protocol as p
from .models import default_dimensions

MAX_DIMENSIONS = 3072


def _limit(call: HttpCall, name: str) -> int:
    """The largest ``outputDimensionality`` of ``name``: its default size when it is a
    catalogue model, else 3072."""
    known = call.services.models.get("gemini", name) is not None
    return default_dimensions(name) if known else MAX_DIMENSIONS


def _embedding(request: p.EmbedContentRequest, name: str, limit: int, where: str) -> dict[str, Any]:
    dimensions = request.output_dimensionality or default_dimensions(name)
    if not 1 <= dimensions <= limit:
        raise MockError(
            "invalid_request",
            f"* {where}.output_dimensionality: output_dimensionality must be between 1 and "
            f"{limit}, got {dimensions}.",
        )
    text = " ".join(part.text for part in request.content.parts if part.text)
    return {"values": embed(text, dimensions)}


async def embed_content(call: HttpCall, name: str) -> Result:
    """``POST /{ver}/models/{model}:embedContent``: ``{"embedding": {"values": [...]}}``."""
    body = calls.parse(p.EmbedContentRequest, call, "EmbedContentRequest")
    calls.model(call, name, "embedContent")
    limit = _limit(call, name)
    return JsonResult({"embedding": _embedding(body, name, limit, "EmbedContentRequest")})


async def batch_embed_contents(call: HttpCall, name: str) -> Result:
    """``POST /{ver}/models/{model}:batchEmbedContents`` (what google-genai's
    ``embed_content`` calls): ``{"embeddings": [{"values": [...]}, ...]}``."""
    body = calls.parse(p.BatchEmbedContentsRequest, call, "BatchEmbedContentsRequest")
    calls.model(call, name, "batchEmbedContents")
    if not body.requests:
        raise MockError(
            "invalid_request", "* BatchEmbedContentsRequest.requests: requests is not specified"
        )
    limit = _limit(call, name)
    embeddings = [
        _embedding(request, name, limit, f"BatchEmbedContentsRequest.requests[{i}]")
        for i, request in enumerate(body.requests)
    ]
    return JsonResult({"embeddings": embeddings})
