"""Anthropic HTTP handlers: thin glue between the wire and the engine."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs

from ...constraints import too_many_output_tokens
from ...core.errors import MockError
from ...core.ids import new_id
from ...core.models import ModelInfo
from ...serving import Turn, generation
from ...wire import HttpCall, JsonResult, Result
from ..validation import parse_body
from .decode import decode
from .encode import encode, stream
from .errors import invalid_request
from .protocol import CountTokensRequest, MessagesRequest


def _model(call: HttpCall, name: str) -> ModelInfo:
    try:
        return call.services.engine.resolve_model("anthropic", name)
    except MockError as exc:
        if exc.code == "model_not_found":
            raise MockError("not_found", f"model: {name}") from None
        raise


def messages_turn(call: HttpCall) -> Turn:
    """A Messages request decoded for the serving path, answered as Anthropic's
    ``message`` object or its event stream."""
    body = parse_body(MessagesRequest, call.body, lambda exc: invalid_request(exc, call.body))
    info = _model(call, body.model)
    if body.max_tokens > info.max_output_tokens:
        raise too_many_output_tokens(body.max_tokens, info, "max_tokens")
    request = decode(body, call.headers)
    message_id = new_id("msg_01", 11)
    return Turn(
        request,
        encode=lambda c: encode(c, message_id),
        frames=lambda c: stream(c, message_id),
    )


messages = generation(messages_turn)
"""``POST /v1/messages``."""


async def count_tokens(call: HttpCall) -> Result:
    """``POST /v1/messages/count_tokens``: ``{"input_tokens": n}``."""
    body = parse_body(CountTokensRequest, call.body, lambda exc: invalid_request(exc, call.body))
    info = _model(call, body.model)
    request = decode(body, call.headers, endpoint="count_tokens")
    return JsonResult({"input_tokens": call.services.engine.prompt_tokens(request, info)})


def _model_object(info: ModelInfo) -> dict[str, object]:
    created = datetime.fromtimestamp(info.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "type": "model",
        "id": info.id,
        "display_name": info.display_name or info.id,
        "created_at": created,
        "lifecycle": "active",
        "max_input_tokens": info.context_window,
        "max_tokens": info.max_output_tokens,
    }


async def list_models(call: HttpCall) -> Result:
    """``GET /v1/models`` (with ``anthropic-version``): paged with ``limit``,
    ``after_id`` and ``before_id``."""
    query = {k: v[-1] for k, v in parse_qs(call.query).items()}
    try:
        limit = int(query.get("limit", "20"))
    except ValueError:
        raise MockError("invalid_request", "limit: Input should be a valid integer") from None
    if not 1 <= limit <= 1000:
        raise MockError("invalid_request", "limit: Input should be between 1 and 1000")
    ids = [m.id for m in call.services.models.for_provider("anthropic")]
    models = call.services.models.for_provider("anthropic")
    start, end = 0, len(models)
    if "after_id" in query and query["after_id"] in ids:
        start = ids.index(query["after_id"]) + 1
    if "before_id" in query and query["before_id"] in ids:
        end = ids.index(query["before_id"])
        start = max(start, end - limit)
    page = models[start:end][:limit]
    data = [_model_object(m) for m in page]
    return JsonResult(
        {
            "data": data,
            "has_more": start + len(page) < end,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }
    )


async def retrieve_model(call: HttpCall) -> Result:
    """``GET /v1/models/{model}`` (with ``anthropic-version``)."""
    name = str(call.path_params["model"])
    info = call.services.models.get("anthropic", name)
    if info is None:
        raise MockError("not_found", f"model: {name}")
    return JsonResult(_model_object(info))
