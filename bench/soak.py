"""Soak test: mixed traffic for a long time, watching the server for growth.

Starts ``mockllm serve`` (a real process, one worker, loopback only) and sends mixed traffic
for ``--minutes``: OpenAI chat (JSON and streams), Anthropic messages, Gemini, Ollama,
Responses API chains with ``store: true`` (each chain ``previous_response_id`` after
``previous_response_id``, up to ``--chain`` turns, then a new one), and scripted sequences under
a new ``x-mockllm-conversation`` id each time. Every ``--every`` seconds it samples the server's
RSS and open file descriptors (``/proc``) and its asyncio tasks and kept state
(``GET /-/stats``). At the end it prints the samples and the RSS slope after warm-up (the
first ``--warmup`` share of the samples is left out), and writes them to
``bench/results/soak.json``.

The goal (the hardening issue): RSS flat after warm-up, under 0.05 MB/s.

    .venv/bin/python bench/soak.py                 # 10 minutes
    .venv/bin/python bench/soak.py --minutes 1     # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
CONFIG = """
rules:
  - name: weather
    match: {prompt: {icontains: weather}}
    reply: "It is sunny in Paris, 22 degrees, with a light breeze from the west."
  - name: steps
    match: {prompt: {icontains: step}}
    sequence: [one, two, three]
    after_sequence: restart
  - name: tool
    match: {prompt: {icontains: tool}, tool_result: false}
    reply:
      tool_calls: [{name: lookup}]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def proc_sample(pid: int) -> tuple[float, int]:
    """RSS in MB and open file descriptors of process ``pid``."""
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of ``(x, y)`` points (0 for fewer than two)."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


class Traffic:
    """The mixed requests, each kind a coroutine; counts answers by status class."""

    def __init__(self, base: str, chain: int) -> None:
        self.base = base
        self.chain = chain
        self.statuses: dict[str, int] = {}
        self.errors = 0

    def count(self, status: int) -> None:
        key = f"{status // 100}xx"
        self.statuses[key] = self.statuses.get(key, 0) + 1

    async def chat(self, http: httpx.AsyncClient, rng: random.Random) -> None:
        body = {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": f"weather in city {rng.randrange(10**6)}"}],
            "stream": rng.random() < 0.5,
        }
        response = await http.post("/v1/chat/completions", json=body)
        self.count(response.status_code)

    async def anthropic(self, http: httpx.AsyncClient, rng: random.Random) -> None:
        body = {
            "model": "claude-sonnet-4-6",
            "max_tokens": 100,
            "stream": rng.random() < 0.5,
            "messages": [{"role": "user", "content": f"hello {rng.randrange(10**6)}"}],
        }
        headers = {"anthropic-version": "2023-06-01", "x-api-key": "x"}
        self.count((await http.post("/v1/messages", json=body, headers=headers)).status_code)

    async def gemini(self, http: httpx.AsyncClient, rng: random.Random) -> None:
        body = {"contents": [{"role": "user", "parts": [{"text": f"hi {rng.random()}"}]}]}
        url = "/v1beta/models/gemini-2.5-flash:generateContent"
        self.count((await http.post(url, json=body, headers={"x-goog-api-key": "x"})).status_code)

    async def ollama(self, http: httpx.AsyncClient, rng: random.Random) -> None:
        body = {
            "model": "llama3.2",
            "stream": False,
            "messages": [{"role": "user", "content": f"tool please {rng.random()}"}],
            "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {}}}],
        }
        self.count((await http.post("/api/chat", json=body)).status_code)

    async def sequence(self, http: httpx.AsyncClient, rng: random.Random) -> None:
        headers = {"x-mockllm-conversation": str(uuid.uuid4())}
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "next step"}]}
        for _ in range(rng.randrange(1, 4)):
            response = await http.post("/v1/chat/completions", json=body, headers=headers)
            self.count(response.status_code)

    async def responses_chain(self, http: httpx.AsyncClient, rng: random.Random) -> None:
        previous = None
        for turn in range(rng.randrange(1, self.chain + 1)):
            body: dict[str, Any] = {"model": "gpt-4o", "input": f"turn {turn}", "store": True}
            if previous:
                body["previous_response_id"] = previous
            response = await http.post("/v1/responses", json=body)
            self.count(response.status_code)
            if response.status_code != 200:
                return
            previous = response.json()["id"]

    async def worker(self, seed: int, until: float) -> None:
        rng = random.Random(seed)
        kinds = [self.chat, self.anthropic, self.gemini, self.ollama, self.sequence]
        kinds.append(self.responses_chain)
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as http:
            while time.monotonic() < until:
                try:
                    await rng.choice(kinds)(http, rng)
                except httpx.HTTPError:
                    self.errors += 1


async def run(args: argparse.Namespace, base: str, pid: int) -> list[dict[str, float]]:
    traffic = Traffic(base, args.chain)
    started = time.monotonic()
    until = started + args.minutes * 60
    workers = [asyncio.create_task(traffic.worker(i, until)) for i in range(args.concurrency)]
    samples: list[dict[str, float]] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        while time.monotonic() < until:
            await asyncio.sleep(args.every)
            rss, fds = proc_sample(pid)
            stats = (await http.get("/-/stats")).json()
            sample = {
                "t": round(time.monotonic() - started, 1),
                "rss_mb": round(rss, 1),
                "fds": fds,
            }
            sample.update(stats)
            sample["requests"] = sum(traffic.statuses.values())
            samples.append(sample)
            print(json.dumps(sample), flush=True)
    await asyncio.gather(*workers)
    print(f"statuses: {traffic.statuses}; transport errors: {traffic.errors}")
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--chain", type=int, default=50, help="longest Responses chain")
    parser.add_argument("--warmup", type=float, default=0.2, help="share of samples left out")
    args = parser.parse_args()
    print("command:", " ".join([sys.executable, *sys.argv]))
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "soak.yml"
        config.write_text(CONFIG)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mockllm",
                "serve",
                "--config",
                str(config),
                "--port",
                str(port),
                "--no-request-log",
                "--log-level",
                "warning",
            ],
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    httpx.get(base + "/-/health", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            samples = asyncio.run(run(args, base, server.pid))
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=15)
    kept = samples[int(len(samples) * args.warmup) :]
    rss_slope = slope([(s["t"], s["rss_mb"]) for s in kept])
    fd_slope = slope([(s["t"], s["fds"]) for s in kept])
    task_slope = slope([(s["t"], s["asyncio_tasks"]) for s in kept])
    summary = {
        "minutes": args.minutes,
        "concurrency": args.concurrency,
        "requests": samples[-1]["requests"] if samples else 0,
        "rss_first_mb": kept[0]["rss_mb"] if kept else None,
        "rss_last_mb": kept[-1]["rss_mb"] if kept else None,
        "rss_slope_mb_per_s": round(rss_slope, 4),
        "fd_slope_per_s": round(fd_slope, 4),
        "task_slope_per_s": round(task_slope, 4),
        "goal": "rss_slope_mb_per_s < 0.05 after warm-up",
    }
    print(json.dumps(summary, indent=2))
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "soak.json").write_text(json.dumps({"summary": summary, "samples": samples}, indent=1))
    return 0 if rss_slope < 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
