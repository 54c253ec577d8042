"""The schema of the YAML config file, as pydantic models (unknown fields are errors).

Two formats live side by side in one file:

* the original MockLLM format, valid forever: ``responses`` (prompt to answer),
  ``defaults.unknown_response``, ``settings.lag_enabled`` / ``settings.lag_factor``;
* ``rules``: an ordered list; the first rule whose every condition holds answers.

Shorthands (a plain string for a reply, a prompt or a model condition) are expanded before
validation, so error locations always name real fields.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..core.models import CAPABILITIES

DEFAULT_UNKNOWN_RESPONSE = "I don't know the answer to that. This is a mock response."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _valid_regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
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


class Match(_Strict):
    """Conditions of a rule; all must hold. An empty match always holds."""

    prompt: TextCondition | None = Field(None, description="The last user message's text.")
    model: NameCondition | None = Field(None, description="The requested model name.")


class Reply(_Strict):
    """What the model answers. A plain string is the text."""

    text: str = Field(description="The answer text.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _expand(value, "text", "a reply")


class Rule(_Strict):
    """A match and the reply it gives."""

    name: str | None = Field(None, description="Shown in logs and diagnostics.")
    match: Match = Field(default_factory=Match, description="Conditions (all must hold).")
    reply: Reply = Field(description="The answer when the rule matches.")


class Defaults(_Strict):
    """Answers when no rule matches."""

    unknown_response: str = Field(DEFAULT_UNKNOWN_RESPONSE, description="Default answer text.")


class FileSettings(_Strict):
    """Behaviour settings kept in the config file (hot-reloaded with it)."""

    lag_enabled: bool = Field(False, description="Add latency proportional to the answer length.")
    lag_factor: float = Field(
        10.0, gt=0, description="Higher is faster: each character takes 1/(10*lag_factor) s."
    )
    strict_models: bool = Field(
        False, description="Unknown model names get a provider-shaped 404 model_not_found."
    )


class ModelEntry(_Strict):
    """Adds a model to the catalogue, or overrides fields of a built-in one (same id)."""

    id: str
    provider: str | None = Field(
        None,
        description="Provider whose catalogue holds the model. Default: the provider of the "
        "built-in model with this id, else anthropic for claude-* ids, else openai.",
    )
    display_name: str | None = None
    aliases: list[str] | None = None
    context_window: int | None = Field(None, gt=0)
    max_output_tokens: int | None = Field(None, gt=0)
    capabilities: list[str] | None = Field(None, description=f"Any of {sorted(CAPABILITIES)}.")
    tokenizer: str | None = Field(None, description="o200k_base or cl100k_base.")
    owned_by: str | None = None

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
        return {k: v for k, v in self.model_dump().items() if v is not None}


class ConfigFile(_Strict):
    """The whole config file."""

    responses: dict[str, str] = Field(
        default_factory=dict, description="Original format: prompt to answer (case-insensitive)."
    )
    defaults: Defaults = Field(default_factory=Defaults)
    settings: FileSettings = Field(default_factory=FileSettings)
    rules: list[Rule] = Field(default_factory=list, description="Ordered; first match wins.")
    models: list[ModelEntry] = Field(default_factory=list)
