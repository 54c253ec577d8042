"""Azure OpenAI's errors.

Errors of the model service (a bad request body, a scripted rule error) come in OpenAI's
envelope, as Azure passes them through. Errors of Azure's own front door come in its
shorter ``{"error": {"code", "message"}}`` shape: an unknown path or a missing
``api-version`` (404 ``Resource not found``), a missing key (401), an unknown deployment
(404 ``DeploymentNotFound``).
"""

from __future__ import annotations

from ...core.errors import MockError
from ...wire import HttpCall, JsonResult
from ..openai.interface import render_error as openai_error
from ..openai.interface import reword as openai_reword
from ..openai.interface import stream_error

RESOURCE_NOT_FOUND = "Resource not found"
ACCESS_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide "
    "a valid key for an active subscription and use a correct regional API endpoint for your "
    "resource."
)
DEPLOYMENT_NOT_FOUND = (
    "The API deployment for this resource does not exist. If you created the deployment "
    "within the last 5 minutes, please wait a moment and try again."
)
PLATFORM_CODES = frozenset({"404", "401", "DeploymentNotFound"})
"""Codes of Azure's own errors, rendered in Azure's short shape."""

_UNKNOWN_URL = "Invalid URL ("  # the message of mockllm's fallback 404 (wire.NotFound)


def resource_not_found() -> MockError:
    return MockError("not_found", RESOURCE_NOT_FOUND, code="404")


def access_denied() -> MockError:
    return MockError("authentication", ACCESS_DENIED, code="401")


def deployment_not_found() -> MockError:
    return MockError("not_found", DEPLOYMENT_NOT_FOUND, code="DeploymentNotFound")


def reword(error: MockError) -> MockError:
    """OpenAI's words, except for an unknown model (under ``strict_models``), which on
    Azure is an unknown deployment."""
    if error.code == "model_not_found":
        return deployment_not_found()
    if error.code == "invalid_api_key" and "key" in error.detail:
        return access_denied()
    return openai_reword(error)


def render_error(error: MockError, call: HttpCall) -> JsonResult:
    """Azure's short shape for its front-door errors, OpenAI's envelope otherwise."""
    if error.kind == "not_found" and error.message.startswith(_UNKNOWN_URL):
        error = resource_not_found()
    if error.code in PLATFORM_CODES:
        body = {"error": {"code": error.code, "message": error.message}}
        return JsonResult(body, error.status, dict(error.headers))
    return openai_error(error, call)


__all__ = ["render_error", "reword", "stream_error", "deployment_not_found", "access_denied"]
