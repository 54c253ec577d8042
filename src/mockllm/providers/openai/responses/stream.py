"""The Responses event stream (wire-formats.md section 3.3, pitfalls P14 and P15): every
event with an ``event:`` line and a ``sequence_number`` from 0, items added, filled and done
one after the other, ``response.completed`` (or ``response.incomplete``) last, no ``[DONE]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ....core.events import (
    ChoiceEnd,
    Frame,
    ReasoningDelta,
    RefusalDelta,
    ReplyEvent,
    TextDelta,
    ToolArgumentsDelta,
    ToolCallEnd,
    ToolCallStart,
    iter_events,
)
from ...sse import sse
from .rendering import Rendering

SequencedFrame = tuple[int, ReplyEvent | None, bytes]


def stream_events(rendering: Rendering, final: dict[str, Any]) -> Iterator[SequencedFrame]:
    """The whole event stream of ``rendering`` (section 3.3), each event with its
    ``sequence_number``; ``final`` is the finished ``Response`` object it ends with."""
    return _StreamEncoder(rendering).events(final)


def stream(rendering: Rendering, final: dict[str, Any]) -> Iterator[Frame]:
    """The SSE frames of ``rendering`` for :func:`~mockllm.core.events.paced`."""
    for _, event, data in stream_events(rendering, final):
        yield event, data


class _StreamEncoder:
    """Turns the neutral reply events into the item lifecycle of the Responses stream:
    every item is added, filled and done before the next one starts."""

    def __init__(self, rendering: Rendering) -> None:
        self.r = rendering
        self.seq = -1
        self.open: int | None = None  # output index of the item being streamed
        self.started = 0  # how many items have been added
        self.by_kind = {(s.kind, s.call): i for i, s in enumerate(rendering.slots)}

    def frame(self, kind: str, event: ReplyEvent | None, fields: dict[str, Any]) -> SequencedFrame:
        self.seq += 1
        payload = {"type": kind, **fields, "sequence_number": self.seq}
        return self.seq, event, sse(payload, kind)

    def events(self, final: dict[str, Any]) -> Iterator[SequencedFrame]:
        snapshot = self.r.response(final=False)
        yield self.frame("response.created", None, {"response": snapshot})
        yield self.frame("response.in_progress", None, {"response": snapshot})
        for event in iter_events(self.r.completion):
            if event.choice != 0:
                continue  # the Responses API has one answer
            yield from self.on(event)
        terminal = (
            "response.incomplete" if final["status"] == "incomplete" else "response.completed"
        )
        yield self.frame(terminal, None, {"response": final})

    def on(self, event: ReplyEvent) -> Iterator[SequencedFrame]:
        kind = type(event)
        if kind is TextDelta or kind is RefusalDelta:
            assert isinstance(event, TextDelta | RefusalDelta)
            index = self.by_kind[("message", -1)]
            yield from self.enter(index)
            text_kind = (
                "response.output_text.delta" if kind is TextDelta else "response.refusal.delta"
            )
            fields = self.at(index, content_index=0, delta=event.text)
            if kind is TextDelta:
                fields["logprobs"] = []
            yield self.frame(text_kind, event, fields)
        elif kind is ReasoningDelta:
            assert isinstance(event, ReasoningDelta)
            index = self.by_kind[("reasoning", -1)]
            yield from self.enter(index)
            if self.r.show_summary:
                fields = self.at(index, delta=event.text, summary_index=0)
                yield self.frame("response.reasoning_summary_text.delta", event, fields)
            else:
                yield self.seq, event, b""  # hidden, but paced like the real thing
        elif kind is ToolCallStart:
            assert isinstance(event, ToolCallStart)
            yield from self.enter(self.by_kind[("function_call", event.index)])
        elif kind is ToolArgumentsDelta:
            assert isinstance(event, ToolArgumentsDelta)
            if event.fragment:
                index = self.by_kind[("function_call", event.index)]
                fields = self.at(index, delta=event.fragment)
                yield self.frame("response.function_call_arguments.delta", event, fields)
        elif kind is ToolCallEnd:
            yield from self.close()
        elif kind is ChoiceEnd:
            # Items with nothing to stream (an empty answer) are still added and done.
            for index in range(self.started, len(self.r.slots)):
                yield from self.enter(index)
            yield from self.close()

    def at(self, index: int, **fields: Any) -> dict[str, Any]:
        return {"item_id": self.r.slots[index].id, "output_index": index, **fields}

    def enter(self, index: int) -> Iterator[SequencedFrame]:
        """Close the open item and add the ones up to ``index`` (the one to stream)."""
        if self.open == index:
            return
        yield from self.close()
        while self.started <= index:
            yield from self.add(self.started)
            self.started += 1
            if self.started <= index:
                yield from self.close()

    def add(self, index: int) -> Iterator[SequencedFrame]:
        self.open = index
        slot = self.r.slots[index]
        item = self.r.item(slot, done=False)
        yield self.frame("response.output_item.added", None, {"item": item, "output_index": index})
        if slot.kind == "message":
            fields = self.at(index, content_index=0, part=self.r.part(done=False))
            yield self.frame("response.content_part.added", None, fields)
        elif slot.kind == "reasoning" and self.r.show_summary:
            part = {"type": "summary_text", "text": ""}
            fields = self.at(index, part=part, summary_index=0)
            yield self.frame("response.reasoning_summary_part.added", None, fields)

    def close(self) -> Iterator[SequencedFrame]:
        index = self.open
        if index is None:
            return
        self.open = None
        r = self.r
        slot = r.slots[index]
        item = r.item(slot)
        if slot.kind == "message":
            part = r.part()
            if part["type"] == "refusal":
                done = self.at(index, content_index=0, refusal=part["refusal"])
                yield self.frame("response.refusal.done", None, done)
            else:
                done = self.at(index, content_index=0, logprobs=[], text=part["text"])
                yield self.frame("response.output_text.done", None, done)
            fields = self.at(index, content_index=0, part=part)
            yield self.frame("response.content_part.done", None, fields)
        elif slot.kind == "reasoning" and r.show_summary:
            summary = (
                item["summary"][0] if item["summary"] else {"type": "summary_text", "text": ""}
            )
            fields = self.at(index, summary_index=0, text=summary["text"])
            yield self.frame("response.reasoning_summary_text.done", None, fields)
            fields = self.at(index, part=summary, summary_index=0)
            yield self.frame("response.reasoning_summary_part.done", None, fields)
        elif slot.kind == "function_call":
            fields = self.at(index, arguments=item["arguments"], name=item["name"])
            yield self.frame("response.function_call_arguments.done", None, fields)
        yield self.frame("response.output_item.done", None, {"item": item, "output_index": index})
