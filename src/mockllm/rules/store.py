"""The config in force: one immutable snapshot, swapped whole on reload.

A reload that fails validation is logged with ``file:line`` and leaves the snapshot in
force untouched, so a broken edit never loses the rules. So does a reload that finds the
file empty (or only whitespace): that is what a file being rewritten in place looks like
between its truncation and its write, so the rules in force stay (write ``rules: []`` to
clear them). An empty file at start is valid: the defaults, with no rules.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.limits import Limits
from ..core.models import ModelInfo, ModelRegistry
from .conditions import RateLimitedLog
from .loader import (
    EMBEDDED_NAME,
    ConfigError,
    LoadedConfig,
    Problem,
    embedded_config_text,
    parse_config,
)
from .ruleset import Location

log = logging.getLogger("mockllm.config")


def _sizes(config: LoadedConfig) -> tuple[int, int]:
    return len(config.rules.responses), len(config.rules.rules)


EMPTY_ON_RELOAD = (
    "config file is empty (a write in progress?); the rules in force stay; write "
    "`rules: []` to clear them"
)
"""Why a reload that finds the file empty changes nothing."""

_empty_warnings = RateLimitedLog(log)
"""A file rewritten in place again and again is seen empty often: one line a minute."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything request handling reads from the config, consistent with itself."""

    config: LoadedConfig
    models: ModelRegistry
    strict_models: bool


def _digest(texts: list[str]) -> str:
    """What identifies the rules in force across processes: the digest of the texts they
    were parsed from (the base, then the added ones)."""
    hasher = hashlib.blake2b(digest_size=8)
    for text in texts:
        hasher.update(text.encode("utf-8", "surrogatepass"))
        hasher.update(b"\x00")
    return hasher.hexdigest()


class ConfigStore:
    """Holds the current :class:`Snapshot` of the config file at ``path`` (None: embedded).

    ``strict_models`` set here (from settings or the command line) wins over the file.
    Raises :class:`ConfigError` at construction when the initial file is invalid.
    """

    def __init__(
        self,
        path: str | Path | None,
        builtin_models: Iterable[ModelInfo],
        *,
        strict_models: bool | None = None,
        limits: Limits | None = None,
        model_owners: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.path = Path(path) if path is not None else None
        self._owners = tuple(model_owners)
        self.limits = limits or Limits()
        self._builtins = tuple(builtin_models)
        self._strict_models = strict_models
        self.reloads = 0
        self.last_error: ConfigError | None = None
        self._lock = threading.Lock()
        self._text = self._read()
        self._base = self._parse(self._text)
        self._added: list[LoadedConfig] = []
        self._texts: list[str] = [self._text]  # the base's text, then the added ones
        self.digest = _digest(self._texts)
        self.file_digest = self.digest
        """The digest of the config file's text (the embedded config's without a file)."""
        self.current = self._snapshot(self._base)
        self._warn(self.current.config)

    @staticmethod
    def _warn(config: LoadedConfig) -> None:
        for warning in config.warnings:
            log.warning("%s: %s", warning.location, warning.message)

    def _read(self) -> str:
        if self.path is None:
            return embedded_config_text()
        try:
            return self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            where = Location(str(self.path), 1, 1)
            raise ConfigError([Problem(where, f"cannot read the file: {exc}")]) from None

    def _parse(self, text: str) -> LoadedConfig:
        source = EMBEDDED_NAME if self.path is None else str(self.path)
        return parse_config(text, source, self.limits)

    def _snapshot(self, config: LoadedConfig) -> Snapshot:
        models = ModelRegistry.build(self._builtins, config.model_overrides, self._owners)
        strict = self._strict_models
        if strict is None:
            strict = config.settings.strict_models
        return Snapshot(config, models, strict)

    def replace(self, text: str, source: str = "PUT /-/rules") -> LoadedConfig:
        """Put the config ``text`` (the file's format, YAML or JSON) in force instead of
        the file's, until the file changes; the rules added over HTTP are dropped. Raises
        :class:`ConfigError` (nothing changes then)."""
        config = parse_config(text, source, self.limits)
        with self._lock:
            self._base = config
            self._added = []
            self._texts = [text]
            self.digest = _digest(self._texts)
            self.current = self._snapshot(config)
        self._warn(config)
        log.info("config replaced over HTTP: %d responses, %d rules", *_sizes(config))
        return config

    def add(self, text: str, source: str = "POST /-/rules") -> LoadedConfig:
        """Add the ``rules:`` and ``responses:`` of config ``text`` in front of those in
        force (a rule before the rules of its priority; a prompt's answer over the file's)
        until ``POST /-/reset`` or the file changes. Raises :class:`ConfigError`."""
        config = parse_config(text, source, self.limits)
        with self._lock:
            self._added.insert(0, config)
            self._texts.append(text)
            self.digest = _digest(self._texts)
            self.current = self._snapshot(self._merged())
        self._warn(config)
        log.info("rules added over HTTP: %d responses, %d rules", *_sizes(config))
        return config

    def clear_added(self) -> None:
        """Drop the rules added over HTTP (``POST /-/reset``)."""
        with self._lock:
            if self._added:
                self._added = []
                del self._texts[1:]
                self.digest = _digest(self._texts)
                self.current = self._snapshot(self._base)

    @property
    def added(self) -> int:
        """How many documents were added over HTTP and are in force."""
        return len(self._added)

    def _merged(self) -> LoadedConfig:
        base = self._base
        rules = [r for added in self._added for r in added.rules.rules] + list(base.rules.rules)
        rules.sort(key=lambda r: -r.priority)  # stable: added ones first among equals
        responses = dict(base.rules.responses)
        for added in reversed(self._added):  # the latest addition wins
            responses.update(added.rules.responses)
        ruleset = dataclasses.replace(base.rules, rules=tuple(rules), responses=responses)
        return dataclasses.replace(
            base,
            rules=ruleset,
            behaviour=dataclasses.replace(
                base.behaviour,
                rules_have_knobs=base.behaviour.rules_have_knobs
                or any(a.behaviour.rules_have_knobs for a in self._added),
            ),
        )

    def reload(self) -> bool:
        """Load the file again and swap it in if valid; thread-safe. Returns whether the
        rules in force are the file's content: True after a swap, and without a swap when
        the content is the one in force already (a touch, or a second event for one
        write: the snapshot, and so the sequence counters, stay as they are); False when
        the file is invalid or empty (the previous snapshot stays; ``last_error`` says
        why)."""
        with self._lock:
            return self._reload()

    def _reload(self) -> bool:
        try:
            text = self._read()
            if text == self._text:  # the content in force (again, after a broken edit)
                self.last_error = None
                return True
            if not text.strip():  # a write in progress, most likely
                where = Location(str(self.path), 1, 1)
                self.last_error = ConfigError([Problem(where, EMPTY_ON_RELOAD)])
                _empty_warnings.warning(str(self.path), f"config {self.path}: {EMPTY_ON_RELOAD}")
                return False
            snapshot = self._snapshot(self._parse(text))
        except ConfigError as exc:
            self.last_error = exc
            log.error("config %s not reloaded, previous rules stay in force:\n%s", self.path, exc)
            return False
        except Exception:  # a bug must not take the rules in force down with it
            log.exception("config %s not reloaded, previous rules stay in force", self.path)
            return False
        self._texts = [text]
        self.digest = self.file_digest = _digest(self._texts)
        self.current = snapshot
        self._base = snapshot.config
        self._added = []  # rules added over HTTP live until the file changes
        self._text = text
        self._warn(snapshot.config)
        self.last_error = None
        self.reloads += 1
        rules = snapshot.config.rules
        log.info(
            "config %s reloaded: %d responses, %d rules",
            self.path,
            len(rules.responses),
            len(rules.rules),
        )
        return True
