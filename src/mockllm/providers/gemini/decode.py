"""Gemini GenerateContent request -> the neutral request (wire-formats.md section 6).

``contents`` (roles ``user``, ``model``, ``function``) become neutral messages;
``functionCall`` parts become the assistant's tool calls and ``functionResponse`` parts tool
messages. Gemini call ids are optional: a call without one gets a stable id from its place
in the history, and a response without one answers the earliest unanswered call of the same
name.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

import orjson

from ...core.errors import MockError
from ...core.types import (
    ChatRequest,
    ImagePart,
    Message,
    OtherPart,
    Part,
    Role,
    TextPart,
    ToolCall,
    ToolChoice,
    ToolSpec,
)
from . import protocol as p

ROLES: dict[str, Role] = {"user": "user", "model": "assistant", "function": "user"}
MAX_CANDIDATES = 8


def invalid(message: str) -> MockError:
    return MockError("invalid_request", message)


def result_text(response: Mapping[str, Any] | None) -> tuple[str, bool]:
    """A ``functionResponse.response`` as tool-result text, and whether it reports an
    error. ``{"result": x}`` / ``{"output": x}`` (google-genai wraps return values so) is
    ``x``; ``{"error": x}`` is ``x``, as an error; any other object is its compact JSON."""
    if not response:
        return "", False
    if len(response) == 1:
        ((key, value),) = response.items()
        if key in ("result", "output", "content", "error"):
            text = value if isinstance(value, str) else orjson.dumps(value).decode()
            return text, key == "error"
    return orjson.dumps(dict(response)).decode(), False


class _CallIds:
    """Ids for the function calls and responses of one history (see module docstring)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0
        self.open: dict[str, deque[str]] = {}

    def call(self, call: p.FunctionCall) -> str:
        self.count += 1
        call_id = call.id or f"{self.prefix}{self.count}"
        self.open.setdefault(call.name, deque()).append(call_id)
        return call_id

    def response(self, response: p.FunctionResponse) -> str:
        waiting = self.open.get(response.name)
        if response.id:
            if waiting and response.id in waiting:
                waiting.remove(response.id)
            return response.id
        if waiting:
            return waiting.popleft()
        self.count += 1
        return f"{self.prefix}{self.count}"


def _media_part(mime: str | None, data: str | None = None, url: str | None = None) -> Part:
    mime = mime or ""
    family = mime.split("/", 1)[0]
    if family == "image":
        return ImagePart(url=url, media_type=mime, data=data)
    return OtherPart(family if family in ("audio", "video") else "file")


def _content(
    content: p.Content, where: str, ids: _CallIds, *, system: bool = False
) -> list[Message]:
    """One wire ``Content`` as neutral messages: function responses become ``tool``
    messages, placed before the rest of the turn."""
    role = content.role or ("system" if system else "user")
    if not system and role not in ROLES:
        raise invalid("Please use a valid role: user, model.")
    if not content.parts:
        raise invalid(f"* GenerateContentRequest.{where}.parts: contents.parts must not be empty.")
    results: list[Message] = []
    parts: list[Part] = []
    calls: list[ToolCall] = []
    for index, part in enumerate(content.parts):
        if part.function_response is not None:
            response = part.function_response
            text, is_error = result_text(response.response)
            results.append(
                Message(
                    "tool",
                    (TextPart(text),),
                    tool_call_id=ids.response(response),
                    name=response.name,
                    is_error=is_error,
                )
            )
        elif part.function_call is not None:
            call = part.function_call
            arguments = orjson.dumps(call.args or {}).decode()
            calls.append(ToolCall(ids.call(call), call.name, arguments))
        elif part.text is not None:
            if part.thought:
                parts.append(OtherPart("thinking", part.text))
            elif part.text:
                parts.append(TextPart(part.text))
        elif part.inline_data is not None:
            parts.append(_media_part(part.inline_data.mime_type, data=part.inline_data.data))
        elif part.file_data is not None:
            parts.append(_media_part(part.file_data.mime_type, url=part.file_data.file_uri))
        elif part.executable_code is not None or part.code_execution_result is not None:
            parts.append(OtherPart("code"))
        elif part.model_extra:
            parts.append(OtherPart(next(iter(part.model_extra))))
        elif part.thought_signature is None:
            raise invalid(
                f"* GenerateContentRequest.{where}.parts[{index}].data: required oneof field "
                "'data' must have one initialized field"
            )
    neutral_role: Role = "system" if system else ROLES[role]
    if parts or calls or not results:
        results.append(Message(neutral_role, tuple(parts), tuple(calls)))
    return results


def _tools(body: p.GenerateContentRequest) -> tuple[ToolSpec, ...]:
    specs = []
    for tool in body.tools or ():
        for declaration in tool.function_declarations or ():
            parameters = declaration.parameters_json_schema or declaration.parameters or {}
            specs.append(ToolSpec(declaration.name, declaration.description or "", parameters))
    return tuple(specs)


def _tool_choice(body: p.GenerateContentRequest) -> ToolChoice:
    config = body.tool_config.function_calling_config if body.tool_config else None
    if config is None:
        return ToolChoice("auto")
    mode = (config.mode or "AUTO").upper()
    if mode == "NONE":
        return ToolChoice("none")
    if mode == "ANY":
        allowed = config.allowed_function_names or []
        return ToolChoice("named", allowed[0]) if len(allowed) == 1 else ToolChoice("required")
    if mode in ("AUTO", "VALIDATED", "MODE_UNSPECIFIED"):
        return ToolChoice("auto")
    raise invalid(
        "Invalid value at 'tool_config.function_calling_config.mode' "
        f"(type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), "
        f'"{config.mode}"'
    )


def response_format(config: p.GenerationConfig | None) -> dict[str, Any] | None:
    """The neutral response format of ``generationConfig``: JSON mode
    (``responseMimeType: application/json``) with ``responseJsonSchema`` or
    ``responseSchema`` (OpenAPI types such as ``"OBJECT"`` are kept) is ``json_schema``;
    JSON mode without a schema is ``json_object``."""
    if config is None or (config.response_mime_type or "").lower() != "application/json":
        return None
    schema = config.response_json_schema or config.response_schema
    if schema is None:
        return {"type": "json_object"}
    return {"type": "json_schema", "json_schema": {"name": "response", "schema": schema}}


def decode(
    body: p.GenerateContentRequest,
    model: str,
    headers: Mapping[str, str],
    endpoint: str = "generateContent",
    *,
    id_prefix: str = "call_",
) -> ChatRequest:
    """The neutral request for a validated GenerateContent (or countTokens) body."""
    ids = _CallIds(id_prefix)
    messages: list[Message] = []
    if body.system_instruction is not None and body.system_instruction.parts:
        messages.extend(_content(body.system_instruction, "system_instruction", ids, system=True))
    for index, content in enumerate(body.contents):
        messages.extend(_content(content, f"contents[{index}]", ids))
    config = body.generation_config
    max_tokens = n = None
    stop: tuple[str, ...] = ()
    if config is not None:
        max_tokens, n = config.max_output_tokens, config.candidate_count
        stop = tuple(config.stop_sequences or ())
    if max_tokens is not None and max_tokens < 1:
        raise invalid(
            f"Unable to submit request because it has a maxOutputTokens value of {max_tokens} "
            "but the supported range is from 1 (inclusive) to 65537 (exclusive). Update the "
            "value and try again."
        )
    if n is not None and not 1 <= n <= MAX_CANDIDATES:
        raise invalid(
            f"* GenerateContentRequest.generation_config.candidate_count: candidate_count must "
            f"be between 1 and {MAX_CANDIDATES}."
        )
    return ChatRequest(
        provider="gemini",
        endpoint=endpoint,
        model=model,
        messages=tuple(messages),
        tools=_tools(body),
        tool_choice=_tool_choice(body),
        max_tokens=max_tokens,
        stop=stop,
        n=n or 1,
        stream=endpoint == "streamGenerateContent",
        response_format=response_format(config),
        headers=headers,
        reasoning=_reasoning(config),
    )


def _reasoning(config: p.GenerationConfig | None) -> str | None:
    """``generationConfig.thinkingConfig`` when it asks for thinking (a budget of 0 turns
    thinking off, as ``includeThoughts: false`` with no budget or level asks nothing)."""
    thinking = config.thinking_config if config is not None else None
    if thinking is None:
        return None
    if thinking.include_thoughts or thinking.thinking_level or thinking.thinking_budget:
        return "generationConfig.thinkingConfig"
    return None


def include_thoughts(body: p.GenerateContentRequest) -> bool:
    """Whether the request asks to see the model's thoughts (``includeThoughts``)."""
    config = body.generation_config
    thinking = config.thinking_config if config is not None else None
    return bool(thinking is not None and thinking.include_thoughts)
