"""Ollama generation handlers: ``/api/chat`` and ``/api/generate``. Thin glue between the
wire and the engine, with the checks Ollama's server makes before it generates
(capabilities, ``think``, raw mode...), and the request parsing the other handlers
(:mod:`.embeddings`, :mod:`.management`) share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

from pydantic import BaseModel

from ...core.events import Frame
from ...core.types import ChatRequest, Completion
from ...serving import Turn, generation
from ...wire import HttpCall, JsonResult, Result
from ..validation import parse_body
from . import protocol as p
from .context import ContextCodec
from .decode import decode_chat, decode_generate, image_is_base64
from .encode import (
    NDJSON,
    encode_chat,
    encode_generate,
    load_answer,
    stream_chat,
    stream_generate,
)
from .errors import bad_request, invalid_body, model_not_found
from .models import full_name
from .params import parse_format, parse_keep_alive, parse_options, parse_think
from .runtime import Resolved, loaded_models, resolve

CONTEXT_EXCEEDED = "the input length exceeds the context length"

Body = TypeVar("Body", bound=BaseModel)


def parse(call: HttpCall, schema: type[Body], struct: str) -> Body:
    """The request body as ``schema``; Ollama's 400 when it is not."""
    return parse_body(
        schema, call.body, lambda exc: invalid_body(exc, call.body, struct), huge="float"
    )


def _check_think(model: Resolved, think: bool | str | None) -> None:
    if think and "thinking" not in model.local.capabilities:
        raise bad_request(f'"{model.name}" does not support thinking')
    if isinstance(think, str) and model.local.family != "gptoss":
        raise bad_request(f'think value "{think}" is not supported for this model')


def _check_images(images: list[str]) -> None:
    for data in images:
        offset = image_is_base64(data)
        if offset is not None:
            raise bad_request(f"illegal base64 data at input byte {offset}")


def _fit(
    call: HttpCall, request: ChatRequest, model: Resolved, window: int, truncate: bool
) -> ChatRequest:
    """``request`` within ``window`` tokens: as Ollama does, the oldest messages after the
    system prompt are dropped until the prompt fits; with ``truncate: false`` a prompt that
    does not fit is a 400."""
    engine = call.services.engine
    messages = list(request.messages)
    while engine.prompt_tokens(request, model.info) > window:
        droppable = [i for i, m in enumerate(messages) if m.role not in ("system", "developer")]
        if not truncate or len(droppable) <= 1:
            raise bad_request(CONTEXT_EXCEEDED)
        del messages[droppable[0]]
        request = replace(request, messages=tuple(messages))
    return request


def _turn(
    call: HttpCall,
    request: ChatRequest,
    model: Resolved,
    num_ctx: int | None,
    truncate: bool,
    encode: Callable[[Completion], Any],
    frames: Callable[[Completion], Iterable[Frame]],
) -> Turn:
    """``request`` for the serving path, fitted first into ``options.num_ctx`` when it is
    smaller than the model's window (and into the window when the engine finds it too
    long), streamed as NDJSON."""
    window = model.info.context_window
    if num_ctx and num_ctx < window:
        request = _fit(call, request, model, num_ctx, truncate)
    return Turn(
        request,
        encode,
        frames,
        media_type=NDJSON,
        refit=lambda r: _fit(call, r, model, window, truncate),
    )


def chat_turn(call: HttpCall) -> Turn | Result:
    """``POST /api/chat``."""
    loaded = loaded_models(call)
    body = parse(call, p.ChatRequest, "ChatRequest")
    if not body.model:
        raise bad_request("model is required")
    model = resolve(call, body.model, model_not_found)
    options = parse_options(body.options)
    response_format = parse_format(body.format)
    think = parse_think(body.think)
    keep_alive = parse_keep_alive(body.keep_alive)
    messages = body.messages or []
    if not messages and keep_alive == 0:
        loaded.unload(model.local.id)
        return JsonResult(load_answer(model.name, "unload", chat=True))
    if "completion" not in model.local.capabilities:
        raise bad_request(f'"{model.name}" does not support chat')
    if body.tools and "tools" not in model.local.capabilities:
        raise bad_request(f"{full_name(model.local.id)} does not support tools")
    _check_think(model, think)
    _check_images([data for m in messages for data in m.images or ()])
    loaded.touch(model.local, keep_alive, options.num_ctx)
    if not messages:
        return JsonResult(load_answer(model.name, "load", chat=True))
    request = decode_chat(body, call.headers, model.id, options, response_format)
    thinking = think is not False
    return _turn(
        call,
        request,
        model,
        options.num_ctx,
        body.truncate is not False,
        lambda c: encode_chat(c, model.name, thinking),
        lambda c: stream_chat(c, model.name, thinking),
    )


def generate_turn(call: HttpCall) -> Turn | Result:
    """``POST /api/generate``."""
    loaded = loaded_models(call)
    body = parse(call, p.GenerateRequest, "GenerateRequest")
    if not body.model:
        raise model_not_found("")  # Ollama's wording for a missing name here
    model = resolve(call, body.model, model_not_found)
    options = parse_options(body.options)
    response_format = parse_format(body.format)
    think = parse_think(body.think)
    keep_alive = parse_keep_alive(body.keep_alive)
    if not body.prompt and keep_alive == 0:
        loaded.unload(model.local.id)
        return JsonResult(load_answer(model.name, "unload", chat=False))
    if body.raw and (body.template or body.system or body.context):
        raise bad_request("raw mode does not support template, system, or context")
    caps = model.local.capabilities
    if "completion" not in caps:
        raise bad_request(f'"{model.name}" does not support generate')
    if body.suffix and "insert" not in caps:
        raise bad_request(f"{full_name(model.local.id)} does not support insert")
    _check_think(model, think)
    _check_images(body.images or [])
    loaded.touch(model.local, keep_alive, options.num_ctx)
    if not body.prompt:
        return JsonResult(load_answer(model.name, "load", chat=False))
    codec = ContextCodec(call.services.tokenizer, model.info.tokenizer)
    history = codec.decode(body.context) if body.context else []
    request = decode_generate(body, call.headers, model.id, options, response_format, history)
    thinking = think is not False
    prompt = body.prompt

    def context(completion: Completion) -> list[int] | None:
        if body.raw:
            return None
        choice = completion.choices[0]
        answer = choice.refusal if choice.refusal is not None else choice.text
        return codec.encode(body.context or [], prompt, answer)

    return _turn(
        call,
        request,
        model,
        options.num_ctx,
        body.truncate is not False,
        lambda c: encode_generate(c, model.name, thinking, context(c)),
        lambda c: stream_generate(c, model.name, thinking, context(c)),
    )


chat = generation(chat_turn)
generate = generation(generate_turn)
