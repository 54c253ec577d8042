"""Gemini HTTP handlers: thin glue between the wire and the engine.

Every model route is ``/{ver}/models/{model}:{action}`` (``ver`` = ``v1beta`` or ``v1``):
one path-converter route per version receives them all, splits ``model:action`` and
dispatches on the action; an unknown action is Gemini's 404. Generation and token counting
are answered here, embeddings in :mod:`.embeddings`, the model listing in :mod:`.listing`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ...core.errors import MockError
from ...core.types import Completion
from ...realism.admission import GENERATING, off_path_faults
from ...serving import Turn, answer
from ...wire import HttpCall, JsonResult, Result
from . import calls
from . import protocol as p
from .calls import ID_PREFIX
from .decode import decode, include_thoughts
from .embeddings import batch_embed_contents, embed_content
from .encode import array_frames, chunks, encode, response_id, sse_frames
from .errors import array_guard
from .listing import get_model

JSON_TYPE = "application/json; charset=UTF-8"


# -- generateContent ------------------------------------------------------------------------


def _turn(call: HttpCall, name: str, stream: bool) -> Turn:
    """A generateContent request decoded for the serving path: a
    ``GenerateContentResponse``, or its stream (SSE with ``alt=sse``, else a JSON array)."""
    method = "streamGenerateContent" if stream else "generateContent"
    body = calls.parse(p.GenerateContentRequest, call, "GenerateContentRequest")
    if not body.contents:
        raise MockError(
            "invalid_request", "* GenerateContentRequest.contents: contents is not specified"
        )
    info = calls.model(call, name, method)
    request = decode(body, name, call.headers, method, id_prefix=ID_PREFIX)
    if request.max_tokens is not None and request.max_tokens > info.max_output_tokens:
        request.max_tokens = info.max_output_tokens  # Gemini clamps rather than refuses
    thoughts = include_thoughts(body)
    resp_id = response_id()

    def whole(completion: Completion) -> dict[str, Any]:
        return encode(completion, info.id, resp_id, thoughts)

    def items(completion: Completion) -> Any:
        return chunks(completion, info.id, resp_id, thoughts)

    if not stream or calls.query(call).get("alt") == "sse":
        return Turn(
            request,
            whole,
            lambda c: sse_frames(items(c)),
            media_type="text/event-stream",
        )
    return Turn(
        request,
        whole,
        lambda c: array_frames(items(c)),
        media_type=JSON_TYPE,
        wrap=array_guard,
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
    body = calls.parse(p.CountTokensRequest, call, "CountTokensRequest")
    info = calls.model(call, name, "countTokens")
    inner = body.generate_content_request
    if inner is None:
        inner = p.GenerateContentRequest.model_validate({"contents": body.contents or []})
    if not inner.contents:
        total = 0
    else:
        request = decode(inner, name, call.headers, "countTokens", id_prefix=ID_PREFIX)
        total = call.services.engine.prompt_tokens(request, info)
    return JsonResult(
        {"totalTokens": total, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": total}]}
    )


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
        calls.require_key(call)
        if colon:
            raise MockError("method_not_allowed", f"Method GET not allowed for {call.path}.")
        off_path_faults(call)
        return await get_model(call, name)
    calls.require_key(call)
    handler = ACTIONS.get(action) if colon else None
    if handler is None:
        raise MockError("not_found", "Method not found.")
    if handler not in (generate_content, stream_generate_content):
        off_path_faults(call)  # generation is admitted on the serving path
    return await handler(call, name)


setattr(models_resource, GENERATING, True)  # it sorts what is off the serving path itself
