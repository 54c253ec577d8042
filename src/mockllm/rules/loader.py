"""Load a YAML config into an immutable :class:`LoadedConfig`, or report every problem.

Each problem carries ``file:line:column`` of the YAML node it is about: the YAML is composed
into nodes (which keep their position), turned into plain data with a map from data path to
position, validated against :mod:`mockllm.rules.schema`, and compiled.

A problem reads ``file:line:column: what: message``. ``what`` names a rule by
:func:`~mockllm.rules.diagnostics.rule_label` (``rule 'weather' (#2)``, or ``rule #2``
without a name) followed by the field path inside it (``match.promt``); outside ``rules:``
it is the dotted path from the top (``settings.lag_factor``). An unknown field comes with
``did you mean 'X'?`` when a field of that place is spelled alike.
"""

from __future__ import annotations

import difflib
import importlib.resources
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import jinja2
import yaml
from pydantic import BaseModel, ValidationError

from .conditions import compile_match
from .diagnostics import rule_label, shadowed_rules
from .replies import compile_reply
from .ruleset import CompiledRule, Location, RuleSet, normalize_prompt
from .schema import ConfigFile, FileSettings, Reply
from .templates import compile_text, new_environment

PathKey = tuple[str | int, ...]
EMBEDDED_NAME = "<embedded default config>"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a config file."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class ConfigError(Exception):
    """The config file is invalid; ``problems`` lists every problem found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.location.line, p.location.column))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """A validated config: compiled rules, file settings and model overrides."""

    source: str
    rules: RuleSet
    settings: FileSettings
    model_overrides: tuple[dict[str, Any], ...]
    warnings: tuple[Problem, ...] = ()


class _Reader:
    """Turns a composed YAML node tree into plain data, remembering where each node was."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.marks: dict[PathKey, yaml.Mark] = {}
        self.problems: list[Problem] = []
        self._constructor = yaml.constructor.SafeConstructor()

    def data(self, node: yaml.Node, path: PathKey = ()) -> Any:
        self.marks[path] = node.start_mark
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(self._constructor.construct_object(key_node, deep=True))
                if key in out:
                    where = Location(
                        self.source, key_node.start_mark.line + 1, key_node.start_mark.column + 1
                    )
                    self.problems.append(Problem(where, f"duplicate key {key!r}"))
                self.marks[(*path, key, "<key>")] = key_node.start_mark
                out[key] = self.data(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.data(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._constructor.construct_object(node, deep=True)


def _location(source: str, marks: dict[PathKey, yaml.Mark], path: PathKey) -> Location:
    """Position of the deepest recorded node along ``path``."""
    for end in range(len(path), -1, -1):
        mark = marks.get(path[:end])
        if mark is not None:
            return Location(source, mark.line + 1, mark.column + 1)
    return Location(source, 1, 1)


def _describe(path: PathKey, names: Sequence[str | None]) -> str:
    """What a problem at data ``path`` is about: ``rule 'weather' (#2): match.promt`` for a
    path inside the rule at ``rules[1]`` (``names`` holds each rule's name, or None), else
    the dotted path (``settings.lag_factor``), or ``(top level)``."""
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        index = path[1]
        label = rule_label(names[index] if index < len(names) else None, index)
        rest = ".".join(str(p) for p in path[2:])
        return f"{label}: {rest}" if rest else label
    return ".".join(str(p) for p in path) or "(top level)"


def _rule_names(data: Any) -> list[str | None]:
    """The ``name`` of each entry of raw ``data["rules"]`` (None where there is no string
    name), so that messages about a rule that failed validation can still name it."""
    rules = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules, list):
        return []
    return [
        r["name"] if isinstance(r, dict) and isinstance(r.get("name"), str) else None for r in rules
    ]


def _arms(annotation: Any) -> list[Any]:
    """The alternatives of a union (``X | None``, ``Optional[X]``), unwrapping ``Annotated``;
    ``[annotation]`` for anything else."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _arms(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [arm for arg in get_args(annotation) for arm in _arms(arg)]
    return [annotation]


def _models_at(annotation: Any, path: PathKey) -> list[type[BaseModel]]:
    """The pydantic models that may validate the value at ``path`` inside a value of type
    ``annotation``, following model fields (by name or alias), list items and dict values.
    A path element that is no field, index or key (a pydantic union tag) is skipped."""
    models: list[type[BaseModel]] = []
    for arm in _arms(annotation):
        if not path:
            if isinstance(arm, type) and issubclass(arm, BaseModel):
                models.append(arm)
            continue
        key, rest = path[0], path[1:]
        origin = get_origin(arm)
        if isinstance(arm, type) and issubclass(arm, BaseModel) and isinstance(key, str):
            for name, field in arm.model_fields.items():
                if key in (name, field.alias):
                    models.extend(_models_at(field.annotation, rest))
        elif origin in (list, tuple, set, frozenset, Sequence) and isinstance(key, int):
            models.extend(_models_at(get_args(arm)[0] if get_args(arm) else Any, rest))
        elif origin is dict and isinstance(key, str) and len(get_args(arm)) == 2:
            models.extend(_models_at(get_args(arm)[1], rest))
    alternatives = [arm for arm in _arms(annotation) if arm is not type(None)]
    if not models and path and len(alternatives) > 1:
        models = _models_at(annotation, path[1:])  # a union's tag, as in ("x", "Model", ...)
    return models


def did_you_mean(path: PathKey) -> str | None:
    """For an unknown field at data ``path`` of a config file: the allowed field name
    (alias when the field has one) of the model at ``path[:-1]`` that is spelled most
    like ``path[-1]``, or None when none is close (:func:`difflib.get_close_matches`)."""
    if not path or not isinstance(path[-1], str):
        return None
    allowed = sorted(
        {
            field.alias or name
            for model in _models_at(ConfigFile, path[:-1])
            for name, field in model.model_fields.items()
        }
    )
    close = difflib.get_close_matches(path[-1], allowed, n=1)
    if not close:  # a wrong case ("Prompt") is close whatever the length
        close = [name for name in allowed if name.lower() == path[-1].lower()][:1]
    return close[0] if close else None


def _pydantic_problems(
    error: ValidationError, source: str, marks: dict[PathKey, yaml.Mark], data: Any
) -> list[Problem]:
    names = _rule_names(data)
    problems = []
    for item in error.errors():
        path: PathKey = tuple(item["loc"])
        what = _describe(path, names)
        if item["type"] == "extra_forbidden":
            location = _location(source, marks, (*path, "<key>"))
            message = f"{what}: unknown field"
            suggestion = did_you_mean(path)
            if suggestion is not None:
                message += f"; did you mean {suggestion!r}?"
        else:
            location = _location(source, marks, path)
            message = f"{what}: {item['msg'].removeprefix('Value error, ')}"
        problems.append(Problem(location, message))
    return problems


def _reply_fields(reply: Reply) -> list[tuple[PathKey, str]]:
    """Every template source of ``reply`` with its path inside the reply."""
    out: list[tuple[PathKey, str]] = []
    for key in ("text", "refusal", "reasoning"):
        value = getattr(reply, key)
        if value is not None:
            out.append(((key,), value))
    if reply.error is not None:
        out.append((("error", "message"), reply.error.message))
    if isinstance(reply.json_, dict | list):
        out.append((("json",), str(reply.json_)))
    for i, call in enumerate(reply.tool_calls or ()):
        if isinstance(call.arguments, str):
            out.append((("tool_calls", i, "arguments"), call.arguments))
        elif isinstance(call.arguments, dict):
            out.append((("tool_calls", i, "arguments"), str(call.arguments)))
    return out


def _compile(
    config: ConfigFile, source: str, marks: dict[PathKey, yaml.Mark]
) -> tuple[RuleSet, list[Problem]]:
    """The rule set of ``config`` and the problems found compiling it (template syntax)."""
    env = new_environment()
    problems: list[Problem] = []
    compiled: list[CompiledRule] = []
    names = [rule.name for rule in config.rules]
    for index, rule in enumerate(config.rules):
        here = _location(source, marks, ("rules", index))
        replies_at: list[tuple[PathKey, Reply]] = (
            [(("rules", index, "reply"), rule.reply)]
            if rule.reply is not None
            else [(("rules", index, "sequence", i), r) for i, r in enumerate(rule.sequence or ())]
        )
        replies = []
        needs_counter = False
        for path, reply in replies_at:
            try:
                replies.append(compile_reply(reply, env))
            except jinja2.TemplateSyntaxError as exc:
                field = next(
                    (
                        f
                        for f, text in _reply_fields(reply)
                        if exc.source == text or (exc.source or "") in text
                    ),
                    (),
                )
                where = _location(source, marks, (*path, *field))
                what = _describe((*path, *field), names)
                problems.append(Problem(where, f"{what}: template error: {exc.message}"))
                continue
            needs_counter = needs_counter or any(
                "counter" in text for _f, text in _reply_fields(reply)
            )
        name = rule.name or f"{rule_label(None, index)} at {here}"
        compiled.append(
            CompiledRule(
                name,
                here,
                rule.priority,
                compile_match(rule.match),
                tuple(replies),
                rule.after_sequence,
                needs_counter,
            )
        )
    compiled.sort(key=lambda r: -r.priority)  # stable: file order among equal priorities
    responses = {normalize_prompt(k): v for k, v in config.responses.items()}
    defaults = config.defaults
    texts = {}
    for key in ("unknown_response", "after_tool_result"):
        value = getattr(defaults, key)
        if value is None:
            continue
        try:
            texts[key] = compile_text(env, value)
        except jinja2.TemplateSyntaxError as exc:
            where = _location(source, marks, ("defaults", key))
            problems.append(Problem(where, f"defaults.{key}: template error: {exc.message}"))
    default = texts.get("unknown_response") or compile_text(env, "")
    ruleset = RuleSet(responses, tuple(compiled), default, texts.get("after_tool_result"))
    return ruleset, problems


def _yaml_problem(exc: yaml.YAMLError, source: str) -> Problem:
    """A YAML syntax error, located where the parser gave up, and naming where the broken
    construct started (PyYAML's context mark) when that is elsewhere."""
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    mark = getattr(exc, "problem_mark", None) or context_mark
    where = Location(source, mark.line + 1, mark.column + 1) if mark else Location(source, 1, 1)
    message = f"invalid YAML: {problem}"
    if context:
        message += f" ({context}"
        if context_mark is not None and context_mark is not mark:
            message += f" started at line {context_mark.line + 1}, column {context_mark.column + 1}"
        message += ")"
    return Problem(where, message)


def parse_config(text: str, source: str) -> LoadedConfig:
    """Validate and compile config ``text`` read from ``source`` (a name used in messages).

    Raises :class:`ConfigError` listing every problem found.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError([_yaml_problem(exc, source)]) from None
    reader = _Reader(source)
    data = {} if root is None else reader.data(root)
    marks = reader.marks
    if not isinstance(data, dict):
        where = _location(source, marks, ())
        raise ConfigError(
            [Problem(where, "the config must be a mapping (responses:, rules:, ...)")]
        )
    for key in ("responses", "defaults", "settings", "rules", "models"):
        if key in data and data[key] is None:  # "rules:" with nothing under it
            del data[key]
    try:
        config = ConfigFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(reader.problems + _pydantic_problems(exc, source, marks, data)) from None
    if reader.problems:
        raise ConfigError(reader.problems)
    ruleset, problems = _compile(config, source, marks)
    if problems:
        raise ConfigError(problems)

    def rule_at(index: int) -> Location:
        return _location(source, marks, ("rules", index))

    warnings = [
        Problem(rule_at(index), message)
        for index, message in shadowed_rules(config, lambda i: str(rule_at(i)))
    ]
    overrides = tuple(entry.overrides() for entry in config.models)
    return LoadedConfig(source, ruleset, config.settings, overrides, tuple(warnings))


def load_config_file(path: str | Path) -> LoadedConfig:
    """Read and parse the config at ``path``. Raises :class:`ConfigError` (an unreadable file
    is reported as a problem too)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            [Problem(Location(source, 1, 1), f"cannot read the file: {exc}")]
        ) from None
    return parse_config(text, source)


def embedded_config_text() -> str:
    """The default config shipped inside the package."""
    return (importlib.resources.files("mockllm.rules") / "default.yml").read_text(encoding="utf-8")


def load_embedded_config() -> LoadedConfig:
    return parse_config(embedded_config_text(), EMBEDDED_NAME)
