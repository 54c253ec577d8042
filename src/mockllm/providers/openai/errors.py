"""OpenAI's error envelope (wire-formats.md section 2.4) and its request-validation wording."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ...core.errors import MockError
from ...wire import HttpCall, JsonResult
from ..sse import sse
from ..validation import body_error, expected_kinds, json_kind

INVALID_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON. If you have trouble figuring out how to fix this, please "
    "contact us through our help center at help.openai.com.)"
)

_TYPES = {
    "server": "server_error",
    "overloaded": "server_error",
    "timeout": "server_error",
    "rate_limit": "requests",
}

_STATUS = {"overloaded": 503}  # OpenAI has no 529: an overloaded engine is a 503.


def _type(error: MockError) -> str:
    """The envelope's ``type``; a 429 from a token bucket is ``tokens``."""
    if error.kind == "rate_limit" and str(error.detail.get("bucket", "")).endswith("tokens"):
        return "tokens"
    return _TYPES.get(error.kind, "invalid_request_error")


def error_body(error: MockError) -> dict[str, Any]:
    """``{"error": {message, type, param, code}}`` for ``error``."""
    return {
        "error": {
            "message": error.message,
            "type": _type(error),
            "param": error.param,
            "code": error.code,
        }
    }


def render_error(error: MockError, call: HttpCall) -> JsonResult:
    status = error.status
    if status == 529 and "fault" not in error.detail:  # an asked-for 529 stays one
        status = _STATUS.get(error.kind, status)
    return JsonResult(error_body(error), status, dict(error.headers))


def stream_error(error: MockError, call: HttpCall) -> bytes:
    return sse(error_body(error))


def reword(error: MockError) -> MockError:
    """The neutral core's structured errors in OpenAI's words (``Provider.reword``)."""
    detail = error.detail
    if error.code == "invalid_api_key" and "key" in detail:
        if detail.get("key") is None:
            return error.reworded(
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
        return error.reworded(
            f"Incorrect API key provided: {detail['key']}. You can find your API key at "
            "https://platform.openai.com/account/api-keys."
        )
    if error.code == "unsupported_capability":
        capability, param = detail["capability"], str(detail["param"])
        if capability == "chat":
            return error.reworded(
                "This is not a chat model and thus not supported in the v1/chat/completions "
                "endpoint. Did you mean to use v1/completions?",
                param="model",
                code="model_not_supported",
            )
        if capability == "streaming":
            return error.reworded(
                f"Unsupported value: '{param}' does not support true with this model. Only "
                "the default (false) value is supported.",
                code="unsupported_value",
            )
        if capability == "json_schema":
            return error.reworded(
                f"Invalid parameter: '{param}' of type 'json_schema' is not supported with "
                "this model. Learn more about supported models at the Structured Outputs "
                "guide: https://platform.openai.com/docs/guides/structured-outputs",
                code="invalid_value",
            )
        if capability == "vision":
            return error.reworded(
                "Invalid content type. image_url is only supported by certain models.",
                code="invalid_value",
            )
        return error.reworded(
            f"Unsupported parameter: '{param}' is not supported with this model.",
            code="unsupported_parameter",
        )
    if error.code == "max_tokens_exceeded":
        count, limit, param = detail["count"], detail["limit"], detail["param"]
        return error.reworded(
            f"{param} is too large: {count}. This model supports at most {limit} completion "
            f"tokens, whereas you provided {count}.",
            code="invalid_value",
        )
    return error


def param_name(path: tuple[str | int, ...]) -> str:
    """``messages[0].content`` from ``("messages", 0, "content")``."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def _quote_all(values: list[Any]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def invalid_request(exc: ValidationError, body: bytes) -> MockError:
    """The 400 OpenAI answers for the first problem in a request body."""
    problem = body_error(exc, body)
    if problem is None:
        return MockError("invalid_request", INVALID_JSON)
    param = param_name(problem.path)
    first = problem.errors[0]
    ctx = first.get("ctx", {})
    if problem.type == "union_tag_not_found":
        discriminator = str(ctx.get("discriminator", "")).strip("'")
        param = f"{param}.{discriminator}" if param else discriminator
        problem_type = "missing"
    else:
        problem_type = problem.type
    if problem_type == "missing":
        return MockError(
            "invalid_request",
            f"Missing required parameter: '{param}'.",
            param=param,
            code="missing_required_parameter",
        )
    if problem.type in ("union_tag_invalid", "literal_error"):
        allowed = ctx.get("expected_tags") or ctx.get("expected") or ""
        values = [v.strip().strip("'") for v in str(allowed).replace(" or ", ", ").split(",")]
        value = problem.value
        if problem.type == "union_tag_invalid":
            discriminator = str(ctx.get("discriminator", "")).strip("'")
            param = f"{param}.{discriminator}" if discriminator else param
            value = ctx.get("tag", value)
        return MockError(
            "invalid_request",
            f"Invalid value: '{value}'. Supported values are: {_quote_all(values)}.",
            param=param,
            code="invalid_value",
        )
    if problem.type == "too_short" and isinstance(problem.value, list) and not problem.value:
        return MockError(
            "invalid_request",
            f"Invalid '{param}': empty array. Expected an array with minimum length "
            f"{ctx.get('min_length', 1)}, but got an empty array instead.",
            param=param,
            code="empty_array",
        )
    if problem.type in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        below = problem.type.startswith("greater")
        bound = next(iter(ctx.values()), "")
        number = "decimal" if isinstance(bound, float) else "integer"
        relation = (
            (">= " if problem.type.endswith("equal") else "> ")
            if below
            else ("<= " if problem.type.endswith("equal") else "< ")
        )
        where = "below minimum" if below else "above maximum"
        return MockError(
            "invalid_request",
            f"Invalid '{param}': {number} {where} value. Expected a value {relation}{bound}, "
            f"but got {problem.value} instead.",
            param=param,
            code=f"{number}_{'below_min' if below else 'above_max'}_value",
        )
    expected = expected_kinds(problem.errors)
    if expected:
        wanted = expected[0] if len(expected) == 1 else "one of " + " or ".join(expected)
        return MockError(
            "invalid_request",
            f"Invalid type for '{param}': expected {wanted}, but got "
            f"{json_kind(problem.value)} instead.",
            param=param,
            code="invalid_type",
        )
    return MockError(
        "invalid_request", f"Invalid '{param}': {first['msg']}.", param=param, code="invalid_value"
    )
