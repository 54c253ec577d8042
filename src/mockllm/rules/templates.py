"""Reply texts: served as written, or rendered as Jinja2 templates reading the request.

A text is a template only when it contains ``{{`` or ``{%``; anything else is served as
written, and a config without templates never imports Jinja2 (the sandbox,
:mod:`mockllm.rules.sandbox`, is loaded by the first template compiled). Variables a
template can read (see ``docs/rules.md``):

``prompt``, ``model``, ``provider``, ``endpoint``, ``system``, ``turn``, ``counter``,
``messages`` (role, content, tool_calls, tool_call_id), ``tools`` (name, description,
parameters), ``tool_calls`` (id, name, arguments), ``tool_results`` (id, tool, content,
is_error), ``last_tool_result``, ``headers``, ``metadata``; and the functions
``tool_result(name)`` (latest result's content for that tool) and ``tool_args(name)``
(latest call's arguments for that tool).

A missing value is an error, never an empty or ``None`` text: an undefined name, an
attribute of ``None``, and ``tool_result(name)`` / ``tool_args(name)`` when the conversation
holds no such result or call (they return an undefined value: ``is defined`` tests for one,
printing it fails the render, naming what was missing). Renders run within budgets of
time and size (:mod:`mockllm.rules.sandbox`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..core.conversation import Conversation, parse_arguments
from ..core.limits import Limits


class BudgetExceeded(Exception):
    """Base of the error a render raises past one of its budgets (time, output size,
    value size): a request-sized render, the client's 400 rather than a server error."""


class TemplateSyntaxError(ValueError):
    """A template that does not compile: ``message`` says why, ``source`` is the text and
    ``lineno`` the line (1-based) within it."""

    def __init__(self, message: str, source: str, lineno: int) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.lineno = lineno


class Budget:
    """What the renders of one reply may still spend: time, and characters built."""

    __slots__ = ("deadline", "timeout_ms", "built", "seen")

    def __init__(self, deadline: float, timeout_ms: int) -> None:
        self.deadline = deadline
        self.timeout_ms = timeout_ms
        self.built = 0
        self.seen: set[int] = set()  # big strings counted already (request data, mostly)


class Sandbox:
    """Where one config's templates compile: the Jinja2 sandbox with the budgets of
    ``limits`` (default :class:`~mockllm.core.limits.Limits`), built (and Jinja2 imported)
    when the first template is compiled."""

    __slots__ = ("limits", "_env")

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits
        self._env: Any = None

    def compile(self, source: str) -> Any:
        """``source`` compiled to a Jinja2 template (nothing evaluated); raises
        :class:`TemplateSyntaxError`."""
        from jinja2 import TemplateSyntaxError as JinjaSyntaxError

        if self._env is None:
            from .sandbox import new_environment

            self._env = new_environment(self.limits)
        try:
            return self._env.from_string(source)
        except JinjaSyntaxError as exc:
            raise TemplateSyntaxError(
                exc.message or str(exc), exc.source or source, exc.lineno
            ) from exc


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


@dataclass(frozen=True, slots=True)
class Text:
    """A reply text: served as is, or rendered when it is a template."""

    source: str
    template: Any = None  # a compiled jinja2 Template when source is a template

    def render(self, context: TemplateContext) -> str:
        """The text for one request. Raises ``jinja2.TemplateError`` from the template, and
        :class:`BudgetExceeded` past the time budget (shared by every render of
        ``context``) or the output budget of the template's environment."""
        if self.template is None:
            return self.source
        from .sandbox import render

        return render(self.template, context)


def compile_text(sandbox: Sandbox, source: str) -> Text:
    """``source`` ready to render; raises :class:`TemplateSyntaxError` on bad syntax.
    Compiling evaluates nothing."""
    return Text(source, sandbox.compile(source) if is_template(source) else None)


class TemplateContext:
    """The variables of one request, built only when a template is rendered, and the
    time budget its renders share (started by the first render)."""

    __slots__ = ("conversation", "counter", "_variables", "_budget")

    def __init__(self, conversation: Conversation, counter: int) -> None:
        self.conversation = conversation
        self.counter = counter
        self._variables: dict[str, Any] | None = None
        self._budget: Budget | None = None

    def budget(self, timeout_ms: int) -> Budget:
        """The deadline of this request's renders: ``timeout_ms`` from the first one."""
        if self._budget is None:
            self._budget = Budget(time.monotonic() + timeout_ms / 1000, timeout_ms)
        return self._budget

    def variables(self) -> dict[str, Any]:
        if self._variables is None:
            self._variables = self._build()
        return self._variables

    def _build(self) -> dict[str, Any]:
        from .sandbox import undefined  # only templates read variables: Jinja2 is loaded

        conv = self.conversation
        request = conv.request
        calls = [
            {"id": c.id, "name": c.name, "arguments": parse_arguments(c.arguments)}
            for c in conv.tool_calls
        ]
        results = [
            {"id": r.call_id, "tool": r.tool, "content": r.content, "is_error": r.is_error}
            for r in conv.tool_results
        ]
        last = conv.last_tool_result

        def tool_result(name: str) -> Any:
            found = [r["content"] for r in results if r["tool"] == name]
            if found:
                return found[-1]
            held = sorted({str(r["tool"]) for r in results}) or ["none"]
            return undefined(
                f"tool_result({name!r}): this conversation holds no result of tool "
                f"{name!r} (results of: {', '.join(held)})"
            )

        def tool_args(name: str) -> Any:
            found = [c["arguments"] for c in calls if c["name"] == name]
            if found:
                return found[-1]
            made = sorted({str(c["name"]) for c in calls}) or ["none"]
            return undefined(
                f"tool_args({name!r}): the assistant made no call of tool {name!r} in "
                f"this conversation (calls of: {', '.join(made)})"
            )

        return {
            "prompt": request.prompt,
            "model": request.model,
            "provider": request.provider,
            "endpoint": request.endpoint,
            "system": request.system,
            "turn": conv.user_turns,
            "counter": self.counter,
            "messages": [
                {
                    "role": m.role,
                    "content": m.text,
                    "tool_calls": [
                        {"id": c.id, "name": c.name, "arguments": parse_arguments(c.arguments)}
                        for c in m.tool_calls
                    ],
                    "tool_call_id": m.tool_call_id,
                }
                for m in request.messages
            ],
            "tools": [
                {"name": t.name, "description": t.description, "parameters": dict(t.parameters)}
                for t in request.tools
            ],
            "tool_calls": calls,
            "tool_results": results,
            "last_tool_result": None
            if last is None
            else {
                "id": last.call_id,
                "tool": last.tool,
                "content": last.content,
                "is_error": last.is_error,
            },
            "headers": dict(request.headers),
            "metadata": dict(request.metadata),
            "tool_result": tool_result,
            "tool_args": tool_args,
        }


__all__ = [
    "Budget",
    "BudgetExceeded",
    "Sandbox",
    "TemplateContext",
    "TemplateSyntaxError",
    "Text",
    "compile_text",
    "is_template",
]
