"""The JSON Schema of the config file, for editors (``mockllm schema``).

Built from the pydantic models of :mod:`mockllm.rules.schema`
(``ConfigFile.model_json_schema()``), then made to accept what the loader accepts and to
say what it checks:

* the shorthands that ``mode="before"`` validators expand: a reply as a plain string (its
  text), a text condition (``prompt``, ``any_message``, ``system``, header and metadata
  values) or a name condition (``model``, ``provider``, ``endpoint``,
  ``tool_result.tool``) as a plain string (``exact``), a count (``turn``,
  ``tool_calls_before``) as a plain integer, ``tool_result`` as a boolean;
* ``null`` for the top-level sections (``rules:`` with nothing under it) and for the
  whole file (an empty file);
* what validators check that a schema can say: exactly one field of a condition, either
  ``reply`` or ``sequence`` in a rule, and the allowed values of ``after_sequence``,
  ``finish_reason``, ``error.type``, ``response_format``, ``json`` as a string and model
  ``capabilities``. Unknown fields are errors everywhere (``additionalProperties: false``).

What the schema cannot say (a regex or template that does not compile, a reply with two
contents, a rule that can never answer), ``mockllm validate`` reports.
Values are checked as written in JSON/YAML; pydantic's lax conversions (``"10"`` for a
number) are accepted by the loader but not by the schema.
"""

from __future__ import annotations

import copy
from typing import Any, get_args

from pydantic import BaseModel

from ..core.errors import ErrorKind
from ..core.models import CAPABILITIES
from .schema import (
    AFTER_SEQUENCE,
    FINISH_REASONS,
    ConfigFile,
    Count,
    ErrorReply,
    Match,
    ModelEntry,
    NameCondition,
    Reply,
    Rule,
    TextCondition,
    ToolResultCondition,
)

DIALECT = "https://json-schema.org/draft/2020-12/schema"
TITLE = "mockllm config file"
SECTIONS = ("responses", "defaults", "settings", "rules", "models")
"""Top-level sections that may be ``null``: the loader drops them."""
RESPONSE_FORMATS = ("text", "json_object", "json_schema")
"""The values :class:`~mockllm.rules.schema.Match` accepts for ``response_format``."""

SHORTHANDS: dict[type[BaseModel], dict[str, Any]] = {
    Reply: {"type": "string", "description": "Shorthand for {text: ...}."},
    TextCondition: {"type": "string", "description": "Shorthand for {exact: ...}."},
    NameCondition: {"type": "string", "description": "Shorthand for {exact: ...}."},
    Count: {"type": "integer", "minimum": 0, "description": "Shorthand for {min: n, max: n}."},
    ToolResultCondition: {
        "type": "boolean",
        "description": "Shorthand for {present: true} or {present: false}.",
    },
}
"""Per model with a ``mode="before"`` shorthand: the JSON Schema of the short form."""

EXACTLY_ONE: dict[type[BaseModel], tuple[str, ...]] = {
    TextCondition: tuple(TextCondition.model_fields),
    NameCondition: tuple(NameCondition.model_fields),
    Rule: ("reply", "sequence"),
}
"""Models of which exactly one of these fields must be given (and not null)."""


def _exactly_one(names: tuple[str, ...]) -> dict[str, Any]:
    """``oneOf`` that holds when exactly one of ``names`` is present with a non-null value
    (the loader counts a field given as ``null`` as not given)."""
    return {
        "oneOf": [
            {"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in names
        ]
    }


def _restrict_string(prop: dict[str, Any], extra: dict[str, Any]) -> None:
    """Add ``extra`` (an ``enum`` or ``const``) to the string alternative of ``prop``."""
    arms = prop.get("anyOf", [prop])
    for arm in arms:
        if arm.get("type") == "string":
            arm.update(extra)
            return
    raise AssertionError(f"no string alternative in {prop}")  # the models changed


def _restrict_items(prop: dict[str, Any], extra: dict[str, Any]) -> None:
    """Add ``extra`` to the item schema of the array alternative of ``prop``."""
    for arm in prop.get("anyOf", [prop]):
        if arm.get("type") == "array":
            arm["items"].update(extra)
            return
    raise AssertionError(f"no array alternative in {prop}")  # the models changed


def _nullable(prop: dict[str, Any]) -> dict[str, Any]:
    """``prop`` or null, with its title, description and default at the outer level."""
    notes = ("title", "description", "default")
    inner = {k: v for k, v in prop.items() if k not in notes}
    outer = {k: v for k, v in prop.items() if k in notes}
    return {**outer, "anyOf": [inner, {"type": "null"}]}


def _plain_descriptions(node: Any) -> None:
    """Docstring markup out of every ``description`` (editors show them as plain text)."""
    if isinstance(node, dict):
        if isinstance(node.get("description"), str):
            node["description"] = node["description"].replace("``", "`")
        for value in node.values():
            _plain_descriptions(value)
    elif isinstance(node, list):
        for value in node:
            _plain_descriptions(value)


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a mockllm config file, as a JSON-ready dict.

    Every config the loader accepts (as plain YAML/JSON values) is valid against it, and
    it rejects unknown fields, wrong types and the shapes listed in the module docstring.
    A new dict each call.
    """
    schema = copy.deepcopy(ConfigFile.model_json_schema())
    defs: dict[str, Any] = schema["$defs"]

    def props(model: type[BaseModel]) -> dict[str, Any]:
        properties: dict[str, Any] = defs[model.__name__]["properties"]
        return properties

    props(Rule)["after_sequence"]["enum"] = list(AFTER_SEQUENCE)
    _restrict_string(props(Reply)["finish_reason"], {"enum": list(FINISH_REASONS)})
    _restrict_string(props(Reply)["json"], {"const": "auto"})
    _restrict_string(props(ErrorReply)["type"], {"enum": list(get_args(ErrorKind))})
    _restrict_string(props(Match)["response_format"], {"enum": list(RESPONSE_FORMATS)})
    _restrict_items(props(ModelEntry)["capabilities"], {"enum": sorted(CAPABILITIES)})

    for model, names in EXACTLY_ONE.items():
        defs[model.__name__].update(_exactly_one(names))
    for model, short in SHORTHANDS.items():
        full = defs[model.__name__]
        outer = {k: full.pop(k) for k in ("title", "description") if k in full}
        defs[model.__name__] = {**outer, "anyOf": [short, full]}

    for section in SECTIONS:
        schema["properties"][section] = _nullable(schema["properties"][section])
    schema["type"] = ["object", "null"]
    _plain_descriptions(schema)
    return {
        "$schema": DIALECT,
        "title": TITLE,
        "description": (
            "A mockllm config file: rules (and the original MockLLM responses) that script "
            "the answers of the mock LLM server. Check it with `mockllm validate FILE`."
        ),
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }
