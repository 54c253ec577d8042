"""Vendor-neutral request and reply types.

Every dialect decodes its wire request into a :class:`ChatRequest` and encodes a
:class:`Completion` (or the :data:`ReplyEvent` stream derived from it) back into its own
format. Nothing in this module knows about any provider.

The types built on every request (requests, messages, text parts, completions) are plain
slotted dataclasses, not frozen ones, because freezing costs a measurable share of a
request; treat them as immutable all the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

Role = Literal["system", "developer", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls", "stop_sequence", "content_filter", "refusal"]


@dataclass(slots=True)
class TextPart:
    """Plain text content."""

    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image given by URL (``data:`` URLs included) or inline base64 data."""

    url: str | None = None
    media_type: str | None = None
    data: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class OtherPart:
    """Any other content part (audio, file, document, thinking...): kept, not interpreted."""

    kind: str
    text: str = ""


Part = TextPart | ImagePart | OtherPart


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call made by the assistant. ``arguments`` is JSON text (the form some
    protocols send); :meth:`arguments_object` is the JSON object others send."""

    id: str
    name: str
    arguments: str

    def arguments_object(self) -> dict[str, Any]:
        """The arguments as a JSON object; text that is not a JSON object (a rule may
        script malformed arguments) is kept under ``"arguments"``."""
        try:
            value = orjson.loads(self.arguments or "{}")
        except orjson.JSONDecodeError:
            return {"arguments": self.arguments}
        return value if isinstance(value, dict) else {"arguments": value}


@dataclass(slots=True)
class Message:
    """One conversation turn.

    A tool result is a message of role ``tool`` carrying ``tool_call_id``; Anthropic's
    ``tool_result`` blocks are decoded into such messages.
    """

    role: Role
    parts: tuple[Part, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    is_error: bool = False

    @property
    def text(self) -> str:
        """The message's text parts joined with newlines (non-text parts are skipped)."""
        parts = self.parts
        if len(parts) == 1 and type(parts[0]) is TextPart:
            return parts[0].text
        return "\n".join(p.text for p in parts if isinstance(p, TextPart))


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool offered to the model. ``parameters`` is a JSON Schema object (may be empty)."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """``auto``, ``none``, ``required`` (any tool) or ``named`` (the tool in ``name``)."""

    mode: Literal["auto", "none", "required", "named"] = "auto"
    name: str | None = None


@dataclass(slots=True)
class ChatRequest:
    """A chat request as every dialect sees it once decoded.

    ``provider`` is the dialect's name and ``endpoint`` the operation (``chat.completions``,
    ``messages``...). ``headers`` holds the request headers with lower-case names.
    """

    provider: str
    endpoint: str
    model: str
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice = ToolChoice()
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    n: int = 1
    stream: bool = False
    response_format: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    reasoning: str | None = None
    """The request field that asks for reasoning (``reasoning_effort``, ``thinking``...),
    when the request asks for it: checked against the model's capabilities."""
    logprobs: int | None = None
    """Number of alternatives per token to report, None: no logprobs."""

    @property
    def prompt(self) -> str:
        """Text of the last user message, whatever its wire form; ``""`` when there is none."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.text
        return ""

    @property
    def system(self) -> str:
        """All system and developer messages' text, joined with newlines."""
        return "\n".join(m.text for m in self.messages if m.role in ("system", "developer"))


@dataclass(slots=True)
class Usage:
    """Token usage of one request (all choices)."""

    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int = 0
    cached_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(slots=True)
class Choice:
    """One generated answer.

    ``chunks`` is the text split as it is streamed (one piece per token by default);
    ``"".join(chunks) == text``. ``stop_sequence`` names the stop string that ended the text
    when ``finish_reason`` is ``stop_sequence``. A refusal replaces the text (``refusal``
    and its ``refusal_chunks``); ``reasoning`` is the thinking that came before the answer.
    """

    index: int
    text: str
    chunks: tuple[str, ...]
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: FinishReason = "stop"
    stop_sequence: str | None = None
    completion_tokens: int = 0
    refusal: str | None = None
    refusal_chunks: tuple[str, ...] = ()
    reasoning: str | None = None
    reasoning_chunks: tuple[str, ...] = ()
    signature: str = ""


@dataclass(slots=True)
class Completion:
    """The engine's whole decision for one request: what to say, how it ends, what it cost.

    ``delay_per_char`` is the artificial latency per generated character (seconds, 0 when
    lag is off): streams pause before each chunk in proportion to its length, non-streamed
    answers pause once for the longest choice.
    """

    model: str
    choices: tuple[Choice, ...]
    usage: Usage
    delay_per_char: float = 0.0
    rule: str | None = None

    @property
    def delay_total(self) -> float:
        """Total artificial latency for the non-streaming form (longest choice)."""
        if not self.delay_per_char:
            return 0.0
        return max(len(c.text) for c in self.choices) * self.delay_per_char
