"""Neutral errors: raised anywhere, rendered by the dialect in its own envelope."""

from __future__ import annotations

from typing import Literal

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


class MockError(Exception):
    """An error answer: ``kind`` says what went wrong, the dialect says how it looks.

    ``param`` names the offending request field (OpenAI's ``param``), ``code`` is a
    machine-readable code (OpenAI's ``code``, e.g. ``model_not_found``).
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
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.status = status if status is not None else DEFAULT_STATUS[kind]
        self.param = param
        self.code = code
        self.headers = headers or {}
