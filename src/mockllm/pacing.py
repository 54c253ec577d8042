"""One pacing scheduler for all the streams of an event loop.

A paced stream sends each frame at its *due time*: the time to first token, then the
inter-token latency between the events that carry tokens. Sleeping per stream
(``asyncio.sleep`` before each frame) costs a timer per frame per stream, and the relative
sleeps drift: each frame inherits the lateness of the one before it. A :class:`Pacer`
instead files every waiting stream of its event loop under a *slot* of ``resolution``
seconds (1 ms by default) and arms **one** ``loop.call_at``, for the earliest slot. When it
fires, the streams due in that slot (and in any slot already past) are released in
due-time order, a batch per loop iteration, and the timer is armed again for the next
slot. A waiting stream costs one entry in its slot's list and the future its consumer
awaits; there is no task and no timer handle per stream, and the pacer arms at most
``1 / resolution`` timers a second, however many streams it paces. A frame due now (within
half a slot) is no wait at all: no future filed, no timer.

Due times are absolute: a stream's schedule counts from its start, so lateness (a busy loop)
never accumulates from frame to frame, and one schedule always gives the same due times and
the same pieces of bytes (see :class:`PacedStream`).

Usage (one pacer per app; it binds to the running event loop)::

    pacer = Pacer()
    stream = pacer.paced([(0.4, role), (0.02, token1), (0.02, token2), (0.0, done)])
    async for piece in stream:  # role at +0.4 s, token1 at +0.42 s, token2 + done at +0.44 s
        await send(piece)
    stream.cancel()  # the client is gone: the stream's wait and frames are released at once
"""

from __future__ import annotations

import asyncio
import heapq
import math
from collections.abc import AsyncIterator, Iterable, Iterator

__all__ = ["JOIN_BYTES", "PacedStream", "Pacer"]

_ceil = math.ceil

JOIN_BYTES = 16 * 1024
"""Frames due at the same time are joined into pieces of up to about this many bytes (a
piece is closed once it reaches the size; a single larger frame is not split)."""


class _Entry:
    """What a slot holds: a waiter (the future its consumer awaits) and the value the
    waiter gets when the slot comes."""

    __slots__ = ("_waiter", "_piece")

    def __init__(self) -> None:
        self._waiter: asyncio.Future[bytes] | None = None
        self._piece = b""

    def _abandoned(self) -> None:
        """Called when the slot comes and the waiter was cancelled (by its task)."""


class Pacer:
    """The scheduler that releases the waits of all the paced streams of one event loop.

    Contracts:

    * **Due times**: a wait for loop time ``due`` (``loop.time()``'s clock) is released no
      earlier than ``due - resolution / 2`` (the half slot absorbs the rounding of the
      loop's own timers: uvloop's are whole milliseconds) and, when the loop keeps up,
      within about ``resolution`` plus the loop's timer granularity after ``due``. A
      ``due`` within ``resolution / 2`` of now is released at once, with no timer.
    * **Order**: waits are released in the order of their slots, and within a slot in the
      order they began, in batches of at most ``batch`` waits, one batch per loop
      iteration (the first by the timer, the next ones by ``call_soon``).
    * **One timer**: at most one ``loop.call_at`` (or ``call_soon``) handle is pending per
      pacer, for the earliest slot that has waiters. A wait whose due time has come costs
      no timer.
    * **Release**: :meth:`PacedStream.cancel` (and a cancelled :meth:`sleep_until`) removes
      the wait from its slot at once; when no wait is left, the timer is cancelled too.
      (A stream whose consumer's *task* is cancelled is dropped when its slot comes.)
    * **Loop**: the pacer binds to the running loop when a stream or a sleep starts, and
      rebinds to another loop only when no wait is pending (an app served by successive
      loops, as in tests); starting one on a second loop while the first has waits pending
      is a RuntimeError. A stream is consumed on the loop it was started on.

    The pacer is not thread-safe: it is used from its event loop's thread only.
    """

    __slots__ = (
        "resolution",
        "batch",
        "_half",
        "_loop",
        "_slots",
        "_keys",
        "_handle",
        "_armed",
        "_waiting",
        "arms",
        "fires",
    )

    def __init__(self, resolution: float = 0.001, batch: int = 32) -> None:
        if not resolution > 0:
            raise ValueError("resolution must be positive")
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.resolution = resolution
        """The width of a slot in seconds: a wait is filed under the first slot boundary at
        or after its due time."""
        self.batch = batch
        """The most waits released in one loop iteration: between two batches the loop
        polls its sockets (accepts connections, reads requests and disconnections; uvloop
        accepts one connection per iteration), and the woken streams of a batch write
        before the next batch wakes."""
        self._half = resolution / 2
        self._loop: asyncio.AbstractEventLoop | None = None
        # Slot number -> its entries, in the order their waits began.
        self._slots: dict[int, list[_Entry]] = {}
        # A heap of slot numbers. A slot emptied by cancellations stays here until popped.
        self._keys: list[int] = []
        self._handle: asyncio.Handle | None = None
        self._armed = -1  # the slot number the pending callback is for
        self._waiting = 0
        self.arms = 0
        """How many times the timer was armed (a statistic, for tests and benchmarks)."""
        self.fires = 0
        """How many batches were released (a statistic, for tests and benchmarks)."""

    # ------------------------------------------------------------------ public API

    def paced(
        self, frames: Iterable[tuple[float, bytes]], start: float | None = None
    ) -> PacedStream:
        """The stream of ``frames``, each given with the delay before it.

        A delay counts from the previous frame's *due time* (not from when it was sent),
        the first from ``start`` (loop time; default: now). So frame ``k`` is due at
        ``start + delay_0 + ... + delay_k`` whatever the load: no drift. A delay of 0 (or
        less) puts the frame with the one before it. Must be called on the event loop
        that consumes the stream."""
        loop = self._bind()
        return PacedStream(self, loop, iter(frames), loop.time() if start is None else start, True)

    def scheduled(
        self, frames: Iterable[tuple[float, bytes]], start: float | None = None
    ) -> PacedStream:
        """The stream of ``frames``, each given with its offset in seconds from ``start``
        (loop time; default: now): frame ``k`` is due at ``start + offset_k``. A frame whose
        offset is not after the previous frame's goes with it."""
        loop = self._bind()
        return PacedStream(self, loop, iter(frames), loop.time() if start is None else start, False)

    async def sleep_until(self, when: float) -> None:
        """Return at loop time ``when`` (under the contracts of :class:`Pacer`), sharing
        the pacer's timer; at once, with no timer, when ``when`` has come. Cancelling the
        sleep removes its wait at once."""
        loop = self._bind()
        if when <= loop.time() + self._half:
            return
        key = math.ceil(when / self.resolution)
        entry = _Entry()
        waiter = entry._waiter = loop.create_future()
        self._add(entry, key)
        try:
            await waiter
        except BaseException:
            self._forget(entry, key)
            raise

    @property
    def waiting(self) -> int:
        """How many waits are pending."""
        return self._waiting

    @property
    def armed(self) -> bool:
        """Whether the pacer's timer is pending."""
        return self._handle is not None

    # ------------------------------------------------------------------ the scheduler

    def _bind(self) -> asyncio.AbstractEventLoop:
        """The running loop, which the pacer is bound to from now on."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            if self._waiting:
                raise RuntimeError("this Pacer has waits pending on another event loop")
            self._disarm()
            self._slots.clear()
            self._keys.clear()
            self._loop = loop
        return loop

    def _add(self, entry: _Entry, key: int) -> None:
        """File ``entry`` under slot ``key`` (a slot still to come)."""
        slot = self._slots.get(key)
        if slot is None:
            self._slots[key] = [entry]
            heapq.heappush(self._keys, key)
            if key < self._armed or self._handle is None:
                self._arm(key)
        else:
            slot.append(entry)
        self._waiting += 1

    def _forget(self, entry: _Entry, key: int) -> None:
        """Remove ``entry`` from slot ``key``, if it is still there."""
        slot = self._slots.get(key)
        if slot is None:
            return
        try:
            slot.remove(entry)
        except ValueError:
            return
        self._waiting -= 1
        if not slot:
            del self._slots[key]
            if not self._slots:
                self._keys.clear()
                self._disarm()

    def _arm(self, key: int) -> None:
        if self._handle is not None:
            self._handle.cancel()
        assert self._loop is not None
        self._armed = key
        self._handle = self._loop.call_at(key * self.resolution, self._fire)
        self.arms += 1

    def _disarm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._armed = -1

    def _fire(self) -> None:
        """The timer: release the waits whose slot has come, ``batch`` at most; then
        continue at the next loop iteration when more are due, else arm for the next
        slot."""
        self._handle = None
        self._armed = -1
        self.fires += 1
        loop = self._loop
        assert loop is not None
        resolution = self.resolution
        limit = loop.time() + self._half
        keys = self._keys
        slots = self._slots
        pop = heapq.heappop
        budget = self.batch
        while keys and keys[0] * resolution <= limit:
            key = pop(keys)
            slot = slots.pop(key, None)
            if slot is None:  # emptied by cancellations
                continue
            if len(slot) > budget:  # the rest of the slot waits for the next batch
                slots[key] = slot[budget:]
                del slot[budget:]
                heapq.heappush(keys, key)
            budget -= len(slot)
            self._waiting -= len(slot)
            for entry in slot:
                waiter = entry._waiter
                if waiter is not None:
                    entry._waiter = None
                    if not waiter.done():
                        waiter.set_result(entry._piece)
                    else:  # its consumer's task was cancelled
                        entry._abandoned()
            if not budget:
                break
        while keys and keys[0] not in slots:
            pop(keys)
        if keys:
            if keys[0] * resolution <= limit:
                # More are due: after the loop has polled its sockets once.
                self._armed = keys[0]
                self._handle = loop.call_soon(self._fire)
            else:
                self._arm(keys[0])


class PacedStream(_Entry, AsyncIterator[bytes]):
    """The bytes of one paced stream: an async iterator whose waits are its
    :class:`Pacer`'s.

    Contracts:

    * Each item is the frames due at one time, joined (up to :data:`JOIN_BYTES` a piece),
      in the order given: the pieces depend on the schedule only, never on timing. Frames
      due at once (zero delays, the start of an unpaced stream) cost no timer.
    * An item is produced at its due time (under the :class:`Pacer`'s contracts) or, when
      the consumer comes late, at once: a late stream catches up, the due times stay put.
    * ``frames`` is read lazily, one piece ahead: a piece and the first frame of the next
      one are read when the piece's wait begins. When reading ``frames`` raises, the
      frames read before are produced first, then the exception propagates (once); the
      stream is then finished.
    * :meth:`cancel` (or ``aclose``) finishes the stream at once: its pending wait, if any,
      is removed from the pacer and its consumer gets ``StopAsyncIteration``; the frames
      (closed when they are a generator) and the frames read ahead are released. When the
      consumer's task is cancelled while it waits, the wait stays filed until its slot,
      which then finishes the stream.
    * ``__anext__`` returns the future the consumer awaits (the cheapest awaitable there
      is: no coroutine per item).
    """

    __slots__ = (
        "_pacer",
        "_loop",
        "_frames",
        "_start",
        "_offset",
        "_relative",
        "_due",
        "_next",
        "_key",
        "_error",
        "_closed",
    )

    def __init__(
        self,
        pacer: Pacer,
        loop: asyncio.AbstractEventLoop,
        frames: Iterator[tuple[float, bytes]],
        start: float,
        relative: bool,
    ) -> None:
        super().__init__()
        self._pacer = pacer
        self._loop = loop
        self._frames: Iterator[tuple[float, bytes]] | None = frames
        self._start = start
        self._offset = 0.0
        self._relative = relative
        self._due = start  # the due time of _next
        self._next: bytes | None = None  # the first frame of the next piece, read ahead
        self._key = 0  # the slot of the pending wait
        self._error: Exception | None = None
        self._closed = False

    @property
    def start(self) -> float:
        """The loop time the schedule counts from."""
        return self._start

    @property
    def closed(self) -> bool:
        """Whether the stream is finished (exhausted, failed or cancelled)."""
        return self._closed

    def __aiter__(self) -> PacedStream:
        return self

    def __anext__(self) -> asyncio.Future[bytes]:
        frame = self._next
        if frame is None or self._closed or self._waiter is not None:
            frame = self._first()
        due = self._due
        self._next = None
        # The piece: this frame and the ones due with it. The first frame of the next
        # piece is read ahead, into _next (and its due time into _due).
        parts: list[bytes] | None = None
        size = len(frame)
        frames = self._frames
        while frames is not None and size < JOIN_BYTES:
            try:
                delay, following = next(frames)
            except StopIteration:
                self._frames = None
                break
            except Exception as exc:
                self._error = exc
                self._frames = None
                break
            if self._relative:
                if delay > 0:
                    self._offset += delay
                    self._due = self._start + self._offset
                    self._next = following
                    break
            elif delay > self._offset:
                self._offset = delay
                self._due = self._start + delay
                self._next = following
                break
            if parts is None:
                parts = [frame]
            parts.append(following)
            size += len(following)
        piece = frame if parts is None else b"".join(parts)
        loop = self._loop
        waiter: asyncio.Future[bytes] = loop.create_future()
        pacer = self._pacer
        if due <= loop.time() + pacer._half:
            waiter.set_result(piece)
            return waiter
        key = _ceil(due / pacer.resolution)
        self._waiter = waiter
        self._piece = piece
        self._key = key
        pacer._add(self, key)
        return waiter

    def _first(self) -> bytes:
        """The first frame of the next piece when none was read ahead (the first piece,
        a piece after one cut at JOIN_BYTES), with its due time in ``_due``; raises
        StopAsyncIteration at the end, the frames' exception after a failure."""
        if self._closed:
            raise StopAsyncIteration
        if self._waiter is not None:
            raise RuntimeError("the previous item of this PacedStream is still awaited")
        error = self._error
        if error is not None:
            self._error = None
            self.cancel()
            raise error
        frames = self._frames
        if frames is None:
            self.cancel()
            raise StopAsyncIteration
        try:
            delay, frame = next(frames)
        except StopIteration:
            self.cancel()
            raise StopAsyncIteration from None
        except Exception:
            self.cancel()
            raise
        if self._relative:
            if delay > 0:
                self._offset += delay
        elif delay > self._offset:
            self._offset = delay
        self._due = self._start + self._offset
        return frame

    def cancel(self) -> None:
        """Finish the stream now (idempotent): see the class's contracts."""
        if self._closed:
            return
        self._closed = True
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            self._pacer._forget(self, self._key)
            if not waiter.done():
                waiter.set_exception(StopAsyncIteration())
                waiter.exception()  # not an error to log when nobody awaits it any more
        self._piece = b""
        self._next = None
        frames = self._frames
        self._frames = None
        close = getattr(frames, "close", None)
        if close is not None:
            close()

    def _abandoned(self) -> None:
        self.cancel()

    async def aclose(self) -> None:
        """:meth:`cancel`, as an awaitable (the async generator protocol)."""
        self.cancel()
