"""The neutral stream of reply events, derived from a :class:`~mockllm.core.types.Completion`.

A streaming encoder turns :func:`iter_events` into frames (event, bytes), synchronously;
:func:`paced` sends them, with the artificial latency, so that every dialect streams at the
same speed for the same answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass

from .types import Completion


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer text of choice ``choice``."""

    choice: int
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the reasoning (thinking) of choice ``choice``, before its answer."""

    choice: int
    text: str


@dataclass(frozen=True, slots=True)
class RefusalDelta:
    """A piece of the refusal of choice ``choice`` (it replaces the answer text)."""

    choice: int
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallStart:
    """Choice ``choice`` starts its ``index``-th tool call."""

    choice: int
    index: int
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ToolArgumentsDelta:
    """A fragment of the JSON arguments of a started tool call."""

    choice: int
    index: int
    fragment: str


@dataclass(frozen=True, slots=True)
class ToolCallEnd:
    """The ``index``-th tool call of choice ``choice`` is complete."""

    choice: int
    index: int


@dataclass(frozen=True, slots=True)
class ChoiceStart:
    """Choice ``choice`` begins (before any of its content)."""

    choice: int


@dataclass(frozen=True, slots=True)
class ChoiceEnd:
    """Choice ``choice`` is finished; its finish reason is on the completion."""

    choice: int


ReplyEvent = (
    TextDelta
    | ReasoningDelta
    | RefusalDelta
    | ToolCallStart
    | ToolArgumentsDelta
    | ToolCallEnd
    | ChoiceStart
    | ChoiceEnd
)

ARGUMENT_FRAGMENT_CHARS = 12
"""Tool-call arguments are streamed in fragments of this many characters."""


def split_arguments(arguments: str) -> list[str]:
    """Split JSON text into stream fragments; their concatenation is ``arguments``."""
    size = ARGUMENT_FRAGMENT_CHARS
    return [arguments[i : i + size] for i in range(0, len(arguments), size)] or [""]


def iter_events(completion: Completion) -> Iterator[ReplyEvent]:
    """All events of ``completion`` in stream order, choice after choice, with no pacing."""
    for choice in completion.choices:
        index = choice.index
        yield ChoiceStart(index)
        for chunk in choice.reasoning_chunks:
            yield ReasoningDelta(index, chunk)
        for chunk in choice.refusal_chunks:
            yield RefusalDelta(index, chunk)
        for chunk in choice.chunks:
            yield TextDelta(index, chunk)
        for position, call in enumerate(choice.tool_calls):
            yield ToolCallStart(index, position, call.id, call.name)
            for fragment in split_arguments(call.arguments):
                yield ToolArgumentsDelta(index, position, fragment)
            yield ToolCallEnd(index, position)
        yield ChoiceEnd(index)


Frame = tuple[ReplyEvent | None, bytes]
"""A piece of encoded stream and the event it encodes (None for framing such as a header)."""


UNPACED_WRITE_BYTES = 16 * 1024
"""An unpaced stream's frames after its first are joined into pieces of at least this many
bytes (the last piece may be shorter): the same bytes, in a fraction of the writes."""


async def paced(completion: Completion, frames: Iterable[Frame]) -> AsyncIterator[bytes]:
    """The encoded stream of ``completion``, pausing before each text chunk when the
    completion has lag.

    With no lag, the stream is produced at once: frames pass through until the first one
    with bytes (the client's first byte as early as possible), then the rest is joined in
    pieces of :data:`UNPACED_WRITE_BYTES` (one await and one write for many frames, no
    connection starved under load). When ``frames`` fails, what it made before is yielded
    first, then the exception propagates."""
    per_char = completion.delay_per_char
    if not per_char:
        iterator = iter(frames)
        for _event, frame in iterator:
            yield frame
            if frame:
                break
        pending: list[bytes] = []
        size = 0
        while True:
            try:
                for _event, frame in iterator:
                    pending.append(frame)
                    size += len(frame)
                    if size >= UNPACED_WRITE_BYTES:
                        break
                else:
                    break
            except Exception:
                if pending:
                    yield b"".join(pending)
                raise
            yield b"".join(pending)
            pending, size = [], 0
        if pending:
            yield b"".join(pending)
        return
    for event, frame in frames:
        kind = type(event)
        if kind is TextDelta or kind is ReasoningDelta or kind is RefusalDelta:
            assert isinstance(event, TextDelta | ReasoningDelta | RefusalDelta)
            await asyncio.sleep(per_char * len(event.text))
        yield frame
