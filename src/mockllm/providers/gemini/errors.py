"""Gemini's error envelope (wire-formats.md section 6) and validation wording.

Every error is ``{"error": {"code": <HTTP status>, "message": ..., "status": <google.rpc
code name>}}``; a 429 with a ``retry-after`` carries a ``google.rpc.RetryInfo`` detail, as
the real service does. In an SSE stream the same envelope is a ``data:`` event; in a
JSON-array stream, the array's last element.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import orjson
from pydantic import ValidationError

from ...core.errors import MockError
from ...realism.faults import StreamCut
from ...wire import SERVER_ERROR_MESSAGE, HttpCall, JsonResult
from ..validation import BOUNDS, is_member_name

log = logging.getLogger("mockllm.gemini")

STATUS_BY_CODE = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
STATUS_BY_KIND = {
    "authentication": "UNAUTHENTICATED",
    "permission": "PERMISSION_DENIED",
    "not_found": "NOT_FOUND",
    "rate_limit": "RESOURCE_EXHAUSTED",
    "server": "INTERNAL",
    "overloaded": "UNAVAILABLE",
    "timeout": "DEADLINE_EXCEEDED",
}
_RPC_NAME = re.compile(r"^[A-Z][A-Z_]+$")

OVERLOADED_STATUS = 503
"""Gemini has no 529: an overloaded model is a 503 ``UNAVAILABLE``."""

UNREGISTERED_CALLER = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)


def http_status(error: MockError) -> int:
    if error.status == 529 and "fault" not in error.detail:  # an asked-for 529 stays one
        return OVERLOADED_STATUS
    return error.status


def rpc_status(error: MockError, status: int) -> str:
    """The ``google.rpc.Code`` name: a rule's ``code`` when it is one (``FAILED_PRECONDITION``),
    else from the HTTP status, else from the error kind."""
    if error.code and _RPC_NAME.match(error.code):
        return error.code
    if status in STATUS_BY_CODE:
        return STATUS_BY_CODE[status]
    if error.kind in STATUS_BY_KIND:
        return STATUS_BY_KIND[error.kind]
    return "INTERNAL" if status >= 500 else "INVALID_ARGUMENT"


def error_body(error: MockError) -> dict[str, Any]:
    """``{"error": {code, message, status[, details]}}`` for ``error``."""
    status = http_status(error)
    body: dict[str, Any] = {
        "code": status,
        "message": error.message,
        "status": rpc_status(error, status),
    }
    retry = error.headers.get("retry-after")
    if status == 429 and retry is not None:
        body["details"] = [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry}s"}
        ]
    reason = error.detail.get("reason")
    if reason:
        body["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        ]
    return {"error": body}


def render_error(error: MockError, call: HttpCall) -> JsonResult:
    return JsonResult(error_body(error), http_status(error), dict(error.headers))


def stream_error(error: MockError, call: HttpCall) -> bytes:
    """The error as one ``alt=sse`` event (google-genai raises it as an ``APIError``)."""
    return b"data: " + orjson.dumps(error_body(error)) + b"\r\n\r\n"


async def array_guard(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
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
    except StreamCut:  # a broken stream on purpose: no closing bracket either
        raise
    except Exception:
        log.exception("error while streaming a Gemini JSON array")
        error = MockError("server", SERVER_ERROR_MESSAGE)
    body = orjson.dumps(error_body(error))
    yield (b",\r\n" + body + b"]") if started else (b"[" + body + b"]")


_NOT_ENABLED = {
    "tools": "Function calling",
    "json_schema": "JSON mode",
    "vision": "Image input modality",
    "reasoning": "Thinking",
    "streaming": "Streaming",
}


def reword(error: MockError) -> MockError:
    """The neutral core's structured errors in Gemini's words (``Provider.reword``)."""
    detail = error.detail
    if error.code == "invalid_api_key" and "key" in detail:  # Google: a 400
        return MockError(
            "invalid_request",
            "API key not valid. Please pass a valid API key.",
            status=400,
            headers=error.headers,
            detail={**detail, "reason": "API_KEY_INVALID"},
        )
    if error.code == "context_length_exceeded":
        return error.reworded(
            f"The input token count ({detail['count']}) exceeds the maximum number of tokens "
            f"allowed ({detail['limit']})."
        )
    if error.code == "unsupported_capability":
        feature = _NOT_ENABLED.get(str(detail["capability"]))
        if feature is None:
            return error.reworded(f"models/{detail['model']} does not support generateContent")
        return error.reworded(f"{feature} is not enabled for models/{detail['model']}")
    return error


def snake(name: str) -> str:
    """``max_output_tokens`` from ``maxOutputTokens`` (Google names fields in snake case in
    its error messages)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_TYPE_NAMES = {
    "string_type": "TYPE_STRING",
    "int_type": "TYPE_INT32",
    "int_parsing": "TYPE_INT32",
    "int_from_float": "TYPE_INT32",
    "float_type": "TYPE_FLOAT",
    "float_parsing": "TYPE_FLOAT",
    "bool_type": "TYPE_BOOL",
    "bool_parsing": "TYPE_BOOL",
    # Only the int32 fields are bounded (protocol.Int32).
    "greater_than_equal": "TYPE_INT32",
    "less_than_equal": "TYPE_INT32",
}


def _walk(loc: tuple[str | int, ...], data: Any) -> tuple[str, Any, bool]:
    """The field path of ``loc`` in Google's style (``contents[0].parts[0].text``), the value
    found there and whether it is present. Keys are looked up as sent, camel or snake."""
    path = ""
    current = data
    present = True
    for step in loc:
        if isinstance(step, int):
            path += f"[{step}]"
            if isinstance(current, list) and step < len(current):
                current = current[step]
            else:
                current, present = None, False
            continue
        if is_member_name(step):
            continue
        key = step
        if isinstance(current, dict) and step not in current and snake(step) in current:
            key = snake(step)
        path += ("." if path else "") + snake(step)
        if isinstance(current, dict) and key in current:
            current = current[key]
        else:
            current, present = None, False
    return path, current, present


def _shown(value: Any) -> str:
    """``value`` as JSON text for a message; a shape for one nested deeper than orjson
    writes (the body was read by orjson, which reads deeper)."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return "[...]" if isinstance(value, list) else "{...}"


def invalid_request(exc: ValidationError, body: bytes, request_name: str) -> MockError:
    """The 400 ``INVALID_ARGUMENT`` Gemini answers for the first problem of a request body."""
    unreadable = MockError("invalid_request", "Invalid JSON payload received. Unexpected token.")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return unreadable
    if exc.errors()[0]["type"] == "json_invalid":  # nested deeper than pydantic reads
        return unreadable
    if not isinstance(data, dict):
        return MockError(
            "invalid_request",
            'Invalid JSON payload received. Unknown name "": Root element must be a message.',
        )
    first = exc.errors()[0]
    path, value, present = _walk(tuple(first["loc"]), data)
    if first["type"] == "missing" and not present:
        field = path.rsplit(".", 1)[-1]
        return MockError("invalid_request", f"* {request_name}.{path}: {field} is not specified")
    kind = _TYPE_NAMES.get(first["type"])
    sent = first.get("input")
    if first["type"] in BOUNDS and isinstance(sent, int | str):
        shown = str(sent)  # as sent: orjson decodes a huge integer as a float
    else:
        shown = _shown(value)
    if kind is None:
        if isinstance(value, list):
            return MockError(
                "invalid_request",
                f"Invalid JSON payload received. Proto field is not repeating, cannot start "
                f"list. at '{path}'",
            )
        return MockError(
            "invalid_request",
            f"Invalid JSON payload received. Invalid value at '{path}': {shown}",
        )
    return MockError("invalid_request", f"Invalid value at '{path}' ({kind}), {shown}")
