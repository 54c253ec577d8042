"""What a request demands of every answer, enforced once for every dialect.

Two kinds of demand, both checked by the engine on the one serving path:

* **Capabilities** (:func:`check_capabilities`): a request that uses what its catalogue
  model cannot do (tools, images, a JSON schema format, reasoning parameters, streaming,
  or chat with an embeddings model) is refused before any rule is consulted, with the
  neutral error ``unsupported_capability`` whose ``detail`` each dialect words as its real
  service does. Models outside the catalogue are not checked (a test need not list them).
* **Hard constraints** (:func:`constrain`): a forced tool choice (a named tool,
  ``required``; Anthropic ``any``/``tool``) gets a call of that tool, and a ``json_schema``
  format (Chat ``response_format``, Responses ``text.format``, Gemini ``responseSchema``,
  Ollama ``format``) gets JSON valid against the schema, whatever the rule that matched
  said: the real services never answer such a request with prose. A rule's text goes
  alongside a forced tool call (every protocol allows both); a rule's text that is not
  valid JSON for the schema is replaced by generated JSON. A ``json_object`` format gets
  a JSON object: text that is not one is wrapped as ``{"response": text}``. Error replies
  and refusals are left as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import orjson

from .core.errors import MockError
from .core.models import ModelInfo
from .core.types import ChatRequest, ImagePart
from .rules.replies import Plan, PlannedCall

_CHAT = frozenset({"streaming", "tools", "vision", "json_schema", "reasoning"})


def unsupported(capability: str, model: str, param: str) -> MockError:
    """The neutral 400 for a request using ``capability`` (through field ``param``) that
    catalogue model ``model`` lacks; dialects reword it (see ``Provider.reword``)."""
    what = {
        "chat": "chat requests",
        "tools": "tools",
        "vision": "image inputs",
        "json_schema": "JSON schema output",
        "reasoning": "reasoning parameters",
        "streaming": "streaming",
    }.get(capability, capability)
    return MockError(
        "invalid_request",
        f"Model {model} does not support {what} ('{param}').",
        param=param,
        code="unsupported_capability",
        detail={"capability": capability, "model": model, "param": param},
    )


def too_many_output_tokens(count: int, model: ModelInfo, param: str) -> MockError:
    """The neutral 400 for a request asking for ``count`` output tokens (through field
    ``param``), more than ``model`` produces; dialects reword it."""
    return MockError(
        "invalid_request",
        f"{param} is too large: {count}; model {model.id} produces at most "
        f"{model.max_output_tokens} output tokens.",
        param=param,
        code="max_tokens_exceeded",
        detail={
            "count": count,
            "limit": model.max_output_tokens,
            "model": model.id,
            "param": param,
        },
    )


def check_capabilities(request: ChatRequest, model: ModelInfo) -> None:
    """Raise :func:`unsupported` when ``request`` needs what ``model`` cannot do."""
    caps = model.capabilities
    if "embeddings" in caps and not caps & _CHAT:
        raise unsupported("chat", model.id, "model")
    if request.tools and "tools" not in caps:
        raise unsupported("tools", model.id, "tools")
    fmt = request.response_format
    if fmt is not None and fmt.get("type") == "json_schema" and "json_schema" not in caps:
        raise unsupported("json_schema", model.id, "response_format")
    if request.reasoning is not None and "reasoning" not in caps:
        raise unsupported("reasoning", model.id, request.reasoning)
    if request.stream and "streaming" not in caps:
        raise unsupported("streaming", model.id, "stream")
    if "vision" not in caps:
        for message in request.messages:
            for part in message.parts:
                if type(part) is ImagePart:
                    raise unsupported("vision", model.id, "messages")


def _schema(request: ChatRequest) -> Mapping[str, Any] | bool | None:
    """The JSON Schema of a ``json_schema`` format (an empty object schema when it names
    none), or None when the request asks for no schema."""
    fmt = request.response_format
    if fmt is None or fmt.get("type") != "json_schema":
        return None
    spec = fmt.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, Mapping) else None
    if isinstance(schema, Mapping | bool):
        return schema
    return {"type": "object"}


def _valid_json(text: str, schema: Mapping[str, Any] | bool) -> bool:
    from .json_instances import is_valid

    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    try:
        return is_valid(schema, value)
    except Exception:  # a schema the validator cannot read: the generator decides
        return False


def constrain(request: ChatRequest, plan: Plan) -> tuple[Plan, str | None]:
    """``plan`` made to satisfy the request's hard constraints, and a note of what was
    enforced (None when the plan already did)."""
    if plan.error is not None or plan.refusal is not None:
        return plan, None
    choice = request.tool_choice
    if request.tools and choice.mode in ("required", "named"):
        wanted = choice.name if choice.mode == "named" and choice.name else None
        calls = plan.tool_calls
        if wanted is not None:
            kept = tuple(c for c in calls if c.name == wanted)
            if kept != calls or not kept:
                plan = replace(plan, tool_calls=kept or (PlannedCall(wanted, None, None),))
                return plan, f"tool_choice: {wanted}"
        elif not calls:
            name = request.tools[0].name
            return replace(plan, tool_calls=(PlannedCall(name, None, None),)), "tool_choice"
        return plan, None
    if plan.tool_calls or plan.json is not None:
        return plan, None
    fmt = request.response_format
    if fmt is not None and fmt.get("type") == "json_object":
        try:
            valid = isinstance(orjson.loads(plan.text), dict)
        except orjson.JSONDecodeError:
            valid = False
        if valid:
            return plan, None
        text = orjson.dumps({"response": plan.text}).decode()
        return replace(plan, text=text, chunks=None), "json_object"
    schema = _schema(request)
    if schema is None:
        return plan, None
    if _valid_json(plan.text, schema):
        return plan, None
    return replace(plan, text="", chunks=None, json="response_format"), "json_schema"
