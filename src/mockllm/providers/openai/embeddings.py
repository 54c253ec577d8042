"""OpenAI embeddings: ``POST /v1/embeddings`` (wire-formats.md section 4, pitfall P13).

Embeddings are not scripted by rules: each text gets the deterministic unit vector of
:func:`mockllm.core.embeddings.embed` (texts sharing words are closer), so retrieval code
can be tested without a config. The model is still resolved through the engine, so
``strict_models`` applies.

* sizes as the real models: ``text-embedding-3-large`` 3072, every other model 1536;
  ``dimensions`` asks for another size (not for ``text-embedding-ada-002``, which the real
  API refuses with a 400); a shorter vector is a vector of its own, not a prefix of the
  full one;
* ``encoding_format: "base64"`` (what openai-python asks for by default) is little-endian
  float32; ``"float"`` gives the same float32 values as JSON numbers, so both decode to
  identical floats;
* ``usage`` counts tokens exactly in the model's encoding; a token array counts its length.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

from pydantic import ValidationError

from ...core.embeddings import embed
from ...core.errors import MockError
from ...wire import HttpCall, JsonResult, Result
from ..base import RouteSpec
from ..validation import parse_json
from .errors import invalid_request
from .extras_protocol import EmbeddingRequest
from .inputs import texts

NATIVE_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
DEFAULT_DIMENSIONS = 1536
MAX_DIMENSIONS = 8192
"""The largest ``dimensions`` accepted for a model of unknown native size."""
FIXED_DIMENSIONS = frozenset({"text-embedding-ada-002"})
"""Models that refuse ``dimensions``."""

MAX_INPUTS = 2048
"""Most inputs in one request (a flat token array is one input)."""
MAX_REQUEST_TOKENS = 300_000

INVALID_INPUT = (
    "'$.input' is invalid. Please check the API reference: "
    "https://platform.openai.com/docs/api-reference."
)


def create(call: HttpCall, provider: str) -> dict[str, Any]:
    """The ``CreateEmbeddingResponse`` for ``call``'s body; ``provider`` names the catalogue
    the model is looked up in. Raises :class:`MockError` for what the real API rejects."""
    try:
        body = parse_json(EmbeddingRequest, call.body)
    except ValidationError as exc:
        raise invalid_request(exc, call.body) from None
    info = call.services.engine.resolve_model(provider, body.model)
    inputs = body.input
    if isinstance(inputs, list) and len(inputs) > MAX_INPUTS and not isinstance(inputs[0], int):
        raise MockError(
            "invalid_request",
            f"Invalid 'input': array too long. Expected an array with maximum length "
            f"{MAX_INPUTS}, but got an array with length {len(inputs)} instead.",
            param="input",
            code="array_above_max_length",
        )
    items = texts(inputs, "input", call.services.tokenizer, info.tokenizer)
    if not items or any(not item.text and not item.tokens for item in items):
        raise MockError("invalid_request", INVALID_INPUT)
    for item in items:
        if item.tokens > info.context_window:
            raise MockError(
                "invalid_request",
                f"This model's maximum context length is {info.context_window} tokens, "
                f"however you requested {item.tokens} tokens ({item.tokens} in your prompt; "
                "0 for the completion). Please reduce your prompt; or completion length.",
                param="input",
                code="context_length_exceeded",
            )
    total = sum(item.tokens for item in items)
    if total > MAX_REQUEST_TOKENS:
        raise MockError(
            "invalid_request",
            f"Requested {total} tokens, max {MAX_REQUEST_TOKENS} tokens per request",
            param="input",
            code="max_tokens_per_request",
        )
    size = dimensions(info.id, body.dimensions)
    as_base64 = body.encoding_format == "base64"
    data = []
    for index, item in enumerate(items):
        packed = struct.pack(f"<{size}f", *embed(item.text, size))
        vector: str | list[float] = (
            base64.b64encode(packed).decode()
            if as_base64
            else list(struct.unpack(f"<{size}f", packed))
        )
        data.append({"object": "embedding", "index": index, "embedding": vector})
    return {
        "object": "list",
        "data": data,
        "model": body.model,
        "usage": {"prompt_tokens": total, "total_tokens": total},
    }


def dimensions(model: str, asked: int | None) -> int:
    """The vector size for ``model`` (a catalogue id) when ``asked`` for that many."""
    native = NATIVE_DIMENSIONS.get(model, DEFAULT_DIMENSIONS)
    if asked is None:
        return native
    if model in FIXED_DIMENSIONS:
        raise MockError("invalid_request", "This model does not support specifying dimensions.")
    limit = native if model in NATIVE_DIMENSIONS else MAX_DIMENSIONS
    if asked > limit:
        raise MockError(
            "invalid_request",
            f"Invalid 'dimensions': integer above maximum value. Expected a value <= {limit}, "
            f"but got {asked} instead.",
            param="dimensions",
            code="integer_above_max_value",
        )
    return asked


async def create_embeddings(call: HttpCall) -> Result:
    """``POST /v1/embeddings``."""
    return JsonResult(create(call, "openai"))


def routes() -> tuple[RouteSpec, ...]:
    """The embeddings routes of one app."""
    return (RouteSpec("/v1/embeddings", ("POST",), create_embeddings, "embeddings"),)
