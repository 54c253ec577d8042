"""OpenAI Responses API requests -> the neutral request (wire-formats.md section 3.1).

Decoding turns input items (with the stored conversation of ``previous_response_id``
prepended; :mod:`.items`) into the neutral request: ``instructions`` becomes a system
message, ``function_call`` items assistant tool calls, ``function_call_output`` items tool
messages, ``text.format`` the response format and ``max_output_tokens`` the token limit.
``include: ["message.output_text.logprobs"]`` asks for logprobs, with ``top_logprobs``
alternatives per token (0 when not given): the neutral request's ``logprobs``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ....core.types import ChatRequest, Message, TextPart, ToolChoice, ToolSpec
from . import protocol as p
from .items import Item, item_messages


def _tool_choice(choice: Any) -> ToolChoice:
    if choice is None or choice == "auto":
        return ToolChoice("auto")
    if choice in ("none", "required"):
        return ToolChoice(choice)
    if isinstance(choice, p.FunctionChoice):
        return ToolChoice("named", choice.name)
    if isinstance(choice, p.AllowedToolsChoice):
        if choice.mode != "required":
            return ToolChoice("auto")
        names = [t.get("name") for t in choice.tools if t.get("type") == "function"]
        if len(names) == 1 and isinstance(names[0], str):
            return ToolChoice("named", names[0])
        return ToolChoice("required")
    return ToolChoice("auto")  # a hosted tool forced by type: mockllm only calls functions


def response_format(text: p.TextConfig | None) -> dict[str, Any] | None:
    """``text.format`` as Chat Completions' ``response_format``, which the engine reads."""
    fmt = text.format if text is not None else None
    if fmt is None or isinstance(fmt, p.TextFormatText):
        return None
    if isinstance(fmt, p.TextFormatJsonObject):
        return {"type": "json_object"}
    spec: dict[str, Any] = {"name": fmt.name, "schema": fmt.schema_}
    if fmt.strict is not None:
        spec["strict"] = fmt.strict
    return {"type": "json_schema", "json_schema": spec}


def decode(
    body: p.PromptFields,
    model: str,
    items: Iterable[Item],
    headers: Mapping[str, str],
    *,
    max_tokens: int | None = None,
    stream: bool = False,
    metadata: Mapping[str, Any] | None = None,
) -> ChatRequest:
    """The neutral request for ``items`` (the whole conversation, stored history first)."""
    messages: list[Message] = []
    if body.instructions:
        messages.append(Message("system", (TextPart(body.instructions),)))
    messages.extend(item_messages(items))
    tools = tuple(
        ToolSpec(t.name, t.description or "", t.parameters or {})
        for t in body.tools or ()
        if isinstance(t, p.FunctionTool)
    )
    return ChatRequest(
        provider="openai",
        endpoint="responses",
        model=model,
        messages=tuple(messages),
        tools=tools,
        tool_choice=_tool_choice(body.tool_choice),
        max_tokens=max_tokens,
        stream=stream,
        response_format=response_format(body.text),
        headers=headers,
        metadata=metadata or {},
        reasoning=_reasoning(body),
        logprobs=logprobs(body),
    )


LOGPROBS_INCLUDE = "message.output_text.logprobs"
"""The ``include`` value that asks for the output text's logprobs."""


def logprobs(body: p.PromptFields) -> int | None:
    """How many alternatives per token the request asks for (``top_logprobs``, 0 when not
    given) when its ``include`` lists :data:`LOGPROBS_INCLUDE`; None otherwise."""
    include = getattr(body, "include", None)
    if not include or LOGPROBS_INCLUDE not in include:
        return None
    top = getattr(body, "top_logprobs", None)
    return top if isinstance(top, int) else 0


def _reasoning(body: p.PromptFields) -> str | None:
    """``reasoning.effort`` when the request sets an effort (checked against the model)."""
    config = getattr(body, "reasoning", None)
    return "reasoning.effort" if config is not None and config.effort is not None else None
