"""Reply templates: Jinja2 in its sandbox, reading the request.

A text is a template only when it contains ``{{`` or ``{%``; anything else is served as
written. Variables a template can read (see ``docs/rules.md``):

``prompt``, ``model``, ``provider``, ``endpoint``, ``system``, ``turn``, ``counter``,
``messages`` (role, content, tool_calls, tool_call_id), ``tools`` (name, description,
parameters), ``tool_calls`` (id, name, arguments), ``tool_results`` (id, tool, content,
is_error), ``last_tool_result``, ``headers``, ``metadata``; and the functions
``tool_result(name)`` (latest result's content for that tool) and ``tool_args(name)``
(latest call's arguments for that tool).

A missing value is an error, never an empty or ``None`` text: an undefined name, an
attribute of ``None``, and ``tool_result(name)`` / ``tool_args(name)`` when the conversation
holds no such result or call (they return an undefined value: ``is defined`` tests for one,
printing it fails the render, naming what was missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..core.conversation import Conversation, parse_arguments


def new_environment() -> ImmutableSandboxedEnvironment:
    """The sandbox templates run in: no attribute access to internals, no mutation of the
    request, undefined names are errors."""
    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
    )


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


@dataclass(frozen=True, slots=True)
class Text:
    """A reply text: served as is, or rendered when it is a template."""

    source: str
    template: Any = None  # a compiled jinja2 Template when source is a template

    def render(self, context: TemplateContext) -> str:
        """The text for one request. Raises :class:`TemplateError` from the template."""
        if self.template is None:
            return self.source
        return str(self.template.render(context.variables()))


def compile_text(env: ImmutableSandboxedEnvironment, source: str) -> Text:
    """``source`` ready to render; raises ``jinja2.TemplateSyntaxError`` on bad syntax."""
    return Text(source, env.from_string(source) if is_template(source) else None)


class TemplateContext:
    """The variables of one request, built only when a template is rendered."""

    __slots__ = ("conversation", "counter", "_variables")

    def __init__(self, conversation: Conversation, counter: int) -> None:
        self.conversation = conversation
        self.counter = counter
        self._variables: dict[str, Any] | None = None

    def variables(self) -> dict[str, Any]:
        if self._variables is None:
            self._variables = self._build()
        return self._variables

    def _build(self) -> dict[str, Any]:
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
            return StrictUndefined(
                hint=f"tool_result({name!r}): this conversation holds no result of tool "
                f"{name!r} (results of: {', '.join(held)})"
            )

        def tool_args(name: str) -> Any:
            found = [c["arguments"] for c in calls if c["name"] == name]
            if found:
                return found[-1]
            made = sorted({str(c["name"]) for c in calls}) or ["none"]
            return StrictUndefined(
                hint=f"tool_args({name!r}): the assistant made no call of tool {name!r} in "
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


__all__ = ["Text", "TemplateContext", "TemplateError", "compile_text", "new_environment"]
