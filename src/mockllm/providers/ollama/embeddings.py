"""Ollama embeddings: ``/api/embed`` and the legacy ``/api/embeddings``, unit vectors from
:func:`mockllm.core.embeddings.embed` of the model's embedding length."""

from __future__ import annotations

import math
from typing import Any

from ...core.embeddings import embed as embed_text
from ...wire import HttpCall, JsonResult, Result
from . import protocol as p
from .encode import embed_metrics
from .errors import bad_request, model_not_found, model_not_pulled
from .models import DEFAULT_NUM_CTX
from .params import parse_keep_alive, parse_options
from .routes import CONTEXT_EXCEEDED, parse
from .runtime import loaded_models, resolve


async def embed(call: HttpCall) -> Result:
    """``POST /api/embed``: unit vectors from :func:`mockllm.core.embeddings.embed`,
    of the model's embedding length (``dimensions`` truncates and renormalizes)."""
    body = parse(call, p.EmbedRequest, "EmbedRequest")
    inputs = _inputs(body.input)
    if not body.model:
        raise bad_request("model is required")
    model = resolve(call, body.model, model_not_found)
    options = parse_options(body.options)
    keep_alive = parse_keep_alive(body.keep_alive)
    loaded_models(call).touch(model.local, keep_alive, options.num_ctx)
    if not inputs:
        return JsonResult({"model": model.name, "embeddings": []})
    tokenizer = call.services.tokenizer
    encoding = model.info.tokenizer
    window = min(options.num_ctx or DEFAULT_NUM_CTX, model.local.context_length)
    size = model.local.embedding_length
    vectors = []
    total = 0
    for text in inputs:
        tokens = tokenizer.encode(text, encoding)
        if len(tokens) > window:
            if body.truncate is False:
                raise bad_request(CONTEXT_EXCEEDED)
            tokens = tokens[:window]
            text = "".join(tokenizer.pieces(tokens, encoding, partial=False))
        total += len(tokens)
        vectors.append(_vector(text, size, body.dimensions))
    answer = {"model": model.name, "embeddings": vectors, **embed_metrics(total)}
    return JsonResult(answer)


async def embeddings(call: HttpCall) -> Result:
    """``POST /api/embeddings`` (legacy): ``{"embedding": [...]}``."""
    body = parse(call, p.EmbeddingRequest, "EmbeddingRequest")
    if not body.model:
        raise bad_request("model is required")
    model = resolve(call, body.model, model_not_pulled)
    options = parse_options(body.options)
    loaded_models(call).touch(model.local, parse_keep_alive(body.keep_alive), options.num_ctx)
    if not body.prompt:
        return JsonResult({"embedding": []})
    return JsonResult({"embedding": embed_text(body.prompt, model.local.embedding_length)})


def _inputs(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise bad_request("invalid input type")


def _vector(text: str, size: int, dimensions: int | None) -> list[float]:
    vector = embed_text(text, size)
    if dimensions is not None and 0 < dimensions < size:
        head = vector[:dimensions]
        norm = math.sqrt(sum(v * v for v in head)) or 1.0
        vector = [v / norm for v in head]
    return vector
