"""Neutral completion -> Ollama's answer (wire-formats.md section 7, pitfalls P28 to P30).

NDJSON, one compact JSON object per ``\\n``-terminated line and never a blank line; the last
object has ``done: true``, ``done_reason`` and the counters. Durations are in nanoseconds,
derived from the token counts (deterministic, plausible for a local GPU).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from ...core.events import (
    ChoiceEnd,
    Frame,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    iter_events,
)
from ...core.types import Completion, ToolCall

NDJSON = "application/x-ndjson"
"""The media type of Ollama's streamed answers (and of ``/api/pull``'s progress)."""

LOAD_DURATION = 14_952_917
"""The model is already loaded: a constant few milliseconds."""
PROMPT_NS_PER_TOKEN = 350_000
"""Prompt evaluation at about 2,900 tokens a second."""
EVAL_NS_PER_TOKEN = 16_000_000
"""Generation at about 62 tokens a second."""
OVERHEAD = 1_283_041
"""Templating, sampling setup and the HTTP round within the server."""


# --- timestamps and counters --------------------------------------------------------------


def timestamp(nanos: int | None = None) -> str:
    """RFC 3339 UTC with nanoseconds, trailing zeros trimmed, as Go's ``time.Time``
    marshals: ``2026-01-01T12:00:00.123456789Z``."""
    nanos = time.time_ns() if nanos is None else nanos
    seconds, fraction = divmod(nanos, 10**9)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"


@dataclass(frozen=True, slots=True)
class Counts:
    """Token counts of one answer, as the final object reports them."""

    prompt_eval_count: int
    eval_count: int

    def metrics(self) -> dict[str, int]:
        prompt = self.prompt_eval_count * PROMPT_NS_PER_TOKEN
        evaluation = self.eval_count * EVAL_NS_PER_TOKEN
        return {
            "total_duration": LOAD_DURATION + prompt + evaluation + OVERHEAD,
            "load_duration": LOAD_DURATION,
            "prompt_eval_count": self.prompt_eval_count,
            "prompt_eval_duration": prompt,
            "eval_count": self.eval_count,
            "eval_duration": evaluation,
        }


def counts(completion: Completion, thinking: bool) -> Counts:
    """The counters of ``completion``; hidden reasoning (``think: false``) is not counted."""
    usage = completion.usage
    hidden = 0 if thinking else usage.reasoning_tokens
    return Counts(usage.prompt_tokens, usage.completion_tokens - hidden)


def embed_metrics(prompt_tokens: int) -> dict[str, int]:
    prompt = prompt_tokens * PROMPT_NS_PER_TOKEN
    return {
        "total_duration": LOAD_DURATION + prompt + OVERHEAD,
        "load_duration": LOAD_DURATION,
        "prompt_eval_count": prompt_tokens,
    }


# --- replies -------------------------------------------------------------------------------


def done_reason(completion: Completion) -> str:
    return "length" if completion.choices[0].finish_reason == "length" else "stop"


def _tool_calls(calls: tuple[ToolCall, ...]) -> list[dict[str, Any]]:
    return [
        {
            "id": call.id,
            "function": {
                "index": index,
                "name": call.name,
                "arguments": call.arguments_object(),
            },
        }
        for index, call in enumerate(calls)
    ]


def line(value: dict[str, Any]) -> bytes:
    """``value`` as one NDJSON line: compact JSON and ``\\n``."""
    return orjson.dumps(value) + b"\n"


def chat_message(
    content: str, thinking: str = "", calls: tuple[ToolCall, ...] = ()
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if thinking:
        message["thinking"] = thinking
    if calls:
        message["tool_calls"] = _tool_calls(calls)
    return message


def encode_chat(completion: Completion, model: str, thinking: bool) -> dict[str, Any]:
    """The non-streaming ``/api/chat`` answer: the final object with the whole message."""
    choice = completion.choices[0]
    text = choice.refusal if choice.refusal is not None else choice.text
    reasoning = (choice.reasoning or "") if thinking else ""
    return {
        "model": model,
        "created_at": timestamp(),
        "message": chat_message(text, reasoning, choice.tool_calls),
        "done": True,
        "done_reason": done_reason(completion),
        **counts(completion, thinking).metrics(),
    }


def stream_chat(completion: Completion, model: str, thinking: bool) -> Iterator[Frame]:
    """``/api/chat`` NDJSON: thinking pieces, text pieces, the tool calls whole in one
    object, then the final ``done`` object with empty content and the counters."""
    choice = completion.choices[0]
    for event in iter_events(completion):
        kind = type(event)
        if kind is TextDelta or kind is RefusalDelta:
            assert isinstance(event, TextDelta | RefusalDelta)
            message = chat_message(event.text)
        elif kind is ReasoningDelta:
            assert isinstance(event, ReasoningDelta)
            if not thinking:
                continue
            message = chat_message("", event.text)
        elif kind is ChoiceEnd and choice.tool_calls:
            message = chat_message("", calls=choice.tool_calls)
        else:
            continue
        chunk = {"model": model, "created_at": timestamp(), "message": message, "done": False}
        yield event, line(chunk)
    final = {
        "model": model,
        "created_at": timestamp(),
        "message": chat_message(""),
        "done": True,
        "done_reason": done_reason(completion),
        **counts(completion, thinking).metrics(),
    }
    yield None, line(final)


def _generate_final(
    completion: Completion, model: str, thinking: bool, context: list[int] | None
) -> dict[str, Any]:
    final: dict[str, Any] = {"done": True, "done_reason": done_reason(completion)}
    if context is not None:
        final["context"] = context
    final.update(counts(completion, thinking).metrics())
    return final


def encode_generate(
    completion: Completion, model: str, thinking: bool, context: list[int] | None
) -> dict[str, Any]:
    """The non-streaming ``/api/generate`` answer (``context`` is None in raw mode)."""
    choice = completion.choices[0]
    answer: dict[str, Any] = {
        "model": model,
        "created_at": timestamp(),
        "response": choice.refusal if choice.refusal is not None else choice.text,
    }
    if thinking and choice.reasoning:
        answer["thinking"] = choice.reasoning
    answer.update(_generate_final(completion, model, thinking, context))
    return answer


def stream_generate(
    completion: Completion, model: str, thinking: bool, context: list[int] | None
) -> Iterator[Frame]:
    """``/api/generate`` NDJSON: ``response`` (or ``thinking``) pieces, then the final
    object with ``context`` and the counters."""
    for event in iter_events(completion):
        kind = type(event)
        chunk: dict[str, Any] = {"model": model, "created_at": timestamp(), "response": ""}
        if kind is TextDelta or kind is RefusalDelta:
            assert isinstance(event, TextDelta | RefusalDelta)
            chunk["response"] = event.text
        elif kind is ReasoningDelta and thinking:
            assert isinstance(event, ReasoningDelta)
            chunk["thinking"] = event.text
        else:
            continue
        chunk["done"] = False
        yield event, line(chunk)
    final = {"model": model, "created_at": timestamp(), "response": ""}
    final.update(_generate_final(completion, model, thinking, context))
    yield None, line(final)


def load_answer(model: str, reason: str, chat: bool) -> dict[str, Any]:
    """What a request with no messages (or no prompt) gets: the model is loaded (or, with
    ``keep_alive: 0``, unloaded) and nothing is generated."""
    answer: dict[str, Any] = {"model": model, "created_at": timestamp()}
    if chat:
        answer["message"] = chat_message("")
    else:
        answer["response"] = ""
    answer.update(done=True, done_reason=reason)
    return answer
