"""Ollama ``/api/chat`` and ``/api/generate`` bodies -> the neutral request (wire-formats.md
section 7).

Each body becomes a :class:`ChatRequest` (``provider="ollama"``, ``endpoint`` ``chat`` or
``generate``). Ollama links a tool result to its call by ``tool_name`` (ollama-python drops
call ids), so the history's calls get deterministic ids and each ``tool`` message is linked
to the earliest unanswered call of that tool: rules' ``tool_result: {tool: ...}`` works as
in every dialect. The loosely typed fields (``options``, ``format``, ``think``,
``keep_alive``) are checked in :mod:`.params`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from ...core.types import (
    ChatRequest,
    ImagePart,
    Message,
    OtherPart,
    Part,
    Role,
    TextPart,
    ToolCall,
    ToolSpec,
)
from . import protocol as p
from .params import Options

_ROLES: dict[str, Role] = {
    "system": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
}
_IMAGE_TYPES = (
    ("iVBOR", "image/png"),
    ("/9j/", "image/jpeg"),
    ("R0lGOD", "image/gif"),
    ("UklGR", "image/webp"),
)


def _image(data: str) -> ImagePart:
    media_type = next((t for prefix, t in _IMAGE_TYPES if data.startswith(prefix)), None)
    return ImagePart(media_type=media_type, data=data)


def call_id(message: int, position: int, name: str) -> str:
    """A deterministic id for a history tool call that came without one."""
    digest = hashlib.blake2b(f"{message}:{position}:{name}".encode(), digest_size=4)
    return "call_" + digest.hexdigest()


def _messages(wire: list[p.Message]) -> list[Message]:
    out: list[Message] = []
    pending: list[ToolCall] = []  # calls not answered yet, oldest first
    for index, message in enumerate(wire):
        role = _ROLES.get(message.role or "", "user")
        parts: list[Part] = []
        if message.content:
            parts.append(TextPart(message.content))
        parts.extend(_image(data) for data in message.images or ())
        if message.thinking:
            parts.append(OtherPart("thinking", message.thinking))
        if role == "tool":
            out.append(_tool_result(index, message, tuple(parts), pending))
            continue
        calls: list[ToolCall] = []
        for position, wire_call in enumerate(message.tool_calls or ()):
            function = wire_call.function or p.ToolCallFunction()
            name = function.name or ""
            arguments = orjson.dumps(function.arguments or {}).decode()
            calls.append(ToolCall(wire_call.id or call_id(index, position, name), name, arguments))
        pending.extend(calls)
        out.append(Message(role, tuple(parts), tuple(calls)))
    return out


def _tool_result(
    index: int, message: p.Message, parts: tuple[Part, ...], pending: list[ToolCall]
) -> Message:
    """A ``tool`` message linked to the call it answers: by ``tool_call_id`` when given,
    else the earliest unanswered call of ``tool_name``, else the earliest unanswered call."""
    linked = None
    if message.tool_call_id:
        linked = next((c for c in pending if c.id == message.tool_call_id), None)
    if linked is None and message.tool_name:
        linked = next((c for c in pending if c.name == message.tool_name), None)
    if linked is None and not message.tool_name and not message.tool_call_id and pending:
        linked = pending[0]
    if linked is not None:
        pending.remove(linked)
        return Message("tool", parts, tool_call_id=linked.id)
    orphan = message.tool_call_id or call_id(index, 0, message.tool_name or "")
    return Message("tool", parts, tool_call_id=orphan, name=message.tool_name or None)


def _tools(tools: list[p.Tool] | None) -> tuple[ToolSpec, ...]:
    specs = []
    for tool in tools or ():
        function = tool.function or p.ToolFunction()
        specs.append(
            ToolSpec(function.name or "", function.description or "", function.parameters or {})
        )
    return tuple(specs)


def decode_chat(
    body: p.ChatRequest,
    headers: Mapping[str, str],
    model: str,
    options: Options,
    response_format: Mapping[str, Any] | None,
) -> ChatRequest:
    """The neutral request for a validated ``/api/chat`` body; ``model`` is the name the
    catalogue knows it by."""
    return ChatRequest(
        provider="ollama",
        endpoint="chat",
        model=model,
        messages=tuple(_messages(body.messages or [])),
        tools=_tools(body.tools),
        max_tokens=options.num_predict,
        stop=options.stop,
        stream=body.stream is not False,
        response_format=response_format,
        headers=headers,
    )


def decode_generate(
    body: p.GenerateRequest,
    headers: Mapping[str, str],
    model: str,
    options: Options,
    response_format: Mapping[str, Any] | None,
    history: list[Message],
) -> ChatRequest:
    """The neutral request for a validated ``/api/generate`` body: the system prompt, the
    turns decoded from ``context`` (``history``), then the prompt as the user's message
    (a ``suffix`` is kept as a non-text part: counted, not part of the prompt)."""
    messages: list[Message] = []
    if body.system:
        messages.append(Message("system", (TextPart(body.system),)))
    messages.extend(history)
    parts: list[Part] = [TextPart(body.prompt or "")]
    parts.extend(_image(data) for data in body.images or ())
    if body.suffix:
        parts.append(OtherPart("suffix", body.suffix))
    messages.append(Message("user", tuple(parts)))
    return ChatRequest(
        provider="ollama",
        endpoint="generate",
        model=model,
        messages=tuple(messages),
        max_tokens=options.num_predict,
        stop=options.stop,
        stream=body.stream is not False,
        response_format=response_format,
        headers=headers,
    )


def image_is_base64(data: str) -> int | None:
    """The offset of the first byte that is not valid base64 in ``data``, or None."""
    try:
        base64.b64decode(data, validate=True)
    except ValueError:
        for offset, char in enumerate(data):
            if not (char.isalnum() or char in "+/="):
                return offset
        return len(data)
    return None
