"""Ollama's error shape (wire-formats.md section 7): ``{"error": "<message>"}`` with the
HTTP status, and the same object as one NDJSON line when a stream has already started.

Body errors use the wording of Go's ``encoding/json``, which Ollama passes through.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from ...core.errors import MockError
from ...wire import HttpCall, JsonResult
from ..validation import BOUNDS, body_error

_STATUS = {529: 503}  # Ollama has no 529: a busy server answers 503.

_GO_FALLBACK = {
    "string_type": "string",
    "bool_type": "bool",
    "int_type": "int",
    "int_from_float": "int",
    "float_type": "float64",
    "list_type": "[]interface {}",
    "dict_type": "map[string]interface {}",
    "model_type": "map[string]interface {}",
    "model_attributes_type": "map[string]interface {}",
}


def _message(error: MockError) -> str:
    if error.kind == "not_found" and error.message.startswith("Invalid URL"):
        return "404 page not found"  # gin's answer for an unknown route
    if error.kind == "method_not_allowed":
        return "405 method not allowed"
    return error.message


def render_error(error: MockError, call: HttpCall) -> JsonResult:
    status = error.status
    if "fault" not in error.detail:  # an asked-for 529 stays one
        status = _STATUS.get(status, status)
    return JsonResult({"error": _message(error)}, status, dict(error.headers))


def stream_error(error: MockError, call: HttpCall) -> bytes:
    """The NDJSON line of an error after the stream has started (ollama-python raises it
    as ``ResponseError(..., status_code=-1)``)."""
    return orjson.dumps({"error": _message(error)}) + b"\n"


def reword(error: MockError) -> MockError:
    """The neutral core's structured errors in Ollama's words (``Provider.reword``)."""
    detail = error.detail
    if error.code == "invalid_api_key" and "key" in detail:
        return error.reworded("unauthorized")
    if error.code == "context_length_exceeded":
        return error.reworded("the input length exceeds the context length")
    if error.code == "unsupported_capability":
        model, capability = detail["model"], detail["capability"]
        if capability == "reasoning":
            return error.reworded(f'"{model}" does not support thinking')
        if capability == "chat":
            return error.reworded(f'"{model}" does not support chat')
        feature = {"vision": "images", "json_schema": "structured outputs"}.get(
            str(capability), str(capability)
        )
        return error.reworded(f"{model} does not support {feature}")
    return error


def bad_request(message: str) -> MockError:
    return MockError("invalid_request", message)


def model_not_found(name: str) -> MockError:
    """``model 'x' not found``: chat, generate, embed and show."""
    return MockError("not_found", f"model '{name}' not found")


def model_not_pulled(name: str) -> MockError:
    """``model "x" not found, try pulling it first``: the scheduler's wording (legacy
    ``/api/embeddings``)."""
    return MockError("not_found", f'model "{name}" not found, try pulling it first')


def go_kind(value: Any) -> str:
    """How Go's ``encoding/json`` names a JSON value in a type error."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return f"number {value}" if isinstance(value, float) else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _json_syntax_error(body: bytes) -> MockError:
    text = body.strip()
    if not text:
        return bad_request("missing request body")
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if exc.pos >= len(exc.doc):
            return bad_request("unexpected EOF")
        char = exc.doc[exc.pos]
        return bad_request(f"invalid character {char!r} looking for beginning of value")
    return bad_request("unexpected EOF")


def invalid_body(exc: ValidationError | None, body: bytes, struct: str) -> MockError:
    """The 400 Ollama answers for a body that is not JSON or has a field of the wrong
    type, e.g. ``json: cannot unmarshal string into Go struct field ChatRequest.messages
    of type []api.Message``."""
    from .protocol import GO_STRUCTS, GO_TYPES  # loaded already by the handlers calling this

    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _json_syntax_error(body)
    if not isinstance(data, dict):
        return bad_request(
            f"json: cannot unmarshal {go_kind(data).split()[0]} into Go value of type api.{struct}"
        )
    problem = body_error(exc, body) if exc is not None else None
    if problem is None:
        return bad_request("invalid request body")
    keys = [step for step in problem.path if isinstance(step, str)]
    field = ".".join(keys)
    owner = struct
    for depth in range(len(keys) - 1, 0, -1):
        prefix = ".".join(keys[:depth])
        if prefix in GO_STRUCTS:
            owner = GO_STRUCTS[prefix]
            break
    if problem.type in BOUNDS:  # a Go int overflowed: Go names the number and type int
        kind, go_type = f"number {problem.value}", "int"
    else:
        kind = go_kind(problem.value)
        go_type = GO_TYPES.get(field) or _GO_FALLBACK.get(problem.type, "interface {}")
    return bad_request(
        f"json: cannot unmarshal {kind} into Go struct field {owner}.{field} of type {go_type}"
    )
