"""Gemini's model listing: ``models.list`` (paged with ``pageSize`` and ``pageToken``) and
``models.get``, each model shown as a ``Model`` resource."""

from __future__ import annotations

import base64
from typing import Any

from ...core.errors import MockError
from ...core.models import ModelInfo
from ...wire import HttpCall, JsonResult, Result
from . import calls
from .models import EMBED_METHODS, GENERATE_METHODS

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def model_object(info: ModelInfo) -> dict[str, Any]:
    """A ``Model`` resource as ``models.list`` and ``models.get`` show it."""
    embedding = "embeddings" in info.capabilities
    name = info.display_name or info.id
    obj: dict[str, Any] = {
        "name": f"models/{info.id}",
        "version": "001",
        "displayName": name,
        "description": name,
        "inputTokenLimit": info.context_window,
        "outputTokenLimit": info.max_output_tokens,
        "supportedGenerationMethods": list(EMBED_METHODS if embedding else GENERATE_METHODS),
    }
    if not embedding:
        obj.update(temperature=1, topP=0.95, topK=64, maxTemperature=2)
        if "reasoning" in info.capabilities:
            obj["thinking"] = True
    return obj


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind == "offset" and value.isdigit():
            return int(value)
    except ValueError:
        pass
    raise MockError("invalid_request", "Invalid page token.")


async def list_models(call: HttpCall) -> Result:
    """``GET /{ver}/models``: the Gemini catalogue, paged with ``pageSize`` and
    ``pageToken`` (``nextPageToken`` while more remain)."""
    calls.require_key(call)
    query = calls.query(call)
    try:
        size = int(query.get("pageSize") or DEFAULT_PAGE_SIZE)
    except ValueError:
        raise MockError(
            "invalid_request", f"Invalid value at 'page_size' (TYPE_INT32), {query['pageSize']}"
        ) from None
    size = DEFAULT_PAGE_SIZE if size <= 0 else min(size, MAX_PAGE_SIZE)
    offset = _offset(query["pageToken"]) if query.get("pageToken") else 0
    models = call.services.models.for_provider("gemini")
    page = models[offset : offset + size]
    body: dict[str, Any] = {"models": [model_object(m) for m in page]}
    if offset + size < len(models):
        body["nextPageToken"] = _page_token(offset + size)
    return JsonResult(body)


async def get_model(call: HttpCall, name: str) -> Result:
    """``GET /{ver}/models/{model}``: one catalogue entry (by id or alias), else 404."""
    info = call.services.models.get("gemini", name)
    if info is None:
        raise MockError(
            "not_found", f"Model is not found: models/{name} for api version {calls.version(call)}"
        )
    return JsonResult(model_object(info))
