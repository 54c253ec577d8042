"""OpenAI HTTP handlers: thin glue between the wire and the engine."""

from __future__ import annotations

from ...constraints import too_many_output_tokens
from ...core.errors import MockError
from ...core.ids import new_id
from ...core.types import ChatRequest
from ...serving import Turn, generation
from ...wire import HttpCall, JsonResult, Result
from ..validation import parse_body
from . import stored, translate
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
        raise too_many_output_tokens(request.max_tokens, known, param)


def chat_turn(call: HttpCall, provider: str = "openai") -> Turn:
    """A Chat Completions request decoded for the serving path, answered as OpenAI's
    ``chat.completion`` object or chunk stream; ``provider`` names the dialect whose
    catalogue and rules apply (Azure speaks this protocol under its own name)."""
    body = parse_body(ChatCompletionRequest, call.body, lambda exc: invalid_request(exc, call.body))
    request = translate.decode(body, call.headers)
    if provider != request.provider:
        request.provider = provider
    check_output_limit(call, provider, body, request)
    completion_id = new_id("chatcmpl-", 15)
    created = translate.now()
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    turn = Turn(
        request,
        encode=lambda c: translate.encode(c, completion_id, created),
        frames=lambda c: translate.stream(c, completion_id, created, include_usage),
    )
    return stored.keeping(call, provider, body, turn)  # store: true (stored.py)


chat_completions = generation(chat_turn)
"""``POST /v1/chat/completions``."""


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
