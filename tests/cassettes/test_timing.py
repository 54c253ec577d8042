"""Replay timing: ``recorded`` keeps each event's offset from the request, a factor
scales the offsets, ``fast`` sends everything at once."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from cassettes.support import recording, replayer
from mockllm.cassettes.format import Cassette, parse

STREAM = {
    "model": "gpt-4o",
    "stream": True,
    "messages": [{"role": "user", "content": "hello, a slow stream"}],
}
JSON = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello, a slow answer"}]}
SLOW = {"x-mockllm-ttft-ms": "150", "x-mockllm-itl-ms": "40"}
EARLY_MS = 3.0  # the pacer may release a frame half a millisecond early; rounding in the file
LATE_MS = 80.0  # a loaded test machine


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Cassette, Cassette]:
    """A stream whose events came 150 ms, then 40 ms apart, and a JSON answer 150 ms late,
    recorded."""
    folder = tmp_path_factory.mktemp("timing")
    with recording(folder) as proxy:
        for body in (STREAM, JSON):
            response = httpx.post(
                proxy.url + "/v1/chat/completions", json=body, headers=SLOW, timeout=10
            )
            assert response.status_code == 200
    stream, whole = (
        parse(path.read_text(), path.name)
        for path in sorted(folder.glob("*.yml"), key=lambda p: "stream" not in p.name)
    )
    assert stream.events is not None and whole.events is None
    return folder, stream, whole


def arrivals(url: str, cassette: Cassette) -> list[float]:
    """When (ms after sending the request) each recorded event had fully arrived."""
    assert cassette.events is not None
    ends, total = [], 0
    for _, data in cassette.events:
        total += len(data)
        ends.append(total)
    seen: list[float] = []
    received = 0
    with httpx.Client(timeout=10) as client:
        started = time.perf_counter()
        with client.stream("POST", url + "/v1/chat/completions", json=STREAM) as response:
            for piece in response.iter_raw():
                now = (time.perf_counter() - started) * 1000
                received += len(piece)
                while len(seen) < len(ends) and ends[len(seen)] <= received:
                    seen.append(now)
    assert len(seen) == len(ends)
    return seen


def test_the_recording_keeps_the_upstream_timing(slow: tuple[Path, Cassette, Cassette]) -> None:
    _, stream, whole = slow
    assert stream.events is not None
    offsets = [at for at, _ in stream.events]
    assert offsets == sorted(offsets)
    assert offsets[0] >= 140  # time to first token
    assert offsets[-1] - offsets[0] >= 40 * 3  # several inter-token gaps
    assert whole.at_ms >= 140


@pytest.mark.parametrize("factor", [1.0, 0.5])
def test_recorded_timing_keeps_the_offsets(
    slow: tuple[Path, Cassette, Cassette], factor: float
) -> None:
    folder, stream, _ = slow
    assert stream.events is not None
    timing = "recorded" if factor == 1.0 else str(factor)
    with replayer(folder, replay_timing=timing) as server:
        got = arrivals(server.url, stream)
    for (at, _), arrived in zip(stream.events, got, strict=True):
        assert at * factor - EARLY_MS <= arrived <= at * factor + LATE_MS, (at, arrived)


def test_fast_timing_sends_everything_at_once(slow: tuple[Path, Cassette, Cassette]) -> None:
    folder, stream, whole = slow
    assert stream.events is not None
    with replayer(folder, replay_timing="fast") as server:
        got = arrivals(server.url, stream)
        started = time.perf_counter()
        response = httpx.post(server.url + "/v1/chat/completions", json=JSON, timeout=10)
        elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200
    assert got[-1] < 60 < stream.events[-1][0]
    assert elapsed < 60 < whole.at_ms


def test_recorded_timing_delays_a_whole_answer(slow: tuple[Path, Cassette, Cassette]) -> None:
    folder, _, whole = slow
    with replayer(folder) as server:  # recorded is the default
        started = time.perf_counter()
        response = httpx.post(server.url + "/v1/chat/completions", json=JSON, timeout=10)
        elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200
    assert whole.at_ms - EARLY_MS <= elapsed <= whole.at_ms + LATE_MS
