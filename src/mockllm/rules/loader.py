"""Load a YAML config into an immutable :class:`LoadedConfig`, or report every problem.

Each problem carries ``file:line:column`` of the YAML node it is about: the YAML is composed
into nodes (which keep their position), turned into plain data with a map from data path to
position, validated against :mod:`mockllm.rules.schema`, and compiled.

A problem reads ``file:line:column: what: message``. ``what`` names a rule by
:func:`~mockllm.rules.diagnostics.rule_label` (``rule 'weather' (#2)``, or ``rule #2``
without a name) followed by the field path inside it (``match.promt``); outside ``rules:``
it is the dotted path from the top (``settings.lag_factor``). An unknown field comes with
``did you mean 'X'?`` when a field of that place is spelled alike.

Loading is bounded whatever the file holds (:class:`~mockllm.core.limits.Limits`): YAML
aliases are counted as they are composed, each alias plus the aliases inside what it
copies, and a file past ``yaml_max_aliases`` is refused at that alias (an alias bomb never
gets expanded); a recursive alias, a value YAML cannot build and nesting too deep for the
reader are problems like any other; templates are compiled without being evaluated.

Rules are named to clients (the ``x-mockllm-rule`` header of an unnamed rule, strict-mode
errors) with the config file's base name, never its directory (``rule #2 at
rules.yml:3:5``); problems and warnings name the file as it was given.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.resources
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from ..core.limits import Limits
from ..realism.knobs import ModelLevel, Plan
from ..realism.latency import PROFILES
from .conditions import backtracking_risk, compile_match
from .diagnostics import rule_label, shadowed_rules
from .replies import compile_reply
from .ruleset import CompiledRule, Location, RuleSet, describe_rule, normalize_prompt
from .schema import ConfigFile, FileSettings, Latency, Match, Reply
from .templates import Sandbox, TemplateSyntaxError, compile_text

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
    behaviour: Plan = dataclasses.field(default_factory=Plan)
    """Latency, faults, load, rate limits and API keys (:mod:`mockllm.realism`)."""


class _TooManyAliases(Exception):
    """The file uses more YAML aliases than allowed (see :class:`_CountingLoader`)."""

    def __init__(self, count: int, mark: yaml.Mark) -> None:
        super().__init__(count)
        self.count = count
        self.mark = mark


class _TooDeep(Exception):
    """The file nests collections more than :data:`MAX_YAML_DEPTH` levels deep."""

    def __init__(self, mark: yaml.Mark) -> None:
        super().__init__(mark)
        self.mark = mark


MAX_YAML_DEPTH = 100
"""Nesting levels a config file may use (PyYAML takes quadratic time on deep flow
collections, and its composer recurses)."""


class _CountingLoader(yaml.SafeLoader):
    """PyYAML's safe loader, counting aliases as they are composed: each alias counts
    once plus the aliases inside the content it copies (counted each time it is copied),
    so a billion-laughs file is refused at the first alias past ``max_aliases``, before
    anything is expanded. A collection nested past :data:`MAX_YAML_DEPTH` is refused as
    soon as it starts."""

    def __init__(self, stream: str, max_aliases: int) -> None:
        super().__init__(stream)
        self.max_aliases = max_aliases
        self.aliases = 0
        self._inside: dict[int, int] = {}  # id(node) -> aliases it holds, copies counted
        self._open: list[int] = []  # aliases counted so far in each node being composed

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            node = super().compose_node(parent, index)
            cost = 1 + self._inside.get(id(node), 0)
            self.aliases += cost
            if self._open:
                self._open[-1] += cost
            if self.aliases > self.max_aliases:
                raise _TooManyAliases(self.aliases, mark)
            return node
        if len(self._open) >= MAX_YAML_DEPTH:
            raise _TooDeep(self.peek_event().start_mark)  # type: ignore[no-untyped-call]
        self._open.append(0)
        node = super().compose_node(parent, index)
        inside = self._open.pop()
        self._inside[id(node)] = inside
        if self._open:
            self._open[-1] += inside
        return node


_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Reader:
    """Turns a composed YAML node tree into plain data, remembering where each node was.

    A node reached again through an alias is read again (its copies are few: the loader
    bounds them); one reached from inside itself (a recursive alias) is a problem, as is
    a scalar YAML cannot build (a date that does not exist, an integer of more than 4300
    digits). Merge keys (``<<: *base``) merge as YAML defines: keys written in the mapping
    win over merged ones, and earlier merged mappings over later ones."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.marks: dict[PathKey, yaml.Mark] = {}
        self.problems: list[Problem] = []
        self._constructor = yaml.constructor.SafeConstructor()
        self._reading: set[int] = set()  # the collections on the path being read

    def _problem(self, node: yaml.Node, message: str) -> None:
        mark = node.start_mark
        self.problems.append(
            Problem(Location(self.source, mark.line + 1, mark.column + 1), message)
        )

    def _scalar(self, node: yaml.Node) -> Any:
        try:
            return self._constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            reason = getattr(exc, "problem", None) or str(exc)
            self._problem(node, f"cannot read this value: {reason}")
            return None

    def data(self, node: yaml.Node, path: PathKey = ()) -> Any:
        self.marks[path] = node.start_mark
        if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            return self._scalar(node)
        if id(node) in self._reading:
            self._problem(node, "recursive YAML alias: this anchor's content uses itself")
            return None
        self._reading.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.data(item, (*path, i)) for i, item in enumerate(node.value)]
            return self._mapping(node, path)
        finally:
            self._reading.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: list[dict[str, Any]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(self._merge(value_node, path))
                continue
            key = str(self._scalar(key_node))
            if key in out:
                self._problem(key_node, f"duplicate key {key!r}")
            self.marks[(*path, key, "<key>")] = key_node.start_mark
            out[key] = self.data(value_node, (*path, key))
        for extra in merged:
            for key, value in extra.items():
                out.setdefault(key, value)
        return out

    def _merge(self, node: yaml.Node, path: PathKey) -> list[dict[str, Any]]:
        """The mappings a merge key's value names (one mapping, or a sequence of them)."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        out = []
        for item in items:
            if not isinstance(item, yaml.MappingNode):
                self._problem(item, "a merge key (<<) takes a mapping or a list of mappings")
                continue
            value = self.data(item, path)
            if isinstance(value, dict):
                out.append(value)
        return out


def _compose(text: str, source: str, limits: Limits) -> yaml.Node | None:
    """The YAML node tree of ``text``. Raises :class:`ConfigError` for invalid YAML and
    for more aliases than ``limits.yaml_max_aliases``."""
    try:
        loader = _CountingLoader(text, limits.yaml_max_aliases)  # checks the characters
    except yaml.YAMLError as exc:  # a character YAML does not allow (NUL, ESC...)
        raise ConfigError([_yaml_problem(exc, source)]) from None
    try:
        return loader.get_single_node()
    except yaml.YAMLError as exc:
        raise ConfigError([_yaml_problem(exc, source)]) from None
    except _TooManyAliases as exc:
        where = Location(source, exc.mark.line + 1, exc.mark.column + 1)
        message = (
            f"too many YAML aliases ({exc.count} > {limits.yaml_max_aliases}, counting the "
            "aliases inside what an alias copies): alias bombs are refused; "
            "MOCKLLM_LIMIT_YAML_MAX_ALIASES raises the limit"
        )
        raise ConfigError([Problem(where, message)]) from None
    except _TooDeep as exc:
        where = Location(source, exc.mark.line + 1, exc.mark.column + 1)
        message = f"the YAML nests more than {MAX_YAML_DEPTH} levels deep"
        raise ConfigError([Problem(where, message)]) from None
    finally:
        loader.dispose()


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


def display_name(source: str) -> str:
    """How a config file is named to clients: its base name (``rules.yml`` for
    ``/home/me/project/rules.yml``), never the directory it lives in."""
    return source.replace("\\", "/").rsplit("/", 1)[-1] or source


def _compile(
    config: ConfigFile, source: str, marks: dict[PathKey, yaml.Mark], limits: Limits
) -> tuple[RuleSet, list[Problem]]:
    """The rule set of ``config`` and the problems found compiling it (template syntax).
    Rules are located, and unnamed rules named, with the file's :func:`display_name`."""
    sandbox = Sandbox(limits)
    problems: list[Problem] = []
    compiled: list[CompiledRule] = []
    names = [rule.name for rule in config.rules]
    shown = display_name(source)
    for index, rule in enumerate(config.rules):
        at = _location(source, marks, ("rules", index))
        here = Location(shown, at.line, at.column)
        replies_at: list[tuple[PathKey, Reply]] = (
            [(("rules", index, "reply"), rule.reply)]
            if rule.reply is not None
            else [(("rules", index, "sequence", i), r) for i, r in enumerate(rule.sequence or ())]
        )
        replies = []
        needs_counter = False
        for path, reply in replies_at:
            try:
                replies.append(compile_reply(reply, sandbox))
            except TemplateSyntaxError as exc:
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
                compile_match(rule.match, rule=describe_rule(name), limits=limits),
                tuple(replies),
                rule.after_sequence,
                needs_counter,
                rule.latency,
                rule.faults,
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
            texts[key] = compile_text(sandbox, value)
        except TemplateSyntaxError as exc:
            where = _location(source, marks, ("defaults", key))
            problems.append(Problem(where, f"defaults.{key}: template error: {exc.message}"))
    default = texts.get("unknown_response") or compile_text(sandbox, "")
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


def _regexes(match: Match) -> Iterator[tuple[PathKey, str]]:
    """Every regex of ``match`` with its path inside the match."""
    for field in ("prompt", "any_message", "system", "model", "provider", "endpoint"):
        condition = getattr(match, field)
        if condition is not None and condition.regex is not None:
            yield (field, "regex"), condition.regex
    result = match.tool_result
    if result is not None:
        for field, condition in (("tool", result.tool), ("content", result.content)):
            if condition is not None and condition.regex is not None:
                yield ("tool_result", field, "regex"), condition.regex
    for field, conditions in (("headers", match.headers), ("metadata", match.metadata)):
        for key, text_condition in (conditions or {}).items():
            if text_condition.regex is not None:
                yield (field, key, "regex"), text_condition.regex


def _regex_warnings(
    config: ConfigFile, source: str, marks: dict[PathKey, yaml.Mark], limits: Limits
) -> list[Problem]:
    """A warning for each regex likely to backtrack catastrophically (``backtracking_risk``)."""
    names = [rule.name for rule in config.rules]
    out = []
    for index, rule in enumerate(config.rules):
        for inside, pattern in _regexes(rule.match):
            why = backtracking_risk(pattern)
            if why is None:
                continue
            path = ("rules", index, "match", *inside)
            out.append(
                Problem(
                    _location(source, marks, path),
                    f"{_describe(path, names)}: {pattern!r}: {why}; each match is stopped "
                    f"after {limits.regex_timeout_ms} ms (MOCKLLM_LIMIT_REGEX_TIMEOUT_MS) and "
                    "the condition then does not hold",
                )
            )
    return out


def parse_config(text: str, source: str, limits: Limits | None = None) -> LoadedConfig:
    """Validate and compile config ``text`` read from ``source`` (a name used in messages),
    within ``limits`` (default :class:`~mockllm.core.limits.Limits`).

    Raises :class:`ConfigError` listing every problem found.
    """
    limits = limits or Limits()
    try:
        return _parse(text, source, limits)
    except RecursionError:
        where = Location(source, 1, 1)
        raise ConfigError([Problem(where, "the YAML nests too deeply to be read")]) from None


def _parse(text: str, source: str, limits: Limits) -> LoadedConfig:
    root = _compose(text, source, limits)
    reader = _Reader(source)
    data = {} if root is None else reader.data(root)
    marks = reader.marks
    if not isinstance(data, dict):
        where = _location(source, marks, ())
        raise ConfigError(
            [Problem(where, "the config must be a mapping (responses:, rules:, ...)")]
        )
    for key in ("responses", "defaults", "settings", "rules", "models", "profiles"):
        if key in data and data[key] is None:  # "rules:" with nothing under it
            del data[key]
    try:
        config = ConfigFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(reader.problems + _pydantic_problems(exc, source, marks, data)) from None
    if reader.problems:
        raise ConfigError(reader.problems)
    ruleset, problems = _compile(config, source, marks, limits)
    problems += _profile_problems(config, source, marks)
    if problems:
        raise ConfigError(problems)

    def rule_at(index: int) -> Location:
        return _location(source, marks, ("rules", index))

    warnings = [
        Problem(rule_at(index), message)
        for index, message in shadowed_rules(config, lambda i: str(rule_at(i)))
    ]
    warnings += _regex_warnings(config, source, marks, limits)
    warnings.sort(key=lambda w: (w.location.line, w.location.column))
    overrides = tuple(entry.overrides() for entry in config.models)
    return LoadedConfig(
        source, ruleset, config.settings, overrides, tuple(warnings), _behaviour(config)
    )


def _behaviour(config: ConfigFile) -> Plan:
    """The latency, faults, load, rate limits and API keys of ``config``."""
    settings = config.settings
    models = {
        entry.id: ModelLevel(entry.latency, entry.faults, entry.rate_limits)
        for entry in config.models
        if entry.latency or entry.faults or entry.rate_limits
    }
    for entry in config.models:  # an alias names the same model
        if entry.id in models:
            for alias in entry.aliases or ():
                models.setdefault(alias, models[entry.id])
    return Plan(
        seed=settings.seed,
        latency=settings.latency,
        faults=settings.faults,
        load=settings.load,
        rate_limits=settings.rate_limits,
        api_keys=frozenset(settings.api_keys) if settings.api_keys is not None else None,
        models=models,
        profiles=dict(config.profiles),
        rules_have_knobs=any(r.latency or r.faults for r in config.rules),
    )


def _profile_problems(
    config: ConfigFile, source: str, marks: dict[PathKey, yaml.Mark]
) -> list[Problem]:
    """A ``profile:`` naming no profile (built-in or ``profiles:``) is a problem."""
    known = {*PROFILES, *config.profiles}
    named: list[tuple[PathKey, Latency | None]] = [
        (("settings", "latency"), config.settings.latency)
    ]
    named += [(("models", i, "latency"), m.latency) for i, m in enumerate(config.models)]
    named += [(("rules", i, "latency"), r.latency) for i, r in enumerate(config.rules)]
    named += [(("profiles", name), p) for name, p in config.profiles.items()]
    problems = []
    for path, latency in named:
        if latency is not None and latency.profile is not None and latency.profile not in known:
            where = _location(source, marks, (*path, "profile"))
            problems.append(
                Problem(
                    where,
                    f"{'.'.join(str(p) for p in path)}.profile: no profile "
                    f"{latency.profile!r} (known: {', '.join(sorted(known))})",
                )
            )
    return problems


def load_config_file(path: str | Path, limits: Limits | None = None) -> LoadedConfig:
    """Read and parse the config at ``path`` within ``limits`` (default
    :class:`~mockllm.core.limits.Limits`). Raises :class:`ConfigError` (an unreadable file
    is reported as a problem too)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            [Problem(Location(source, 1, 1), f"cannot read the file: {exc}")]
        ) from None
    return parse_config(text, source, limits)


def embedded_config_text() -> str:
    """The default config shipped inside the package."""
    return (importlib.resources.files("mockllm.rules") / "default.yml").read_text(encoding="utf-8")


def load_embedded_config() -> LoadedConfig:
    return parse_config(embedded_config_text(), EMBEDDED_NAME)
