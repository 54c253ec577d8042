"""Where a request's time goes inside mockllm, without the HTTP server.

Calls the ASGI app directly with the benchmark's chat completion (the same rule and body as
``bench/bench.py``), prints the microseconds per request (the best of several rounds, wall
clock and CPU time), then a cProfile listing of the functions that cost the most. Run::

    .venv/bin/python bench/profile_app.py                 # non-streaming, request log off
    .venv/bin/python bench/profile_app.py --stream        # "stream": true
    .venv/bin/python bench/profile_app.py --log           # request log on, as `mockllm serve`
    .venv/bin/python bench/profile_app.py --no-profile    # figures only (A/B comparisons)
    .venv/bin/python bench/profile_app.py --lane          # the fast lane's answer instead

``--log`` configures logging as ``mockllm serve`` does (uvicorn's handler and formatter),
writing to ``/dev/null``: the figure then includes the cost of the request's log line.
``--lane`` measures the fast lane (:mod:`mockllm.fastlane`) instead: what the HTTP
protocol calls with a complete request that the lane has learned (the answer's bytes, the
buckets, the journal entry and the metrics), without the protocol's own work.
On a shared machine, compare two builds by alternating runs and read the best figures.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import cProfile
import gc
import logging
import logging.config
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from mockllm.app import create_app
from mockllm.settings import Settings

ANSWER = (
    "A mock server answers in microseconds, so your tests stay fast and deterministic. "
    "This reply has about fifty tokens: plain words, punctuation, numbers such as 42 and "
    "3.14159, a café, and a few longer words like tokenization and reproducibility."
)
REQUEST: dict[str, Any] = {
    "model": "gpt-4o",
    "messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "benchmark prompt"},
    ],
}
BODY = orjson.dumps(REQUEST)
STREAM_BODY = orjson.dumps({**REQUEST, "stream": True})
HEADERS = [
    (b"host", b"127.0.0.1"),
    (b"content-type", b"application/json"),
    (b"authorization", b"Bearer x"),
    (b"user-agent", b"OpenAI/Python"),
]


async def run(app: Any, count: int, body: bytes = BODY) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    for _ in range(count):
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/v1/chat/completions",
            "raw_path": b"/v1/chat/completions",
            "query_string": b"",
            "root_path": "",
            "headers": HEADERS,
        }
        await app(scope, receive, send)


PREFIX = b"HTTP/1.1 200 OK\r\ndate: Thu, 03 Dec 2026 02:05:41 GMT\r\nserver: uvicorn\r\n"
"""What the protocol puts before the lane's headers (the status line, uvicorn's own)."""


async def run_lane(app: Any, count: int, body: bytes = BODY) -> None:
    """``count`` answers of the fast lane, as the protocol asks for them (on a loop: the
    journal and the buckets are used there)."""
    route = app.lanes[b"/v1/chat/completions"]
    for _ in range(count):
        if route.answer(list(HEADERS), body, PREFIX) is None:
            raise SystemExit("the fast lane did not answer: is the answer fixed?")


def log_like_serve() -> None:
    """Logging as ``mockllm serve`` sets it up (cli.py), to /dev/null."""
    import uvicorn.config

    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["handlers"]["default"]["stream"] = open("/dev/null", "w")  # noqa: SIM115
    config["loggers"]["mockllm"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    logging.config.dictConfig(config)


def measure(
    app: Any, count: int, rounds: int, body: bytes, runner: Any = run
) -> tuple[float, float]:
    """Best wall-clock and best CPU microseconds per request over ``rounds`` rounds."""
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        asyncio.run(runner(app, count, body))
        walls.append((time.perf_counter() - wall) / count * 1e6)
        cpus.append((time.process_time() - cpu) / count * 1e6)
    return min(walls), min(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("requests", nargs="?", type=int, default=20_000, help="per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds measured (best kept)")
    parser.add_argument("--stream", action="store_true", help='"stream": true')
    parser.add_argument("--log", action="store_true", help="request log on, as mockllm serve")
    parser.add_argument("--lane", action="store_true", help="the fast lane's answer instead")
    parser.add_argument("--no-profile", action="store_true", help="no cProfile listing")
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (tottime...)")
    parser.add_argument("--lines", type=int, default=25, help="cProfile lines printed")
    args = parser.parse_args()
    if args.log:
        log_like_serve()
    folder = Path(tempfile.mkdtemp(prefix="mockllm-profile-"))
    config = folder / "bench.yml"
    config.write_text(f'responses:\n  "benchmark prompt": "{ANSWER}"\n', encoding="utf-8")
    app = create_app(Settings(config=config, watch=False, request_log=args.log))
    app.services.tokenizer.encoding("o200k_base")
    body = STREAM_BODY if args.stream else BODY
    runner: Any = run
    if args.lane:
        if args.stream:
            raise SystemExit("--lane answers whole answers only")
        route = app.lanes[b"/v1/chat/completions"]
        for _ in range(2):  # seen twice: learned
            route.answer(list(HEADERS), body, PREFIX)
        runner = run_lane
    asyncio.run(runner(app, 2_000, body))  # warm caches
    gc.collect()
    gc.freeze()  # as the server does after start-up
    wall, cpu = measure(app, args.requests, args.rounds, body, runner)
    kind = "streaming" if args.stream else "non-streaming"
    if args.lane:
        kind = "fast-lane"
    log = "request log on" if args.log else "request log off"
    print(
        f"{wall:.1f} µs per {kind} chat completion in process (no HTTP; {log}; "
        f"CPU {cpu:.1f} µs; best of {args.rounds} x {args.requests})"
    )
    if args.no_profile:
        return
    profile = cProfile.Profile()
    profile.enable()
    asyncio.run(runner(app, args.requests, body))
    profile.disable()
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.lines)


if __name__ == "__main__":
    main()
