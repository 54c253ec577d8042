"""Where a request's time goes inside mockllm, without the HTTP server.

Calls the ASGI app directly with the benchmark's chat completion (the same rule and body as
``bench/bench.py``), prints the microseconds per request, then a cProfile listing of the
functions that cost the most. Run: ``.venv/bin/python bench/profile_app.py [requests]``.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sys
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
BODY = orjson.dumps(
    {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "benchmark prompt"},
        ],
    }
)
HEADERS = [
    (b"host", b"127.0.0.1"),
    (b"content-type", b"application/json"),
    (b"authorization", b"Bearer x"),
    (b"user-agent", b"OpenAI/Python"),
]


async def run(app: Any, count: int) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": BODY, "more_body": False}

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


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    folder = Path(tempfile.mkdtemp(prefix="mockllm-profile-"))
    config = folder / "bench.yml"
    config.write_text(f'responses:\n  "benchmark prompt": "{ANSWER}"\n', encoding="utf-8")
    app = create_app(Settings(config=config, watch=False))
    app.services.tokenizer.encoding("o200k_base")
    asyncio.run(run(app, 2_000))  # warm caches
    started = time.perf_counter()
    asyncio.run(run(app, count))
    per_request = (time.perf_counter() - started) / count * 1e6
    print(f"{per_request:.1f} µs per non-streaming chat completion, in process (no HTTP)")
    profile = cProfile.Profile()
    profile.enable()
    asyncio.run(run(app, count))
    profile.disable()
    pstats.Stats(profile).sort_stats("cumulative").print_stats(20)


if __name__ == "__main__":
    main()
