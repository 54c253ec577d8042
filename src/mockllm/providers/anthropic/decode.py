"""Anthropic Messages request -> the neutral request (wire-formats.md section 5.3).

``tool_result`` blocks become ``tool`` messages placed before the rest of the user's turn;
``tool_use`` blocks become the assistant's tool calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ...core.types import (
    ChatRequest,
    ImagePart,
    Message,
    OtherPart,
    Part,
    TextPart,
    ToolCall,
    ToolChoice,
    ToolSpec,
)
from . import protocol as p


def _part(block: Any) -> Part:
    if isinstance(block, p.TextBlock):
        return TextPart(block.text)
    if isinstance(block, p.ImageBlock):
        source = block.source
        if isinstance(source, p.Base64Source):
            return ImagePart(media_type=source.media_type, data=source.data)
        if isinstance(source, p.URLSource):
            return ImagePart(url=source.url)
        return ImagePart(url=source.file_id)
    if isinstance(block, p.ThinkingBlock):
        return OtherPart("thinking", block.thinking)
    return OtherPart(block.type)


def _messages(message: p.MessageParam) -> list[Message]:
    """One wire message as neutral messages: ``tool_result`` blocks become ``tool``
    messages, placed before the rest of the user's content."""
    if isinstance(message.content, str):
        return [Message(message.role, (TextPart(message.content),))]
    results: list[Message] = []
    parts: list[Part] = []
    calls: list[ToolCall] = []
    for block in message.content:
        if isinstance(block, p.ToolResultBlock):
            content = block.content
            if isinstance(content, str):
                result_parts: tuple[Part, ...] = (TextPart(content),)
            else:
                result_parts = tuple(_part(b) for b in content or ())
            results.append(
                Message(
                    "tool",
                    result_parts,
                    tool_call_id=block.tool_use_id,
                    is_error=bool(block.is_error),
                )
            )
        elif isinstance(block, p.ToolUseBlock):
            calls.append(ToolCall(block.id, block.name, orjson.dumps(block.input).decode()))
        else:
            parts.append(_part(block))
    if parts or calls or not results:
        results.append(Message(message.role, tuple(parts), tuple(calls)))
    return results


def _tool_choice(choice: Any) -> ToolChoice:
    if isinstance(choice, p.AnyChoice):
        return ToolChoice("required")
    if isinstance(choice, p.NamedChoice):
        return ToolChoice("named", choice.name)
    if isinstance(choice, p.NoneChoice):
        return ToolChoice("none")
    return ToolChoice("auto")


def decode(
    body: p.CountTokensRequest, headers: Mapping[str, str], endpoint: str = "messages"
) -> ChatRequest:
    """The neutral request for a validated Messages (or count_tokens) body."""
    messages: list[Message] = []
    if isinstance(body.system, str):
        messages.append(Message("system", (TextPart(body.system),)))
    elif body.system:
        messages.append(Message("system", tuple(TextPart(b.text) for b in body.system)))
    for message in body.messages:
        messages.extend(_messages(message))
    tools = tuple(
        ToolSpec(t.name, t.description or "", t.input_schema or {}) for t in body.tools or ()
    )
    stream = max_tokens = None
    stop: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = {}
    if isinstance(body, p.MessagesRequest):
        stream, max_tokens = body.stream, body.max_tokens
        stop = tuple(body.stop_sequences or ())
        metadata = body.metadata or {}
    return ChatRequest(
        provider="anthropic",
        endpoint=endpoint,
        model=body.model,
        messages=tuple(messages),
        tools=tools,
        tool_choice=_tool_choice(body.tool_choice),
        max_tokens=max_tokens,
        stop=stop,
        stream=bool(stream),
        headers=headers,
        metadata=metadata,
        reasoning="thinking"
        if body.thinking is not None and body.thinking.type != "disabled"
        else None,
    )
