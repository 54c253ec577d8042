"""What every Gemini handler reads from its call: the query string, the API key, the API
version, the body and the model the path names, each with the error Gemini answers when
it is missing or wrong."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import parse_qs

from pydantic import BaseModel

from ...core.errors import MockError
from ...core.models import ModelInfo
from ...wire import HttpCall
from ..validation import parse_body
from .errors import UNREGISTERED_CALLER, invalid_request

GOOGLE_KEY_HEADER = "x-goog-api-key"
ID_PREFIX = "call_"
"""How the ids of Gemini's function calls begin."""

Body = TypeVar("Body", bound=BaseModel)


def query(call: HttpCall) -> dict[str, str]:
    """The query string's parameters, the last value of each."""
    return {k: v[-1] for k, v in parse_qs(call.query).items()}


def google_key(call: HttpCall) -> str | None:
    """The Google API key of the call: ``x-goog-api-key`` or ``?key=``."""
    return call.headers.get(GOOGLE_KEY_HEADER) or query(call).get("key") or None


def api_key(call: HttpCall) -> str | None:
    """The caller's credential: a Google API key, or an ``Authorization: Bearer`` token
    (OAuth callers); any value is accepted."""
    key = google_key(call)
    if key:
        return key
    auth = call.headers.get("authorization", "")
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    return token or None


def require_key(call: HttpCall) -> None:
    """Gemini's 403 for a call without a credential (see :func:`api_key`)."""
    if api_key(call) is None:
        raise MockError("permission", UNREGISTERED_CALLER)


def version(call: HttpCall) -> str:
    """The API version the path names: ``v1beta`` or ``v1``."""
    return call.path.split("/", 2)[1]


def parse(schema: type[Body], call: HttpCall, name: str) -> Body:
    """The request body as ``schema`` (an empty body is ``{}``); Gemini's 400 naming the
    request message ``name`` when it is not."""
    return parse_body(
        schema, call.body or b"{}", lambda exc: invalid_request(exc, call.body, name), huge="float"
    )


def _not_supported(name: str, version: str, method: str) -> MockError:
    return MockError(
        "not_found",
        f"models/{name} is not found for API version {version}, or is not supported for "
        f"{method}. Call ListModels to see the list of available models and their "
        "supported methods.",
    )


def model(call: HttpCall, name: str, method: str) -> ModelInfo:
    """The catalogue entry of ``name`` (404 with ``strict_models`` when unknown); a known
    model that does not serve ``method`` (embedding vs generation) is a 404 too."""
    api_version = version(call)
    try:
        info = call.services.engine.resolve_model("gemini", name)
    except MockError as exc:
        if exc.code == "model_not_found":
            raise _not_supported(name, api_version, method) from None
        raise
    if call.services.models.get("gemini", name) is not None:
        embedding = "embeddings" in info.capabilities
        if embedding != (method in ("embedContent", "batchEmbedContents")):
            raise _not_supported(name, api_version, method)
    return info
