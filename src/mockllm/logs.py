"""How the server's log lines are written: uvicorn's format, at a fraction of the cost.

One line per request is on by default, and writing it through the standard handler cost
about a quarter of the server's throughput (a formatted copy of every record, a write and
a flush per line). Here:

* :class:`PrefixFormatter` gives the output of uvicorn's ``DefaultFormatter``
  (``"INFO:     message"``, colours when the stream is a terminal) without copying each
  record;
* :class:`TurnBatchingHandler` gathers the request lines (logger ``mockllm.requests``, INFO)
  emitted during one turn of the running event loop and writes them together when the turn
  ends: one write and one flush for all the requests answered in that turn. Any other line
  (start-up, shutdown, warnings), and any line written outside an event loop, is written at
  once, after the lines pending before it, so the order of the lines is always the order of
  the records, and the server's last lines are out before it stops. Every request line is
  out by the end of the loop turn that logged it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, TextIO

from uvicorn.logging import DefaultFormatter


class PrefixFormatter(DefaultFormatter):
    """uvicorn's ``DefaultFormatter`` (``"%(levelprefix)s %(message)s"``), the same text,
    with the level prefix computed once per level instead of on a copy of every record.
    Any other format string falls back to uvicorn's own formatting."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prefixes: dict[tuple[str, int], str] = {}
        self._plain = self._fmt == "%(levelprefix)s %(message)s" and isinstance(
            self._style, logging.PercentStyle
        )

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        if not self._plain or (self.use_colors and "color_message" in record.__dict__):
            return str(super().formatMessage(record))
        key = (record.levelname, record.levelno)
        prefix = self._prefixes.get(key)
        if prefix is None:
            name = record.levelname
            separator = " " * (8 - len(name))
            if self.use_colors:
                name = self.color_level_name(name, record.levelno)
            prefix = self._prefixes[key] = name + ":" + separator
        return prefix + " " + record.message


BATCHED = "mockllm.requests"
"""The logger whose INFO lines are written a loop turn at a time (one per request)."""


class TurnBatchingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A ``StreamHandler`` writing the INFO lines of one event-loop turn together (see the
    module docstring); everything else at once, in order."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._scheduled = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            self._pending.append(line)
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is None or record.levelno > logging.INFO or record.name != BATCHED:
                self._write()
            elif not self._scheduled:
                self._scheduled = True
                loop.call_soon(self._drain)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def _write(self) -> None:
        pending = self._pending
        if pending:
            self._pending = []
            self.stream.write("".join(pending))
            self.stream.flush()

    def _drain(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._scheduled = False
            try:
                self._write()
            except Exception:
                self._pending = []

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            try:
                self._write()
            except Exception:
                self._pending = []
        super().flush()


def use_in(log_config: dict[str, Any]) -> dict[str, Any]:
    """``log_config`` (uvicorn's ``LOGGING_CONFIG`` shape) with its ``default`` formatter and
    handler replaced by the ones above; returned for chaining."""
    log_config["formatters"]["default"]["()"] = "mockllm.logs.PrefixFormatter"
    log_config["handlers"]["default"]["class"] = "mockllm.logs.TurnBatchingHandler"
    return log_config
