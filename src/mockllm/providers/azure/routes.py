"""Azure OpenAI HTTP handlers (wire-formats.md section 8).

Azure is the OpenAI protocol with other paths, authentication and deployment names: the
handlers take the OpenAI dialect's serving-path pieces (:mod:`..openai.interface`), ask the
engine as ``provider: azure`` (so rules can tell Azure traffic apart) and add Azure's
content-filter annotations. A deployment path names the model in the URL: the deployment
name replaces any ``model`` in the body. An unknown deployment (under ``strict_models``)
is Azure's ``DeploymentNotFound`` (:func:`.errors.reword`).
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs

import orjson

from ...core.errors import MockError
from ...core.models import ModelInfo
from ...realism.admission import GENERATING
from ...serving import Turn, generation
from ...wire import Handler, HttpCall, JsonResult, Result
from ..openai import interface as openai
from . import filters
from .errors import access_denied, resource_not_found

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

    if getattr(handler, GENERATING, False):
        setattr(run, GENERATING, True)
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


def reported_model(call: HttpCall, name: str) -> str:
    """The model an answer names: the catalogue id behind the deployment, else its name."""
    info = call.services.models.get(PROVIDER, name)
    return info.id if info is not None else name


def chat_turn(call: HttpCall) -> Turn:
    """``POST .../chat/completions``: OpenAI Chat Completions, answered by the rules as
    ``provider: azure``, naming the deployment's model, with filter results."""
    turn = openai.chat_turn(call, PROVIDER)
    model = reported_model(call, turn.request.model)
    encode, frames = turn.encode, turn.frames
    turn.encode = lambda c: filters.annotate(encode(replace(c, model=model)))
    turn.frames = lambda c: filters.chat_frames(frames(replace(c, model=model)))
    return turn


chat_completions = generation(chat_turn)


async def text_completions(call: HttpCall) -> Result:
    """``POST .../completions``: legacy text completions with filter results."""
    answer = openai.completions_answer(call, PROVIDER)
    answer.model = reported_model(call, answer.model)
    return await openai.respond(
        answer,
        lambda a: filters.annotate(openai.encode_completion(a), len(a.prompts)),
        filters.annotate_chunk,
        call.services.pacer,
    )


setattr(text_completions, GENERATING, True)  # admitted on the serving path


async def create_embeddings(call: HttpCall) -> Result:
    """``POST .../embeddings``."""
    payload = openai.create_embeddings(call, PROVIDER)
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
    models = call.services.models.for_provider(PROVIDER)
    return JsonResult({"object": "list", "data": [_model_object(m.id, m) for m in models]})


async def retrieve_model(call: HttpCall) -> Result:
    """``GET /openai/v1/models/{model}``: one catalogue entry, else 404."""
    name = str(call.path_params["model"])
    info = call.services.models.get(PROVIDER, name)
    if info is None:
        raise MockError(
            "not_found", f"The model '{name}' does not exist", param="model", code="model_not_found"
        )
    return JsonResult(_model_object(name, info))
