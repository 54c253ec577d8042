"""Gemini GenerateContent <-> neutral types (wire-formats.md section 6).

Requests: ``contents`` (roles ``user``, ``model``, ``function``) become neutral messages;
``functionCall`` parts become the assistant's tool calls and ``functionResponse`` parts tool
messages. Gemini call ids are optional: a call without one gets a stable id from its place
in the history, and a response without one answers the earliest unanswered call of the same
name.

Responses: a ``GenerateContentResponse`` with camelCase keys only (pitfall P26). A stream is
a sequence of complete ``GenerateContentResponse`` objects, each with a piece of the text and
the usage so far; the last one of each candidate carries its ``finishReason``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from random import getrandbits
from typing import Any

import orjson

from ...core.errors import MockError
from ...core.events import (
    ChoiceEnd,
    Frame,
    ReasoningDelta,
    RefusalDelta,
    ReplyEvent,
    TextDelta,
    ToolCallEnd,
    iter_events,
)
from ...core.types import (
    ChatRequest,
    Choice,
    Completion,
    FinishReason,
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

FINISH_REASON: dict[FinishReason, str] = {
    "stop": "STOP",
    "stop_sequence": "STOP",
    "tool_calls": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "refusal": "SAFETY",
}
FUNCTION_CALL_MESSAGE = "Model generated function call(s)."
BLOCKED_RATINGS = (
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
)
ROLES: dict[str, Role] = {"user": "user", "model": "assistant", "function": "user"}
MAX_CANDIDATES = 8
SSE_SEPARATOR = b"\r\n\r\n"

_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def response_id() -> str:
    """A fresh ``responseId``: 22 base64url characters, like the real service's."""
    bits = getrandbits(132)
    return "".join(_B64URL[(bits >> (6 * i)) & 63] for i in range(22))


def invalid(message: str) -> MockError:
    return MockError("invalid_request", message)


# -- requests -------------------------------------------------------------------------------


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


# -- responses ------------------------------------------------------------------------------


def args_object(arguments: str) -> dict[str, Any]:
    """Tool-call arguments as the JSON object Gemini sends; text that is not a JSON object
    (a rule may script malformed arguments) is kept under ``arguments``."""
    try:
        value = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError:
        return {"arguments": arguments}
    return value if isinstance(value, dict) else {"arguments": value}


def usage_metadata(completion: Completion, candidates: int | None = None) -> dict[str, Any]:
    """``usageMetadata``: ``candidatesTokenCount`` excludes the thoughts, which are counted in
    ``thoughtsTokenCount`` (present only when there were any) and in the total."""
    usage = completion.usage
    thoughts = usage.reasoning_tokens
    final = max(0, usage.completion_tokens - thoughts)
    count = final if candidates is None else min(candidates, final)
    meta: dict[str, Any] = {
        "promptTokenCount": usage.prompt_tokens,
        "candidatesTokenCount": count,
        "totalTokenCount": usage.prompt_tokens + count + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": usage.prompt_tokens}],
    }
    if thoughts:
        meta["thoughtsTokenCount"] = thoughts
    if usage.cached_tokens:
        meta["cachedContentTokenCount"] = usage.cached_tokens
    return meta


def _call_part(call: ToolCall) -> dict[str, Any]:
    return {"functionCall": {"name": call.name, "args": args_object(call.arguments), "id": call.id}}


def _parts(choice: Choice, thoughts: bool) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if choice.reasoning and thoughts:
        parts.append({"text": choice.reasoning, "thought": True})
    text = choice.refusal if choice.refusal is not None else choice.text
    answer: list[dict[str, Any]] = [{"text": text}] if text else []
    answer.extend(_call_part(call) for call in choice.tool_calls)
    if choice.reasoning and answer:
        answer[0]["thoughtSignature"] = choice.signature
    return parts + answer


def _candidate(
    parts: list[dict[str, Any]], index: int, finished: Choice | None = None
) -> dict[str, Any]:
    """A candidate, with its finish (reason, and the details real answers carry) when
    ``finished`` is its choice."""
    content: dict[str, Any] = {"parts": parts, "role": "model"} if parts else {"role": "model"}
    candidate: dict[str, Any] = {"content": content}
    if finished is None:
        candidate["index"] = index
        return candidate
    reason = FINISH_REASON[finished.finish_reason]
    candidate["finishReason"] = reason
    candidate["index"] = index
    if reason == "SAFETY":
        candidate["safetyRatings"] = [dict(r) for r in BLOCKED_RATINGS]
    if finished.tool_calls:
        candidate["finishMessage"] = FUNCTION_CALL_MESSAGE
    return candidate


def encode(
    completion: Completion, model_version: str, resp_id: str, thoughts: bool = False
) -> dict[str, Any]:
    """The non-streaming ``GenerateContentResponse``."""
    return {
        "candidates": [
            _candidate(_parts(choice, thoughts), choice.index, choice)
            for choice in completion.choices
        ],
        "usageMetadata": usage_metadata(completion),
        "modelVersion": model_version,
        "responseId": resp_id,
    }


def chunks(
    completion: Completion, model_version: str, resp_id: str, thoughts: bool = False
) -> Iterator[tuple[ReplyEvent | None, dict[str, Any] | None]]:
    """The stream's ``GenerateContentResponse`` objects, each with the event it carries.

    One object per text piece (and per function call, whole: Gemini does not stream call
    arguments); the finish reason rides on a candidate's last piece (an empty text part when
    it has none). ``None`` objects stand for hidden thoughts: nothing is sent, but the
    stream is paced as if they were. ``usageMetadata`` is cumulative.
    """
    choices = {choice.index: choice for choice in completion.choices}
    last = completion.choices[-1].index
    emitted = 0
    signed: set[int] = set()
    pending: tuple[ReplyEvent, int, dict[str, Any]] | None = None

    def wrap(index: int, part: dict[str, Any] | None, final: bool = False) -> dict[str, Any]:
        parts = [part] if part is not None else []
        candidate = _candidate(parts, index, choices[index] if final else None)
        usage = usage_metadata(completion, None if final and index == last else emitted)
        return {
            "candidates": [candidate],
            "usageMetadata": usage,
            "modelVersion": model_version,
            "responseId": resp_id,
        }

    def sign(index: int, part: dict[str, Any]) -> dict[str, Any]:
        choice = choices[index]
        if choice.reasoning and index not in signed:
            signed.add(index)
            part["thoughtSignature"] = choice.signature
        return part

    for event in iter_events(completion):
        kind = type(event)
        part: dict[str, Any] | None = None
        if kind is ReasoningDelta:
            assert isinstance(event, ReasoningDelta)
            if not thoughts:
                if pending is not None:
                    yield pending[0], wrap(pending[1], pending[2])
                    pending = None
                yield event, None
                continue
            part = {"text": event.text, "thought": True}
        elif kind is TextDelta or kind is RefusalDelta:
            assert isinstance(event, TextDelta | RefusalDelta)
            part = sign(event.choice, {"text": event.text})
        elif kind is ToolCallEnd:
            assert isinstance(event, ToolCallEnd)
            call = choices[event.choice].tool_calls[event.index]
            part = sign(event.choice, _call_part(call))
        elif kind is ChoiceEnd:
            assert isinstance(event, ChoiceEnd)
            if pending is not None and pending[1] == event.choice:
                held, index, held_part = pending
                pending = None
                yield held, wrap(index, held_part, final=True)
            else:
                if pending is not None:
                    yield pending[0], wrap(pending[1], pending[2])
                    pending = None
                yield event, wrap(event.choice, sign(event.choice, {"text": ""}), final=True)
            continue
        if part is None:
            continue  # ChoiceStart, ToolCallStart, argument fragments
        if pending is not None:
            yield pending[0], wrap(pending[1], pending[2])
        if kind is not ReasoningDelta:
            emitted += 1
        pending = (event, event.choice, part)


def sse_frames(
    items: Iterator[tuple[ReplyEvent | None, dict[str, Any] | None]],
) -> Iterator[Frame]:
    """``alt=sse``: ``data: <json>`` events separated by ``\\r\\n\\r\\n``, as the real API
    (google-genai needs the space after ``data:``, pitfall P23)."""
    for event, obj in items:
        yield event, b"" if obj is None else b"data: " + orjson.dumps(obj) + SSE_SEPARATOR


def array_frames(
    items: Iterator[tuple[ReplyEvent | None, dict[str, Any] | None]],
) -> Iterator[Frame]:
    """Without ``alt=sse``: one JSON array of the same objects, streamed element by element."""
    first = True
    for event, obj in items:
        if obj is None:
            yield event, b""
            continue
        yield event, (b"[" if first else b",\r\n") + orjson.dumps(obj)
        first = False
    yield None, b"[]" if first else b"]"
