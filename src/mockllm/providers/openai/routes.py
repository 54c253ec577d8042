"""OpenAI HTTP handlers: thin glue between the wire and the engine. Chat Completions and
legacy completions take the serving path; models, embeddings and moderations are answered
without generating."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...constraints import too_many_output_tokens
from ...core.errors import MockError
from ...core.events import Frame
from ...core.ids import new_id
from ...core.types import ChatRequest
from ...fastlane import Learned, Varying
from ...pacing import Pacer
from ...realism.admission import GENERATING
from ...serving import Turn, admit, decide, deliver, generation
from ...wire import HttpCall, JsonResult, Result
from ..validation import parse_body
from . import decode, encode, stored
from .decode import decode_completions, decode_embeddings, decode_moderation, stop_sequences
from .encode import (
    CompletionsAnswer,
    completion_chunks,
    completion_frames,
    encode_completion,
    encode_embeddings,
    encode_moderation,
)
from .errors import invalid_request
from .models import FINE_TUNED_PREFIX
from .moderation import DEFAULT_MODEL as MODERATION_MODEL
from .protocol import ChatCompletionRequest, CompletionRequest, EmbeddingRequest, ModerationRequest


def check_output_limit(
    call: HttpCall, provider: str, request: ChatRequest, param: str = "max_tokens"
) -> None:
    """The real API's 400 when ``max_tokens`` / ``max_completion_tokens`` (``param``, the
    field the limit came from) exceeds what a catalogue model can produce (unknown models
    are not checked)."""
    known = call.services.models.get(provider, request.model)
    if known is not None and request.max_tokens and request.max_tokens > known.max_output_tokens:
        raise too_many_output_tokens(request.max_tokens, known, param)


def chat_turn(call: HttpCall, provider: str = "openai") -> Turn:
    """A Chat Completions request decoded for the serving path, answered as OpenAI's
    ``chat.completion`` object or chunk stream; ``provider`` names the dialect whose
    catalogue and rules apply (Azure speaks this protocol under its own name)."""
    plain = decode.decode_plain(call.body, call.headers)
    if plain is not None:  # the common shape, decoded without the schema's models
        request, param = plain
        return _chat_turn(call, provider, request, param, False, _completion_id(), encode.now())
    body = parse_body(ChatCompletionRequest, call.body, lambda exc: invalid_request(exc, call.body))
    request = decode.decode(body, call.headers)
    param = "max_completion_tokens" if body.max_completion_tokens else "max_tokens"
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    turn = _chat_turn(call, provider, request, param, include_usage, _completion_id(), encode.now())
    return stored.keeping(call, provider, body, turn)  # store: true (stored.py)


def _chat_turn(
    call: HttpCall,
    provider: str,
    request: ChatRequest,
    param: str,
    include_usage: bool,
    completion_id: str,
    created: int,
) -> Turn:
    """The turn of a decoded Chat Completions request, answered with ``completion_id``
    and ``created``; raises the real API's 400 for an output limit the model cannot
    produce (``param``: the field it came from)."""
    if provider != request.provider:
        request.provider = provider
    check_output_limit(call, provider, request, param)
    logprobs = request.logprobs
    return Turn(
        request,
        encode=lambda c: encode.encode(c, completion_id, created, logprobs),
        frames=lambda c: encode.stream(c, completion_id, created, include_usage, logprobs),
    )


def _completion_id() -> str:
    return new_id("chatcmpl-", 15)


def _created() -> str:
    return str(encode.now())


def fixed_chat(call: HttpCall) -> Learned | None:
    """The fast lane's recipe for ``POST /v1/chat/completions`` (:mod:`mockllm.fastlane`):
    a plain body decoded as :func:`chat_turn` decodes it, the completion's id and creation
    time new for each answer; None for any other body (the schema's models decode it, and
    it may ask to store the completion)."""
    plain = decode.decode_plain(call.body, call.headers)
    if plain is None:
        return None
    request, param = plain
    completion_id, created = _completion_id(), encode.now()
    turn = _chat_turn(call, "openai", request, param, False, completion_id, created)
    return Learned(turn, (Varying(completion_id, _completion_id), Varying(str(created), _created)))


chat_completions = generation(chat_turn)
"""``POST /v1/chat/completions``."""


def _model_object(info_id: str, created: int, owned_by: str) -> dict[str, object]:
    return {"id": info_id, "object": "model", "created": created, "owned_by": owned_by}


async def list_models(call: HttpCall) -> Result:
    """``GET /v1/models``: the catalogue (built-ins plus the config's ``models:``)."""
    models = call.services.models.for_provider("openai")
    data = [_model_object(m.id, m.created, m.owned_by or "system") for m in models]
    return JsonResult({"object": "list", "data": data})


async def retrieve_model(call: HttpCall) -> Result:
    """``GET /v1/models/{model}``: one catalogue entry (by id or alias), else 404."""
    name = str(call.path_params["model"])
    info = call.services.models.get("openai", name)
    if info is None:
        raise MockError(
            "not_found", f"The model '{name}' does not exist", param="model", code="model_not_found"
        )
    return JsonResult(_model_object(name, info.created, info.owned_by or "system"))


async def delete_model(call: HttpCall) -> Result:
    """``DELETE /v1/models/{model}``: as the real API answers it. A fine-tuned model
    (an id starting ``ft:``) of the catalogue is deleted (``{id, object: "model", deleted:
    true}``; the catalogue itself, which is the config's, is unchanged); any other
    catalogue model belongs to OpenAI, a 403; an unknown id is a 404 ``model_not_found``."""
    name = str(call.path_params["model"])
    info = call.services.models.get("openai", name)
    if info is None:
        raise MockError(
            "not_found", f"The model '{name}' does not exist", param="model", code="model_not_found"
        )
    if not (name.startswith(FINE_TUNED_PREFIX) or info.id.startswith(FINE_TUNED_PREFIX)):
        raise MockError(
            "permission",
            f"You have insufficient permissions to delete the model '{name}'. Only fine-tuned "
            "models owned by your organization can be deleted.",
            param="model",
        )
    return JsonResult({"id": name, "object": "model", "deleted": True})


def completions_answer(call: HttpCall, provider: str) -> CompletionsAnswer:
    """A legacy completions request, each prompt answered through the engine; ``provider``
    names the dialect (its catalogue, its rules' ``provider``). Raises :class:`MockError`."""
    body = parse_body(CompletionRequest, call.body, lambda exc: invalid_request(exc, call.body))
    stop = stop_sequences(body.stop, stream=body.stream, stream_options=body.stream_options)
    info = call.services.engine.resolve_model(provider, body.model)
    prompts, requests = decode_completions(
        body, stop, info, call.services.tokenizer, provider, call.headers
    )
    admission = admit(call, requests[0]) if requests else None
    completions = [decide(call, request) for request in requests]
    realism = None
    if admission is not None:  # the prompts are one request: admitted and timed by the first
        completions[0], headers, timing = admission.settle(call, completions[0])
        realism = (headers, timing, admission.knobs)
    answer = CompletionsAnswer(
        body, prompts, completions, new_id("cmpl-", 15), encode.now(), body.model
    )
    answer.realism = realism
    if body.logprobs is not None and body.echo:  # the echoed prompts' tokens are reported
        tokenizer, encoding = call.services.tokenizer, info.tokenizer
        answer.prompt_pieces = [
            tuple(tokenizer.pieces(tokenizer.encode(prompt.text, encoding), encoding))
            for prompt in prompts
        ]
    return answer


async def deliver_completions(
    answer: CompletionsAnswer,
    payload: Callable[[CompletionsAnswer], dict[str, Any]] = encode_completion,
    chunk: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    pacer: Pacer | None = None,
) -> Result:
    """The answer through the serving path's delivery: the ``text_completion`` object
    (``payload``), or its SSE stream, each chunk's payload passed through ``chunk``."""

    def stream_frames() -> Iterator[Frame]:
        payloads = completion_chunks(answer)
        if chunk is not None:
            payloads = ((event, chunk(data)) for event, data in payloads)
        return completion_frames(payloads)

    headers, timing, knobs = answer.realism or ({}, None, None)
    return await deliver(
        answer.completions,
        bool(answer.body.stream),
        lambda: payload(answer),
        stream_frames,
        headers=headers,
        timing=timing,
        knobs=knobs,
        pacer=pacer,
    )


async def create_completion(call: HttpCall) -> Result:
    """``POST /v1/completions``."""
    return await deliver_completions(completions_answer(call, "openai"), pacer=call.services.pacer)


setattr(create_completion, GENERATING, True)  # admitted on the serving path


def embeddings_answer(call: HttpCall, provider: str) -> dict[str, Any]:
    """The ``CreateEmbeddingResponse`` for ``call``'s body; ``provider`` names the catalogue
    the model is looked up in (the model is resolved through the engine, so
    ``strict_models`` applies). Raises :class:`MockError` for what the real API rejects."""
    body = parse_body(EmbeddingRequest, call.body, lambda exc: invalid_request(exc, call.body))
    info = call.services.engine.resolve_model(provider, body.model)
    items, size = decode_embeddings(body, info, call.services.tokenizer)
    return encode_embeddings(items, size, body.encoding_format == "base64", body.model)


async def create_embeddings(call: HttpCall) -> Result:
    """``POST /v1/embeddings``."""
    return JsonResult(embeddings_answer(call, "openai"))


async def create_moderation(call: HttpCall) -> Result:
    """``POST /v1/moderations``."""
    body = parse_body(ModerationRequest, call.body, lambda exc: invalid_request(exc, call.body))
    return JsonResult(encode_moderation(decode_moderation(body), body.model or MODERATION_MODEL))
