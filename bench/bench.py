#!/usr/bin/env python3
"""Throughput, latency and start-up benchmark of mockllm against a raw ASGI baseline.

In one run, over loopback, with the same ASGI server (uvicorn, same worker count, same
flags, uvloop/httptools) and the same load generator (wrk with one Lua POST script):

* non-streaming ``POST /v1/chat/completions``: req/s, p50, p99 of the baseline
  (``bench/baseline_app.py``, fixed bytes) and of mockllm (a ``responses:`` entry matched by
  the prompt, so decoding, matching, token counting and encoding are all measured);
* streaming (``"stream": true``): req/s, chunks/s (req/s x SSE events counted in one real
  streamed response of each server), p50, p99;
* process start to first 200: ``Popen`` to the first successful chat completion, polled
  every ~5 ms, median of several runs, for both servers.

Figures are printed as a table with the floors (mockllm >= 40% of the baseline; start < 1 s)
and written to ``bench/results/latest.json``. Run ``python bench/bench.py --help``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import importlib.metadata
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS_FILE = HERE / "results" / "latest.json"

HOST = "127.0.0.1"
PATH = "/v1/chat/completions"
PROMPT = "benchmark prompt"
# About 50 tokens with o200k_base: words, punctuation, numbers, a little non-ASCII.
ANSWER = (
    "A mock server answers in microseconds, so your tests stay fast and deterministic. "
    "This reply has about fifty tokens: plain words, punctuation, numbers such as 42 and "
    "3.14159, a café, and a few longer words like tokenization and reproducibility."
)
REQUEST: dict[str, Any] = {
    "model": "gpt-4o",
    "messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": PROMPT},
    ],
}

KINDS = ("non-streaming", "streaming")
FLOOR_NON_STREAMING = 0.40  # mockllm req/s over baseline req/s
FLOOR_STREAMING = 0.40  # mockllm chunks/s over baseline chunks/s
FLOOR_START_S = 1.0  # process start to first 200, median

OTHER_CPU_LIMIT = 0.15  # cores used by other processes before a run counts as disturbed
# Start-up runs are short, so a few ms of unattributed kernel work shows as a larger share.
START_OTHER_CPU_LIMIT = 0.5
READY_TIMEOUT_S = 60.0
POLL_SLEEP_S = 0.005
# Response headers that the server, not the app, writes (or that differ per response).
SERVER_HEADERS = {"date", "server", "content-length", "transfer-encoding"}


class BenchError(Exception):
    """A failure that ends the run with a message (no traceback)."""


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    """A TCP port that was free a moment ago on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for servers: ours, minus ``MOCKLLM_*`` (the flags say it all)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKLLM_")}
    env.update(extra or {})
    return env


def spawn(argv: Sequence[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a server in its own process group (so that its workers can be stopped too)."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            list(argv),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
            cwd=REPO,
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the process group of ``proc`` (SIGTERM, then SIGKILL after 10 s)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    # Workers of a multi-process server may outlive the supervisor by a moment.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def log_tail(log: Path, lines: int = 30) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def tree_cpu_seconds(root: int) -> float | None:
    """User + system CPU seconds of ``root`` and all its descendants (Linux /proc)."""
    if not os.path.isdir("/proc"):
        return None
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # fields[0] is field 3 (state)
        pid = int(entry)
        parent[pid] = int(fields[1])
        ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
    if root not in ticks:
        return None
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo.extend(child for child, ppid in parent.items() if ppid == pid)
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float | None:
    """Busy CPU seconds of the whole machine since boot (all CPUs; Linux /proc/stat)."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(x) for x in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- HTTP


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def post(port: int, body: bytes, timeout: float = 10.0) -> Response:
    """One ``POST /v1/chat/completions`` on a fresh connection."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("POST", PATH, body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        return Response(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


def wait_ready(
    proc: subprocess.Popen[bytes], argv: Sequence[str], port: int, body: bytes, log: Path
) -> None:
    """Poll with a real chat completion until it answers 200."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(
                f"server exited with code {proc.returncode} before it was ready:\n"
                f"  {shlex.join(argv)}\n{log_tail(log)}"
            )
        try:
            resp = post(port, body)
            if resp.status == 200:
                return
            last = f"HTTP {resp.status}: {resp.body[:300]!r}"
        except (OSError, http.client.HTTPException) as exc:
            last = repr(exc)
        time.sleep(0.05)
    raise BenchError(f"server not ready after {READY_TIMEOUT_S:.0f} s ({last})\n{log_tail(log)}")


@contextlib.contextmanager
def running(
    argv_for_port: Callable[[int], list[str]], env: dict[str, str], log: Path, body: bytes
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A ready server on a free port; always stopped on the way out."""
    port = free_port()
    argv = argv_for_port(port)
    proc = spawn(argv, env, log)
    try:
        wait_ready(proc, argv, port, body, log)
        yield proc, port
    finally:
        stop(proc)


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def time_to_first_200(
    argv: Sequence[str], env: dict[str, str], port: int, body: bytes, log: Path
) -> tuple[float, float | None]:
    """Seconds from ``Popen`` to the first 200 answer to ``body``, polled every ~5 ms, and
    the CPU cores that other processes (not the server, not this script) used meanwhile."""
    busy, own = machine_busy_seconds(), own_cpu_seconds()
    started = time.perf_counter()
    proc = spawn(argv, env, log)
    try:
        while True:
            try:
                if post(port, body).status == 200:
                    elapsed = time.perf_counter() - started
                    server = tree_cpu_seconds(proc.pid)
                    busy_after = machine_busy_seconds()
                    if busy is None or busy_after is None or server is None:
                        return elapsed, None
                    other = busy_after - busy - server - (own_cpu_seconds() - own)
                    return elapsed, max(0.0, other / elapsed)
            except (OSError, http.client.HTTPException):
                pass
            if proc.poll() is not None:
                raise BenchError(
                    f"server exited with code {proc.returncode} during the start-up test:\n"
                    f"  {shlex.join(argv)}\n{log_tail(log)}"
                )
            if time.perf_counter() - started > READY_TIMEOUT_S:
                raise BenchError(f"no 200 within {READY_TIMEOUT_S:.0f} s\n{log_tail(log)}")
            time.sleep(POLL_SLEEP_S)
    finally:
        stop(proc)


# --------------------------------------------------------------------------- wrk


@dataclass
class Load:
    """wrk's figures for one measurement, plus the CPU used meanwhile."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    seconds: float
    socket_errors: dict[str, int]
    server_cpu_cores: float | None = None  # CPU seconds / wall seconds of the server tree
    server_cpu_us_per_request: float | None = None
    wrk_cpu_cores: float | None = None
    other_cpu_cores: float | None = None  # busy CPU of the machine minus server and wrk
    chunks_per_response: int | None = None
    chunks_per_s: float | None = None


_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _duration_ms(value: str, unit: str) -> float:
    return float(value) * _UNIT_MS[unit]


def parse_wrk(output: str) -> Load:
    """The figures in the output of ``wrk --latency``; raises :class:`BenchError` on errors."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    latency = dict(re.findall(r"^\s+(\d+)%\s+([\d.]+(?:us|ms|s|m|h))\s*$", output, re.M))
    done = re.search(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output, re.M)
    if not rps or "50" not in latency or "99" not in latency or not done:
        raise BenchError(f"cannot parse wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non_2xx:
        raise BenchError(
            f"{non_2xx.group(1)} responses were not 2xx; figures are meaningless:\n{output}"
        )
    errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    found = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if found:
        errors = dict(zip(errors, map(int, found.groups()), strict=True))

    def ms(text: str) -> float:
        number = re.match(r"([\d.]+)(\D+)", text)
        assert number is not None
        return _duration_ms(number.group(1), number.group(2))

    return Load(
        requests_per_s=float(rps.group(1)),
        p50_ms=ms(latency["50"]),
        p99_ms=ms(latency["99"]),
        requests=int(done.group(1)),
        seconds=_duration_ms(done.group(2), done.group(3)) / 1e3,
        socket_errors=errors,
    )


def lua_script(body: bytes) -> str:
    text = body.decode()
    if "]==]" in text:
        raise BenchError("request body cannot be quoted for Lua")
    return (
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [==[{text}]==]\n"
    )


@dataclass
class WrkOptions:
    exe: str
    threads: int
    connections: int
    duration: int
    warmup: int
    timeout: int = 10


def run_wrk(opts: WrkOptions, port: int, script: Path, seconds: int) -> tuple[str, float]:
    """Run wrk; its output and the CPU seconds it used."""
    argv = [
        opts.exe,
        f"-t{opts.threads}",
        f"-c{opts.connections}",
        f"-d{seconds}s",
        f"--timeout={opts.timeout}s",
        "--latency",
        "-s",
        str(script),
        f"http://{HOST}:{port}{PATH}",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise BenchError(
            f"wrk failed ({done.returncode}): {shlex.join(argv)}\n{done.stdout}{done.stderr}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done.stdout, cpu


def measure(opts: WrkOptions, proc: subprocess.Popen[bytes], port: int, script: Path) -> Load:
    """Warm up, then one measured wrk run, with the server's CPU use over the run."""
    if opts.warmup > 0:
        run_wrk(opts, port, script, opts.warmup)
    busy_before = machine_busy_seconds()
    cpu_before = tree_cpu_seconds(proc.pid)
    wall = time.perf_counter()
    output, wrk_cpu = run_wrk(opts, port, script, opts.duration)
    wall = time.perf_counter() - wall
    cpu_after = tree_cpu_seconds(proc.pid)
    busy_after = machine_busy_seconds()
    load = parse_wrk(output)
    load.wrk_cpu_cores = wrk_cpu / wall
    if cpu_before is not None and cpu_after is not None:
        used = cpu_after - cpu_before
        load.server_cpu_cores = used / wall
        load.server_cpu_us_per_request = used / load.requests * 1e6 if load.requests else None
        if busy_before is not None and busy_after is not None:
            other = (busy_after - busy_before) - used - wrk_cpu
            load.other_cpu_cores = max(0.0, other / wall)
    return load


# --------------------------------------------------------------------------- workload


def sse_events(body: bytes) -> list[bytes]:
    """The SSE events of a stream, each with its trailing blank line."""
    return [event + b"\n\n" for event in body.split(b"\n\n") if event.strip()]


def count_data_events(body: bytes) -> int:
    return sum(
        1
        for event in sse_events(body)
        if any(line.startswith(b"data:") for line in event.split(b"\n"))
    )


def app_headers(headers: list[tuple[str, str]]) -> list[list[str]]:
    return [[k.lower(), v] for k, v in headers if k.lower() not in SERVER_HEADERS]


@dataclass
class Workload:
    """What one mockllm answer looks like on the wire (the baseline replays these bytes)."""

    answer_tokens: int
    json_bytes: int
    stream_bytes: int
    stream_events: dict[str, int] = field(default_factory=dict)


def probe_mockllm(port: int, plain: bytes, streamed: bytes) -> tuple[Workload, dict[str, Any]]:
    """Check mockllm answers the benchmark prompt with the configured answer; the workload
    and the fixture from which the baseline replays the same bytes."""
    resp = post(port, plain)
    if resp.status != 200:
        raise BenchError(f"mockllm answered {resp.status}: {resp.body[:500]!r}")
    data = json.loads(resp.body)
    content = data["choices"][0]["message"]["content"]
    if content != ANSWER:
        raise BenchError(f"the benchmark prompt did not match the config rule; got {content!r}")
    tokens = int(data["usage"]["completion_tokens"])
    stream = post(port, streamed)
    if stream.status != 200:
        raise BenchError(f"mockllm stream answered {stream.status}: {stream.body[:500]!r}")
    events = sse_events(stream.body)
    if not events or events[-1] != b"data: [DONE]\n\n":
        raise BenchError(f"mockllm stream does not end with [DONE]: {stream.body[-300:]!r}")
    workload = Workload(
        tokens, len(resp.body), len(stream.body), {"mockllm": count_data_events(stream.body)}
    )
    fixture = {
        "json_headers": app_headers(resp.headers),
        "json_body": resp.body.decode(),
        "stream_headers": app_headers(stream.headers),
        "stream_chunks": [e.decode() for e in events],
    }
    return workload, fixture


def probe_baseline(port: int, plain: bytes, streamed: bytes, workload: Workload) -> None:
    resp = post(port, plain)
    stream = post(port, streamed)
    if resp.status != 200 or stream.status != 200:
        raise BenchError(f"baseline answered {resp.status} / {stream.status}")
    workload.stream_events["baseline"] = count_data_events(stream.body)
    if workload.stream_events["baseline"] != workload.stream_events["mockllm"]:
        raise BenchError(f"SSE event counts differ: {workload.stream_events}")


# --------------------------------------------------------------------------- report


@dataclass
class Floor:
    name: str
    value: float
    threshold: float
    passed: bool
    unit: str


def pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def render(
    command: str,
    header: list[str],
    workload: Workload,
    non_streaming: dict[str, Load],
    streaming: dict[str, Load],
    starts: dict[str, list[float]],
    floors: list[Floor],
    warnings: list[str],
) -> str:
    out = [f"rerun: {command}", *header, ""]
    events = workload.stream_events["mockllm"]
    out.append(
        f"Non-streaming: {workload.answer_tokens}-token answer, "
        f"{workload.json_bytes}-byte JSON body"
    )
    out.append(
        f"  {'':18}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'srv CPU':>9}{'CPU us/req':>12}{'other CPU':>11}"
    )
    for name, load in non_streaming.items():
        out.append(
            f"  {name:18}{load.requests_per_s:>10.0f}{load.p50_ms:>9.2f}"
            f"{load.p99_ms:>9.2f}{fmt(load.server_cpu_cores, '>8.0%'):>9}"
            f"{fmt(load.server_cpu_us_per_request, '.0f'):>12}"
            f"{fmt(load.other_cpu_cores, '>8.0%'):>11}"
        )
    ratio = non_streaming["mockllm"].requests_per_s / non_streaming["baseline"].requests_per_s
    out.append(f"  {'mockllm/baseline':18}{pct(ratio):>10}")
    out.append("")
    out.append(
        f"Streaming: {events} SSE events per response (counted in one real response "
        f"of each server), {workload.stream_bytes} bytes"
    )
    out.append(
        f"  {'':18}{'req/s':>10}{'chunks/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'srv CPU':>9}{'CPU us/req':>12}{'other CPU':>11}"
    )
    for name, load in streaming.items():
        out.append(
            f"  {name:18}{load.requests_per_s:>10.0f}{load.chunks_per_s or 0:>11.0f}"
            f"{load.p50_ms:>9.2f}{load.p99_ms:>9.2f}"
            f"{fmt(load.server_cpu_cores, '>8.0%'):>9}"
            f"{fmt(load.server_cpu_us_per_request, '.0f'):>12}"
            f"{fmt(load.other_cpu_cores, '>8.0%'):>11}"
        )
    ratio = (streaming["mockllm"].chunks_per_s or 0) / (streaming["baseline"].chunks_per_s or 1)
    out.append(f"  {'mockllm/baseline':18}{'':>10}{pct(ratio):>11}")
    out.append("")
    runs = len(next(iter(starts.values())))
    out.append(f"Process start to first 200 (Popen to first 200 chat completion, median of {runs})")
    for name, times in starts.items():
        each = ", ".join(f"{t:.3f}" for t in times)
        out.append(f"  {name:18}{statistics.median(times):>8.3f} s   runs: {each}")
    out.append("")
    out.append("Floors")
    for floor in floors:
        value = pct(floor.value) if floor.unit == "ratio" else f"{floor.value:.3f} s"
        limit = (
            f">= {pct(floor.threshold)}" if floor.unit == "ratio" else f"< {floor.threshold:.1f} s"
        )
        verdict = "PASS" if floor.passed else "FAIL"
        out.append(f"  {verdict}  {floor.name:44} {value:>8}  (floor {limit})")
    if warnings:
        out.append("")
        out.extend(f"warning: {w}" for w in warnings)
    return "\n".join(out)


def version_of(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def wrk_version(exe: str) -> str:
    done = subprocess.run([exe, "-v"], capture_output=True, text=True, check=False)
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0].split("Copyright")[0].strip() if text else "unknown"


def git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}


# --------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Benchmark mockllm against a raw ASGI baseline (see bench/README.md)."
    )
    parser.add_argument(
        "--duration", type=int, default=8, help="seconds of each measured wrk run (default 8)"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=2,
        help="seconds of unmeasured wrk load before each run (default 2)",
    )
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument(
        "--workers", type=int, default=1, help="mockllm worker processes (default 1)"
    )
    parser.add_argument(
        "--baseline-workers",
        type=int,
        default=None,
        help="baseline worker processes (default: same as --workers)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure each server this many times, alternating, and keep "
        "its best round (default 1; use 3 on a busy machine)",
    )
    parser.add_argument(
        "--start-repeats",
        type=int,
        default=3,
        help="runs of the start-to-first-200 test per server (default 3)",
    )
    parser.add_argument("--wrk", default=None, help="path of wrk (default: found on PATH)")
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS_FILE,
        help="JSON results file (default bench/results/latest.json)",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit with status 2 when a floor fails"
    )
    return parser


def rerun_command(args: argparse.Namespace) -> str:
    try:
        python = str(Path(sys.executable).relative_to(REPO))
    except ValueError:
        python = sys.executable
    argv = [
        python,
        "bench/bench.py",
        "--duration",
        str(args.duration),
        "--warmup",
        str(args.warmup),
        "--threads",
        str(args.threads),
        "--connections",
        str(args.connections),
        "--workers",
        str(args.workers),
        "--baseline-workers",
        str(args.baseline_workers),
        "--rounds",
        str(args.rounds),
        "--start-repeats",
        str(args.start_repeats),
    ]
    if args.wrk:
        argv += ["--wrk", args.wrk]
    if args.output != RESULTS_FILE:
        argv += ["--output", str(args.output)]
    if args.check:
        argv.append("--check")
    return f"cd {shlex.quote(str(REPO))} && {shlex.join(argv)}"


def mockllm_command() -> list[str]:
    script = Path(sys.executable).parent / "mockllm"
    if script.exists():
        return [str(script)]
    found = shutil.which("mockllm")
    return [found] if found else [sys.executable, "-m", "mockllm"]


def run(args: argparse.Namespace) -> int:
    wrk = args.wrk or shutil.which("wrk")
    if not wrk or not os.access(wrk, os.X_OK):
        raise BenchError(
            "wrk not found: install it with `apt-get install wrk` "
            "(Debian/Ubuntu) or pass --wrk PATH"
        )
    if args.baseline_workers is None:
        args.baseline_workers = args.workers
    for flag, value, least in (
        ("--duration", args.duration, 1),
        ("--warmup", args.warmup, 0),
        ("--threads", args.threads, 1),
        ("--connections", args.connections, args.threads),
        ("--workers", args.workers, 1),
        ("--baseline-workers", args.baseline_workers, 1),
        ("--rounds", args.rounds, 1),
        ("--start-repeats", args.start_repeats, 1),
    ):
        if value < least:
            raise BenchError(f"{flag} must be at least {least}")
    opts = WrkOptions(wrk, args.threads, args.connections, args.duration, args.warmup)
    command = rerun_command(args)
    print(f"rerun: {command}", flush=True)
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.platform()}, Python "
        f"{platform.python_version()}",
        flush=True,
    )

    plain = json.dumps(REQUEST, separators=(",", ":")).encode()
    streamed = json.dumps({**REQUEST, "stream": True}, separators=(",", ":")).encode()
    warnings: list[str] = []

    with tempfile.TemporaryDirectory(prefix="mockllm-bench-") as tmp_name:
        tmp = Path(tmp_name)
        config = tmp / "bench.yml"
        config.write_text(f"responses:\n  {json.dumps(PROMPT)}: {json.dumps(ANSWER)}\n")
        plain_lua, stream_lua = tmp / "plain.lua", tmp / "stream.lua"
        plain_lua.write_text(lua_script(plain))
        stream_lua.write_text(lua_script(streamed))
        fixture_file = tmp / "baseline-fixture.json"

        def mockllm_argv(port: int, workers: int = args.workers) -> list[str]:
            return [
                *mockllm_command(),
                "serve",
                "--config",
                str(config),
                "--host",
                HOST,
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--no-watch",
                "--log-level",
                "warning",
            ]

        def baseline_argv(port: int, workers: int = args.baseline_workers) -> list[str]:
            return [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(HERE),
                "baseline_app:app",
                "--host",
                HOST,
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--no-access-log",
                "--log-level",
                "warning",
            ]

        mock_env = clean_env()
        base_env = clean_env({"BENCH_BASELINE_FIXTURE": str(fixture_file)})
        runs: dict[str, dict[str, list[Load]]] = {
            kind: {"baseline": [], "mockllm": []} for kind in KINDS
        }
        with contextlib.ExitStack() as servers:
            print(f"mockllm: {shlex.join(mockllm_argv(0))}".replace(" 0 ", " PORT "), flush=True)
            mock_server = servers.enter_context(
                running(mockllm_argv, mock_env, tmp / "mockllm.log", plain)
            )
            workload, fixture = probe_mockllm(mock_server[1], plain, streamed)
            fixture_file.write_text(json.dumps(fixture))
            print(f"baseline: {shlex.join(baseline_argv(0))}".replace(" 0 ", " PORT "), flush=True)
            base_server = servers.enter_context(
                running(baseline_argv, base_env, tmp / "baseline.log", plain)
            )
            probe_baseline(base_server[1], plain, streamed, workload)
            # Both servers stay up (an idle one costs nothing); measurements alternate
            # between them so that drift and background load hit both alike.
            scripts = {"non-streaming": plain_lua, "streaming": stream_lua}
            for round_ in range(1, args.rounds + 1):
                for kind in KINDS:
                    for name, (proc, port) in (("baseline", base_server), ("mockllm", mock_server)):
                        print(f"  round {round_}/{args.rounds}: {kind} {name} ...", flush=True)
                        load = measure(opts, proc, port, scripts[kind])
                        if kind == "streaming":
                            load.chunks_per_response = workload.stream_events[name]
                            load.chunks_per_s = load.requests_per_s * load.chunks_per_response
                        runs[kind][name].append(load)
        if not 40 <= workload.answer_tokens <= 60:
            warnings.append(f"answer is {workload.answer_tokens} tokens (meant 40-60)")
        # The best round of each server: background load only ever slows a run down.
        best = {
            kind: {
                name: max(loads, key=lambda x: x.requests_per_s)
                for name, loads in by_server.items()
            }
            for kind, by_server in runs.items()
        }
        non_streaming, streaming = best["non-streaming"], best["streaming"]

        print(f"start to first 200: {args.start_repeats} runs each ...", flush=True)
        starts: dict[str, list[float]] = {"baseline": [], "mockllm": []}
        start_other: dict[str, list[float | None]] = {"baseline": [], "mockllm": []}
        for _ in range(args.start_repeats):  # alternate, so that drift hits both alike
            for name, argv_for, env in (
                ("baseline", baseline_argv, base_env),
                ("mockllm", mockllm_argv, mock_env),
            ):
                port = free_port()
                seconds, other = time_to_first_200(
                    argv_for(port), env, port, plain, tmp / f"{name}-start.log"
                )
                starts[name].append(seconds)
                start_other[name].append(other)
        for name, others in start_other.items():
            busiest = max((o for o in others if o is not None), default=0.0)
            if busiest > START_OTHER_CPU_LIMIT:
                warnings.append(
                    f"{name} start-up: other processes used up to {busiest:.2f} CPU cores "
                    "during the runs; times are inflated (rerun on a quiet machine)"
                )

    for kind, loads in (("non-streaming", non_streaming), ("streaming", streaming)):
        for name, load in loads.items():
            if any(load.socket_errors.values()):
                warnings.append(f"{name} {kind}: socket errors {load.socket_errors}")
            if (load.other_cpu_cores or 0) > OTHER_CPU_LIMIT:
                warnings.append(
                    f"{name} {kind}: other processes used {load.other_cpu_cores:.2f} CPU "
                    "cores during the run; figures are disturbed (rerun on a quiet machine, "
                    "or with --rounds 3)"
                )
        base = loads["baseline"]
        if (base.wrk_cpu_cores or 0) >= 0.9 * args.threads and (
            base.server_cpu_cores or 0
        ) < 0.9 * args.baseline_workers:
            warnings.append(
                f"wrk looked saturated during the baseline {kind} run; the "
                "baseline may be under-measured (try --threads 2)"
            )

    ratio_plain = non_streaming["mockllm"].requests_per_s / non_streaming["baseline"].requests_per_s
    ratio_stream = (streaming["mockllm"].chunks_per_s or 0) / (
        streaming["baseline"].chunks_per_s or 1
    )
    start_median = statistics.median(starts["mockllm"])
    floors = [
        Floor(
            "non-streaming req/s, mockllm/baseline",
            ratio_plain,
            FLOOR_NON_STREAMING,
            ratio_plain >= FLOOR_NON_STREAMING,
            "ratio",
        ),
        Floor(
            "streaming chunks/s, mockllm/baseline",
            ratio_stream,
            FLOOR_STREAMING,
            ratio_stream >= FLOOR_STREAMING,
            "ratio",
        ),
        Floor(
            "mockllm start to first 200 (median)",
            start_median,
            FLOOR_START_S,
            start_median < FLOOR_START_S,
            "seconds",
        ),
    ]
    versions = {
        p: version_of(p)
        for p in (
            "uvicorn",
            "uvloop",
            "httptools",
            "starlette",
            "orjson",
            "pydantic",
            "tiktoken",
            "mockllm",
        )
    }
    versions["wrk"] = wrk_version(wrk)
    loop = "uvloop" if versions["uvloop"] else "asyncio"
    parser = "httptools" if versions["httptools"] else "h11"
    header = [
        f"setup: {os.cpu_count()} CPUs, loopback; server: uvicorn {versions['uvicorn']} "
        f"({loop}, {parser}), workers: mockllm {args.workers}, baseline "
        f"{args.baseline_workers}; load: {versions['wrk']} -t{args.threads} "
        f"-c{args.connections} -d{args.duration}s (+{args.warmup}s warm-up)"
        + (f", best of {args.rounds} alternating rounds" if args.rounds > 1 else ""),
    ]
    print()
    print(render(command, header, workload, non_streaming, streaming, starts, floors, warnings))

    result = {
        "command": command,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git": git_state(),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "versions": versions,
        "params": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "wrk_threads": args.threads,
            "wrk_connections": args.connections,
            "mockllm_workers": args.workers,
            "baseline_workers": args.baseline_workers,
            "rounds": args.rounds,
            "start_repeats": args.start_repeats,
            "request": REQUEST,
            "answer": ANSWER,
        },
        "workload": asdict(workload),
        "non_streaming": {
            **{k: asdict(v) for k, v in non_streaming.items()},
            "ratio_req_per_s": ratio_plain,
            "rounds": {k: [asdict(x) for x in v] for k, v in runs["non-streaming"].items()},
        },
        "streaming": {
            **{k: asdict(v) for k, v in streaming.items()},
            "ratio_chunks_per_s": ratio_stream,
            "rounds": {k: [asdict(x) for x in v] for k, v in runs["streaming"].items()},
        },
        "start_to_first_200": {
            k: {
                "median_s": statistics.median(v),
                "runs_s": v,
                "other_cpu_cores": start_other[k],
            }
            for k, v in starts.items()
        },
        "floors": [asdict(f) for f in floors],
        "warnings": warnings,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nresults: {args.output}")
    return 2 if args.check and not all(f.passed for f in floors) else 0


def _terminate(signum: int, frame: FrameType | None) -> None:
    print(f"bench: stopped by signal {signum}; stopping servers", file=sys.stderr)
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop servers


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return run(args)
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
