"""OpenAI HTTP handlers: thin glue between the wire and the engine."""

from __future__ import annotations

import asyncio

from pydantic import ValidationError

from ...core.errors import MockError
from ...core.events import paced
from ...core.ids import new_id
from ...core.types import ChatRequest
from ...wire import HttpCall, JsonResult, Result, StreamResult, header_value
from ..validation import parse_json
from . import translate
from .errors import invalid_request
from .protocol import ChatCompletionRequest


def check_output_limit(
    call: HttpCall, provider: str, body: ChatCompletionRequest, request: ChatRequest
) -> None:
    """The real API's 400 when ``max_tokens`` / ``max_completion_tokens`` exceeds what a
    catalogue model can produce (unknown models are not checked)."""
    known = call.services.store.current.models.get(provider, body.model)
    if known is not None and request.max_tokens and request.max_tokens > known.max_output_tokens:
        param = "max_completion_tokens" if body.max_completion_tokens else "max_tokens"
        raise MockError(
            "invalid_request",
            f"{param} is too large: {request.max_tokens}. This model supports at most "
            f"{known.max_output_tokens} completion tokens, whereas you provided "
            f"{request.max_tokens}.",
            param=param,
            code="invalid_value",
        )


async def chat_completions(call: HttpCall) -> Result:
    """``POST /v1/chat/completions``."""
    try:
        body = parse_json(ChatCompletionRequest, call.body)
    except ValidationError as exc:
        raise invalid_request(exc, call.body) from None
    request = translate.decode(body, call.headers)
    check_output_limit(call, "openai", body, request)
    completion = call.services.engine.complete(request)
    completion_id = new_id("chatcmpl-", 15)
    created = translate.now()
    headers = {"x-mockllm-rule": header_value(completion.rule or "(default)")}
    if request.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        frames = translate.stream(completion, completion_id, created, include_usage)
        chunks = paced(completion, frames)
        return StreamResult(chunks, headers=headers, paced=bool(completion.delay_per_char))
    if completion.delay_total:
        await asyncio.sleep(completion.delay_total)
    return JsonResult(translate.encode(completion, completion_id, created), headers=headers)


def _model_object(info_id: str, created: int, owned_by: str) -> dict[str, object]:
    return {"id": info_id, "object": "model", "created": created, "owned_by": owned_by}


async def list_models(call: HttpCall) -> Result:
    """``GET /v1/models``: the catalogue (built-ins plus the config's ``models:``)."""
    models = call.services.store.current.models.for_provider("openai")
    data = [_model_object(m.id, m.created, m.owned_by or "system") for m in models]
    return JsonResult({"object": "list", "data": data})


async def retrieve_model(call: HttpCall) -> Result:
    """``GET /v1/models/{model}``: one catalogue entry (by id or alias), else 404."""
    name = str(call.path_params["model"])
    info = call.services.store.current.models.get("openai", name)
    if info is None:
        raise MockError(
            "not_found", f"The model '{name}' does not exist", param="model", code="model_not_found"
        )
    return JsonResult(_model_object(name, info.created, info.owned_by or "system"))
