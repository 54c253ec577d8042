"""Process settings: command-line flags and ``MOCKLLM_*`` environment variables.

Behaviour that belongs to a scenario (rules, lag, strict models) lives in the YAML config
and is hot-reloaded; these settings say how the server runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]

ENV_PREFIX = "MOCKLLM_"
ENV_ALIASES: dict[str, tuple[str, ...]] = {
    # MOCKLLM_RESPONSES_FILE is what the original MockLLM read; MOCKLLM_CONFIG wins.
    "config": ("MOCKLLM_CONFIG", "MOCKLLM_RESPONSES_FILE"),
}
"""Environment variables of a field other than ``MOCKLLM_<FIELD>``, first found wins."""


class Settings(BaseModel):
    """Settings of one server process. Every field can be set as ``MOCKLLM_<FIELD>`` (the
    name in any case); arguments given to the constructor win over the environment. An
    environment value is parsed as the field's type (``8000``, ``false``, a path)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, given: Any) -> Any:
        if not isinstance(given, dict):
            return given
        environ = {k.upper(): v for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX)}
        values = dict(given)
        for name in cls.model_fields:
            if name in values:
                continue
            for variable in ENV_ALIASES.get(name, (ENV_PREFIX + name.upper(),)):
                if variable in environ:
                    values[name] = environ[variable]
                    break
        return values

    config: Path | None = Field(
        None, description="YAML config file; none means the embedded default config."
    )
    host: str = Field("127.0.0.1", description="Address to bind.")
    port: int = Field(8000, ge=0, le=65535, description="Port to bind.")
    workers: int = Field(1, ge=1, description="Worker processes.")
    watch: bool = Field(True, description="Reload the config file when it changes.")
    log_level: LogLevel = Field("info", description="Log level.")
    request_log: bool = Field(
        True,
        description="Log one line per request (at info level): method, path, dialect, "
        "model, rule, status, duration.",
    )
    fast_lane: bool = Field(
        True,
        description="Answer a request seen before, whose answer the config fixes, from "
        "bytes made once (the same answer, faster); false: every request takes the full "
        "serving path.",
    )
    strict_models: bool | None = Field(
        None, description="Unknown model names get a 404 (overrides the config file)."
    )
    providers: str | None = Field(
        None, description="Comma-separated allow-list of provider plugins to load (default all)."
    )
    validators: str | None = Field(
        None,
        description="Comma-separated request validator plugins to apply (mockllm.validators).",
    )
    stages: str | None = Field(
        None, description="Comma-separated stage plugins to apply, in order (mockllm.stages)."
    )
    max_body_bytes: int = Field(
        32 * 1024 * 1024, gt=0, description="Larger request bodies get a 413."
    )
    admin_token: str | None = Field(
        None,
        description="When set, every URL of mockllm's own under /-/ but /-/health needs "
        "'Authorization: Bearer <token>'.",
    )
    journal_size: int = Field(
        10_000, ge=0, description="Requests the journal keeps (GET /-/requests); 0: none."
    )
    state: str = Field(
        "memory",
        description="Where the state requests build up is kept: memory (each worker its "
        "own) or redis://[:password@]host:port/db (rediss:// for TLS, unix:///path.sock): "
        "sequence counters, rate limits, fault counters, the journal, rules added over "
        "HTTP and stored Responses shared by every worker and replica using it.",
    )
    state_namespace: str = Field(
        "mockllm",
        min_length=1,
        description="Prefix of every key in the shared state: servers with the same state "
        "URL and namespace behave as one server; another namespace, another server.",
    )
    state_timeout: float = Field(
        2.0,
        gt=0,
        le=60,
        description="Seconds a shared-state command may take; past it (or with Redis "
        "gone) the request gets a 503 in its dialect's envelope.",
    )
    cors_origins: str | None = Field(
        None,
        description="Browser origins allowed to call the server: '*' or a comma-separated "
        "list (e.g. http://localhost:3000). Others get a 403 and their CORS preflights no "
        "allow headers; requests without an Origin header (SDKs, curl) are not affected.",
    )

    # Record and replay (mockllm.cassettes; docs/cassettes.md).
    cassettes: Path | None = Field(
        None,
        description="Folder of cassettes (recorded interactions) to replay, or to record "
        "into with `mockllm record`.",
    )
    on_miss: Literal["error", "record", "rules"] = Field(
        "error",
        description="What answers a request no cassette matches: error (the dialect's 404 "
        "naming the nearest cassettes), record (the upstream, recorded) or rules (the "
        "config).",
    )
    upstream: str | None = Field(
        None,
        description="Where recorded requests go: a URL for every dialect and/or "
        "DIALECT=URL for one, comma-separated (e.g. https://api.openai.com,"
        "anthropic=https://api.anthropic.com).",
    )
    record: bool = Field(
        False,
        description="Forward every request to the upstream and record it (what `mockllm "
        "record` sets).",
    )
    replay_timing: str = Field(
        "recorded",
        description="How fast cassettes replay: recorded (the recorded offsets), fast (at "
        "once) or a factor applied to the offsets (0.5: twice as fast).",
    )
    redact_fields: str | None = Field(
        None,
        description="Comma-separated body fields redacted in cassettes (besides api_key, "
        "access_token, client_secret, password and every secret header).",
    )

    @field_validator("state")
    @classmethod
    def _state(cls, value: str) -> str:
        text = value.strip()
        if text.lower() == "memory":
            return "memory"
        if text.split("://", 1)[0].lower() in ("redis", "rediss", "unix") and "://" in text:
            from urllib.parse import urlsplit

            from redis.connection import parse_url

            try:
                parse_url(text)  # type: ignore[no-untyped-call]
                parts = urlsplit(text)
                path = parts.path.strip("/")
                if parts.scheme.lower() != "unix" and path and not path.isdigit():
                    raise ValueError(f"the database is a number (/0), not {path!r}")
            except ValueError as exc:
                raise ValueError(f"{exc} (a Redis URL: redis://host:6379/0)") from None
            return text
        raise ValueError("memory, or a Redis URL: redis://host:6379/0 (rediss://, unix://)")

    @field_validator("replay_timing")
    @classmethod
    def _replay_timing(cls, value: str) -> str:
        text = value.strip().lower()
        if text in ("recorded", "fast"):
            return text
        try:
            factor = float(text)
        except ValueError:
            factor = -1.0
        if not 0 <= factor < float("inf"):
            raise ValueError("recorded, fast or a factor >= 0 (e.g. 0.5)")
        return text

    # Budgets (mockllm.core.limits.Limits; docs/limits.md): MOCKLLM_LIMIT_<NAME>.
    limit_json_max_bytes: int = Field(
        1000000, gt=0, description="Size of one generated JSON value, serialized."
    )
    limit_json_max_depth: int = Field(
        32,
        gt=0,
        description="Nesting depth of a generated value (and of a schema walked to make it).",
    )
    limit_json_max_items: int = Field(
        10000, gt=0, description="Items of one generated array, properties of one generated object."
    )
    limit_json_max_string: int = Field(
        100000, gt=0, description="Characters of one generated string."
    )
    limit_template_timeout_ms: int = Field(
        250, gt=0, description="Time one template render may take."
    )
    limit_template_max_output: int = Field(
        1000000, gt=0, description="Characters one template render may produce."
    )
    limit_regex_timeout_ms: int = Field(
        50,
        gt=0,
        description="Time one regular-expression match (rule conditions, schema patterns) may"
        " take.",
    )
    limit_yaml_max_aliases: int = Field(
        100,
        gt=0,
        description="YAML aliases (``*name``) one config file may use (alias bombs are refused).",
    )
    limit_token_cache_bytes: int = Field(
        32 * 1024 * 1024,
        gt=0,
        description="Text kept by the engine's token cache, in bytes (UTF-8 length, "
        "approximately).",
    )
    limit_store_max_bytes: int = Field(
        128 * 1024 * 1024,
        gt=0,
        description="Stored Responses (``store: true``), in bytes of their JSON; oldest "
        "dropped first.",
    )
    limit_store_ttl_seconds: float = Field(
        3600.0, gt=0, description="Age after which a stored Response is dropped."
    )
    limit_counters_max: int = Field(
        100000, gt=0, description="Sequence counters kept; least recently used dropped first."
    )
    limit_counters_ttl_seconds: float = Field(
        3600.0,
        gt=0,
        description="Idle time after which a sequence counter is dropped (its conversation "
        "starts over).",
    )
    limit_max_header_bytes: int = Field(
        64 * 1024,
        gt=0,
        description="Request line plus headers; larger gets a 431 and the connection is closed.",
    )
    limit_header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="Time a client has to send a complete request line and headers (slow "
        "clients are disconnected).",
    )
    limit_keep_alive_seconds: float = Field(
        5.0, gt=0, description="Idle time after which a kept-alive connection is closed."
    )
