"""The public plugin surface: everything a plugin may use, from one module.

A plugin imports from ``mockllm.plugin`` and nothing else of mockllm's; every other module
is internal and may change between releases. What is here is covered by the project's
compatibility promise (``__all__`` is pinned by a test, so a change is a decision, never
an accident). See docs/plugins.md for the guide.

Three kinds of plugin, each an entry point whose object is a factory:

* ``mockllm.providers``: ``() -> Provider``, a dialect (routes, models, error envelope).
  A generating route decodes its wire request into a :class:`Turn` and hands it to the
  serving path with :func:`generation`; validators, stages, capabilities, hard
  constraints, pacing (and what comes later: faults, quotas, the journal, metrics) then
  apply to it as to every built-in dialect.
* ``mockllm.validators``: ``() -> Validator``, a check of every generating request of
  every dialect, refusing with :class:`MockError` (rendered in the client's dialect).
* ``mockllm.stages``: ``() -> Stage``, middleware over neutral requests and replies.
"""

from __future__ import annotations

from .core.errors import ErrorKind, MockError
from .core.events import (
    ChoiceEnd,
    ChoiceStart,
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
from .core.ids import new_id
from .core.limits import Limits
from .core.models import ModelInfo
from .core.traits import Traits
from .core.types import (
    ChatRequest,
    Choice,
    Completion,
    ImagePart,
    Message,
    OtherPart,
    Part,
    TextPart,
    ToolCall,
    ToolChoice,
    ToolSpec,
    Usage,
)
from .providers.base import Provider, RouteSpec
from .providers.sse import sse
from .serving import SSE, Stage, Turn, Validator, answer, decide, deliver, generation
from .wire import Handler, HttpCall, JsonResult, Result, StreamResult, header_value

__all__ = [
    "SSE",
    "ChatRequest",
    "Choice",
    "ChoiceEnd",
    "ChoiceStart",
    "Completion",
    "ErrorKind",
    "Frame",
    "Handler",
    "HttpCall",
    "ImagePart",
    "JsonResult",
    "Limits",
    "Message",
    "MockError",
    "ModelInfo",
    "OtherPart",
    "Part",
    "Provider",
    "ReasoningDelta",
    "RefusalDelta",
    "ReplyEvent",
    "Result",
    "RouteSpec",
    "Stage",
    "StreamResult",
    "TextDelta",
    "TextPart",
    "ToolArgumentsDelta",
    "ToolCall",
    "ToolCallEnd",
    "ToolCallStart",
    "ToolChoice",
    "ToolSpec",
    "Traits",
    "Turn",
    "Usage",
    "Validator",
    "answer",
    "decide",
    "deliver",
    "generation",
    "header_value",
    "iter_events",
    "new_id",
    "sse",
]
