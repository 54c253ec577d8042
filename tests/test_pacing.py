"""The contracts of :mod:`mockllm.pacing`: one scheduler for the waits of every stream.

Timing assertions are one-sided or generous (a loaded CI machine is late, never early);
ordering, pieces, timer counts and releases are exact.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from mockllm.pacing import JOIN_BYTES, PacedStream, Pacer

RESOLUTION = 0.001
TOLERANCE = RESOLUTION / 2  # a wait is never released before due - resolution / 2
EPSILON = 1e-6  # float rounding of loop times


def _loops() -> list[Any]:
    loops: list[Any] = [pytest.param(asyncio.new_event_loop, id="asyncio")]
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return loops
    loops.append(pytest.param(uvloop.new_event_loop, id="uvloop"))
    return loops


LOOPS = _loops()


def run(factory: Callable[[], asyncio.AbstractEventLoop], main: Awaitable[Any]) -> Any:
    """Run ``main`` to completion on a fresh loop from ``factory``."""
    loop = factory()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.close()


async def consume(stream: PacedStream) -> list[tuple[float, bytes]]:
    """Each piece of ``stream`` with the loop time it came at."""
    loop = asyncio.get_running_loop()
    out = []
    async for piece in stream:
        out.append((loop.time(), piece))
    return out


@pytest.mark.parametrize("new_loop", LOOPS)
def test_many_streams_are_released_at_their_due_times_by_one_timer(
    new_loop: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    streams, tokens, itl = 300, 5, 0.02

    def frames(i: int) -> Iterator[tuple[float, bytes]]:
        yield 0.01 + (i % 10) * 0.001, b"%d:first " % i  # time to first token
        for k in range(tokens):
            yield itl, b"%d:token%d " % (i, k)
        yield 0.0, b"%d:done" % i  # goes with the last token

    async def main() -> None:
        pacer = Pacer(RESOLUTION)
        loop = asyncio.get_running_loop()
        start = loop.time()
        results = await asyncio.gather(
            *(consume(pacer.paced(frames(i), start=start)) for i in range(streams))
        )
        lateness = []
        for i, pieces in enumerate(results):
            ttft = 0.01 + (i % 10) * 0.001
            dues = [start + ttft + k * itl for k in range(tokens + 1)]
            assert [piece for _, piece in pieces] == [
                b"%d:first " % i,
                *(b"%d:token%d " % (i, k) for k in range(tokens - 1)),
                b"%d:token%d %d:done" % (i, tokens - 1, i),
            ]
            times = [at for at, _ in pieces]
            assert times == sorted(times)
            for at, due in zip(times, dues, strict=True):
                assert at >= due - TOLERANCE - EPSILON  # never early
                lateness.append(at - due)
        # Generous: a loaded machine is late, but not by whole inter-token latencies.
        assert statistics.median(lateness) < 0.015
        assert max(lateness) < 0.5
        # One timer for all the streams: armed once per slot at most (6 due times x 10
        # starts of the schedules, spread over ~60 slots), not once per wait (1,800).
        assert pacer.arms <= 80
        assert pacer.waiting == 0 and not pacer.armed

    run(new_loop, main())


def test_the_schedule_is_absolute_so_lateness_does_not_accumulate() -> None:
    frames, itl, busy = 30, 0.01, 0.003

    async def main() -> None:
        pacer = Pacer(RESOLUTION)
        loop = asyncio.get_running_loop()
        stream = pacer.paced([(itl, b"x")] * frames)
        start = stream.start
        async for _ in stream:
            time.sleep(busy)  # the consumer (the loop) is busy 3 ms per piece
        elapsed = loop.time() - start
        # Relative sleeps would take frames * (itl + busy) = 390 ms at least.
        assert frames * itl - TOLERANCE <= elapsed < frames * itl + 0.06

    asyncio.run(main())


def test_a_late_consumer_catches_up_at_once() -> None:
    async def main() -> None:
        pacer = Pacer(RESOLUTION)
        stream = pacer.paced([(0.01, b"a"), (0.01, b"b"), (0.01, b"c"), (0.5, b"d")])
        assert await stream.__anext__() == b"a"
        time.sleep(0.03)  # b and c are due meanwhile
        waiter = stream.__anext__()
        assert waiter.done() and await waiter == b"b"
        waiter = stream.__anext__()
        assert waiter.done() and await waiter == b"c"
        waiter = stream.__anext__()
        assert not waiter.done()  # d: its due time is still to come
        stream.cancel()
        with pytest.raises(StopAsyncIteration):
            await waiter

    asyncio.run(main())


def test_offsets_from_the_start() -> None:
    async def main() -> None:
        pacer = Pacer(RESOLUTION)
        stream = pacer.scheduled([(0.01, b"a"), (0.01, b"b"), (0.03, b"c"), (0.02, b"d")])
        start = stream.start
        pieces = await consume(stream)
        # Equal offsets go together; an offset before the previous one goes with it.
        assert [piece for _, piece in pieces] == [b"ab", b"cd"]
        assert pieces[0][0] >= start + 0.01 - TOLERANCE - EPSILON
        assert pieces[1][0] >= start + 0.03 - TOLERANCE - EPSILON

    asyncio.run(main())


def test_zero_delay_frames_pass_at_once_and_cost_no_timer() -> None:
    async def main() -> None:
        pacer = Pacer(RESOLUTION)
        frames = [(0.0, b"%05d|" % i) for i in range(10_000)]  # 60,000 bytes
        stream = pacer.paced(frames)
        pieces = []
        while True:
            try:
                waiter = stream.__anext__()
            except StopAsyncIteration:
                break
            assert waiter.done()  # no wait at all
            pieces.append(await waiter)
        assert b"".join(pieces) == b"".join(frame for _, frame in frames)
        assert all(JOIN_BYTES <= len(piece) < JOIN_BYTES + 6 for piece in pieces[:-1])
        assert len(pieces) == 4
        assert pacer.arms == 0 and pacer.fires == 0 and pacer.waiting == 0
        assert not pacer.armed
        assert stream.closed

    asyncio.run(main())


def test_a_frame_due_within_half_a_slot_never_waits_wherever_it_falls_in_a_slot() -> None:
    async def main() -> None:
        pacer = Pacer(resolution=1.0)  # a wide slot: due times fall anywhere in it
        loop = asyncio.get_running_loop()
        for ahead in (0.0, 0.1, 0.2, 0.3, 0.4):
            stream = pacer.paced([(ahead, b"a"), (5.0, b"b")])
            assert stream.__anext__().done()
            stream.cancel()
        assert pacer.arms == 0
        stream = pacer.paced([(0.7, b"a")], start=loop.time())
        assert not stream.__anext__().done()  # more than half a slot ahead: it waits
        stream.cancel()
        assert not pacer.armed

    asyncio.run(main())


def test_frames_due_with_a_delayed_one_are_joined_to_it() -> None:
    async def main() -> None:
        pacer = Pacer(RESOLUTION)
        schedule = [(0.0, b"head "), (0.0, b"role "), (0.01, b"a "), (0.0, b"b "), (0.01, b"c")]
        pieces = [piece for _, piece in await consume(pacer.paced(schedule))]
        assert pieces == [b"head role ", b"a b ", b"c"]
        assert pacer.waiting == 0

    asyncio.run(main())


def test_cancel_releases_the_waits_and_the_timer_at_once() -> None:
    closed = []

    def frames(i: int) -> Iterator[tuple[float, bytes]]:
        try:
            yield 10.0, b"never"  # a long time to first token
        finally:
            closed.append(i)

    async def main() -> None:
        pacer = Pacer(RESOLUTION)
        streams = [pacer.paced(frames(i)) for i in range(200)]
        tasks = [asyncio.ensure_future(consume(stream)) for stream in streams]
        await asyncio.sleep(0.01)
        assert pacer.waiting == 200 and pacer.armed
        for stream in streams:
            stream.cancel()
        assert pacer.waiting == 0 and not pacer.armed  # released before any await
        results = await asyncio.wait_for(asyncio.gather(*tasks), 1.0)
        assert results == [[]] * 200  # each consumer got StopAsyncIteration
        assert sorted(closed) == list(range(200))  # the frames are closed
        assert all(stream.closed for stream in streams)
        streams[0].cancel()  # idempotent
        await streams[1].aclose()

    asyncio.run(main())


def test_cancelling_the_consumer_task_finishes_the_stream_at_its_slot() -> None:
    closed = []

    def frames() -> Iterator[tuple[float, bytes]]:
        try:
            yield 0.02, b"a"
            yield 0.02, b"b"
        finally:
            closed.append(True)

    async def main() -> None:
        pacer = Pacer(RESOLUTION)
        stream = pacer.paced(frames())
        task = asyncio.ensure_future(consume(stream))
        await asyncio.sleep(0.005)
        assert pacer.waiting == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.04)  # the slot has come: the entry is dropped
        assert pacer.waiting == 0 and not pacer.armed
        assert stream.closed and closed == [True]

    asyncio.run(main())


def test_a_cancelled_sleep_is_released_at_once() -> None:
    async def main() -> None:
        pacer = Pacer(RESOLUTION)
        loop = asyncio.get_running_loop()
        sleeper = asyncio.ensure_future(pacer.sleep_until(loop.time() + 10))
        await asyncio.sleep(0.005)
        assert pacer.waiting == 1 and pacer.armed
        sleeper.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sleeper
        assert pacer.waiting == 0 and not pacer.armed
        before = loop.time()
        await pacer.sleep_until(before + 0.02)
        assert loop.time() >= before + 0.02 - TOLERANCE - EPSILON
        arms = pacer.arms
        await pacer.sleep_until(loop.time() - 1)  # come already: no timer
        assert pacer.arms == arms

    asyncio.run(main())


def test_an_error_of_the_frames_comes_after_what_was_read_before() -> None:
    def frames() -> Iterator[tuple[float, bytes]]:
        yield 0.0, b"a"
        yield 0.01, b"b"
        yield 0.0, b"c"
        raise ValueError("encoder failed")

    async def main() -> None:
        stream = Pacer(RESOLUTION).paced(frames())
        got = []
        with pytest.raises(ValueError, match="encoder failed"):
            async for piece in stream:
                got.append(piece)
        assert got == [b"a", b"bc"]
        assert stream.closed
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()

    asyncio.run(main())


def test_the_pieces_depend_on_the_schedule_only() -> None:
    schedule = [(0.002 * (i % 3), b"%d " % i) for i in range(40)]

    async def pieces(busy: float) -> list[bytes]:
        out = []
        async for piece in Pacer(RESOLUTION).paced(schedule):
            out.append(piece)
            time.sleep(busy)
        return out

    async def main() -> None:
        assert await pieces(0.0) == await pieces(0.004)

    asyncio.run(main())


def test_batches_release_a_crowded_slot_over_several_iterations_in_order() -> None:
    async def main() -> None:
        pacer = Pacer(RESOLUTION, batch=4)
        loop = asyncio.get_running_loop()
        start = loop.time()
        order: list[int] = []

        async def one(i: int) -> None:
            async for _ in pacer.paced([(0.01, b"x")], start=start):
                order.append(i)

        await asyncio.gather(*(one(i) for i in range(20)))
        assert order == list(range(20))
        assert pacer.fires >= 5 and pacer.arms == 1

    asyncio.run(main())


def test_the_pacer_moves_to_a_new_loop_when_idle() -> None:
    pacer = Pacer(RESOLUTION)

    async def main() -> list[bytes]:
        return [piece async for piece in pacer.paced([(0.005, b"a"), (0.005, b"b")])]

    assert asyncio.run(main()) == [b"a", b"b"]
    assert asyncio.run(main()) == [b"a", b"b"]


def test_anext_while_a_wait_is_pending_is_an_error() -> None:
    async def main() -> None:
        stream = Pacer(RESOLUTION).paced([(1.0, b"a"), (1.0, b"b")])
        waiter = stream.__anext__()
        with pytest.raises(RuntimeError):
            stream.__anext__()
        stream.cancel()
        with pytest.raises(StopAsyncIteration):
            await waiter

    asyncio.run(main())


def test_invalid_settings() -> None:
    with pytest.raises(ValueError):
        Pacer(0)
    with pytest.raises(ValueError):
        Pacer(batch=0)
