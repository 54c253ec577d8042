"""An example plugin package, shipped outside mockllm's core: a provider, a request
validator and a stage. It imports only :mod:`mockllm.plugin`, the public plugin surface.

* Provider ``echo``: ``POST /echo/v1/generate`` with ``{"model", "prompt", "stream"}``
  answers ``{"model", "output", "finish", "tokens": {"prompt", "output"}}`` using mockllm's
  rules, or with ``"stream": true`` one NDJSON line per token then a ``done`` line; errors
  look like ``{"echo_error": {"kind", "detail"}}``.
* Validator ``require_user``: refuses, in the client's own dialect, any generating request
  whose JSON body has no ``user`` field (``metadata.user_id`` for Anthropic).
* Stage ``shout``: answers in capitals, on every dialect (it rewrites the neutral reply,
  before any dialect encodes it).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from mockllm.plugin import (
    ChatRequest,
    Completion,
    Frame,
    HttpCall,
    JsonResult,
    Message,
    MockError,
    ModelInfo,
    Provider,
    RouteSpec,
    Stage,
    TextDelta,
    TextPart,
    Turn,
    generation,
    iter_events,
)


def _error(error: MockError, call: HttpCall) -> JsonResult:
    return JsonResult({"echo_error": {"kind": error.kind, "detail": error.message}}, error.status)


def _stream_error(error: MockError, call: HttpCall) -> bytes:
    return orjson.dumps({"echo_error": {"kind": error.kind, "detail": error.message}}) + b"\n"


def _whole(completion: Completion) -> dict[str, Any]:
    choice = completion.choices[0]
    return {
        "model": completion.model,
        "output": choice.text,
        "finish": choice.finish_reason,
        "tokens": {
            "prompt": completion.usage.prompt_tokens,
            "output": completion.usage.completion_tokens,
        },
    }


def _lines(completion: Completion) -> list[Frame]:
    frames: list[Frame] = []
    for event in iter_events(completion):
        if isinstance(event, TextDelta):
            frames.append((event, orjson.dumps({"token": event.text}) + b"\n"))
    frames.append((None, orjson.dumps({"done": True, **_whole(completion)}) + b"\n"))
    return frames


def decode(call: HttpCall) -> Turn:
    """The echo request as a neutral :class:`ChatRequest`, for the serving path."""
    try:
        body: Any = call.json()
    except ValueError:
        raise MockError("invalid_request", "body is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("prompt"), str):
        raise MockError("invalid_request", "prompt: a string is required")
    request = ChatRequest(
        provider="echo",
        endpoint="generate",
        model=str(body.get("model", "echo-1")),
        messages=(Message("user", (TextPart(body["prompt"]),)),),
        stream=body.get("stream") is True,
        headers=call.headers,
    )
    return Turn(request, encode=_whole, frames=_lines, media_type="application/x-ndjson")


def provider() -> Provider:
    """Entry point ``mockllm.providers: echo``."""
    return Provider(
        name="echo",
        routes=(RouteSpec("/echo/v1/generate", ("POST",), generation(decode), "generate"),),
        render_error=_error,
        stream_error=_stream_error,
        models=(
            ModelInfo(
                id="echo-1",
                provider="echo",
                display_name="Echo 1",
                context_window=4096,
                max_output_tokens=256,
                capabilities=frozenset({"streaming"}),
                owned_by="echo",
            ),
        ),
        capabilities=frozenset({"streaming"}),
        prefixes=("/echo/",),
    )


def require_user() -> Any:
    """Entry point ``mockllm.validators: require_user``."""

    def validate(request: ChatRequest, call: HttpCall) -> None:
        try:
            body = call.json()
        except ValueError:
            return  # the dialect has already refused a body that is not JSON
        metadata = body.get("metadata") if isinstance(body, dict) else None
        user = body.get("user") if isinstance(body, dict) else None
        if user is None and isinstance(metadata, dict):
            user = metadata.get("user_id")
        if not user:
            raise MockError(
                "invalid_request",
                "require_user: every request must name its end user ('user').",
                param="user",
                code="missing_user",
            )

    return validate


class Shout(Stage):
    """Entry point ``mockllm.stages: shout``: the answer text in capitals."""

    name = "shout"

    def after(self, request: ChatRequest, completion: Completion, call: HttpCall) -> Completion:
        choices = tuple(
            replace(c, text=c.text.upper(), chunks=tuple(x.upper() for x in c.chunks))
            for c in completion.choices
        )
        return replace(completion, choices=choices)
