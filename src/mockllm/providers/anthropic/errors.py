"""Anthropic's error envelope (wire-formats.md section 5.5) and validation wording."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ...core.errors import MockError
from ...wire import HttpCall, JsonResult
from ..sse import sse
from ..validation import body_error

TYPES = {
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "permission": "permission_error",
    "not_found": "not_found_error",
    "method_not_allowed": "invalid_request_error",
    "request_too_large": "request_too_large",
    "unprocessable": "invalid_request_error",
    "rate_limit": "rate_limit_error",
    "server": "api_error",
    "timeout": "timeout_error",
    "overloaded": "overloaded_error",
}


def error_object(error: MockError) -> dict[str, Any]:
    return {"type": TYPES[error.kind], "message": error.message}


def render_error(error: MockError, call: HttpCall) -> JsonResult:
    body = {"type": "error", "error": error_object(error), "request_id": call.request_id}
    return JsonResult(body, error.status, dict(error.headers))


def stream_error(error: MockError, call: HttpCall) -> bytes:
    return sse({"type": "error", "error": error_object(error)}, "error")


_FEATURES = {
    "tools": "tool use",
    "vision": "image input",
    "json_schema": "structured outputs",
    "reasoning": "thinking",
    "streaming": "streaming",
}


def reword(error: MockError) -> MockError:
    """The neutral core's structured errors in Anthropic's words (``Provider.reword``)."""
    detail = error.detail
    if error.code == "invalid_api_key" and "key" in detail:
        return error.reworded("invalid x-api-key")
    if error.code == "context_length_exceeded":
        return error.reworded(
            f"prompt is too long: {detail['count']} tokens > {detail['limit']} maximum"
        )
    if error.code == "max_tokens_exceeded":
        return error.reworded(
            f"max_tokens: {detail['count']} > {detail['limit']}, which is the maximum "
            f"allowed number of output tokens for {detail['model']}"
        )
    if error.code == "unsupported_capability":
        capability = str(detail["capability"])
        if capability == "chat":
            return error.reworded(f"model: {detail['model']} does not support the Messages API")
        feature = _FEATURES.get(capability, capability)
        return error.reworded(f"{detail['param']}: {feature} is not supported on this model")
    return error


def invalid_request(exc: ValidationError, body: bytes) -> MockError:
    """The 400 Anthropic answers for the first problem of a request body."""
    problem = body_error(exc, body)
    if problem is None:
        return MockError("invalid_request", "There was an error parsing the body of your request.")
    where = ".".join(str(step) for step in problem.path)
    if problem.type == "missing":
        return MockError("invalid_request", f"{where}: Field required")
    if where == "messages" and problem.type == "too_short":
        return MockError("invalid_request", "messages: at least one message is required")
    message = problem.errors[0]["msg"].removeprefix("Value error, ")
    if problem.type == "union_tag_invalid":
        ctx = problem.errors[0].get("ctx", {})
        message = (
            f"Input tag {ctx.get('tag')!r} found using {ctx.get('discriminator')} does not "
            f"match any of the expected tags: {ctx.get('expected_tags')}"
        )
    return MockError("invalid_request", f"{where}: {message}" if where else message)
