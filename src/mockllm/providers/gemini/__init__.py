"""The gemini dialect (under construction: no routes yet)."""

from __future__ import annotations

from ..base import Provider
from ..openai.errors import render_error, stream_error


def provider() -> Provider:
    """Entry point ``mockllm.providers: gemini``."""
    return Provider(name="gemini", routes=(), render_error=render_error, stream_error=stream_error)
