"""An example provider plugin: the "echo" dialect, shipped outside mockllm's core.

``POST /echo/v1/generate`` with ``{"model": ..., "prompt": ...}`` answers
``{"model", "output", "finish", "tokens": {"prompt", "output"}}`` using mockllm's rules,
and errors look like ``{"echo_error": {"kind", "detail"}}``. It imports only mockllm's
public plugin API: the neutral types, the wire results and the Provider description.
"""

from __future__ import annotations

from typing import Any

from mockllm.core.errors import MockError
from mockllm.core.models import ModelInfo
from mockllm.core.types import ChatRequest, Message, TextPart
from mockllm.providers.base import Provider, RouteSpec
from mockllm.wire import HttpCall, JsonResult, Result


def _error(error: MockError, call: HttpCall) -> JsonResult:
    return JsonResult({"echo_error": {"kind": error.kind, "detail": error.message}}, error.status)


def _stream_error(error: MockError, call: HttpCall) -> bytes:
    return b'{"echo_error":{"kind":"' + error.kind.encode() + b'"}}\n'


async def generate(call: HttpCall) -> Result:
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
        headers=call.headers,
    )
    completion = call.services.engine.complete(request)
    choice = completion.choices[0]
    return JsonResult(
        {
            "model": completion.model,
            "output": choice.text,
            "finish": choice.finish_reason,
            "tokens": {
                "prompt": completion.usage.prompt_tokens,
                "output": completion.usage.completion_tokens,
            },
        }
    )


def provider() -> Provider:
    """Entry point ``mockllm.providers: echo``."""
    return Provider(
        name="echo",
        routes=(RouteSpec("/echo/v1/generate", ("POST",), generate, "generate"),),
        render_error=_error,
        stream_error=_stream_error,
        models=(
            ModelInfo(
                id="echo-1",
                provider="echo",
                display_name="Echo 1",
                context_window=4096,
                max_output_tokens=256,
                owned_by="echo",
            ),
        ),
        capabilities=frozenset({"streaming"}),
        prefixes=("/echo/",),
    )
