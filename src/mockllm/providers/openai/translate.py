"""OpenAI Chat Completions <-> neutral types (wire-formats.md sections 2.2 and 2.3)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

import orjson

from ...core.errors import MockError
from ...core.events import (
    ChoiceEnd,
    ChoiceStart,
    Frame,
    RefusalDelta,
    TextDelta,
    ToolArgumentsDelta,
    ToolCallStart,
    iter_events,
)
from ...core.types import (
    ChatRequest,
    Completion,
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
from ..validation import INT32_MAX, INT64_MAX, INT64_MIN
from . import protocol as p

SYSTEM_FINGERPRINT = "fp_mockllm"
FINISH = {
    "stop": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "refusal": "stop",  # a structured-output refusal ends normally, with message.refusal set
}


def _parts(content: str | list[Any] | None) -> tuple[Part, ...]:
    if content is None:
        return ()
    if isinstance(content, str):
        return (TextPart(content),)
    out: list[Part] = []
    for part in content:
        if isinstance(part, p.TextPart):
            out.append(TextPart(part.text))
        elif isinstance(part, p.ImagePart):
            out.append(ImagePart(url=part.image_url.url, detail=part.image_url.detail))
        elif isinstance(part, p.RefusalPart):
            out.append(OtherPart("refusal", part.refusal))
        else:
            out.append(OtherPart(part.type))
    return tuple(out)


_PLAIN = frozenset({p.UserMessage, p.SystemMessage, p.DeveloperMessage})
"""Message types decoded as their role, content and name (most messages)."""


def _message(message: Any) -> Message:
    if type(message) in _PLAIN:
        content = message.content
        parts = (TextPart(content),) if type(content) is str else _parts(content)
        return Message(message.role, parts, (), None, message.name)
    if isinstance(message, p.AssistantMessage):
        calls = tuple(
            ToolCall(c.id, c.function.name, c.function.arguments)
            if isinstance(c, p.FunctionToolCall)
            else ToolCall(c.id, c.custom.name, c.custom.input)
            for c in message.tool_calls or ()
        )
        if message.function_call is not None:
            fc = message.function_call
            calls += (ToolCall("", fc.name, fc.arguments),)
        return Message("assistant", _parts(message.content), calls, name=message.name)
    if isinstance(message, p.ToolMessage):
        return Message("tool", _parts(message.content), tool_call_id=message.tool_call_id)
    if isinstance(message, p.FunctionMessage):
        return Message("tool", _parts(message.content), name=message.name)
    return Message(message.role, _parts(message.content), name=message.name)


_MODES = {mode: ToolChoice(mode) for mode in ("auto", "none", "required")}
"""The tool choices that name no tool (immutable, so shared by all requests)."""


def _tool_choice(choice: Any) -> ToolChoice:
    if choice is None:
        return _MODES["auto"]
    if type(choice) is str:  # a literal mode (validated)
        return _MODES[choice]
    if isinstance(choice, p.NamedToolChoice):
        return ToolChoice("named", choice.function.name)
    if isinstance(choice, p.NamedCustomChoice):
        return ToolChoice("named", choice.custom.name)
    mode = choice.allowed_tools.get("mode", "auto")
    return _MODES["required" if mode == "required" else "auto"]


def decode(body: p.ChatCompletionRequest, headers: Mapping[str, str]) -> ChatRequest:
    """The neutral request for a validated Chat Completions body; raises
    :class:`MockError` for combinations the real API rejects."""
    stop: tuple[str, ...] = ()
    if body.stop is None:
        pass
    elif isinstance(body.stop, str):
        stop = (body.stop,)
    elif body.stop:
        if len(body.stop) > 4:
            raise MockError(
                "invalid_request",
                "Invalid 'stop': array too long. Expected an array with maximum length 4, "
                f"but got an array with length {len(body.stop)} instead.",
                param="stop",
                code="array_above_max_length",
            )
        stop = tuple(body.stop)
    if body.stream_options is not None and not body.stream:
        raise MockError(
            "invalid_request",
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
            code="invalid_value",
        )
    tools: tuple[ToolSpec, ...] = ()
    if body.tools:
        tools = tuple(
            ToolSpec(t.function.name, t.function.description or "", t.function.parameters or {})
            if isinstance(t, p.FunctionTool)
            else ToolSpec(str(t.custom.get("name", "")), str(t.custom.get("description", "")))
            for t in body.tools
        )
    response_format = None
    if body.response_format is not None:
        response_format = body.response_format.model_dump(by_alias=True, exclude_none=True)
    return ChatRequest(
        "openai",
        "chat.completions",
        body.model,
        tuple([_message(m) for m in body.messages]),
        tools,
        _tool_choice(body.tool_choice),
        body.max_completion_tokens or body.max_tokens,
        stop,
        body.n or 1,
        bool(body.stream),
        response_format,
        headers,
        body.metadata or {},
        "reasoning_effort" if body.reasoning_effort is not None else None,
    )


def _is_int(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _is_number(value: Any, low: float, high: float) -> bool:
    return (type(value) is float or type(value) is int) and low <= value <= high


_PLAIN_FIELDS: dict[str, Callable[[Any], bool]] = {
    "model": lambda v: type(v) is str,
    "stream": lambda v: v is None or type(v) is bool,
    "n": lambda v: v is None or _is_int(v, 1, 128),
    "max_tokens": lambda v: v is None or _is_int(v, 1, INT32_MAX),
    "max_completion_tokens": lambda v: v is None or _is_int(v, 1, INT32_MAX),
    "temperature": lambda v: v is None or _is_number(v, 0, 2),
    "top_p": lambda v: v is None or _is_number(v, 0, 1),
    "presence_penalty": lambda v: v is None or _is_number(v, -2, 2),
    "frequency_penalty": lambda v: v is None or _is_number(v, -2, 2),
    "seed": lambda v: v is None or _is_int(v, INT64_MIN, INT64_MAX),
    "logprobs": lambda v: v is None or type(v) is bool,
    "top_logprobs": lambda v: v is None or _is_int(v, 0, 20),
    "parallel_tool_calls": lambda v: v is None or type(v) is bool,
    "user": lambda v: v is None or type(v) is str,
    "store": lambda v: v is None or v is False,
    "reasoning_effort": lambda v: v is None or type(v) is str,
    "metadata": lambda v: (
        v is None or (type(v) is dict and all(type(x) is str for x in v.values()))
    ),
    "stop": lambda v: (
        v is None
        or type(v) is str
        or (type(v) is list and len(v) <= 4 and all(type(x) is str for x in v))
    ),
    "messages": lambda v: type(v) is list and len(v) > 0,
}
"""The request fields a plain body may have, each with the check of its schema
(:class:`~.protocol.ChatCompletionRequest`: strict types, the same bounds)."""
_PLAIN_ROLES = frozenset({"system", "developer", "user", "assistant"})
_PLAIN_MESSAGE_KEYS = frozenset({"role", "content", "name"})


def decode_plain(body: bytes, headers: Mapping[str, str]) -> tuple[ChatRequest, str] | None:
    """The neutral request of a *plain* Chat Completions body, decoded without the schema's
    models (about a third of the cost of :func:`~..validation.parse_body` and
    :func:`decode`), and the name of the field its ``max_tokens`` came from; None when the
    body is not plain, and then the schema decides (and words the 400s).

    Plain: a JSON object with ``model`` and ``messages`` and no field outside
    :data:`_PLAIN_FIELDS` (sampling settings, ``n``, ``stop`` of up to 4, ``metadata``,
    ``store`` not true...), every one valid as the schema checks it, and messages of role
    ``system``, ``developer``, ``user`` or ``assistant`` with text content and an optional
    ``name``. For such a body the result equals what :func:`decode` makes of the validated
    body. Anything orjson refuses (NaN, huge numbers, invalid UTF-8) is not plain either."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict or "model" not in data or "messages" not in data:
        return None
    for key, value in data.items():
        check = _PLAIN_FIELDS.get(key)
        if check is None or not check(value):
            return None
    messages = []
    for item in data["messages"]:
        if type(item) is not dict or not item.keys() <= _PLAIN_MESSAGE_KEYS:
            return None
        role = item.get("role")
        content = item.get("content")
        name = item.get("name")
        if type(role) is not str or role not in _PLAIN_ROLES or type(content) is not str:
            return None
        if name is not None and type(name) is not str:
            return None
        messages.append(Message(cast(Role, role), (TextPart(content),), (), None, name))
    stop = data.get("stop")
    completion_tokens = data.get("max_completion_tokens")
    request = ChatRequest(
        "openai",
        "chat.completions",
        data["model"],
        tuple(messages),
        (),
        _MODES["auto"],
        completion_tokens or data.get("max_tokens"),
        () if stop is None else (stop,) if type(stop) is str else tuple(stop),
        data.get("n") or 1,
        bool(data.get("stream")),
        None,
        headers,
        data.get("metadata") or {},
        "reasoning_effort" if data.get("reasoning_effort") is not None else None,
    )
    return request, "max_completion_tokens" if completion_tokens else "max_tokens"


def usage(completion: Completion) -> dict[str, Any]:
    u = completion.usage
    return {
        "prompt_tokens": u.prompt_tokens,
        "completion_tokens": u.completion_tokens,
        "total_tokens": u.total_tokens,
        "prompt_tokens_details": {"cached_tokens": u.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": u.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def encode(completion: Completion, completion_id: str, created: int) -> dict[str, Any]:
    """The non-streaming ``chat.completion`` object."""
    choices = []
    for choice in completion.choices:
        content = choice.text if (choice.text or not choice.tool_calls) else None
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if choice.refusal is not None else content,
            "refusal": choice.refusal,
            "annotations": [],
        }
        if choice.tool_calls:
            message["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in choice.tool_calls
            ]
        choices.append(
            {
                "index": choice.index,
                "message": message,
                "logprobs": None,
                "finish_reason": FINISH[choice.finish_reason],
            }
        )
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": completion.model,
        "choices": choices,
        "usage": usage(completion),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def stream(
    completion: Completion, completion_id: str, created: int, include_usage: bool
) -> Iterator[Frame]:
    """The SSE chunks of ``completion``: role once per choice, content, tool-call fragments
    (id/type/name only in the first), finish chunk, usage chunk last if asked, ``[DONE]``."""
    head = (
        orjson.dumps(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": completion.model,
                "service_tier": "default",
                "system_fingerprint": SYSTEM_FINGERPRINT,
            }
        )[:-1]
        + b',"choices":['
    )
    tail = b'],"usage":null}\n\n' if include_usage else b"]}\n\n"
    dumps = orjson.dumps

    def chunk(choice: int, delta: dict[str, Any], finish: str | None = None) -> bytes:
        body = dumps({"index": choice, "delta": delta, "logprobs": None, "finish_reason": finish})
        return b"data: " + head + body + tail

    # A text chunk, the most frequent, is its choice's fixed opening, the text as JSON and a
    # fixed closing: the bytes chunk() writes for {"content": text}, without the dicts.
    openings: dict[int, bytes] = {}
    closing = b'},"logprobs":null,"finish_reason":null}' + tail
    choices = completion.choices
    for event in iter_events(completion):
        kind = type(event)
        if kind is TextDelta:
            assert isinstance(event, TextDelta)
            opening = openings.get(event.choice)
            if opening is None:
                opening = b'data: %s{"index":%d,"delta":{"content":' % (head, event.choice)
                openings[event.choice] = opening
            yield event, opening + dumps(event.text) + closing
        elif kind is ChoiceStart:
            this = choices[event.choice]
            text_first = (bool(this.chunks) or not this.tool_calls) and this.refusal is None
            delta = {"role": "assistant", "content": "" if text_first else None, "refusal": None}
            yield event, chunk(event.choice, delta)
        elif kind is RefusalDelta:
            assert isinstance(event, RefusalDelta)
            yield event, chunk(event.choice, {"refusal": event.text})
        elif kind is ToolCallStart:
            assert isinstance(event, ToolCallStart)
            call = {
                "index": event.index,
                "id": event.id,
                "type": "function",
                "function": {"name": event.name, "arguments": ""},
            }
            yield event, chunk(event.choice, {"tool_calls": [call]})
        elif kind is ToolArgumentsDelta:
            assert isinstance(event, ToolArgumentsDelta)
            fragment = {"index": event.index, "function": {"arguments": event.fragment}}
            yield event, chunk(event.choice, {"tool_calls": [fragment]})
        elif kind is ChoiceEnd:
            yield event, chunk(event.choice, {}, FINISH[choices[event.choice].finish_reason])
    if include_usage:
        yield None, b"data: " + head + b'],"usage":' + dumps(usage(completion)) + b"}\n\n"
    yield None, b"data: [DONE]\n\n"


def now() -> int:
    return int(time.time())
