"""The server's log lines (``src/mockllm/logs.py``): uvicorn's text, written a loop turn
at a time, never out of order and never held past the turn that logged them."""

from __future__ import annotations

import asyncio
import io
import logging

import pytest
from uvicorn.logging import DefaultFormatter

from mockllm.logs import PrefixFormatter, TurnBatchingHandler, use_in


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def record(level: int, message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("mockllm.requests", level, __file__, 1, message, args, None)


@pytest.mark.parametrize("colors", [False, True])
@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR])
def test_the_text_is_uvicorns(colors: bool, level: int) -> None:
    ours = PrefixFormatter("%(levelprefix)s %(message)s", use_colors=colors)
    theirs = DefaultFormatter("%(levelprefix)s %(message)s", use_colors=colors)
    line = record(level, "POST %s %d", "/v1/chat/completions", 200)
    assert ours.format(line) == theirs.format(
        record(level, "POST %s %d", "/v1/chat/completions", 200)
    )


def test_other_formats_fall_back_to_uvicorns() -> None:
    fmt = "%(asctime)s %(levelprefix)s %(name)s %(message)s"
    line = record(logging.INFO, "x")
    assert PrefixFormatter(fmt, use_colors=False).format(line).endswith("mockllm.requests x")


def test_lines_of_one_turn_are_written_together_and_in_order() -> None:
    stream = CountingStream()
    handler = TurnBatchingHandler(stream)

    async def serve() -> tuple[tuple[str, int], int]:
        for n in range(3):
            handler.handle(record(logging.INFO, "request %d", n))
        assert stream.getvalue() == ""  # held until the turn ends...
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        written = stream.getvalue(), stream.writes  # ...then out, in one write
        handler.handle(record(logging.INFO, "request 3"))
        handler.handle(record(logging.WARNING, "slow down"))  # at once, after what is pending
        return written, stream.writes

    (after_turn, writes), total_writes = asyncio.run(serve())
    assert after_turn == "request 0\nrequest 1\nrequest 2\n" and writes == 1
    assert stream.getvalue().splitlines()[-2:] == ["request 3", "slow down"]
    assert total_writes == 2


def test_lines_other_than_request_lines_are_written_at_once_after_the_pending_ones() -> None:
    stream = CountingStream()
    handler = TurnBatchingHandler(stream)

    async def serve() -> str:
        handler.handle(record(logging.INFO, "request 1"))
        shutdown = logging.LogRecord(
            "uvicorn.error", logging.INFO, __file__, 1, "Shutting down", (), None
        )
        handler.handle(shutdown)
        return stream.getvalue()  # no loop turn has ended: the server may stop now

    assert asyncio.run(serve()) == "request 1\nShutting down\n"


def test_outside_an_event_loop_a_line_is_written_at_once() -> None:
    stream = CountingStream()
    handler = TurnBatchingHandler(stream)
    handler.handle(record(logging.INFO, "started"))
    assert stream.getvalue() == "started\n"


def test_use_in_replaces_uvicorns_default_formatter_and_handler() -> None:
    import copy

    import uvicorn.config

    config = use_in(copy.deepcopy(uvicorn.config.LOGGING_CONFIG))
    assert config["formatters"]["default"]["()"] == "mockllm.logs.PrefixFormatter"
    assert config["handlers"]["default"]["class"] == "mockllm.logs.TurnBatchingHandler"
