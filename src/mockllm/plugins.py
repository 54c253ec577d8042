"""Plugin discovery through entry points.

* ``mockllm.providers``: a factory ``() -> Provider`` (a dialect). Built-in providers are
  registered in mockllm's own ``pyproject.toml`` under that group, the same way a
  third-party package registers its own. Every installed provider is loaded;
  ``MOCKLLM_PROVIDERS`` (comma-separated names) restricts what is loaded.
* ``mockllm.validators``: a factory ``() -> Validator`` (see :mod:`mockllm.serving`), a
  check of every generating request of every dialect.
* ``mockllm.stages``: a factory ``() -> Stage``, middleware over neutral requests and
  replies.

Validators and stages change what existing dialects answer, so installing one is not
enough: each applies once named in ``MOCKLLM_VALIDATORS`` / ``MOCKLLM_STAGES`` (or
``--validator`` / ``--stage``), in that order. A name that no installed plugin has is an
error at start-up (:class:`PluginError`), never silently ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from importlib.metadata import entry_points

from .providers.base import Provider
from .serving import Stage, Validator

GROUP = "mockllm.providers"
VALIDATORS = "mockllm.validators"
STAGES = "mockllm.stages"

log = logging.getLogger("mockllm.plugins")


def discover_providers(allow: Iterable[str] | None = None) -> list[Provider]:
    """Load every provider plugin (or only those named in ``allow``), ordered by their
    declared ``rank``.

    A plugin that fails to load is logged and skipped: one broken package must not take
    the server down.
    """
    allowed = {name.strip() for name in allow} if allow is not None else None
    found: list[Provider] = []
    for ep in entry_points(group=GROUP):
        if allowed is not None and ep.name not in allowed:
            continue
        try:
            provider = ep.load()()
        except Exception:
            log.exception("provider plugin %r (%s) failed to load; skipped", ep.name, ep.value)
            continue
        if not isinstance(provider, Provider):
            log.error("provider plugin %r returned %r, not a Provider; skipped", ep.name, provider)
            continue
        if any(p.name == provider.name for p in found):
            continue  # the same distribution seen twice on sys.path
        found.append(provider)
    found.sort(key=lambda p: p.rank)  # stable: equal ranks keep discovery order
    return found


class PluginError(Exception):
    """A validator or stage named in the settings is not installed or fails to load."""


def names(setting: str | None) -> list[str]:
    """The names of a comma-separated setting, in order, without blanks."""
    return [n.strip() for n in (setting or "").split(",") if n.strip()]


def _load_named(group: str, wanted: Sequence[str]) -> list[object]:
    if not wanted:
        return []  # no entry-point scan (it costs milliseconds at start)
    found = {ep.name: ep for ep in entry_points(group=group)}
    loaded = []
    for name in wanted:
        ep = found.get(name)
        if ep is None:
            known = ", ".join(sorted(found)) or "none installed"
            raise PluginError(f"no {group} plugin called {name!r} (installed: {known})")
        try:
            loaded.append(ep.load()())
        except Exception as exc:
            raise PluginError(
                f"{group} plugin {name!r} ({ep.value}) failed to load: {exc}"
            ) from exc
    return loaded


def load_validators(wanted: Sequence[str]) -> list[Validator]:
    """The validators called ``wanted``, in that order; :class:`PluginError` otherwise."""
    loaded = _load_named(VALIDATORS, wanted)
    for name, value in zip(wanted, loaded, strict=True):
        if not callable(value):
            raise PluginError(f"validator plugin {name!r} gave {value!r}, which is not callable")
    return loaded  # type: ignore[return-value]


def load_stages(wanted: Sequence[str]) -> list[Stage]:
    """The stages called ``wanted``, in that order; :class:`PluginError` otherwise."""
    loaded = _load_named(STAGES, wanted)
    for name, value in zip(wanted, loaded, strict=True):
        if not isinstance(value, Stage):
            raise PluginError(f"stage plugin {name!r} gave {value!r}, not a mockllm Stage")
    return loaded  # type: ignore[return-value]
