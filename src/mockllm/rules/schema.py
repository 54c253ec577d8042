"""The schema of the YAML config file, as pydantic models (unknown fields are errors).

Two formats live side by side in one file:

* the original MockLLM format, valid forever: ``responses`` (prompt to answer),
  ``defaults.unknown_response``, ``settings.lag_enabled`` / ``settings.lag_factor``;
* ``rules``: an ordered list; the first rule whose every condition holds answers.

Shorthands (a plain string for a reply, a prompt or a model condition) are expanded before
validation, so error locations always name real fields.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal, get_args

import regex
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..core.errors import ErrorKind
from ..core.models import CAPABILITIES

DEFAULT_UNKNOWN_RESPONSE = "I don't know the answer to that. This is a mock response."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _valid_regex(value: str | None) -> str | None:
    """``value`` when it compiles as a Python :mod:`re` pattern, and on the ``regex`` engine
    that runs it (:func:`mockllm.rules.conditions.compile_pattern`); else a ``ValueError``
    saying why."""
    from .conditions import compile_pattern  # conditions imports this module

    if value is not None:
        try:
            compile_pattern(value)
        except (re.error, regex.error) as exc:
            raise ValueError(f"invalid regex: {exc}") from None
    return value


def _expand(value: Any, field: str, what: str) -> Any:
    """A plain string stands for ``{field: string}``; other scalars are errors."""
    if isinstance(value, str):
        return {field: value}
    if not isinstance(value, dict):
        raise ValueError(f"give {what} as a string or a mapping")
    return value


class _OneOf(_Strict):
    """A condition given by exactly one of its fields."""

    @model_validator(mode="after")
    def _exactly_one(self) -> _OneOf:
        given = [k for k, v in self.__dict__.items() if v is not None]
        if len(given) != 1:
            names = ", ".join(type(self).model_fields)
            raise ValueError(f"give exactly one of: {names}")
        return self


class TextCondition(_OneOf):
    """How a text (the prompt) must look. A plain string means ``exact``."""

    exact: str | None = Field(None, description="Equal, after trimming surrounding whitespace.")
    iexact: str | None = Field(None, description="Equal ignoring case and surrounding whitespace.")
    contains: str | None = Field(None, description="Contains this substring (case-sensitive).")
    icontains: str | None = Field(None, description="Contains this substring, ignoring case.")
    regex: str | None = Field(None, description="Python regex searched anywhere in the text.")

    _regex = field_validator("regex")(_valid_regex)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _expand(value, "exact", "a text condition")


class NameCondition(_OneOf):
    """How a name (the model) must look. A plain string means ``exact``."""

    exact: str | None = Field(None, description="Equal to this name.")
    glob: str | None = Field(None, description="Shell-style pattern such as gpt-4o*.")
    regex: str | None = Field(None, description="Python regex that must match the whole name.")

    _regex = field_validator("regex")(_valid_regex)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _expand(value, "exact", "a name condition")


class Count(_Strict):
    """A count within bounds. A plain integer means exactly that many."""

    min: int | None = Field(None, ge=0, description="At least this many.")
    max: int | None = Field(None, ge=0, description="At most this many.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return {"min": value, "max": value}
        if not isinstance(value, dict):
            raise ValueError("give a count as an integer or as {min: .., max: ..}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Count:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self


class ToolResultCondition(_Strict):
    """The last message is a tool result (``true``), is not one (``false``), or is one
    for a given tool and/or with given content."""

    tool: NameCondition | None = Field(None, description="Name of the tool whose result it is.")
    content: TextCondition | None = Field(None, description="The result's text.")
    is_error: bool | None = Field(None, description="Whether the result reports an error.")
    present: bool = Field(True, description="false: the last message is NOT a tool result.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return {"present": value}
        if not isinstance(value, dict):
            raise ValueError("give tool_result as true, false or a mapping")
        return value


ToolChoiceName = str


class Match(_Strict):
    """Conditions of a rule; all must hold. An empty match always holds."""

    prompt: TextCondition | None = Field(None, description="The last user message's text.")
    any_message: TextCondition | None = Field(
        None, description="Some message of the conversation (any role) has a matching text."
    )
    system: TextCondition | None = Field(None, description="The system/developer prompt.")
    model: NameCondition | None = Field(None, description="The requested model name.")
    provider: NameCondition | None = Field(
        None, description="The dialect that received the request: openai, anthropic, ..."
    )
    endpoint: NameCondition | None = Field(
        None, description="The operation: chat.completions, messages, ..."
    )
    tools: list[str] | None = Field(
        None, description="All these tools are offered (by name); [] means no tools offered."
    )
    tool_choice: ToolChoiceName | None = Field(
        None, description="auto, none, required, or the name of the forced tool."
    )
    response_format: str | None = Field(
        None, description="The requested output format: text, json_object or json_schema."
    )
    tool_result: ToolResultCondition | None = Field(
        None, description="Whether the last message is a tool result, and which."
    )
    turn: Count | None = Field(None, description="Number of user messages in the conversation.")
    tool_calls_before: Count | None = Field(
        None, description="Number of tool calls the assistant made earlier in the conversation."
    )
    headers: dict[str, TextCondition] | None = Field(
        None, description="Request headers (names case-insensitive) and conditions on values."
    )
    metadata: dict[str, TextCondition] | None = Field(
        None, description="Request metadata fields (OpenAI metadata, Anthropic metadata)."
    )

    @field_validator("response_format")
    @classmethod
    def _format(cls, value: str | None) -> str | None:
        if value is not None and value not in ("text", "json_object", "json_schema"):
            raise ValueError("response_format is one of text, json_object, json_schema")
        return value


class ToolCallReply(_Strict):
    """One tool call the model makes."""

    name: str = Field(description="The tool to call.")
    arguments: dict[str, Any] | str | None = Field(
        None,
        description="An object (string values are templates), a template rendering JSON "
        "text, or auto / omitted: generated to fit the tool's parameter schema.",
    )
    id: str | None = Field(None, description="The call id; generated when omitted.")


class ErrorReply(_Strict):
    """An error answer, rendered in the dialect's own envelope."""

    status: int = Field(ge=400, le=599, description="HTTP status.")
    message: str = Field("Mock error.", description="Error message (a template).")
    type: str | None = Field(
        None, description="Neutral kind; default from the status (rate_limit for 429...)."
    )
    code: str | None = Field(None, description="Machine-readable code, e.g. rate_limit_exceeded.")
    retry_after: float | None = Field(None, ge=0, description="Seconds, sent as retry-after.")

    @field_validator("type")
    @classmethod
    def _kind(cls, value: str | None) -> str | None:
        kinds = get_args(ErrorKind)
        if value is not None and value not in kinds:
            raise ValueError(f"type is one of {', '.join(kinds)}")
        return value


class UsageOverride(_Strict):
    """Token counts to report instead of the counted ones."""

    prompt_tokens: int | None = Field(None, ge=0)
    completion_tokens: int | None = Field(None, ge=0)
    reasoning_tokens: int | None = Field(None, ge=0)
    cached_tokens: int | None = Field(None, ge=0)


FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter", "stop_sequence")


class Reply(_Strict):
    """What the model answers. A plain string is the text."""

    text: str | None = Field(None, description="The answer text (a template).")
    chunks: list[str] | None = Field(
        None, description="The answer split into stream chunks as written (joined: the text)."
    )
    echo: bool | None = Field(None, description="Answer with the prompt itself.")
    json_: dict[str, Any] | list[Any] | str | None = Field(
        None,
        alias="json",
        description="A fixed JSON value answered as compact JSON text; auto: generated to fit "
        "the request's response_format schema.",
    )
    json_schema: dict[str, Any] | None = Field(
        None, description="Answer JSON generated to fit this schema."
    )
    tool_calls: list[ToolCallReply] | None = Field(None, description="Tool calls (parallel).")
    refusal: str | None = Field(None, description="A refusal instead of an answer.")
    reasoning: str | None = Field(
        None,
        description="Reasoning: an Anthropic thinking block; OpenAI reasoning token counts.",
    )
    error: ErrorReply | None = Field(None, description="Answer with an error instead.")
    finish_reason: str | None = Field(
        None, description=f"Override the finish/stop reason: one of {', '.join(FINISH_REASONS)}."
    )
    usage: UsageOverride | None = Field(None, description="Override reported token counts.")
    seed: int | None = Field(
        None, description="Seed for generated JSON (default: from the request)."
    )

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _expand(value, "text", "a reply")

    @field_validator("finish_reason")
    @classmethod
    def _finish(cls, value: str | None) -> str | None:
        if value is not None and value not in FINISH_REASONS:
            raise ValueError(f"finish_reason is one of {', '.join(FINISH_REASONS)}")
        return value

    @field_validator("json_")
    @classmethod
    def _json_auto(cls, value: Any) -> Any:
        if isinstance(value, str) and value != "auto":
            raise ValueError("json is an object, an array, or auto")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Reply:
        contents = [
            k
            for k in ("text", "chunks", "echo", "json_", "json_schema", "refusal")
            if getattr(self, k) not in (None, False)
        ]
        if len(contents) > 1:
            names = ", ".join(k.rstrip("_") for k in contents)
            raise ValueError(
                f"give only one of text, chunks, echo, json, json_schema, refusal (got {names})"
            )
        if self.error is not None and (contents or self.tool_calls):
            raise ValueError("an error reply has no other content")
        return self


MAX_RETRY_AFTER = 86_400 * 365
"""The largest ``retry_after`` (seconds): a year."""


class Distribution(_Strict):
    """A bounded random value, drawn from the seeded generator (``settings.seed``):
    ``uniform`` between ``min`` and ``max``; ``normal`` around ``mean`` with ``sd``;
    ``lognormal`` around ``median`` with ``sigma`` (the log's standard deviation). Draws are
    clamped to ``[min, max]``: ``min`` defaults to 0, ``max`` to 4 standard deviations
    above the centre."""

    distribution: Literal["uniform", "normal", "lognormal"]
    min: float | None = Field(None, ge=0)
    max: float | None = Field(None, ge=0)
    mean: float | None = Field(None, ge=0, description="normal: the centre.")
    sd: float | None = Field(None, ge=0, description="normal: the standard deviation.")
    median: float | None = Field(None, gt=0, description="lognormal: the centre.")
    sigma: float | None = Field(None, ge=0, description="lognormal: the log's deviation.")

    @model_validator(mode="after")
    def _complete(self) -> Distribution:
        need = {
            "uniform": ("min", "max"),
            "normal": ("mean", "sd"),
            "lognormal": ("median", "sigma"),
        }
        missing = [f for f in need[self.distribution] if getattr(self, f) is None]
        if missing:
            raise ValueError(f"a {self.distribution} distribution needs {' and '.join(missing)}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is more than max")
        return self

    @property
    def low(self) -> float:
        return self.min if self.min is not None else 0.0

    @property
    def high(self) -> float:
        if self.max is not None:
            return self.max
        if self.distribution == "normal":
            return (self.mean or 0.0) + 4 * (self.sd or 0.0)
        return (self.median or 0.0) * math.exp(4 * (self.sigma or 0.0))


Value = float | Distribution
"""A fixed number (>= 0) or a :class:`Distribution`."""


def _non_negative(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        raise ValueError("must be >= 0")
    return value


class Latency(_Strict):
    """How long an answer takes (milliseconds). Every field is optional: a field left out
    comes from the level below (a rule's from its model's, a model's from the global
    ``settings.latency``), else from the named ``profile``, else no latency."""

    profile: str | None = Field(
        None, description="A named profile: fast, large, reasoning, or one of `profiles:`."
    )
    ttft_ms: Value | None = Field(
        None,
        description="Time to first token: before the first stream event, or added to "
        "a JSON answer's total. Replaces nothing: the prefill cost is added to it.",
    )
    prefill_ms_per_token: Value | None = Field(
        None, description="Added to the time to first token for each prompt token."
    )
    itl_ms: Value | None = Field(
        None, description="Inter-token latency: between stream events that carry tokens."
    )
    tokens_per_chunk: Value | None = Field(
        None, description="Tokens per content event of a stream (default 1, as real services)."
    )

    _check = field_validator(
        "ttft_ms", "prefill_ms_per_token", "itl_ms", "tokens_per_chunk", mode="before"
    )(_non_negative)


class Faults(_Strict):
    """Failures on demand. Every field is optional and layered like :class:`Latency`; a
    request header ``x-mockllm-<field, dashes>`` wins over the config."""

    error: int | None = Field(
        None, ge=400, le=599, description="Answer with this status, in the dialect's envelope."
    )
    error_rate: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Probability (seeded) that a request fails with `error` (default 500).",
    )
    retry_after: float | None = Field(
        None,
        ge=0,
        le=MAX_RETRY_AFTER,
        description="With an error: retry-after seconds and the provider's hints.",
    )
    fail_first: int | None = Field(
        None,
        ge=0,
        description="The first N attempts of a conversation fail (`error`, "
        "default 429); later ones succeed.",
    )
    stream_cut_after: int | None = Field(
        None, ge=0, description="Abort the HTTP body after N stream events (no clean end)."
    )
    stall_ms: float | None = Field(
        None, ge=0, description="Stop sending for this long after the first stream event."
    )
    malformed_after: int | None = Field(
        None, ge=0, description="After N stream events, send one event that is not valid JSON."
    )
    stream_error_after: int | None = Field(
        None,
        ge=0,
        description="After N stream events, send the protocol's in-stream error "
        "event (status from `error`, default 500) and end the stream.",
    )


class Load(_Strict):
    """A loaded service: at most ``max_concurrent`` generations at once, ``queue`` more
    waiting for a slot; past that, the provider's overload error. Latency grows as
    concurrency nears the maximum: times ``1 + slowdown * busy / max_concurrent``."""

    max_concurrent: int = Field(ge=1)
    queue: int = Field(0, ge=0)
    slowdown: float = Field(1.0, ge=0)


class RateLimits(_Strict):
    """Request and token buckets per API key and model, refilled continuously. A field
    left out keeps its default (generous: no test that did not ask for limits trips one)."""

    requests_per_minute: int | None = Field(None, ge=1)
    tokens_per_minute: int | None = Field(None, ge=1)
    input_tokens_per_minute: int | None = Field(None, ge=1)
    output_tokens_per_minute: int | None = Field(None, ge=1)
    requests_per_day: int | None = Field(None, ge=1)
    tokens_per_day: int | None = Field(None, ge=1)


AFTER_SEQUENCE = ("repeat_last", "restart", "cycle", "error")
"""What a sequence does after its last reply; ``cycle`` is the older name of ``restart``."""


class Rule(_Strict):
    """A match and the reply (or sequence of replies) it gives."""

    name: str | None = Field(None, description="Shown in x-mockllm-rule, logs and diagnostics.")
    priority: int = Field(0, description="Higher is tried first; equal keeps file order.")
    match: Match = Field(default_factory=Match, description="Conditions (all must hold).")
    reply: Reply | None = Field(None, description="The answer when the rule matches.")
    sequence: list[Reply] | None = Field(
        None, min_length=1, description="Answers served in order across a conversation's turns."
    )
    after_sequence: str = Field(
        "repeat_last",
        description="After the last reply: repeat_last (serve the last reply again), restart "
        "(from the first reply; also spelled cycle) or error (a 400 naming the rule).",
    )
    latency: Latency | None = Field(None, description="Latency of this rule's answers.")
    faults: Faults | None = Field(None, description="Failures of the requests it matches.")

    @field_validator("after_sequence")
    @classmethod
    def _after(cls, value: str) -> str:
        if value not in AFTER_SEQUENCE:
            raise ValueError(f"after_sequence is one of {', '.join(AFTER_SEQUENCE)}")
        return value

    @model_validator(mode="after")
    def _one_reply(self) -> Rule:
        if (self.reply is None) == (self.sequence is None):
            raise ValueError("give either reply or sequence")
        return self


class Defaults(_Strict):
    """Answers when no rule matches."""

    unknown_response: str = Field(DEFAULT_UNKNOWN_RESPONSE, description="Default answer text.")
    after_tool_result: str | None = Field(
        None,
        description="Answer (a template) when no rule matches and the last message is a tool "
        "result; default: unknown_response.",
    )


class FileSettings(_Strict):
    """Behaviour settings kept in the config file (hot-reloaded with it)."""

    lag_enabled: bool = Field(False, description="Add latency proportional to the answer length.")
    lag_factor: float = Field(
        10.0, gt=0, description="Higher is faster: each character takes 1/(10*lag_factor) s."
    )
    strict_models: bool = Field(
        False, description="Unknown model names get a provider-shaped 404 model_not_found."
    )
    strict: bool = Field(
        False,
        description="No automatic answer: a request no rule matches gets a 400 that names the "
        "rules that came closest.",
    )
    conversation_header: str = Field(
        "x-mockllm-conversation",
        description="Request header that names the conversation (sequence counters are per "
        "conversation); without it, the conversation is keyed by its system prompt and first "
        "user message.",
    )
    seed: int = Field(0, description="Seed of every random draw (latency, fault rates).")
    latency: Latency | None = Field(None, description="Latency of every answer.")
    faults: Faults | None = Field(None, description="Failures of every request.")
    load: Load | None = Field(None, description="Concurrency limit and queue (default none).")
    rate_limits: RateLimits | None = Field(None, description="Buckets per API key and model.")
    api_keys: list[str] | None = Field(
        None, description="The valid API keys; any other key gets the dialect's 401."
    )


class ModelEntry(_Strict):
    """Adds a model to the catalogue, or overrides fields of a built-in one (same id)."""

    id: str
    provider: str | None = Field(
        None,
        description="Provider whose catalogue holds the model. Default: the provider of the "
        "built-in model with this id, else anthropic for claude-* ids, gemini for gemini-* "
        "and gemma-* ids, else openai.",
    )
    display_name: str | None = None
    aliases: list[str] | None = None
    context_window: int | None = Field(None, gt=0)
    max_output_tokens: int | None = Field(None, gt=0)
    capabilities: list[str] | None = Field(None, description=f"Any of {sorted(CAPABILITIES)}.")
    tokenizer: str | None = Field(None, description="o200k_base or cl100k_base.")
    owned_by: str | None = None
    latency: Latency | None = Field(None, description="Latency of this model's answers.")
    faults: Faults | None = Field(None, description="Failures of this model's requests.")
    rate_limits: RateLimits | None = Field(None, description="This model's buckets.")

    @model_validator(mode="after")
    def _known_capabilities(self) -> ModelEntry:
        unknown = set(self.capabilities or ()) - CAPABILITIES
        if unknown:
            raise ValueError(
                f"unknown capabilities {sorted(unknown)}; known: {sorted(CAPABILITIES)}"
            )
        return self

    def overrides(self) -> dict[str, Any]:
        """The fields given in the file (for :meth:`ModelRegistry.build`)."""
        behaviour = ("latency", "faults", "rate_limits")
        return {k: v for k, v in self.model_dump().items() if v is not None and k not in behaviour}


def _no_items() -> list[Any]:
    """An empty list: ``default_factory=list`` without the builtin, whose signature (which
    pydantic reads) costs the server's start 1.4 ms (``inspect`` compiles the regex of
    ``tokenize`` to parse it)."""
    return []


class ConfigFile(_Strict):
    """The whole config file."""

    responses: dict[str, str] = Field(
        default_factory=dict, description="Original format: prompt to answer (case-insensitive)."
    )
    defaults: Defaults = Field(default_factory=Defaults)
    settings: FileSettings = Field(default_factory=FileSettings)
    rules: list[Rule] = Field(default_factory=_no_items, description="Ordered; first match wins.")
    models: list[ModelEntry] = Field(default_factory=_no_items)
    profiles: dict[str, Latency] = Field(
        default_factory=dict, description="Named latency profiles (beside fast, large, reasoning)."
    )
