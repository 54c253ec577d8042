"""Load a YAML config into an immutable :class:`LoadedConfig`, or report every problem.

Each problem carries ``file:line:column`` of the YAML node it is about: the YAML is composed
into nodes (which keep their position), turned into plain data with a map from data path to
position, validated against :mod:`mockllm.rules.schema`, and compiled.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml
from pydantic import ValidationError

from .conditions import compile_match
from .diagnostics import shadowed_rules
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


def _pydantic_problems(
    error: ValidationError, source: str, marks: dict[PathKey, yaml.Mark]
) -> list[Problem]:
    problems = []
    for item in error.errors():
        path: PathKey = tuple(item["loc"])
        dotted = ".".join(str(p) for p in path) or "(top level)"
        if item["type"] == "extra_forbidden":
            location = _location(source, marks, (*path, "<key>"))
            message = f"{dotted}: unknown field"
        else:
            location = _location(source, marks, path)
            message = f"{dotted}: {item['msg'].removeprefix('Value error, ')}"
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
                dotted = ".".join(str(p) for p in (*path, *field))
                problems.append(Problem(where, f"{dotted}: template error: {exc.message}"))
                continue
            needs_counter = needs_counter or any(
                "counter" in text for _f, text in _reply_fields(reply)
            )
        name = rule.name or f"rules[{index}] ({here})"
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
        raise ConfigError(reader.problems + _pydantic_problems(exc, source, marks)) from None
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
