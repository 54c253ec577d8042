"""Azure OpenAI HTTP handlers (wire-formats.md section 8).

Bodies are OpenAI's: the handlers reuse the OpenAI dialect's schemas, translation and
encoders, ask the engine with ``provider: azure`` (so rules can tell Azure traffic apart),
and add Azure's content-filter annotations. A deployment path names the model in the URL:
the deployment name replaces any ``model`` in the body.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from urllib.parse import parse_qs

import orjson
from pydantic import ValidationError

from ...core.errors import MockError
from ...core.events import paced
from ...core.ids import new_id
from ...core.models import ModelInfo
from ...wire import Handler, HttpCall, JsonResult, Result, StreamResult, header_value
from ..openai import completions, embeddings, translate
from ..openai.errors import invalid_request
from ..openai.protocol import ChatCompletionRequest
from ..openai.routes import check_output_limit
from ..validation import parse_json
from . import filters
from .errors import access_denied, deployment_not_found, resource_not_found

PROVIDER = "azure"


def guarded(handler: Handler, *, versioned: bool) -> Handler:
    """``handler`` behind Azure's front door: a key (``api-key`` or ``Authorization``,
    any value) is required, and so is ``?api-version=`` (any value) when ``versioned``."""

    async def run(call: HttpCall) -> Result:
        if versioned and not parse_qs(call.query).get("api-version"):
            raise resource_not_found()
        if "api-key" not in call.headers and "authorization" not in call.headers:
            raise access_denied()
        deployment = call.path_params.get("deployment")
        if deployment is not None:
            call.body = _with_model(call.body, str(deployment))
        return await handler(call)

    return run


def _with_model(body: bytes, model: str) -> bytes:
    """The body with ``model`` set to the deployment; a body that is not a JSON object is
    left for the validator to reject in OpenAI's words.

    The member is appended to the body as sent (the last of duplicate keys wins, for
    pydantic and orjson alike) rather than the body re-serialized: orjson would turn
    integers beyond 64 bits into floats and cannot write what is nested very deep."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    if not isinstance(data, dict):
        return body
    member = b'"model":' + orjson.dumps(model)
    if not data:
        return b"{" + member + b"}"
    return body.rstrip()[:-1] + b"," + member + b"}"


@contextmanager
def _deployment_errors() -> Iterator[None]:
    """An unknown model under ``strict_models`` is Azure's ``DeploymentNotFound``."""
    try:
        yield
    except MockError as exc:
        if exc.code == "model_not_found":
            raise deployment_not_found() from None
        raise


def reported_model(call: HttpCall, name: str) -> str:
    """The model an answer names: the catalogue id behind the deployment, else its name."""
    info = call.services.store.current.models.get(PROVIDER, name)
    return info.id if info is not None else name


async def chat_completions(call: HttpCall) -> Result:
    """``POST .../chat/completions``: OpenAI Chat Completions with filter results."""
    try:
        body = parse_json(ChatCompletionRequest, call.body)
    except ValidationError as exc:
        raise invalid_request(exc, call.body) from None
    request = replace(translate.decode(body, call.headers), provider=PROVIDER)
    check_output_limit(call, PROVIDER, body, request)
    with _deployment_errors():
        completion = call.services.engine.complete(request)
    completion = replace(completion, model=reported_model(call, body.model))
    completion_id = new_id("chatcmpl-", 15)
    created = translate.now()
    headers = {"x-mockllm-rule": header_value(completion.rule or "(default)")}
    if request.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        frames = translate.stream(completion, completion_id, created, include_usage)
        chunks = paced(completion, filters.chat_frames(frames))
        return StreamResult(chunks, headers=headers, paced=bool(completion.delay_per_char))
    if completion.delay_total:
        await asyncio.sleep(completion.delay_total)
    payload = filters.annotate(translate.encode(completion, completion_id, created))
    return JsonResult(payload, headers=headers)


async def text_completions(call: HttpCall) -> Result:
    """``POST .../completions``: legacy text completions with filter results."""
    with _deployment_errors():
        answer = completions.answer(call, PROVIDER)
    answer.model = reported_model(call, answer.model)
    if answer.body.stream:
        payloads = ((e, filters.annotate_chunk(p)) for e, p in completions.chunks(answer))
        return completions.stream_result(answer, completions.frames(payloads))
    payload = filters.annotate(completions.encode(answer), len(answer.prompts))
    return await completions.json_result(answer, payload)


async def create_embeddings(call: HttpCall) -> Result:
    """``POST .../embeddings``."""
    with _deployment_errors():
        payload = embeddings.create(call, PROVIDER)
    payload["model"] = reported_model(call, payload["model"])
    return JsonResult(payload)


def _model_object(name: str, info: ModelInfo) -> dict[str, object]:
    return {
        "id": name,
        "object": "model",
        "created": info.created,
        "owned_by": info.owned_by or "system",
    }


async def list_models(call: HttpCall) -> Result:
    """``GET /openai/v1/models`` (and ``/openai/models``): the Azure catalogue."""
    models = call.services.store.current.models.for_provider(PROVIDER)
    return JsonResult({"object": "list", "data": [_model_object(m.id, m) for m in models]})


async def retrieve_model(call: HttpCall) -> Result:
    """``GET /openai/v1/models/{model}``: one catalogue entry, else 404."""
    name = str(call.path_params["model"])
    info = call.services.store.current.models.get(PROVIDER, name)
    if info is None:
        raise MockError(
            "not_found", f"The model '{name}' does not exist", param="model", code="model_not_found"
        )
    return JsonResult(_model_object(name, info))
