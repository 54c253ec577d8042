"""A neutral completion -> the Responses API's answer: the ``Response`` object and its event
stream, both from one :class:`Rendering`, so a stored response can be streamed again with
the same ids.

The ``Response`` object (wire-formats.md section 3.2) is the completion laid out as output
items (a reasoning item, the message, then one ``function_call`` item per tool call), with
the request settings a response repeats.

The event stream (wire-formats.md section 3.3, pitfalls P14 and P15): every event with an
``event:`` line and a ``sequence_number`` from 0, items added, filled and done one after the
other, ``response.completed`` (or ``response.incomplete``) last, no ``[DONE]``.

Logprobs, when ``include`` asks for ``message.output_text.logprobs``: the ``output_text``
part's ``logprobs`` holds an entry per token of the text (the Chat Completions entry of
:func:`~..encode.logprob_entry`, with ``top_logprobs`` alternatives; values from
:mod:`mockllm.core.logprobs`), each ``response.output_text.delta`` the entries of its
delta, ``response.output_text.done`` and the finished part all of them. Otherwise every
``logprobs`` is ``[]``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
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
from ....core.types import Choice, Completion
from ...sse import sse
from ..encode import Scorer, logprob_entries
from . import protocol as p
from .decode import logprobs as asked_logprobs
from .items import Item, content_part, item_id


def _format_echo(text: p.TextConfig | None) -> dict[str, Any]:
    fmt = text.format if text is not None else None
    if fmt is None:
        return {"type": "text"}
    if isinstance(fmt, p.TextFormatJsonSchema):
        out: dict[str, Any] = {"type": "json_schema"}
        if fmt.description is not None:
            out["description"] = fmt.description
        out.update(name=fmt.name, schema=fmt.schema_, strict=bool(fmt.strict))
        return out
    return {"type": fmt.type}


def _tool_echo(tool: Any) -> dict[str, Any]:
    if isinstance(tool, p.FunctionTool):
        return {
            "type": "function",
            "description": tool.description,
            "name": tool.name,
            "parameters": tool.parameters,
            "strict": True if tool.strict is None else tool.strict,
        }
    dumped: dict[str, Any] = tool.model_dump(by_alias=True, exclude_none=True)
    return dumped


def _prompt_echo(prompt: p.PromptParam | None) -> dict[str, Any] | None:
    if prompt is None:
        return None
    variables = {
        name: value if isinstance(value, str) else content_part(value)
        for name, value in (prompt.variables or {}).items()
    }
    return {"id": prompt.id, "variables": variables, "version": prompt.version}


def echo(body: p.CreateResponse) -> dict[str, Any]:
    """The request settings a ``Response`` object repeats, in the live API's key order."""
    reasoning = body.reasoning
    choice = body.tool_choice
    return {
        "background": bool(body.background),
        "instructions": body.instructions,
        "max_output_tokens": body.max_output_tokens,
        "max_tool_calls": body.max_tool_calls,
        "parallel_tool_calls": True
        if body.parallel_tool_calls is None
        else body.parallel_tool_calls,
        "previous_response_id": body.previous_response_id,
        "prompt": _prompt_echo(body.prompt),
        "prompt_cache_key": body.prompt_cache_key,
        "prompt_cache_retention": body.prompt_cache_retention,
        "reasoning": {
            "effort": reasoning.effort if reasoning else None,
            "summary": (reasoning.summary or reasoning.generate_summary) if reasoning else None,
        },
        "safety_identifier": body.safety_identifier,
        "service_tier": body.service_tier or "auto",
        "store": True if body.store is None else body.store,
        "temperature": 1.0 if body.temperature is None else body.temperature,
        "text": {
            "format": _format_echo(body.text),
            "verbosity": (body.text.verbosity if body.text else None) or "medium",
        },
        "tool_choice": (
            "auto"
            if choice is None
            else choice
            if isinstance(choice, str)
            else choice.model_dump(by_alias=True, exclude_none=True)
        ),
        "tools": [_tool_echo(t) for t in body.tools or ()],
        "top_logprobs": body.top_logprobs or 0,
        "top_p": 1.0 if body.top_p is None else body.top_p,
        "truncation": body.truncation or "disabled",
        "user": body.user,
        "metadata": body.metadata or {},
    }


@dataclass(frozen=True, slots=True)
class OutputSlot:
    """One output item of the completion: its kind, id, and tool call (``call`` index)."""

    kind: str  # "reasoning" | "message" | "function_call"
    id: str
    call: int = -1


def layout(choice: Choice) -> tuple[OutputSlot, ...]:
    """The output items of ``choice`` in stream order, with fresh ids."""
    slots: list[OutputSlot] = []
    if choice.reasoning:
        slots.append(OutputSlot("reasoning", item_id("rs_")))
    truncated_in_reasoning = choice.finish_reason == "length" and bool(choice.reasoning)
    if (
        choice.refusal is not None
        or choice.text
        or not (choice.tool_calls or truncated_in_reasoning)
    ):
        slots.append(OutputSlot("message", item_id("msg_")))
    for index in range(len(choice.tool_calls)):
        slots.append(OutputSlot("function_call", item_id("fc_"), index))
    return tuple(slots)


@dataclass(frozen=True, slots=True)
class Rendering:
    """Everything that encodes one response, as JSON or as its stream.

    ``settings`` is :func:`echo` of the request; ``show_summary`` says the request asked for
    a reasoning summary (the reasoning text is shown as one), ``encrypted`` that it asked
    for ``reasoning.encrypted_content``. ``logprobs`` holds the logprob entries of each
    streamed piece of the text when the request asked for them (None otherwise).
    """

    id: str
    created_at: int
    completed_at: int
    completion: Completion
    settings: Mapping[str, Any]
    slots: tuple[OutputSlot, ...]
    show_summary: bool = False
    encrypted: bool = False
    logprobs: tuple[list[dict[str, Any]], ...] | None = None

    @classmethod
    def create(cls, body: p.CreateResponse, completion: Completion, now: float) -> Rendering:
        reasoning = body.reasoning
        created = int(now)
        top = asked_logprobs(body)
        logprobs = None
        if top is not None:
            scored = Scorer(top)(completion.choices[0].chunks)
            logprobs = tuple(logprob_entries((group,)) for group in scored)
        return cls(
            id=item_id("resp_"),
            created_at=created,
            completed_at=int(math.ceil(now + completion.delay_total)),
            completion=completion,
            settings=echo(body),
            slots=layout(completion.choices[0]),
            show_summary=bool(reasoning and (reasoning.summary or reasoning.generate_summary)),
            encrypted="reasoning.encrypted_content" in (body.include or ()),
            logprobs=logprobs,
        )

    @property
    def choice(self) -> Choice:
        return self.completion.choices[0]

    @property
    def incomplete_reason(self) -> str | None:
        finish = self.choice.finish_reason
        if finish == "length":
            return "max_output_tokens"
        return "content_filter" if finish == "content_filter" else None

    def item(self, slot: OutputSlot, done: bool = True) -> Item:
        """The output item in ``slot``: complete, or as first announced in a stream."""
        choice = self.choice
        if slot.kind == "reasoning":
            item: Item = {"id": slot.id, "type": "reasoning"}
            if self.encrypted:
                item["encrypted_content"] = choice.signature
            shown = done and self.show_summary and choice.reasoning
            item["summary"] = [{"type": "summary_text", "text": choice.reasoning}] if shown else []
            return item
        if slot.kind == "message":
            status = "incomplete" if self.incomplete_reason else "completed"
            return {
                "id": slot.id,
                "type": "message",
                "status": status if done else "in_progress",
                "content": [self.part(done)] if done else [],
                "role": "assistant",
            }
        call = choice.tool_calls[slot.call]
        return {
            "id": slot.id,
            "type": "function_call",
            "status": "completed" if done else "in_progress",
            "arguments": call.arguments if done else "",
            "call_id": call.id,
            "name": call.name,
        }

    def part(self, done: bool = True) -> Item:
        """The message's content part: refusal or output text, full or empty."""
        choice = self.choice
        if choice.refusal is not None:
            return {"type": "refusal", "refusal": choice.refusal if done else ""}
        text = choice.text if done else ""
        logprobs = []
        if done and self.logprobs is not None:
            logprobs = [entry for entries in self.logprobs for entry in entries]
        return {"type": "output_text", "annotations": [], "logprobs": logprobs, "text": text}

    def usage(self) -> dict[str, Any]:
        u = self.completion.usage
        return {
            "input_tokens": u.prompt_tokens,
            "input_tokens_details": {"cache_write_tokens": 0, "cached_tokens": u.cached_tokens},
            "output_tokens": u.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
            "total_tokens": u.total_tokens,
        }

    def response(self, final: bool = True) -> dict[str, Any]:
        """The ``Response`` object: finished, or the ``in_progress`` snapshot a stream
        starts with."""
        s = self.settings
        reason = self.incomplete_reason if final else None
        status = ("incomplete" if reason else "completed") if final else "in_progress"
        tier = s["service_tier"]
        head: dict[str, Any] = {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "background": s["background"],
            "completed_at": self.completed_at if status == "completed" else None,
            "error": None,
            "frequency_penalty": 0.0,
            "incomplete_details": {"reason": reason} if reason else None,
            "instructions": s["instructions"],
            "max_output_tokens": s["max_output_tokens"],
            "max_tool_calls": s["max_tool_calls"],
            "model": self.completion.model,
            "moderation": None,
            "output": [self.item(slot) for slot in self.slots] if final else [],
            "parallel_tool_calls": s["parallel_tool_calls"],
            "presence_penalty": 0.0,
            "previous_response_id": s["previous_response_id"],
        }
        if s["prompt"] is not None:  # the template reference, echoed only when given
            head["prompt"] = s["prompt"]
        return head | {
            "prompt_cache_key": s["prompt_cache_key"],
            "prompt_cache_retention": s["prompt_cache_retention"],
            "reasoning": s["reasoning"],
            "safety_identifier": s["safety_identifier"],
            "service_tier": ("default" if tier == "auto" else tier) if final else tier,
            "store": s["store"],
            "temperature": s["temperature"],
            "text": s["text"],
            "tool_choice": s["tool_choice"],
            "tools": s["tools"],
            "top_logprobs": s["top_logprobs"],
            "top_p": s["top_p"],
            "truncation": s["truncation"],
            "usage": self.usage() if final else None,
            "user": s["user"],
            "metadata": s["metadata"],
        }


# --- the event stream --------------------------------------------------------------------

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
        self.piece = 0  # how many pieces of the text have been streamed
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
                pieces = self.r.logprobs
                known = pieces is not None and self.piece < len(pieces)
                fields["logprobs"] = pieces[self.piece] if pieces and known else []
                self.piece += 1
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
                done = self.at(index, content_index=0, logprobs=part["logprobs"], text=part["text"])
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
