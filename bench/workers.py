#!/usr/bin/env python3
"""Throughput and latency of ``mockllm serve`` with 1 or 2 workers, with memory or Redis state.

In one run, over loopback, with wrk (one Lua POST script, as ``bench/bench.py``), each
variant is a fresh ``env MOCKLLM_REQUEST_LOG=false mockllm serve -c CONFIG --port PORT
--workers N [--state redis://127.0.0.1:PORT/0]``. By default:

* ``memory:1``: one worker, state in memory (the reference: ratios are against it);
* ``memory:2``: two workers, each with its own memory state;
* ``redis:2``: two workers sharing their state through a private ``redis-server``
  (``--save "" --appendonly no``, started by this script on a free port).

``--redis-workers 1`` adds ``redis:1``. With it, the Redis cost per request is stated:
``1/rps(redis:1) - 1/rps(memory:1)`` in µs, and the CPU it adds (server and redis-server).

For each variant: non-streaming ``POST /v1/chat/completions`` (req/s, p50, p99) and
streaming (``"stream": true``: req/s and p50/p99 of whole streams), the CPU seconds the
server's process tree used per request (``/proc``), and, with Redis, the commands Redis
ran per request (``INFO stats`` / ``INFO commandstats`` before and after each run, divided by
the requests wrk reports; commands run inside Lua scripts count too).

Unlike ``bench/bench.py``, non-2xx answers do not stop the run (a shared state that fails
answers 503s): req/s counts 2xx answers only, the non-2xx are counted and the server log's
most frequent warnings are printed. With ``--rounds R`` the variants alternate R times and
each keeps its best round.

The workload is ``bench/bench.py``'s: a ``responses:`` entry answered with ~55 tokens.
Results are printed as a table and written to ``bench/results/workers-latest.json``.
Run ``python bench/workers.py --help``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from bench import (  # bench/bench.py: the same workload, wrk script and helpers
    ANSWER,
    HOST,
    PROMPT,
    REQUEST,
    BenchError,
    Load,
    WrkOptions,
    clean_env,
    fmt,
    free_port,
    git_state,
    log_tail,
    lua_script,
    machine_busy_seconds,
    mockllm_command,
    parse_wrk,
    probe_mockllm,
    run_wrk,
    spawn,
    stop,
    version_of,
    wrk_version,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS_FILE = HERE / "results" / "workers-latest.json"

KINDS = ("non-streaming", "streaming")
DEFAULT_VARIANTS = ("memory:1", "memory:2", "redis:2")
REFERENCE = "memory:1"
READY_TIMEOUT_S = 60.0
SETTLE_TIMEOUT_S = 20.0
OTHER_CPU_LIMIT = 0.15  # cores used by other processes before a run counts as disturbed


# --------------------------------------------------------------------------- variants


@dataclass(frozen=True)
class Variant:
    state: str  # "memory" or "redis"
    workers: int

    @property
    def name(self) -> str:
        return f"{self.state}:{self.workers}"

    @classmethod
    def parse(cls, text: str) -> Variant:
        state, _, workers = text.strip().partition(":")
        if state not in ("memory", "redis") or not workers.isdigit() or int(workers) < 1:
            raise BenchError(f"bad variant {text!r}: use memory:N or redis:N (N >= 1)")
        return cls(state, int(workers))


def select_variants(args: argparse.Namespace) -> list[Variant]:
    names = [n for n in args.variants.split(",") if n.strip()] if args.variants else []
    chosen = [Variant.parse(n) for n in (names or DEFAULT_VARIANTS)]
    for workers in args.redis_workers or []:
        extra = Variant("redis", workers)
        if extra not in chosen:
            chosen.append(extra)
    unique: list[Variant] = []
    for variant in chosen:
        if variant not in unique:
            unique.append(variant)
    # memory before redis, fewer workers first: the reference leads each round.
    return sorted(unique, key=lambda v: (v.state != "memory", v.workers))


# --------------------------------------------------------------------------- /proc


def process_cpu() -> dict[int, tuple[int, float]]:
    """Every process: pid -> (parent pid, user + system CPU seconds)."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # fields[0] is field 3 (state)
        found[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return found


def tree(root: int, table: dict[int, tuple[int, float]]) -> dict[int, float]:
    """CPU seconds of ``root`` and each of its descendants."""
    out: dict[int, float] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            out[pid] = table[pid][1]
        todo.extend(child for child, (ppid, _) in table.items() if ppid == pid)
    return out


def machine_seconds() -> tuple[float, float] | None:
    """Busy CPU seconds of the whole machine since boot (all CPUs), and the part of them
    spent in interrupts and softirqs (loopback TCP is mostly softirq work)."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(x) for x in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle + iowait
    busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / tick, (fields[5] + fields[6]) / tick


def tree_cpu(root: int) -> float:
    return sum(tree(root, process_cpu()).values())


# --------------------------------------------------------------------------- Redis


def redis_call(port: int, *args: str, timeout: float = 5.0) -> Any:
    """One command to Redis over RESP2 (no client library needed)."""
    payload = f"*{len(args)}\r\n".encode()
    for arg in args:
        raw = arg.encode()
        payload += b"$%d\r\n%s\r\n" % (len(raw), raw)
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(payload)
        reader = sock.makefile("rb")
        line = reader.readline()
        if not line:
            raise OSError("Redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"-":
            raise BenchError(f"Redis: {rest.decode()}")
        if kind == b"+":
            return rest.decode()
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else reader.read(size + 2)[:-2].decode()
        raise BenchError(f"unexpected Redis reply {line!r}")


@dataclass
class RedisStats:
    total_commands: int
    commandstats: dict[str, int]  # command -> calls
    connected_clients: int


def redis_stats(port: int) -> RedisStats:
    text = str(redis_call(port, "INFO", "stats", "clients", "commandstats"))
    total = clients = 0
    calls: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("total_commands_processed:"):
            total = int(line.split(":", 1)[1])
        elif line.startswith("connected_clients:"):
            clients = int(line.split(":", 1)[1])
        elif line.startswith("cmdstat_"):
            name, _, rest = line[len("cmdstat_") :].partition(":")
            for item in rest.split(","):
                key, _, value = item.partition("=")
                if key == "calls":
                    calls[name] = int(value)
    return RedisStats(total, calls, clients)


@contextlib.contextmanager
def private_redis(exe: str, tmp: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A private ``redis-server`` (no persistence) on a free loopback port."""
    port = free_port()
    argv = [
        exe,
        "--port",
        str(port),
        "--bind",
        HOST,
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(tmp),
    ]
    log = tmp / "redis.log"
    proc = spawn(argv, clean_env(), log)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise BenchError(f"redis-server exited ({proc.returncode}):\n{log_tail(log)}")
            with contextlib.suppress(OSError):
                if redis_call(port, "PING", timeout=1.0) == "PONG":
                    break
            if time.monotonic() > deadline:
                raise BenchError(f"redis-server not ready:\n{log_tail(log)}")
            time.sleep(0.05)
        yield proc, port
    finally:
        stop(proc)


# --------------------------------------------------------------------------- the server


def get(port: int, path: str, timeout: float = 5.0) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def wait_started(proc: subprocess.Popen[bytes], argv: Sequence[str], port: int, log: Path) -> None:
    """Wait for ``/-/health``, then for the process tree to be idle: with several workers,
    the first to answer is not the last to have started."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise BenchError(
                f"server exited with code {proc.returncode} before it was ready:\n"
                f"  {shlex.join(argv)}\n{log_tail(log)}"
            )
        with contextlib.suppress(OSError, http.client.HTTPException):
            if get(port, "/-/health") == 200:
                break
        if time.monotonic() > deadline:
            raise BenchError(f"no /-/health after {READY_TIMEOUT_S:.0f} s\n{log_tail(log)}")
        time.sleep(0.05)
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    last = tree_cpu(proc.pid)
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = tree_cpu(proc.pid)
        if now - last < 0.02:  # < 8% of a core over 250 ms: every worker is up
            return
        last = now


@contextlib.contextmanager
def serving(
    argv_for_port: Callable[[int], list[str]], env: dict[str, str], log: Path
) -> Iterator[tuple[subprocess.Popen[bytes], int, list[str]]]:
    port = free_port()
    argv = argv_for_port(port)
    proc = spawn(argv, env, log)
    try:
        wait_started(proc, argv, port, log)
        yield proc, port, argv
    finally:
        stop(proc)


# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    """wrk's figures for one measured run of one variant, with the CPU used meanwhile."""

    load: Load
    non_2xx: int = 0  # answers that were not 2xx (counted in wrk's req/s)
    workers_cpu_cores: list[float] = field(default_factory=list)  # each process of the tree
    redis_cpu_cores: float | None = None
    redis_cpu_us_per_request: float | None = None
    redis_commands_per_request: float | None = None
    redis_calls_per_request: dict[str, float] = field(default_factory=dict)
    redis_clients: int | None = None  # connections open to Redis after the run
    irq_cpu_cores: float | None = None  # the machine's interrupt + softirq time

    @property
    def ok_per_s(self) -> float:
        """2xx answers per second: wrk's req/s without the non-2xx answers."""
        load = self.load
        if not load.requests:
            return 0.0
        return load.requests_per_s * (load.requests - self.non_2xx) / load.requests


def measure(
    opts: WrkOptions,
    server: subprocess.Popen[bytes],
    port: int,
    script: Path,
    redis: tuple[subprocess.Popen[bytes], int] | None,
) -> Run:
    """Warm up, then one measured wrk run, with the CPU of the server, redis-server and the
    rest of the machine, and Redis's command counts."""
    if opts.warmup > 0:
        run_wrk(opts, port, script, opts.warmup)
    stats_before = redis_stats(redis[1]) if redis else None
    machine_before = machine_seconds()
    table = process_cpu()
    srv_before = tree(server.pid, table)
    redis_before = table[redis[0].pid][1] if redis and redis[0].pid in table else None
    wall = time.perf_counter()
    output, wrk_cpu = run_wrk(opts, port, script, opts.duration)
    wall = time.perf_counter() - wall
    table = process_cpu()
    srv_after = tree(server.pid, table)
    redis_after = table[redis[0].pid][1] if redis and redis[0].pid in table else None
    machine_after = machine_seconds()
    stats_after = redis_stats(redis[1]) if redis else None

    # Non-2xx answers (a shared state that fails gives 503s) are counted and reported,
    # not fatal as in bench.py: they are part of what a variant does under this load.
    found = re.search(r"^\s*Non-2xx or 3xx responses:\s+(\d+)\s*$", output, re.M)
    load = parse_wrk(output.replace(found.group(0), "") if found else output)
    run = Run(load, non_2xx=int(found.group(1)) if found else 0)
    load.wrk_cpu_cores = wrk_cpu / wall
    used = sum(srv_after.values()) - sum(srv_before.get(p, 0.0) for p in srv_after)
    load.server_cpu_cores = used / wall
    load.server_cpu_us_per_request = used / load.requests * 1e6 if load.requests else None
    run.workers_cpu_cores = sorted(
        ((cpu - srv_before.get(pid, 0.0)) / wall for pid, cpu in srv_after.items()),
        reverse=True,
    )
    redis_used = 0.0
    if redis_before is not None and redis_after is not None:
        redis_used = redis_after - redis_before
        run.redis_cpu_cores = redis_used / wall
        if load.requests:
            run.redis_cpu_us_per_request = redis_used / load.requests * 1e6
    if machine_before is not None and machine_after is not None:
        irq = machine_after[1] - machine_before[1]
        run.irq_cpu_cores = irq / wall
        other = (machine_after[0] - machine_before[0]) - used - wrk_cpu - redis_used - irq
        load.other_cpu_cores = max(0.0, other / wall)
    if stats_before and stats_after and load.requests:
        # The INFO that took stats_before counts in stats_after: one command.
        commands = stats_after.total_commands - stats_before.total_commands - 1
        run.redis_commands_per_request = commands / load.requests
        run.redis_clients = stats_after.connected_clients
        run.redis_calls_per_request = {
            name: (calls - stats_before.commandstats.get(name, 0)) / load.requests
            for name, calls in sorted(stats_after.commandstats.items())
            if name != "info" and calls > stats_before.commandstats.get(name, 0)
        }
    return run


def log_problems(log: Path, top: int = 3) -> list[str]:
    """The most frequent warnings and errors in a server log (numbers masked), with counts;
    the start-up notes about state kept by each worker left out."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return []
    found = Counter(
        re.sub(r"\d+(\.\d+)?", "N", line.strip())
        for line in lines
        if re.match(r"\s*(WARNING|ERROR|CRITICAL)", line) and "kept by each worker" not in line
    )
    return [f"{n} x {line}" for line, n in found.most_common(top)]


def wait_quiet(limit: float, seconds: float) -> float:
    """Wait (up to ``seconds``) for a second in which the machine is busy less than
    ``limit`` of a core; the busy share of the last second measured."""
    deadline = time.monotonic() + seconds
    while True:
        before = machine_busy_seconds() or 0.0
        time.sleep(1.0)
        busy = (machine_busy_seconds() or 0.0) - before
        if busy < limit or time.monotonic() > deadline:
            return busy


# --------------------------------------------------------------------------- report


def ratio_text(value: float | None, reference: float | None) -> str:
    if value is None or not reference:
        return "-"
    return f"{value / reference:.2f}x"


def split_text(run: Run) -> str:
    """The CPU of each busy process of the server tree, as a share of one core."""
    busy = [c for c in run.workers_cpu_cores if c >= 0.02]
    return "+".join(f"{c * 100:.0f}" for c in busy) or "-"


@dataclass
class RedisCost:
    kind: str
    wall_us: float | None  # 1/rps(redis:1) - 1/rps(memory:1), 2xx answers only
    server_cpu_us: float | None  # server CPU/request, redis:1 minus memory:1
    redis_cpu_us: float | None  # redis-server's CPU per request in redis:1


def redis_costs(best: dict[str, dict[str, Run]]) -> list[RedisCost]:
    costs = []
    for kind in KINDS:
        mem, red = best[kind].get(REFERENCE), best[kind].get("redis:1")
        if mem is None or red is None:
            continue
        srv = None
        if (
            mem.load.server_cpu_us_per_request is not None
            and red.load.server_cpu_us_per_request is not None
        ):
            srv = red.load.server_cpu_us_per_request - mem.load.server_cpu_us_per_request
        costs.append(
            RedisCost(
                kind,
                (1 / red.ok_per_s - 1 / mem.ok_per_s) * 1e6 if red.ok_per_s else None,
                srv,
                red.redis_cpu_us_per_request,
            )
        )
    return costs


def render(
    header: list[str],
    variants: list[Variant],
    best: dict[str, dict[str, Run]],
    events: int,
    costs: list[RedisCost],
    warnings: list[str],
) -> str:
    out = [*header, ""]
    for kind in KINDS:
        runs = best[kind]
        ref = runs.get(REFERENCE)
        title = (
            "Non-streaming POST /v1/chat/completions"
            if kind == "non-streaming"
            else f'Streaming ("stream": true, {events} SSE events; p50/p99 of whole streams)'
        )
        out.append(title)
        out.append(
            f"  {'variant':10}{'req/s':>8}{'non-2xx':>8}{'vs ' + REFERENCE:>12}"
            f"{'p50 ms':>8}{'p99 ms':>8}"
            f"{'srv CPU':>9}{'per proc %':>12}{'srv us/req':>11}{'redis us/req':>13}"
            f"{'redis cmd/req':>14}{'wrk CPU':>9}{'irq':>6}{'other':>7}"
        )
        for variant in variants:
            run = runs[variant.name]
            load = run.load
            out.append(
                f"  {variant.name:10}{run.ok_per_s:>8.0f}{run.non_2xx:>8}"
                f"{ratio_text(run.ok_per_s, ref.ok_per_s if ref else None):>12}"
                f"{load.p50_ms:>8.2f}{load.p99_ms:>8.1f}"
                f"{fmt(load.server_cpu_cores, '.0%'):>9}{split_text(run):>12}"
                f"{fmt(load.server_cpu_us_per_request, '.0f'):>11}"
                f"{fmt(run.redis_cpu_us_per_request, '.0f'):>13}"
                f"{fmt(run.redis_commands_per_request, '.1f'):>14}"
                f"{fmt(load.wrk_cpu_cores, '.0%'):>9}{fmt(run.irq_cpu_cores, '.0%'):>6}"
                f"{fmt(load.other_cpu_cores, '.0%'):>7}"
            )
        out.append("")
    if costs:
        out.append("Redis cost per request, 1 worker (redis:1 against memory:1, same run)")
        for cost in costs:
            out.append(
                f"  {cost.kind:14} 1/rps difference {fmt(cost.wall_us, '6.0f')} us;  CPU: server "
                f"{fmt(cost.server_cpu_us, '+.0f')} us, redis-server "
                f"{fmt(cost.redis_cpu_us, '.0f')} us"
            )
    else:
        out.append("Redis cost per request: add --redis-workers 1 (and keep memory:1) to state it")
    for name, run in best["non-streaming"].items():
        if run.redis_calls_per_request:
            calls = ", ".join(
                f"{cmd} {n:.2f}" for cmd, n in run.redis_calls_per_request.items() if n >= 0.005
            )
            out.append(
                f"Redis commands per non-streaming request ({name}): "
                f"{run.redis_commands_per_request:.1f} ({calls}); "
                f"{run.redis_clients} connections open to Redis after the run"
            )
    out.append("")
    out.append(
        "req/s: 2xx answers per second (wrk's req/s less the non-2xx answers); "
        "srv CPU: the server's process tree (supervisor and workers), as a share of one core; "
        "per proc %: each busy process of it; srv/redis us/req: CPU seconds per request; "
        "redis cmd/req: INFO total_commands_processed delta / requests (commands run inside "
        "Lua scripts count); irq: the machine's interrupt and softirq time (loopback TCP); "
        "other: the rest of the machine (other processes)"
    )
    if warnings:
        out.append("")
        out.extend(f"warning: {w}" for w in warnings)
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="mockllm serve with 1 or 2 workers, memory or Redis state (see "
        "bench/README.md)."
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
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument(
        "--variants",
        default=None,
        help="comma-separated STATE:WORKERS, STATE memory or redis "
        f"(default {','.join(DEFAULT_VARIANTS)})",
    )
    parser.add_argument(
        "--redis-workers",
        type=int,
        action="append",
        metavar="N",
        help="also measure N workers with Redis state (repeatable); 1 states the Redis "
        "cost per request",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure each variant this many times, alternating, and keep its best "
        "(default 1; use 3 on a busy machine)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="S",
        help="before each variant, wait up to S seconds for the machine to be quiet",
    )
    parser.add_argument("--wrk", default=None, help="path of wrk (default: found on PATH)")
    parser.add_argument(
        "--redis-server",
        default=None,
        help="path of redis-server (default: found on PATH)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS_FILE,
        help="JSON results file (default bench/results/workers-latest.json)",
    )
    return parser


def rerun_command(args: argparse.Namespace, variants: list[Variant]) -> str:
    try:
        python = str(Path(sys.executable).relative_to(REPO))
    except ValueError:
        python = sys.executable
    argv = [
        python,
        "bench/workers.py",
        "--duration",
        str(args.duration),
        "--warmup",
        str(args.warmup),
        "--threads",
        str(args.threads),
        "--connections",
        str(args.connections),
        "--variants",
        ",".join(v.name for v in variants),
        "--rounds",
        str(args.rounds),
    ]
    if args.wait_quiet:
        argv += ["--wait-quiet", f"{args.wait_quiet:g}"]
    if args.wrk:
        argv += ["--wrk", args.wrk]
    if args.redis_server:
        argv += ["--redis-server", args.redis_server]
    if args.output != RESULTS_FILE:
        argv += ["--output", str(args.output)]
    return f"cd {shlex.quote(str(REPO))} && {shlex.join(argv)}"


def run(args: argparse.Namespace) -> int:
    variants = select_variants(args)
    for flag, value, least in (
        ("--duration", args.duration, 1),
        ("--warmup", args.warmup, 0),
        ("--threads", args.threads, 1),
        ("--connections", args.connections, args.threads),
        ("--rounds", args.rounds, 1),
    ):
        if value < least:
            raise BenchError(f"{flag} must be at least {least}")
    wrk = args.wrk or shutil.which("wrk")
    if not wrk or not os.access(wrk, os.X_OK):
        raise BenchError("wrk not found: install it with `apt-get install wrk` or pass --wrk PATH")
    redis_exe = None
    if any(v.state == "redis" for v in variants):
        redis_exe = args.redis_server or shutil.which("redis-server")
        if not redis_exe:
            raise BenchError(
                "redis-server not found: install it (`apt-get install redis-server`), pass "
                "--redis-server PATH, or choose --variants without redis"
            )
    if not os.path.isdir("/proc"):
        raise BenchError("this benchmark reads CPU times from /proc (Linux only)")

    command = rerun_command(args, variants)
    print(f"rerun: {command}", flush=True)
    cpus = os.cpu_count() or 1
    load_start = os.getloadavg()
    print(
        f"machine: {cpus} CPUs, {platform.platform()}, Python {platform.python_version()}; "
        f"load average {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}",
        flush=True,
    )
    cpu_note = (
        f"wrk -t{args.threads}, the server's workers, redis-server and the kernel's loopback "
        f"work all share these {cpus} CPUs: with {cpus} workers the server competes with wrk "
        "for CPU (read the CPU columns before trusting multi-worker figures)"
    )
    print(f"note: {cpu_note}", flush=True)

    opts = WrkOptions(wrk, args.threads, args.connections, args.duration, args.warmup)
    plain = json.dumps(REQUEST, separators=(",", ":")).encode()
    streamed = json.dumps({**REQUEST, "stream": True}, separators=(",", ":")).encode()
    warnings: list[str] = []
    runs: dict[str, dict[str, list[Run]]] = {kind: {} for kind in KINDS}
    events = 0
    answer_tokens = 0
    logs: dict[str, Path] = {}
    problems: dict[str, list[str]] = {}

    with (
        tempfile.TemporaryDirectory(prefix="mockllm-workers-") as tmp_name,
        contextlib.ExitStack() as stack,
    ):
        tmp = Path(tmp_name)
        config = tmp / "bench.yml"
        config.write_text(f"responses:\n  {json.dumps(PROMPT)}: {json.dumps(ANSWER)}\n")
        scripts = {"non-streaming": tmp / "plain.lua", "streaming": tmp / "stream.lua"}
        scripts["non-streaming"].write_text(lua_script(plain))
        scripts["streaming"].write_text(lua_script(streamed))
        redis = stack.enter_context(private_redis(redis_exe, tmp)) if redis_exe else None
        if redis:
            print(f"redis-server: pid {redis[0].pid}, port {redis[1]}", flush=True)

        for round_ in range(1, args.rounds + 1):
            for variant in variants:
                if args.wait_quiet:
                    busy = wait_quiet(OTHER_CPU_LIMIT, args.wait_quiet)
                    print(f"  machine busy before the run: {busy:.0%} of a core", flush=True)
                env = clean_env({"MOCKLLM_REQUEST_LOG": "false"})
                state: list[str] = []
                if variant.state == "redis":
                    assert redis is not None
                    redis_call(redis[1], "FLUSHALL")  # every Redis variant starts empty
                    state = ["--state", f"redis://{HOST}:{redis[1]}/0"]

                def argv_for(port: int, v: Variant = variant, s: list[str] = state) -> list[str]:
                    return [
                        *mockllm_command(),
                        "serve",
                        "-c",
                        str(config),
                        "--host",
                        HOST,
                        "--port",
                        str(port),
                        "--workers",
                        str(v.workers),
                        *s,
                        "--no-watch",
                        "--log-level",
                        "warning",
                    ]

                log = tmp / f"{variant.name.replace(':', '-')}.log"
                logs[variant.name] = log
                with serving(argv_for, env, log) as (proc, port, argv):
                    shown = shlex.join(["env", "MOCKLLM_REQUEST_LOG=false", *argv])
                    print(f"round {round_}/{args.rounds} {variant.name}: {shown}", flush=True)
                    workload, _ = probe_mockllm(port, plain, streamed)
                    events = workload.stream_events["mockllm"]
                    answer_tokens = workload.answer_tokens
                    for kind in KINDS:
                        result = measure(
                            opts,
                            proc,
                            port,
                            scripts[kind],
                            redis if variant.state == "redis" else None,
                        )
                        runs[kind].setdefault(variant.name, []).append(result)
                        print(
                            f"  {kind}: {result.load.requests_per_s:.0f} req/s, p99 "
                            f"{result.load.p99_ms:.1f} ms"
                            + (f", {result.non_2xx} non-2xx" if result.non_2xx else ""),
                            flush=True,
                        )
        problems = {name: log_problems(path) for name, path in logs.items()}
    load_end = os.getloadavg()

    # The best round of each variant: background load only ever slows a run down. Rounds
    # are ranked by 2xx answers per second, so that fast errors never make a best round.
    best = {
        kind: {name: max(results, key=lambda r: r.ok_per_s) for name, results in by_variant.items()}
        for kind, by_variant in runs.items()
    }
    if not 40 <= answer_tokens <= 60:
        warnings.append(f"answer is {answer_tokens} tokens (meant 40-60)")
    for kind, by_variant in best.items():
        for name, result in by_variant.items():
            load = result.load
            if any(load.socket_errors.values()):
                warnings.append(f"{name} {kind}: socket errors {load.socket_errors}")
            if result.non_2xx:
                warnings.append(
                    f"{name} {kind}: {result.non_2xx} of {load.requests} answers were not "
                    "2xx (wrk counts them in req/s); see the server log lines below"
                )
            if (load.other_cpu_cores or 0) > OTHER_CPU_LIMIT:
                warnings.append(
                    f"{name} {kind}: other processes used {load.other_cpu_cores:.2f} CPU "
                    "cores during the run; figures are disturbed (rerun on a quiet machine"
                    + (")" if args.rounds > 1 else ", or with --rounds 3)")
                )
    for name, lines in problems.items():
        if any(r.non_2xx for kind in KINDS for r in runs[kind].get(name, [])):
            warnings.extend(f"{name} server log: {line}" for line in lines)
    costs = redis_costs(best)
    versions = {p: version_of(p) for p in ("mockllm", "uvicorn", "uvloop", "httptools", "redis")}
    versions["wrk"] = wrk_version(wrk)
    if redis_exe:
        done = subprocess.run([redis_exe, "--version"], capture_output=True, text=True)
        versions["redis-server"] = done.stdout.strip()
    header = [
        f"rerun: {command}",
        f"setup: {cpus} CPUs, loopback; mockllm serve (uvicorn {versions['uvicorn']}); load: "
        f"{versions['wrk']} -t{args.threads} -c{args.connections} -d{args.duration}s "
        f"(+{args.warmup}s warm-up)"
        + (f", best of {args.rounds} alternating rounds" if args.rounds > 1 else "")
        + f"; load average {load_start[0]:.2f} at start, {load_end[0]:.2f} at end",
        f"note: {cpu_note}",
    ]
    print()
    print(render(header, variants, best, events, costs, warnings))

    def run_json(result: Run) -> dict[str, Any]:
        return {
            **asdict(result.load),
            **{k: v for k, v in asdict(result).items() if k != "load"},
            "ok_per_s": result.ok_per_s,
        }

    output = {
        "command": command,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git": git_state(),
        "machine": {
            "cpus": cpus,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_start": load_start,
            "load_average_end": load_end,
        },
        "versions": versions,
        "params": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "wrk_threads": args.threads,
            "wrk_connections": args.connections,
            "variants": [v.name for v in variants],
            "rounds": args.rounds,
            "request": REQUEST,
            "answer": ANSWER,
            "answer_tokens": answer_tokens,
            "stream_events": events,
        },
        "note": cpu_note,
        **{
            kind.replace("-", "_"): {
                "best": {name: run_json(r) for name, r in best[kind].items()},
                "ratio_req_per_s_vs_" + REFERENCE.replace(":", "_"): {
                    name: r.ok_per_s / best[kind][REFERENCE].ok_per_s
                    for name, r in best[kind].items()
                }
                if REFERENCE in best[kind]
                else None,
                "rounds": {name: [run_json(r) for r in rs] for name, rs in runs[kind].items()},
            }
            for kind in KINDS
        },
        "redis_cost_per_request_1_worker": [asdict(c) for c in costs],
        "warnings": warnings,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2) + "\n")
    print(f"\nresults: {args.output}")
    return 0


def _terminate(signum: int, frame: FrameType | None) -> None:
    print(f"workers: stopped by signal {signum}; stopping servers", file=sys.stderr)
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop servers


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return run(args)
    except BenchError as exc:
        print(f"workers: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("workers: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
