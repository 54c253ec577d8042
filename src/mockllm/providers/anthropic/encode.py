"""Neutral completion -> Anthropic's answer (wire-formats.md section 5.4): the ``message``
object, its SSE event stream, usage and stop reasons."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...core.events import (
    ChoiceEnd,
    Frame,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    ToolArgumentsDelta,
    ToolCallEnd,
    ToolCallStart,
    iter_events,
)
from ...core.types import Choice, Completion
from ..sse import sse

STOP_REASON = {
    "stop": "end_turn",
    "stop_sequence": "stop_sequence",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
    "refusal": "refusal",
}


def usage(completion: Completion, output_tokens: int | None = None) -> dict[str, Any]:
    return {
        "input_tokens": completion.usage.prompt_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": completion.usage.cached_tokens,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": completion.usage.completion_tokens
        if output_tokens is None
        else output_tokens,
        "service_tier": "standard",
    }


def _content(choice: Choice) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if choice.reasoning:
        blocks.append(
            {"type": "thinking", "thinking": choice.reasoning, "signature": choice.signature}
        )
    text = choice.refusal if choice.refusal is not None else choice.text
    if text:
        blocks.append({"type": "text", "text": text})
    for call in choice.tool_calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": call.id,
                "name": call.name,
                "input": call.arguments_object(),
            }
        )
    return blocks


def encode(completion: Completion, message_id: str) -> dict[str, Any]:
    """The non-streaming ``message`` object."""
    choice = completion.choices[0]
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": completion.model,
        "content": _content(choice),
        "stop_reason": STOP_REASON[choice.finish_reason],
        "stop_sequence": choice.stop_sequence,
        "usage": usage(completion),
    }


def _block_start(index: int, block: dict[str, Any]) -> bytes:
    return sse(
        {"type": "content_block_start", "index": index, "content_block": block},
        "content_block_start",
    )


def _block_delta(index: int, delta: dict[str, Any]) -> bytes:
    return sse(
        {"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta"
    )


def _block_stop(index: int) -> bytes:
    return sse({"type": "content_block_stop", "index": index}, "content_block_stop")


def stream(completion: Completion, message_id: str) -> Iterator[Frame]:
    """The SSE events of ``completion``: ``message_start``, one block at a time with
    contiguous indices (thinking, then text, then tool uses), ``message_delta`` with
    cumulative usage, ``message_stop``."""
    choice = completion.choices[0]
    start = encode(completion, message_id)
    start.update(content=[], stop_reason=None, stop_sequence=None)
    start["usage"] = usage(completion, output_tokens=1)
    yield None, sse({"type": "message_start", "message": start}, "message_start")
    index = -1
    open_block: str | None = None  # "thinking" or "text" while such a block is open
    pinged = False

    def close() -> Iterator[Frame]:
        nonlocal open_block
        if open_block == "thinking":
            yield (
                None,
                _block_delta(index, {"type": "signature_delta", "signature": choice.signature}),
            )
        if open_block is not None:
            yield None, _block_stop(index)
        open_block = None

    for event in iter_events(completion):
        kind = type(event)
        if kind is ReasoningDelta or kind is TextDelta or kind is RefusalDelta:
            assert isinstance(event, ReasoningDelta | TextDelta | RefusalDelta)
            wanted = "thinking" if kind is ReasoningDelta else "text"
            if open_block != wanted:
                yield from close()
                index += 1
                open_block = wanted
                empty = (
                    {"type": "thinking", "thinking": "", "signature": ""}
                    if wanted == "thinking"
                    else {"type": "text", "text": ""}
                )
                yield None, _block_start(index, empty)
                if not pinged:
                    pinged = True
                    yield None, sse({"type": "ping"}, "ping")
            delta = (
                {"type": "thinking_delta", "thinking": event.text}
                if wanted == "thinking"
                else {"type": "text_delta", "text": event.text}
            )
            yield event, _block_delta(index, delta)
        elif kind is ToolCallStart:
            assert isinstance(event, ToolCallStart)
            yield from close()
            index += 1
            block = {"type": "tool_use", "id": event.id, "name": event.name, "input": {}}
            yield event, _block_start(index, block)
        elif kind is ToolArgumentsDelta:
            assert isinstance(event, ToolArgumentsDelta)
            yield (
                event,
                _block_delta(index, {"type": "input_json_delta", "partial_json": event.fragment}),
            )
        elif kind is ToolCallEnd:
            yield event, _block_stop(index)
        elif kind is ChoiceEnd:
            yield from close()
    final_usage = usage(completion)
    del final_usage["cache_creation"], final_usage["service_tier"]
    yield (
        None,
        sse(
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": STOP_REASON[choice.finish_reason],
                    "stop_sequence": choice.stop_sequence,
                },
                "usage": final_usage,
            },
            "message_delta",
        ),
    )
    yield None, sse({"type": "message_stop"}, "message_stop")
