"""Server-sent events framing: compact single-line JSON, one event per blank-line block."""

from __future__ import annotations

from typing import Any

import orjson


def sse(data: Any, event: str | None = None) -> bytes:
    """One SSE event: optional ``event:`` line, then ``data: <compact JSON>``, then a blank line.

    ``data`` already in bytes is sent as is (for ``[DONE]``).
    """
    payload = data if isinstance(data, bytes) else orjson.dumps(data)
    if event is None:
        return b"data: " + payload + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + payload + b"\n\n"
