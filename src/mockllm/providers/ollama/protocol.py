"""Ollama native API request schemas (wire-formats.md section 7).

Ollama decodes bodies with Go's ``encoding/json``: a ``null`` is the same as an absent field,
unknown fields are ignored, and a value of the wrong JSON type is an error. Every field is
therefore optional here, unknown fields are allowed, and types are checked strictly (no
string-to-number coercion). Fields Go declares as ``any`` (``format``, ``think``,
``keep_alive``, ``input``, ``options``) are checked by the handlers; their numbers, like
every number Go decodes into ``any``, may be any double.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ..validation import INT64_MAX, INT64_MIN

GoInt = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
"""Go's ``int`` (64-bit): a larger number is Go's "cannot unmarshal number ..." error."""


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, defer_build=True)


class ToolCallFunction(_Wire):
    index: GoInt | None = None
    name: str | None = None
    arguments: dict[str, Any] | None = None


class ToolCall(_Wire):
    id: str | None = None
    function: ToolCallFunction | None = None


class Message(_Wire):
    role: str | None = None
    content: str | None = None
    thinking: str | None = None
    images: list[str] | None = None
    tool_calls: list[ToolCall] | None = None
    tool_name: str | None = None
    tool_call_id: str | None = None


class ToolFunction(_Wire):
    name: str | None = None
    description: str | None = None
    parameters: dict[str, Any] | None = None


class Tool(_Wire):
    type: str | None = None
    function: ToolFunction | None = None


class _Generation(_Wire):
    model: str | None = None
    stream: bool | None = None
    format: Any = None
    options: dict[str, Any] | None = None
    keep_alive: Any = None
    think: Any = None
    truncate: bool | None = None


class ChatRequest(_Generation):
    """``POST /api/chat``."""

    messages: list[Message] | None = None
    tools: list[Tool] | None = None


class GenerateRequest(_Generation):
    """``POST /api/generate``."""

    prompt: str | None = None
    suffix: str | None = None
    system: str | None = None
    template: str | None = None
    context: list[GoInt] | None = None
    raw: bool | None = None
    images: list[str] | None = None


class EmbedRequest(_Wire):
    """``POST /api/embed``."""

    model: str | None = None
    input: Any = None
    truncate: bool | None = None
    dimensions: GoInt | None = None
    options: dict[str, Any] | None = None
    keep_alive: Any = None


class EmbeddingRequest(_Wire):
    """``POST /api/embeddings`` (legacy)."""

    model: str | None = None
    prompt: str | None = None
    options: dict[str, Any] | None = None
    keep_alive: Any = None


class ShowRequest(_Wire):
    """``POST /api/show`` (``name`` is the deprecated spelling of ``model``)."""

    model: str | None = None
    name: str | None = None
    verbose: bool | None = None
    system: str | None = None
    template: str | None = None
    options: dict[str, Any] | None = None


class PullRequest(_Wire):
    """``POST /api/pull``."""

    model: str | None = None
    name: str | None = None
    insecure: bool | None = None
    stream: bool | None = None


# Go's type of each field, for Go's own wording of a type error ("... of type []api.Message").
GO_TYPES: dict[str, str] = {
    "model": "string",
    "name": "string",
    "prompt": "string",
    "suffix": "string",
    "system": "string",
    "template": "string",
    "stream": "bool",
    "raw": "bool",
    "truncate": "bool",
    "verbose": "bool",
    "insecure": "bool",
    "dimensions": "int",
    "context": "[]int",
    "images": "[]api.ImageData",
    "options": "map[string]interface {}",
    "messages": "[]api.Message",
    "messages.role": "string",
    "messages.content": "string",
    "messages.thinking": "string",
    "messages.images": "[]api.ImageData",
    "messages.tool_calls": "[]api.ToolCall",
    "messages.tool_name": "string",
    "messages.tool_call_id": "string",
    "messages.tool_calls.id": "string",
    "messages.tool_calls.function": "api.ToolCallFunction",
    "messages.tool_calls.function.index": "int",
    "messages.tool_calls.function.name": "string",
    "messages.tool_calls.function.arguments": "api.ToolCallFunctionArguments",
    "tools": "api.Tools",
    "tools.type": "string",
    "tools.function": "api.ToolFunction",
    "tools.function.name": "string",
    "tools.function.description": "string",
    "tools.function.parameters": "api.ToolFunctionParameters",
}

# The innermost Go struct that holds a field path ("messages.content" -> Message).
GO_STRUCTS: dict[str, str] = {
    "messages": "Message",
    "messages.tool_calls": "ToolCall",
    "messages.tool_calls.function": "ToolCallFunction",
    "tools": "Tool",
    "tools.function": "ToolFunction",
}
