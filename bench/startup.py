#!/usr/bin/env python3
"""Start-up time and idle memory of one mockllm worker, against a bare uvicorn baseline.

Each run starts a server as a subprocess and measures:

* **start to first 200**: wall time from ``Popen`` to the first 200 answer to a real
  ``POST /v1/chat/completions`` (``gpt-4o``, the prompt of a ``responses:`` entry), polled
  every ~5 ms on fresh connections;
* **idle RSS**: the resident memory of the server's process tree (psutil when installed,
  else ``VmRSS`` in ``/proc/PID/status``) after that one answer and ``--idle`` seconds
  (default 2) of idleness; the peak (``VmHWM``) is reported beside it.

mockllm runs as ``mockllm start -r CONFIG -p PORT`` (or ``--command serve``: ``mockllm serve
--config CONFIG --port PORT``), one worker, default flags. The baseline, measured in the same
run with runs alternating, is ``bench/baseline_app.py`` (a raw ASGI app that answers fixed
bytes) under ``python -m uvicorn`` with the same interpreter. The report gives medians, the
mockllm/baseline ratios and the targets: start to first 200 <= 0.35 s and idle RSS <= 60 MB
(``--check``: exit status 1 when a median is above its target).

    python bench/startup.py                # 5 runs of each server
    python bench/startup.py --runs 9 --check
    python bench/startup.py --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import free_port, log_tail, spawn, stop  # bench/bench.py: the same helpers

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HOST = "127.0.0.1"
PATH = "/v1/chat/completions"
PROMPT = "benchmark prompt"
ANSWER = (
    "A mock server answers in microseconds, so your tests stay fast and deterministic. "
    "This reply has about fifty tokens: plain words, punctuation, numbers such as 42 and "
    "3.14159, a café, and a few longer words like tokenization and reproducibility."
)
REQUEST = json.dumps(
    {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": PROMPT},
        ],
    },
    separators=(",", ":"),
).encode()

TARGET_START_S = 0.35
TARGET_RSS_MB = 60.0
READY_TIMEOUT_S = 60.0
POLL_SLEEP_S = 0.005
MB = 1024 * 1024


class StartupError(Exception):
    """A failure that ends the run with a message."""


@dataclass
class Run:
    start_s: float  # Popen to the first 200
    cpu_s: float  # CPU time (user + system) the server used until then: less noisy
    rss_mb: float  # after one answer and the idle time (process tree)
    peak_mb: float  # VmHWM, the largest RSS the server process reached (tree sum)


# --------------------------------------------------------------------------- processes


def post(port: int, body: bytes) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("POST", PATH, body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def _proc_status(pid: int) -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` of ``pid`` in bytes (Linux /proc)."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
    return out


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                kids += [int(k) for k in handle.read().split()]
    return kids


def tree_pids(root: int) -> list[int]:
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += _children(pid)
    return pids


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of ``root`` and its descendants (Linux /proc; 0 elsewhere)."""
    ticks = 0
    for pid in tree_pids(root):
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{pid}/stat") as handle:
                stat = handle.read()
            fields = stat[stat.rindex(")") + 2 :].split()  # fields[0] is field 3 (state)
            ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.0


def tree_memory(root: int) -> tuple[float, float]:
    """RSS and peak RSS (MB) of ``root`` and its descendants: psutil when it is installed,
    else /proc (the peak needs /proc either way; 0 where it cannot be read)."""
    try:
        import psutil  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        psutil = None
    if psutil is not None:
        top = psutil.Process(root)
        procs = [top, *top.children(recursive=True)]
        rss = sum(p.memory_info().rss for p in procs)
        pids = [p.pid for p in procs]
    else:
        pids = tree_pids(root)
        rss = sum(_proc_status(p).get("VmRSS", 0) for p in pids)
    peak = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            peak += _proc_status(pid).get("VmHWM", 0)
    return rss / MB, peak / MB


def measure(argv: Sequence[str], env: dict[str, str], port: int, log: Path, idle: float) -> Run:
    started = time.perf_counter()
    proc = spawn(argv, env, log)
    last = "no answer"
    try:
        while True:
            try:
                status = post(port, REQUEST)
                if status == 200:
                    elapsed = time.perf_counter() - started
                    cpu = tree_cpu_seconds(proc.pid)
                    break
                last = f"HTTP {status}"
            except (OSError, http.client.HTTPException) as exc:
                last = repr(exc)
            if proc.poll() is not None:
                raise StartupError(
                    f"server exited with code {proc.returncode}:\n  {shlex.join(argv)}\n"
                    + log_tail(log)
                )
            if time.perf_counter() - started > READY_TIMEOUT_S:
                raise StartupError(
                    f"no 200 within {READY_TIMEOUT_S:.0f} s ({last}): {shlex.join(argv)}\n"
                    + log_tail(log)
                )
            time.sleep(POLL_SLEEP_S)
        time.sleep(idle)
        rss, peak = tree_memory(proc.pid)
        return Run(elapsed, cpu, rss, peak)
    finally:
        stop(proc)


# --------------------------------------------------------------------------- commands


def mockllm_command() -> list[str]:
    script = Path(sys.executable).parent / "mockllm"
    if script.exists():
        return [str(script)]
    found = shutil.which("mockllm")
    return [found] if found else [sys.executable, "-m", "mockllm"]


def mockllm_argv(command: str, config: Path, port: int) -> list[str]:
    if command == "start":
        return [*mockllm_command(), "start", "-r", str(config), "-p", str(port)]
    return [*mockllm_command(), "serve", "--config", str(config), "--port", str(port)]


def baseline_argv(port: int) -> list[str]:
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
        "--no-access-log",
        "--log-level",
        "warning",
    ]


# --------------------------------------------------------------------------- report


def summary(runs: list[Run]) -> dict[str, float]:
    return {
        "start_s": statistics.median(r.start_s for r in runs),
        "start_s_min": min(r.start_s for r in runs),
        "start_s_max": max(r.start_s for r in runs),
        "cpu_s": statistics.median(r.cpu_s for r in runs),
        "rss_mb": statistics.median(r.rss_mb for r in runs),
        "peak_mb": statistics.median(r.peak_mb for r in runs),
    }


def render(results: dict[str, list[Run]], args: argparse.Namespace) -> tuple[str, bool]:
    base, mock = summary(results["baseline"]), summary(results["mockllm"])
    runs = len(results["mockllm"])
    rows = [
        ("server", "start s", "min-max s", "CPU s", "RSS MB", "peak MB"),
        *(
            (
                name,
                f"{fig['start_s']:.3f}",
                f"{fig['start_s_min']:.3f}-{fig['start_s_max']:.3f}",
                f"{fig['cpu_s']:.2f}",
                f"{fig['rss_mb']:.1f}",
                f"{fig['peak_mb']:.1f}",
            )
            for name, fig in (("baseline", base), (f"mockllm {args.command}", mock))
        ),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(row: Sequence[str]) -> str:
        cells = [row[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        return "| " + " | ".join(cells) + " |"

    start_ok = mock["start_s"] <= TARGET_START_S
    rss_ok = mock["rss_mb"] <= TARGET_RSS_MB
    bytecode = (
        "bytecode compiled once, in a private PYTHONPYCACHEPREFIX (as an installed package has it)"
        if args.bytecode == "cached"
        else "bytecode as the environment has it (PYTHONDONTWRITEBYTECODE="
        + os.environ.get("PYTHONDONTWRITEBYTECODE", "")
        + ")"
    )
    lines = [
        f"start to first 200 (median of {runs}), CPU used until then, RSS after one answer "
        f"and {args.idle:g} s idle; {bytecode}",
        "",
        line(rows[0]),
        "| " + " | ".join(["-" * widths[0]] + ["-" * (w - 1) + ":" for w in widths[1:]]) + " |",
        *(line(row) for row in rows[1:]),
        "",
        f"mockllm / baseline: start x{mock['start_s'] / base['start_s']:.2f} "
        f"(+{mock['start_s'] - base['start_s']:.3f} s), "
        f"CPU x{mock['cpu_s'] / max(base['cpu_s'], 0.01):.2f}, "
        f"RSS x{mock['rss_mb'] / base['rss_mb']:.2f} (+{mock['rss_mb'] - base['rss_mb']:.1f} MB)",
        f"target start to first 200 <= {TARGET_START_S} s: {mock['start_s']:.3f} s "
        f"{'PASS' if start_ok else 'FAIL'}",
        f"target idle RSS <= {TARGET_RSS_MB:g} MB: {mock['rss_mb']:.1f} MB "
        f"{'PASS' if rss_ok else 'FAIL'}",
    ]
    return "\n".join(lines), start_ok and rss_ok


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="mockllm start to first 200 and idle RSS, against bare uvicorn."
    )
    parser.add_argument("--runs", type=int, default=5, help="starts of each server (default 5)")
    parser.add_argument(
        "--idle", type=float, default=2.0, help="seconds idle before reading RSS (default 2)"
    )
    parser.add_argument(
        "--command",
        choices=["start", "serve"],
        default="start",
        help="mockllm start -r CONFIG -p PORT (default) or mockllm serve --config ... --port",
    )
    parser.add_argument(
        "--bytecode",
        choices=["cached", "as-is"],
        default="cached",
        help="cached (default): both servers run with a private PYTHONPYCACHEPREFIX filled "
        "by one unmeasured start each, so no run compiles source (as with an installed "
        "package); as-is: the environment unchanged (with PYTHONDONTWRITEBYTECODE=1 and no "
        "__pycache__, every start compiles mockllm's modules)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"exit 1 when above {TARGET_START_S} s or {TARGET_RSS_MB:g} MB (medians)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every figure as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.runs < 1:
        print("startup: --runs must be at least 1", file=sys.stderr)
        return 2
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKLLM_")}
    results: dict[str, list[Run]] = {"baseline": [], "mockllm": []}
    try:
        with tempfile.TemporaryDirectory(prefix="mockllm-startup-") as tmp_name:
            tmp = Path(tmp_name)
            config = tmp / "bench.yml"
            config.write_text(f"responses:\n  {json.dumps(PROMPT)}: {json.dumps(ANSWER)}\n")

            def argv_for(name: str, port: int) -> list[str]:
                if name == "baseline":
                    return baseline_argv(port)
                return mockllm_argv(args.command, config, port)

            print(f"mockllm: {shlex.join(argv_for('mockllm', 0))}", flush=True)
            print(f"baseline: {shlex.join(argv_for('baseline', 0))}", flush=True)
            if args.bytecode == "cached":
                env.pop("PYTHONDONTWRITEBYTECODE", None)
                env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
                for name in ("baseline", "mockllm"):  # compiles and stores the bytecode
                    port = free_port()
                    measure(argv_for(name, port), env, port, tmp / f"{name}.log", 0.0)
            for i in range(args.runs):  # alternate, so that drift hits both alike
                for name in ("baseline", "mockllm"):
                    port = free_port()
                    run = measure(argv_for(name, port), env, port, tmp / f"{name}.log", args.idle)
                    results[name].append(run)
                    print(
                        f"  run {i + 1}/{args.runs} {name:<8} start {run.start_s:.3f} s, "
                        f"CPU {run.cpu_s:.2f} s, RSS {run.rss_mb:.1f} MB "
                        f"(peak {run.peak_mb:.1f} MB)",
                        flush=True,
                    )
    except StartupError as exc:
        print(f"startup: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    report, ok = render(results, args)
    print()
    print(report)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "command": args.command,
                    "idle_s": args.idle,
                    "bytecode": args.bytecode,
                    "targets": {"start_s": TARGET_START_S, "rss_mb": TARGET_RSS_MB},
                    "runs": {k: [asdict(r) for r in v] for k, v in results.items()},
                    "median": {k: summary(v) for k, v in results.items()},
                },
                indent=2,
            )
            + "\n"
        )
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
