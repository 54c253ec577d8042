"""Replies compiled from the config, and the :class:`Plan` one of them gives for a request.

A plan is still vendor-neutral and still symbolic in places (arguments to generate from a
tool's schema, JSON to generate from the response format); the engine turns it into a
:class:`~mockllm.core.types.Completion`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from .schema import ErrorReply, Reply
from .templates import Sandbox, TemplateContext, Text, compile_text


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """A tool call to make. ``arguments`` is JSON text, or None: generate it from the
    tool's parameter schema."""

    name: str
    arguments: str | None
    id: str | None


@dataclass(slots=True)
class Plan:
    """What to answer, before limits, token counts and ids.

    ``json`` is ``"response_format"`` to generate JSON fitting the request's schema, or
    ``"schema"`` to fit ``json_schema``; the text is then that JSON.
    """

    text: str = ""
    chunks: tuple[str, ...] | None = None
    tool_calls: tuple[PlannedCall, ...] = ()
    json: str | None = None
    json_schema: dict[str, Any] | None = None
    refusal: str | None = None
    reasoning: str | None = None
    error: ErrorReply | None = None
    error_message: str = ""
    finish_reason: str | None = None
    usage: dict[str, int] | None = None
    seed: int | None = None


def _compile_value(value: Any, env: Sandbox) -> Any:
    """``value`` with every string in it compiled to a :class:`Text` (recursively)."""
    if isinstance(value, str):
        return compile_text(env, value)
    if isinstance(value, dict):
        return {k: _compile_value(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_compile_value(v, env) for v in value]
    return value


def _fixed_value(value: Any) -> bool:
    """Whether a value compiled by :func:`_compile_value` holds no template."""
    if isinstance(value, Text):
        return value.template is None
    if isinstance(value, dict):
        return all(_fixed_value(v) for v in value.values())
    if isinstance(value, list):
        return all(_fixed_value(v) for v in value)
    return True


def _render_value(value: Any, ctx: TemplateContext) -> Any:
    """A value compiled by :func:`_compile_value`, rendered for one request."""
    if isinstance(value, Text):
        return value.render(ctx)
    if isinstance(value, dict):
        return {k: _render_value(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_value(v, ctx) for v in value]
    return value


@dataclass(frozen=True)
class CompiledReply:
    """A reply from the config with its templates compiled."""

    spec: Reply
    text: Text | None
    refusal: Text | None
    reasoning: Text | None
    error_message: Text | None
    call_arguments: tuple[Any, ...]
    json_value: Any

    @property
    def fixed(self) -> bool:
        """Whether the plan of this reply depends on the request alone: no template in
        it, no tool call (a call's id is new on every answer unless the config gives
        one), no error. Such a reply answers the same request with the same plan every
        time (generated JSON is seeded by the request)."""
        spec = self.spec
        if spec.error is not None or spec.tool_calls:
            return False
        texts = (self.text, self.refusal, self.reasoning)
        return all(t is None or t.template is None for t in texts) and _fixed_value(self.json_value)

    def render(self, ctx: TemplateContext) -> Plan:
        """The plan for one request. Raises ``jinja2.TemplateError`` from a template."""
        spec = self.spec
        plan = Plan(finish_reason=spec.finish_reason, seed=spec.seed, error=spec.error)
        if spec.usage is not None:
            plan.usage = spec.usage.model_dump(exclude_none=True)
        if spec.error is not None:
            assert self.error_message is not None
            plan.error_message = self.error_message.render(ctx)
            return plan
        if self.text is not None:
            plan.text = self.text.render(ctx)
        elif spec.chunks is not None:
            plan.chunks = tuple(spec.chunks)
            plan.text = "".join(spec.chunks)
        elif spec.echo:
            plan.text = ctx.conversation.request.prompt
        elif spec.json_ == "auto":
            plan.json = "response_format"
        elif spec.json_ is not None:
            plan.text = orjson.dumps(_render_value(self.json_value, ctx)).decode()
        elif spec.json_schema is not None:
            plan.json, plan.json_schema = "schema", spec.json_schema
        if self.refusal is not None:
            plan.refusal = self.refusal.render(ctx)
        if self.reasoning is not None:
            plan.reasoning = self.reasoning.render(ctx)
        calls = []
        for call, arguments in zip(spec.tool_calls or (), self.call_arguments, strict=True):
            if isinstance(arguments, dict):
                rendered: str | None = orjson.dumps(_render_value(arguments, ctx)).decode()
            elif isinstance(arguments, Text):
                rendered = arguments.render(ctx)
            else:
                rendered = None
            calls.append(PlannedCall(call.name, rendered, call.id))
        plan.tool_calls = tuple(calls)
        return plan


def compile_reply(reply: Reply, env: Sandbox) -> CompiledReply:
    """``reply`` with its templates compiled in ``env``; raises
    :class:`~mockllm.rules.templates.TemplateSyntaxError`."""

    def text(value: str | None) -> Text | None:
        return compile_text(env, value) if value is not None else None

    arguments = tuple(
        None if c.arguments is None or c.arguments == "auto" else _compile_value(c.arguments, env)
        for c in reply.tool_calls or ()
    )
    json_value = _compile_value(reply.json_, env) if isinstance(reply.json_, dict | list) else None
    return CompiledReply(
        spec=reply,
        text=text(reply.text),
        refusal=text(reply.refusal),
        reasoning=text(reply.reasoning),
        error_message=text(reply.error.message) if reply.error is not None else None,
        call_arguments=arguments,
        json_value=json_value,
    )
