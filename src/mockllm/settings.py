"""Process settings: command-line flags and ``MOCKLLM_*`` environment variables.

Behaviour that belongs to a scenario (rules, lag, strict models) lives in the YAML config
and is hot-reloaded; these settings say how the server runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]


class Settings(BaseSettings):
    """Settings of one server process. Every field can be set as ``MOCKLLM_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="MOCKLLM_", extra="ignore", frozen=True, populate_by_name=True
    )

    config: Path | None = Field(
        None,
        description="YAML config file; none means the embedded default config.",
        # MOCKLLM_RESPONSES_FILE is what the original MockLLM read.
        validation_alias=AliasChoices("MOCKLLM_CONFIG", "MOCKLLM_RESPONSES_FILE"),
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
    strict_models: bool | None = Field(
        None, description="Unknown model names get a 404 (overrides the config file)."
    )
    providers: str | None = Field(
        None, description="Comma-separated allow-list of provider plugins to load (default all)."
    )
    max_body_bytes: int = Field(
        32 * 1024 * 1024, gt=0, description="Larger request bodies get a 413."
    )
    admin_token: str | None = Field(
        None,
        description="When set, mockllm's own state-changing URLs under /-/ (such as "
        "POST /-/reset) need 'Authorization: Bearer <token>'.",
    )
