"""Neutral errors: raised anywhere, rendered by the dialect in its own envelope."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

ErrorKind = Literal[
    "invalid_request",
    "authentication",
    "permission",
    "not_found",
    "method_not_allowed",
    "request_too_large",
    "unprocessable",
    "rate_limit",
    "server",
    "overloaded",
    "timeout",
]

DEFAULT_STATUS: dict[ErrorKind, int] = {
    "invalid_request": 400,
    "authentication": 401,
    "permission": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "request_too_large": 413,
    "unprocessable": 422,
    "rate_limit": 429,
    "server": 500,
    "timeout": 504,
    "overloaded": 529,
}


_KIND_BY_STATUS: dict[int, ErrorKind] = {v: k for k, v in DEFAULT_STATUS.items()}
_KIND_BY_STATUS[503] = "overloaded"


def kind_of_status(status: int) -> ErrorKind:
    """The neutral kind of an HTTP error status: the kind whose default it is (503 is
    ``overloaded``), else ``server`` for 5xx and ``invalid_request`` for 4xx."""
    return _KIND_BY_STATUS.get(status, "server" if status >= 500 else "invalid_request")


def retry_headers(seconds: float) -> dict[str, str]:
    """``retry-after`` (seconds) and ``retry-after-ms``: the retry hints every SDK reads
    (dialects add their own, e.g. Gemini's ``RetryInfo``, from ``retry-after``)."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")  # fixed point, never an exponent
    return {"retry-after": text, "retry-after-ms": str(int(seconds * 1000))}


class MockError(Exception):
    """An error answer: ``kind`` says what went wrong, the dialect says how it looks.

    ``param`` names the offending request field (OpenAI's ``param``), ``code`` is a
    machine-readable code (OpenAI's ``code``, e.g. ``model_not_found``). ``detail`` holds
    the structured facts of errors raised by the neutral core (see :data:`DETAILS`), from
    which each dialect words its own message (``Provider.reword``); ``message`` is a
    neutral wording for dialects that have no words of their own.
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.status = status if status is not None else DEFAULT_STATUS[kind]
        self.param = param
        self.code = code
        self.headers = headers or {}
        self.detail: Mapping[str, Any] = detail or {}

    def reworded(
        self, message: str, *, param: str | None = None, code: str | None = None
    ) -> MockError:
        """The same error with the dialect's ``message`` (and ``param`` / ``code`` when
        given), keeping kind, status, headers and detail."""
        return MockError(
            self.kind,
            message,
            status=self.status,
            param=param if param is not None else self.param,
            code=code if code is not None else self.code,
            headers=self.headers,
            detail=self.detail,
        )


@dataclass(frozen=True, slots=True)
class Detail:
    """What a neutral error code's ``detail`` holds, for dialects that reword it."""

    code: str
    fields: tuple[str, ...]
    meaning: str


DETAILS: dict[str, Detail] = {
    d.code: d
    for d in (
        Detail(
            "context_length_exceeded",
            ("count", "limit", "model"),
            "the prompt has ``count`` tokens, more than the model's window of ``limit``",
        ),
        Detail(
            "max_tokens_exceeded",
            ("count", "limit", "model", "param"),
            "the request asks for ``count`` output tokens (field ``param``), more than the "
            "model's ``limit``",
        ),
        Detail(
            "invalid_api_key",
            ("key",),
            "the request's API key (``key``: masked, None when there is none) is not one "
            "of the config's ``settings.api_keys``",
        ),
        Detail(
            "unsupported_capability",
            ("capability", "model", "param"),
            "the request uses ``capability`` (one of tools, vision, json_schema, reasoning, "
            "chat) through field ``param``, which catalogue model ``model`` does not have",
        ),
    )
}
"""The structured errors the neutral core raises; each dialect words them in
``Provider.reword`` (falling back to the neutral message)."""
