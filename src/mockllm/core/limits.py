"""Budgets: how much work and memory one request, one template or one store may take.

Every budget lives here, once, with its default; :class:`Limits` is built from the process
settings (``MOCKLLM_*``, see :mod:`mockllm.settings`) by the app factory and handed to the
parts that enforce them. Past a budget the request gets the dialect's 400 naming the limit
(or the rules in force stay, for a config), never a stall, a 500 or unbounded memory.
``docs/limits.md`` documents each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..settings import Settings


@dataclass(frozen=True, slots=True)
class Limits:
    """The budgets in force. Defaults are generous for tests and tight enough that no
    single request can stall the server for long or grow it without bound."""

    # Generated JSON (structured output, tool arguments, Gemini/Ollama schemas).
    json_max_bytes: int = 1_000_000
    """Size of one generated JSON value, serialized."""
    json_max_depth: int = 32
    """Nesting depth of a generated value (and of a schema walked to make it)."""
    json_max_items: int = 10_000
    """Items of one generated array, properties of one generated object."""
    json_max_string: int = 100_000
    """Characters of one generated string."""

    # Templates and regular expressions.
    template_timeout_ms: int = 250
    """Time one template render may take."""
    template_max_output: int = 1_000_000
    """Characters one template render may produce."""
    regex_timeout_ms: int = 50
    """Time one regular-expression match (rule conditions, schema patterns) may take."""
    yaml_max_aliases: int = 100
    """YAML aliases (``*name``) one config file may use (alias bombs are refused)."""

    # State kept across requests.
    token_cache_bytes: int = 32 * 1024 * 1024
    """Text kept by the engine's token cache, in bytes (UTF-8 length, approximately)."""
    store_max_bytes: int = 128 * 1024 * 1024
    """Each store on its own (stored Responses; stored Chat Completions, ``store: true``),
    in bytes of its entries' JSON; least recently used dropped first."""
    store_ttl_seconds: float = 3600.0
    """Age after which a stored Response or stored Chat Completion is dropped."""
    counters_max: int = 100_000
    """Sequence counters kept; least recently used dropped first."""
    counters_ttl_seconds: float = 3600.0
    """Idle time after which a sequence counter is dropped (its conversation starts over)."""

    # Connections.
    max_header_bytes: int = 64 * 1024
    """Request line plus headers; larger gets a 431 and the connection is closed."""
    header_timeout_seconds: float = 10.0
    """Time a client has to send a complete request line and headers (slow clients are
    disconnected)."""
    keep_alive_seconds: float = 5.0
    """Idle time after which a kept-alive connection is closed."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits named in ``settings`` (``limit_<name>`` fields), defaults otherwise."""
        values = {
            name: getattr(settings, f"limit_{name}")
            for name in cls.__dataclass_fields__
            if getattr(settings, f"limit_{name}", None) is not None
        }
        return cls(**values)
