"""Neutral completion -> Gemini's answer (wire-formats.md section 6).

A ``GenerateContentResponse`` with camelCase keys only (pitfall P26). A stream is a sequence
of complete ``GenerateContentResponse`` objects, each with a piece of the text and the usage
so far; the last one of each candidate carries its ``finishReason``. They are sent as SSE
events (``alt=sse``) or as the elements of one JSON array.
"""

from __future__ import annotations

from collections.abc import Iterator
from random import getrandbits
from typing import Any

import orjson

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
from ...core.types import Choice, Completion, FinishReason, ToolCall

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
SSE_SEPARATOR = b"\r\n\r\n"
_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def response_id() -> str:
    """A fresh ``responseId``: 22 base64url characters, like the real service's."""
    bits = getrandbits(132)
    return "".join(_B64URL[(bits >> (6 * i)) & 63] for i in range(22))


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
    return {"functionCall": {"name": call.name, "args": call.arguments_object(), "id": call.id}}


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
