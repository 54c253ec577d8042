"""Provider discovery through the ``mockllm.providers`` entry-point group.

Built-in providers are registered in mockllm's own ``pyproject.toml`` under that group, the
same way a third-party package registers its own. Each entry point names a factory
``() -> Provider``. ``MOCKLLM_PROVIDERS`` (comma-separated names) restricts what is loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib.metadata import entry_points

from .providers.base import Provider

GROUP = "mockllm.providers"
ORDER = ("openai", "anthropic", "azure", "gemini", "ollama")
"""Built-ins first, in this order: on a shared path prefix the first provider owns 404s."""

log = logging.getLogger("mockllm.plugins")


def discover_providers(allow: Iterable[str] | None = None) -> list[Provider]:
    """Load every provider plugin (or only those named in ``allow``).

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
    rank = {name: i for i, name in enumerate(ORDER)}
    found.sort(key=lambda p: rank.get(p.name, len(ORDER)))
    return found
