"""Gemini HTTP handlers: thin glue between the wire and the engine.

Every model route is ``/{ver}/models/{model}:{action}`` (``ver`` = ``v1beta`` or ``v1``):
one path-converter route per version receives them all, splits ``model:action`` and
dispatches on the action; an unknown action is Gemini's 404.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs

import orjson
from pydantic import BaseModel, ValidationError

from ...core.embeddings import embed
from ...core.errors import MockError
from ...core.models import ModelInfo
from ...core.types import Completion
from ...serving import Turn, answer
from ...wire import SERVER_ERROR_MESSAGE, HttpCall, JsonResult, Result
from ..validation import parse_json
from . import protocol as p
from . import translate
from .errors import UNREGISTERED_CALLER, error_body, invalid_request
from .models import EMBED_METHODS, GENERATE_METHODS, default_dimensions

log = logging.getLogger("mockllm.gemini")

GOOGLE_KEY_HEADER = "x-goog-api-key"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_DIMENSIONS = 3072
ID_PREFIX = "call_"
JSON_TYPE = "application/json; charset=UTF-8"

Body = TypeVar("Body", bound=BaseModel)


# -- request plumbing -----------------------------------------------------------------------


def _query(call: HttpCall) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(call.query).items()}


def google_key(call: HttpCall) -> str | None:
    """The Google API key of the call: ``x-goog-api-key`` or ``?key=``."""
    return call.headers.get(GOOGLE_KEY_HEADER) or _query(call).get("key") or None


def api_key(call: HttpCall) -> str | None:
    """The caller's credential: a Google API key, or an ``Authorization: Bearer`` token
    (OAuth callers); any value is accepted."""
    key = google_key(call)
    if key:
        return key
    auth = call.headers.get("authorization", "")
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    return token or None


def _require_key(call: HttpCall) -> None:
    if api_key(call) is None:
        raise MockError("permission", UNREGISTERED_CALLER)


def _version(call: HttpCall) -> str:
    return call.path.split("/", 2)[1]


def _parse(model: type[Body], call: HttpCall, name: str) -> Body:
    try:
        return parse_json(model, call.body or b"{}", huge="float")
    except ValidationError as exc:
        raise invalid_request(exc, call.body, name) from None


def _not_supported(name: str, version: str, method: str) -> MockError:
    return MockError(
        "not_found",
        f"models/{name} is not found for API version {version}, or is not supported for "
        f"{method}. Call ListModels to see the list of available models and their "
        "supported methods.",
    )


def _model(call: HttpCall, name: str, method: str) -> ModelInfo:
    """The catalogue entry of ``name`` (404 with ``strict_models`` when unknown); a known
    model that does not serve ``method`` (embedding vs generation) is a 404 too."""
    version = _version(call)
    try:
        info = call.services.engine.resolve_model("gemini", name)
    except MockError as exc:
        if exc.code == "model_not_found":
            raise _not_supported(name, version, method) from None
        raise
    if call.services.store.current.models.get("gemini", name) is not None:
        embedding = "embeddings" in info.capabilities
        if embedding != (method in ("embedContent", "batchEmbedContents")):
            raise _not_supported(name, version, method)
    return info


# -- generateContent ------------------------------------------------------------------------


async def _array_guard(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """A JSON-array stream whose failure still ends as valid JSON: the error envelope as
    the array's last element."""
    started = False
    error: MockError
    try:
        async for chunk in chunks:
            started = started or bool(chunk)
            yield chunk
        return
    except MockError as exc:
        error = exc
    except Exception:
        log.exception("error while streaming a Gemini JSON array")
        error = MockError("server", SERVER_ERROR_MESSAGE)
    body = orjson.dumps(error_body(error))
    yield (b",\r\n" + body + b"]") if started else (b"[" + body + b"]")


def _turn(call: HttpCall, name: str, stream: bool) -> Turn:
    """A generateContent request decoded for the serving path: a
    ``GenerateContentResponse``, or its stream (SSE with ``alt=sse``, else a JSON array)."""
    method = "streamGenerateContent" if stream else "generateContent"
    body = _parse(p.GenerateContentRequest, call, "GenerateContentRequest")
    if not body.contents:
        raise MockError(
            "invalid_request", "* GenerateContentRequest.contents: contents is not specified"
        )
    info = _model(call, name, method)
    request = translate.decode(body, name, call.headers, method, id_prefix=ID_PREFIX)
    if request.max_tokens is not None and request.max_tokens > info.max_output_tokens:
        request.max_tokens = info.max_output_tokens  # Gemini clamps rather than refuses
    thoughts = translate.include_thoughts(body)
    resp_id = translate.response_id()

    def encode(completion: Completion) -> dict[str, Any]:
        return translate.encode(completion, info.id, resp_id, thoughts)

    def items(completion: Completion) -> Any:
        return translate.chunks(completion, info.id, resp_id, thoughts)

    if not stream or _query(call).get("alt") == "sse":
        return Turn(
            request,
            encode,
            lambda c: translate.sse_frames(items(c)),
            media_type="text/event-stream",
        )
    return Turn(
        request,
        encode,
        lambda c: translate.array_frames(items(c)),
        media_type=JSON_TYPE,
        wrap=_array_guard,
    )


async def generate_content(call: HttpCall, name: str) -> Result:
    """``POST /{ver}/models/{model}:generateContent``."""
    return await answer(call, _turn(call, name, stream=False))


async def stream_generate_content(call: HttpCall, name: str) -> Result:
    """``POST /{ver}/models/{model}:streamGenerateContent``: SSE with ``alt=sse``, else a
    JSON array."""
    return await answer(call, _turn(call, name, stream=True))


async def count_tokens(call: HttpCall, name: str) -> Result:
    """``POST /{ver}/models/{model}:countTokens``: ``{"totalTokens": n, ...}``, the same
    count as the ``promptTokenCount`` of a generateContent with the same input."""
    body = _parse(p.CountTokensRequest, call, "CountTokensRequest")
    info = _model(call, name, "countTokens")
    inner = body.generate_content_request
    if inner is None:
        inner = p.GenerateContentRequest.model_validate({"contents": body.contents or []})
    if not inner.contents:
        total = 0
    else:
        request = translate.decode(inner, name, call.headers, "countTokens", id_prefix=ID_PREFIX)
        total = call.services.engine.prompt_tokens(request, info)
    return JsonResult(
        {"totalTokens": total, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": total}]}
    )


# -- embeddings -----------------------------------------------------------------------------


def _limit(call: HttpCall, name: str) -> int:
    """The largest ``outputDimensionality`` of ``name``: its default size when it is a
    catalogue model, else 3072."""
    known = call.services.store.current.models.get("gemini", name) is not None
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
    body = _parse(p.EmbedContentRequest, call, "EmbedContentRequest")
    _model(call, name, "embedContent")
    limit = _limit(call, name)
    return JsonResult({"embedding": _embedding(body, name, limit, "EmbedContentRequest")})


async def batch_embed_contents(call: HttpCall, name: str) -> Result:
    """``POST /{ver}/models/{model}:batchEmbedContents`` (what google-genai's
    ``embed_content`` calls): ``{"embeddings": [{"values": [...]}, ...]}``."""
    body = _parse(p.BatchEmbedContentsRequest, call, "BatchEmbedContentsRequest")
    _model(call, name, "batchEmbedContents")
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


# -- models ---------------------------------------------------------------------------------


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
    _require_key(call)
    query = _query(call)
    try:
        size = int(query.get("pageSize") or DEFAULT_PAGE_SIZE)
    except ValueError:
        raise MockError(
            "invalid_request", f"Invalid value at 'page_size' (TYPE_INT32), {query['pageSize']}"
        ) from None
    size = DEFAULT_PAGE_SIZE if size <= 0 else min(size, MAX_PAGE_SIZE)
    offset = _offset(query["pageToken"]) if query.get("pageToken") else 0
    models = call.services.store.current.models.for_provider("gemini")
    page = models[offset : offset + size]
    body: dict[str, Any] = {"models": [model_object(m) for m in page]}
    if offset + size < len(models):
        body["nextPageToken"] = _page_token(offset + size)
    return JsonResult(body)


async def get_model(call: HttpCall, name: str) -> Result:
    """``GET /{ver}/models/{model}``: one catalogue entry (by id or alias), else 404."""
    info = call.services.store.current.models.get("gemini", name)
    if info is None:
        raise MockError(
            "not_found", f"Model is not found: models/{name} for api version {_version(call)}"
        )
    return JsonResult(model_object(info))


# -- dispatch -------------------------------------------------------------------------------

Action = Callable[[HttpCall, str], Awaitable[Result]]
ACTIONS: dict[str, Action] = {
    "generateContent": generate_content,
    "streamGenerateContent": stream_generate_content,
    "countTokens": count_tokens,
    "embedContent": embed_content,
    "batchEmbedContents": batch_embed_contents,
}


async def models_resource(call: HttpCall) -> Result:
    """``/{ver}/models/{model}[:{action}]``: GET is the model, POST runs the action."""
    target = str(call.path_params["model"]).removeprefix("models/")
    name, colon, action = target.partition(":")
    if call.method == "GET":
        _require_key(call)
        if colon:
            raise MockError("method_not_allowed", f"Method GET not allowed for {call.path}.")
        return await get_model(call, name)
    _require_key(call)
    handler = ACTIONS.get(action) if colon else None
    if handler is None:
        raise MockError("not_found", "Method not found.")
    return await handler(call, name)
