"""Faults on demand: an error status, first-N failures, seeded random failures, and the
stream faults (cut, stall, a malformed event, the protocol's in-stream error event).

Request faults are decided before the engine answers, so a failed attempt advances no
sequence counter: the attempt the client's retry makes gets the answer the first attempt
would have had.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator

from ..core.errors import MockError, kind_of_status, retry_headers
from ..state.memory import CounterStore, MemoryCounters
from .knobs import Knobs

MESSAGES: dict[str, str] = {
    "rate_limit": "Rate limit reached. Please try again later.",
    "overloaded": "Overloaded",
    "server": "The server had an error while processing your request. Sorry about that!",
    "timeout": "Request timed out.",
    "authentication": "Invalid authentication.",
    "permission": "You do not have access to this resource.",
    "not_found": "The requested resource was not found.",
}
"""What an injected error says, by kind (a neutral wording close to the services')."""


BY_STATUS: dict[int, str] = {
    503: "The server is overloaded or not ready yet.",
    529: "Overloaded",
    504: "Gateway timeout.",
    502: "Bad gateway.",
}
"""What an injected error of these statuses says (over :data:`MESSAGES`)."""


class StreamCut(Exception):
    """Raised by a stream's frames where ``stream_cut_after`` says: the HTTP body is
    aborted there (no final chunk), so the client sees a broken stream."""


def fault_error(status: int, retry_after: float | None, why: str) -> MockError:
    """The error an injected fault answers: ``status`` in the dialect's envelope, with
    ``retry-after`` / ``retry-after-ms`` (and the dialect's hints) when ``retry_after`` is
    given. ``detail["fault"]`` says why (the dialect keeps the status as asked)."""
    kind = kind_of_status(status)
    message = BY_STATUS.get(status) or MESSAGES.get(kind, f"Simulated error (HTTP {status}).")
    headers = retry_headers(retry_after) if retry_after is not None else {}
    code = "rate_limit_exceeded" if kind == "rate_limit" else None
    return MockError(
        kind, message, status=status, code=code, headers=headers, detail={"fault": why}
    )


class Attempts:
    """Attempts per conversation, for ``fail_first`` (cleared by ``POST /-/reset``)."""

    def __init__(self, counters: CounterStore | None = None) -> None:
        self._counters = counters if counters is not None else MemoryCounters()

    def next(self, conversation: str, length: int) -> int:
        """Count one more attempt of ``conversation`` (carrying ``length`` messages: a
        shorter conversation starts over) and return its number, from 1."""
        return self._counters.advance("attempt\x00" + conversation, length)

    def clear(self) -> None:
        self._counters.clear()

    def stats(self) -> dict[str, int]:
        return {"entries": len(self._counters)}


def request_fault(knobs: Knobs, attempt: int | None, rng: random.Random | None) -> MockError | None:
    """The error this request answers, if a fault applies: ``fail_first`` (``attempt`` is
    the conversation's attempt number), else ``error_rate`` (drawn from ``rng``), else a
    plain ``error``. None: no fault."""
    if knobs.fail_first and attempt is not None:
        if attempt <= knobs.fail_first:
            why = f"fail_first: attempt {attempt} of {knobs.fail_first} failing"
            return fault_error(knobs.error or 429, knobs.retry_after, why)
        return None
    if knobs.error_rate is not None:
        if knobs.error_rate > 0 and rng is not None and rng.random() < knobs.error_rate:
            return fault_error(knobs.error or 500, knobs.retry_after, "error_rate")
        return None
    if knobs.error is not None and knobs.stream_error_after is None:
        return fault_error(knobs.error, knobs.retry_after, "error")
    return None


def _malformed(frame: bytes) -> bytes:
    """``frame`` cut in the middle of its payload, its event terminator kept: an event
    whose JSON does not parse, in whatever framing the dialect uses."""
    body = frame.rstrip(b"\r\n")
    end = frame[len(body) :] or b"\n"
    return body[: max(1, len(body) // 2)] + end


def with_stream_faults(
    frames: Iterable[tuple[float, bytes]], knobs: Knobs, stall: float
) -> Iterator[tuple[float, bytes]]:
    """``frames`` (delay, bytes) with the stream faults of ``knobs``: ``stall`` seconds more
    before the second event; the event after ``malformed_after`` events replaced by a
    malformed one; after ``stream_error_after`` events the in-stream error (raised as
    :class:`MockError`, which the wire renders as the dialect's error event); after
    ``stream_cut_after`` events :class:`StreamCut`. Every event with bytes counts."""
    cut = knobs.stream_cut_after
    malformed = knobs.malformed_after
    error_after = knobs.stream_error_after
    sent = 0
    for delay, frame in frames:
        if not frame:
            yield delay, frame
            continue
        if cut is not None and sent >= cut:
            raise StreamCut(f"stream cut after {cut} events")
        if error_after is not None and sent >= error_after:
            raise fault_error(knobs.error or 500, knobs.retry_after, "stream_error_after")
        if sent == 1 and stall:
            delay += stall
        if malformed is not None and sent == malformed:
            frame = _malformed(frame)
        sent += 1
        yield delay, frame
    if cut is not None and sent == cut:
        # The whole stream fitted in ``cut`` events: still no clean end.
        raise StreamCut(f"stream cut after {cut} events")


__all__ = [
    "MESSAGES",
    "Attempts",
    "StreamCut",
    "fault_error",
    "request_fault",
    "with_stream_faults",
]
