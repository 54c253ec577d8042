"""Facts about a conversation that rules match on and templates read, computed on demand.

``Conversation`` wraps a :class:`ChatRequest` and computes each fact (tool results, user
turns, earlier tool calls, the conversation key) the first time it is asked for, so that
a request matched by the prompt alone pays for none of them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from .types import ChatRequest, ToolCall


@dataclass(frozen=True, slots=True)
class ToolResult:
    """A tool result in the history: which call, which tool, what it said."""

    call_id: str
    tool: str
    content: str
    is_error: bool


def parse_arguments(arguments: str) -> Any:
    """Tool-call arguments as data; text that is not JSON stays text."""
    try:
        return orjson.loads(arguments) if arguments else {}
    except orjson.JSONDecodeError:
        return arguments


class Conversation:
    """Lazily computed facts about ``request``'s conversation."""

    __slots__ = ("request", "_calls", "_results", "_user_turns", "_key")

    def __init__(self, request: ChatRequest) -> None:
        self.request = request
        self._calls: list[ToolCall] | None = None
        self._results: list[ToolResult] | None = None
        self._user_turns: int | None = None
        self._key: str | None = None

    @property
    def tool_calls(self) -> list[ToolCall]:
        """Every tool call the assistant made, in order."""
        if self._calls is None:
            self._calls = [
                c for m in self.request.messages if m.role == "assistant" for c in m.tool_calls
            ]
        return self._calls

    @property
    def tool_results(self) -> list[ToolResult]:
        """Every tool result, in order, with the tool named from the matching call."""
        if self._results is None:
            names = {c.id: c.name for c in self.tool_calls}
            self._results = [
                ToolResult(
                    m.tool_call_id or "",
                    names.get(m.tool_call_id or "", m.name or ""),
                    m.text,
                    m.is_error,
                )
                for m in self.request.messages
                if m.role == "tool"
            ]
        return self._results

    @property
    def last_tool_result(self) -> ToolResult | None:
        """The tool result the conversation ends with (the last messages are results of
        one turn of parallel calls: the last of them), or None."""
        messages = self.request.messages
        if not messages or messages[-1].role != "tool":
            return None
        return self.tool_results[-1]

    @property
    def user_turns(self) -> int:
        """How many user messages the conversation holds."""
        if self._user_turns is None:
            self._user_turns = sum(1 for m in self.request.messages if m.role == "user")
        return self._user_turns

    def key(self, header: str) -> str:
        """The conversation's identity: the ``header`` value when the client sends it,
        else a digest of the model-independent start of the conversation (system prompt
        and first user message), which stays the same across an agent loop's turns."""
        if self._key is None:
            given = self.request.headers.get(header.lower())
            if given:
                self._key = "h:" + given
            else:
                self._key = "c:" + start_digest(*self.start())
        return self._key

    def start(self) -> tuple[str, str]:
        """What identifies a conversation sent without a header: its system prompt and
        first user message (:func:`start_digest` makes the key of them)."""
        first = next((m.text for m in self.request.messages if m.role == "user"), "")
        return self.request.system, first


def start_digest(system: str, first: str) -> str:
    """The key of a conversation sent without a header, from :meth:`Conversation.start`."""
    text = system + "\x00" + first
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:20]
