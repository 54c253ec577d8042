"""Pacing benchmark: many slow streams on one worker, a sleep per stream against one
:class:`mockllm.pacing.Pacer` for all of them, and the real mockllm app end to end.

One run starts, for each variant in turn, a fresh server process: uvicorn, one worker, uvloop
and httptools, lifespan on, no access log. The first two variants serve a raw ASGI app (no
mockllm routes: the pacing is what is measured) that streams ``--events`` SSE events of an
OpenAI chunk's size, the first after ``--ttft`` ms, the next ones ``--itl`` ms apart, then
``data: [DONE]`` with the last:

* ``naive``: ``await asyncio.sleep(delay)`` before each event (what
  ``mockllm.core.events.paced`` does today: relative sleeps, a timer per sleep);
* ``pacer``: ``async for piece in pacer.paced(schedule)`` (one timer for all streams,
  absolute due times).

The third serves the whole of mockllm:

* ``mockllm``: ``mockllm.app.create_app`` (no request log, no config watcher; served with
  the uvicorn settings above, not ``mockllm serve``'s guarded protocol and eager listener),
  with a config of one rule that answers every request with ``--events`` tokens
  (``"word"`` then ``" word"`` repeated, one o200k token each; checked before the load, by
  counting the content chunks of one answer). The load client sends
  ``POST /v1/chat/completions`` (``gpt-4o``, ``"stream": true``) with the latency headers
  ``x-mockllm-ttft-ms`` and ``x-mockllm-itl-ms``, so a stream is ``--events`` + 3 SSE
  events: the role chunk after the TTFT, the first token right after it, the next tokens
  ``--itl`` ms apart, then the finish chunk and ``data: [DONE]`` right after the last
  token. Its gaps are those between its token events only (per stream, the gap from the
  role chunk to the first token and the gaps after the last token are left out), so that
  they compare with the other variants' gaps; its TTFT is to the role chunk.

The load client is another process (``--clients`` of them): a plain ``epoll`` loop over
non-blocking sockets that opens ``--streams`` connections evenly over ``--ramp`` seconds and
records the arrival time of every event. With ``--pin`` (the default on a machine with two
CPUs or more) the server runs on the first CPU and the clients on the others. The script
reports the gaps between consecutive events of a stream (median, p99), the streams completed,
the server's RSS growth per open stream (peak RSS during the run minus RSS at rest, divided by
the streams), and the server's CPU::

    .venv/bin/python bench/pacing.py                  # 2000 streams x 200 events, 20 ms ITL, ~30 s
    .venv/bin/python bench/pacing.py --rounds 3 --wait-quiet 60 --check
    .venv/bin/python bench/pacing.py --variants pacer --streams 3000

Gaps are computed over the *steady* window, when every stream is open (from the last stream's
first event to the first stream's last event), and over the whole run. The targets
(``--check``, applied to the best round of the pacer, which sets the exit status, and reported
for the best round of mockllm when it ran): steady median gap within 2 ms of the ITL, steady
p99 at most the ITL + 10 ms, every stream complete, RSS growth per stream at most 16 KiB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import os
import pickle
import platform
import resource
import select
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from itertools import chain, repeat
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HOST = "127.0.0.1"
VARIANTS = ("naive", "pacer", "mockllm")
CHECKED = ("pacer", "mockllm")  # the variants --check reports on
GATED = ("pacer",)  # those whose misses make --check exit 2

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

EVENT = (
    b'data: {"id":"chatcmpl-000000000000000000000000000000","object":"chat.completion.chunk",'
    b'"created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":" word"},'
    b'"logprobs":null,"finish_reason":null}]}\n\n'
)
DONE = b"data: [DONE]\n\n"
MOCKLLM_BODY = b'{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"go"}]}'
MOCKLLM_EXTRA = 3  # SSE events of a mockllm stream beside its tokens: role, finish, [DONE]
START: Message = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"cache-control", b"no-cache"),
    ],
}


def request_bytes(variant: str, events: int, itl: float, ttft: float) -> bytes:
    """The HTTP request of one stream of ``variant``: ``events`` events (tokens for
    ``mockllm``, whose count is its config's), ``ttft`` ms to the first, ``itl`` ms apart."""
    if variant == "mockllm":
        return (
            f"POST /v1/chat/completions HTTP/1.1\r\nHost: {HOST}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(MOCKLLM_BODY)}\r\n"
            f"x-mockllm-ttft-ms: {ttft:g}\r\nx-mockllm-itl-ms: {itl:g}\r\n"
            "Connection: close\r\n\r\n"
        ).encode() + MOCKLLM_BODY
    return (
        f"GET /?events={events}&itl={itl}&ttft={ttft} HTTP/1.1\r\n"
        f"Host: {HOST}\r\nConnection: close\r\n\r\n"
    ).encode()


def expected_events(variant: str, events: int) -> int:
    """SSE events of a complete stream of ``variant`` with ``events`` events (tokens)."""
    return events + (MOCKLLM_EXTRA if variant == "mockllm" else 1)  # raw: then [DONE]


def token_events(variant: str, arrivals: Sequence[float], events: int) -> Sequence[float]:
    """The arrivals of the events that are paced ``--itl`` apart: the first ``events``
    (not [DONE]), or mockllm's token events (not its role, finish and [DONE] events)."""
    first = 1 if variant == "mockllm" else 0
    return arrivals[first : first + events]


def mockllm_config(events: int) -> str:
    """A mockllm config answering every request with ``events`` tokens of o200k."""
    reply = "word" + " word" * (events - 1)
    return f"rules:\n  - name: bench\n    reply: {json.dumps(reply)}\n"


def raise_fd_limit() -> int:
    """Raise the soft limit of open files to the hard limit; the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft


# --------------------------------------------------------------------------- server


def make_app(
    variant: str, resolution: float = 0.001, batch: int = 32
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The ASGI app of ``variant``: ``GET /?events=N&itl=MS&ttft=MS`` streams N events."""
    from mockllm.pacing import Pacer

    pacer = Pacer(resolution, batch)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        query = parse_qs(scope["query_string"].decode())
        events = int(query.get("events", ["1"])[0])
        itl = float(query.get("itl", ["0"])[0]) / 1000
        ttft = float(query.get("ttft", ["0"])[0]) / 1000
        await send(START)
        if variant == "naive":
            for i in range(events):
                await asyncio.sleep(ttft if i == 0 else itl)
                await send({"type": "http.response.body", "body": EVENT, "more_body": True})
            await send({"type": "http.response.body", "body": DONE, "more_body": True})
        else:
            schedule = chain(((ttft, EVENT),), repeat((itl, EVENT), events - 1), ((0.0, DONE),))
            async for piece in pacer.paced(schedule):
                await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return app


def pin(cpus: str) -> None:
    """Run this process on the CPUs listed in ``cpus`` ("0" or "1,2"; "" leaves it be)."""
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(cpu) for cpu in cpus.split(",")})


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    raise_fd_limit()
    pin(args.cpus)
    app: Any  # an ASGI app: the raw one or mockllm's
    if args.variant == "mockllm":
        from mockllm.app import create_app
        from mockllm.settings import Settings

        app = create_app(
            Settings(config=Path(args.config), request_log=False, watch=False, log_level="warning")
        )
    else:
        app = make_app(args.variant, args.resolution / 1000, args.batch)
    uvicorn.run(
        app,
        host=HOST,
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
        backlog=4096,
    )


# --------------------------------------------------------------------------- load client


@dataclass
class StreamRecord:
    opened: float = 0.0  # when the connection was asked for (monotonic)
    headers: float = 0.0  # when the first bytes of the response came
    sent: float = 0.0  # when the request was written
    arrivals: array[float] = field(default_factory=lambda: array("d"))
    error: str | None = None


def client(args: argparse.Namespace) -> None:
    """Open this process's share of the streams at their times; pickle what arrived.

    A plain ``epoll`` loop over non-blocking sockets. After each batch of readable sockets
    it sleeps ``--poll`` ms before polling again, so that it does not wake up (and make
    the server's kernel wake it) for every event: on loopback, the server's write would
    otherwise pay for waking the client, a cost a remote client does not put on a
    server. The arrival times are therefore late by up to ``--poll`` ms, the same for
    every event."""
    raise_fd_limit()
    pin(args.cpus)
    request = request_bytes(args.variant, args.events, args.itl, args.ttft)
    mine = list(range(args.index, args.streams, args.clients))
    step = args.ramp / args.streams
    due = [args.at + i * step for i in mine]
    records = [StreamRecord() for _ in mine]
    poller = select.epoll()
    socks: dict[int, tuple[socket.socket, StreamRecord, list[bytes]]] = {}
    pause = args.poll / 1000
    deadline = args.at + args.ramp + args.timeout
    opened = 0
    monotonic = time.monotonic
    while opened < len(mine) or socks:
        now = monotonic()
        while opened < len(mine) and due[opened] <= now:
            record = records[opened]
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            record.opened = now
            err = sock.connect_ex((HOST, args.port))
            if err not in (0, errno.EINPROGRESS):
                record.error = os.strerror(err)
                sock.close()
            else:
                socks[sock.fileno()] = (sock, record, [b""])
                poller.register(sock, select.EPOLLOUT)
            opened += 1
        if now > deadline:
            for sock, record, _ in socks.values():
                record.error = "timeout"
                sock.close()
            break
        timeout = 0.05 if opened >= len(mine) else max(0.0, min(0.05, due[opened] - now))
        events = poller.poll(timeout)
        now = monotonic()
        for fd, mask in events:
            sock, record, last = socks[fd]
            if mask & select.EPOLLOUT and not record.sent:
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    record.error = os.strerror(err)
                else:
                    record.sent = now
                    sock.send(request)  # a few hundred bytes: the socket buffer takes them
                    poller.modify(sock, select.EPOLLIN)
                    continue
            else:
                try:
                    data = sock.recv(65536)
                except OSError as exc:
                    record.error = repr(exc)
                    data = b""
                if data:
                    if not record.headers:
                        record.headers = now
                    # An SSE event ends with a blank line; "\n\n" occurs nowhere else here.
                    count = data.count(b"\n\n")
                    if last[0] == b"\n" and data[:1] == b"\n":
                        count += 1
                    last[0] = data[-1:]
                    for _ in range(count):
                        record.arrivals.append(now)
                    continue
            poller.unregister(fd)
            sock.close()
            del socks[fd]
        if events and pause:
            time.sleep(pause)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out = {
        "streams": [(r.opened, r.sent, r.headers, r.arrivals.tobytes(), r.error) for r in records],
        "cpu": usage.ru_utime + usage.ru_stime,
    }
    with open(args.out, "wb") as handle:
        pickle.dump(out, handle)


# --------------------------------------------------------------------------- measuring


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        stat = handle.read()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    with open("/proc/stat") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def fetch(port: int, request: bytes, timeout: float = 10.0) -> bytes:
    """One whole streamed response to ``request``, raw (headers and chunked body)."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(request)
        parts = []
        while chunk := sock.recv(65536):
            parts.append(chunk)
    return b"".join(parts)


def server_cpus(args: argparse.Namespace) -> str:
    """The server's CPU with ``--pin``: the first this process may use."""
    if not args.pin or not hasattr(os, "sched_getaffinity"):
        return ""
    cpus = sorted(os.sched_getaffinity(0))
    return str(cpus[0]) if len(cpus) > 1 else ""


def client_cpus(args: argparse.Namespace) -> str:
    """The clients' CPUs with ``--pin``: the others."""
    if not args.pin or not hasattr(os, "sched_getaffinity"):
        return ""
    cpus = sorted(os.sched_getaffinity(0))
    return ",".join(map(str, cpus[1:])) if len(cpus) > 1 else ""


@contextlib.contextmanager
def server(
    variant: str, port: int, log: Path, args: argparse.Namespace, config: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    argv = [sys.executable, str(Path(__file__)), "serve", "--variant", variant]
    argv += ["--port", str(port), "--resolution", str(args.resolution), "--batch", str(args.batch)]
    argv += ["--cpus", server_cpus(args)]
    if config is not None:
        argv += ["--config", str(config)]
    # mockllm's settings come from the command line alone, not from MOCKLLM_* variables.
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("MOCKLLM_")}
    env["PYTHONPATH"] = str(REPO / "src")
    probe = request_bytes(variant, 3, 1, 1)
    expected = expected_events(variant, args.events if variant == "mockllm" else 3)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=REPO
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                body = fetch(port, probe, timeout=2)
                if body.count(b"\n\n") == expected and DONE in body:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {variant} server did not start; see {log}")
            time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def percentile(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Result:
    variant: str
    streams: int
    complete: int
    errors: int
    peak_open: int
    steady_s: float
    gap_ms_median: float
    gap_ms_p99: float
    gap_ms_p1: float
    gap_ms_max: float
    all_gap_ms_median: float
    all_gap_ms_p99: float
    ttft_ms_median: float
    ttft_ms_p99: float
    idle_rss_mb: float
    peak_rss_mb: float
    rss_kib_per_stream: float
    server_cpu: float
    server_us_per_event: float
    client_cpu: float
    other_cpu: float
    events_per_s: float


@dataclass
class Sample:
    """The server's and the machine's state at ``t`` (monotonic)."""

    t: float
    server_cpu: float
    clients_cpu: float
    busy: float
    rss: int


def sample(server_pid: int, client_pids: Sequence[int]) -> Sample:
    clients = 0.0
    for pid in client_pids:
        with contextlib.suppress(OSError):
            clients += cpu_seconds(pid)
    return Sample(
        time.monotonic(),
        cpu_seconds(server_pid),
        clients,
        machine_busy_seconds(),
        rss_bytes(server_pid),
    )


def nearest(samples: Sequence[Sample], t: float) -> Sample:
    return min(samples, key=lambda s: abs(s.t - t))


def measure(variant: str, args: argparse.Namespace, workdir: Path) -> Result:
    """One load run against a fresh server of ``variant``."""
    port = free_port()
    log = workdir / f"server-{variant}.log"
    expected = expected_events(variant, args.events)
    config = None
    if variant == "mockllm":
        config = workdir / "mockllm.yaml"
        config.write_text(mockllm_config(args.events))
    with server(variant, port, log, args, config) as proc:
        # Warm up every path the load takes (the pacer's timer included), then rest.
        if variant == "mockllm":  # its streams are --events tokens long: short gaps here
            warm = request_bytes(variant, args.events, 1, 1)
            body = fetch(port, warm)
            tokens = body.count(b'"content":" word"') + body.count(b'"content":"word"')
            count = body.count(b"\n\n")
            if tokens != args.events or count != expected:
                raise RuntimeError(
                    f"the mockllm answer has {tokens} token events and {count} events, "
                    f"not {args.events} and {expected}"
                )
        else:
            warm = request_bytes(variant, 3, args.itl, args.ttft)
        for _ in range(5):
            fetch(port, warm)
        time.sleep(args.rest)
        idle_rss = rss_bytes(proc.pid)
        at = time.monotonic() + 0.5  # the clients' start-up
        outs = [workdir / f"client-{variant}-{i}.pickle" for i in range(args.clients)]
        clients = [
            subprocess.Popen(
                [sys.executable, str(Path(__file__)), "client", "--port", str(port)]
                + ["--streams", str(args.streams), "--events", str(args.events)]
                + ["--itl", str(args.itl), "--ttft", str(args.ttft), "--ramp", str(args.ramp)]
                + ["--clients", str(args.clients), "--index", str(i), "--at", repr(at)]
                + ["--timeout", str(args.timeout), "--poll", str(args.poll)]
                + ["--variant", variant]
                + ["--cpus", client_cpus(args), "--out", str(out)],
                cwd=REPO,
            )
            for i, out in enumerate(outs)
        ]
        pids = [c.pid for c in clients]
        samples = [sample(proc.pid, pids)]
        while any(c.poll() is None for c in clients):
            time.sleep(0.02)
            with contextlib.suppress(OSError):
                samples.append(sample(proc.pid, pids))
    if any(c.returncode for c in clients):
        raise RuntimeError(f"a load client failed ({variant})")
    records: list[tuple[float, array[float], str | None]] = []
    for out in outs:
        with open(out, "rb") as handle:
            data = pickle.load(handle)
        for _opened, sent, _headers, raw, error in data["streams"]:
            arrivals = array("d")
            arrivals.frombytes(raw)
            records.append((sent, arrivals, error))
    started = [r for r in records if r[1]]
    complete = sum(1 for r in records if r[2] is None and len(r[1]) == expected)
    # The steady window: every stream is open (its first event came, its last did not).
    lo = max((r[1][0] for r in started), default=0.0)
    hi = min((r[1][-1] for r in started), default=0.0)
    if hi - lo < 0.5:  # the ramp is about as long as a stream: the whole run then
        lo = min((r[1][0] for r in started), default=0.0)
        hi = max((r[1][-1] for r in started), default=0.0)
    steady: list[float] = []
    every: list[float] = []
    in_window = 0
    for _sent, arrivals, _error in records:
        # Not [DONE] (nor mockllm's role and finish chunks): they go with a token event.
        events = token_events(variant, arrivals, args.events)
        for a, b in zip(events, events[1:], strict=False):
            every.append(b - a)
            if lo <= a and b <= hi:
                steady.append(b - a)
        in_window += sum(1 for a in arrivals if lo <= a <= hi)
    steady.sort()
    every.sort()
    ttfts = sorted(r[1][0] - r[0] for r in started)
    # Streams open at once: the most streams between their request and their last event.
    edges = sorted([(r[0], 1) for r in started] + [(r[1][-1], -1) for r in started])
    open_now = peak_open = 0
    for _, delta in edges:
        open_now += delta
        peak_open = max(peak_open, open_now)
    first, last = nearest(samples, lo), nearest(samples, hi)
    span = max(1e-9, last.t - first.t)
    server_cpu = last.server_cpu - first.server_cpu
    clients_cpu = last.clients_cpu - first.clients_cpu
    other = max(0.0, last.busy - first.busy - server_cpu - clients_cpu)
    ms = 1000.0
    peak_rss = max(s.rss for s in samples)
    return Result(
        variant=variant,
        streams=args.streams,
        complete=complete,
        errors=sum(1 for r in records if r[2] is not None),
        peak_open=peak_open,
        steady_s=hi - lo,
        gap_ms_median=percentile(steady, 0.5) * ms,
        gap_ms_p99=percentile(steady, 0.99) * ms,
        gap_ms_p1=percentile(steady, 0.01) * ms,
        gap_ms_max=(steady[-1] if steady else float("nan")) * ms,
        all_gap_ms_median=percentile(every, 0.5) * ms,
        all_gap_ms_p99=percentile(every, 0.99) * ms,
        ttft_ms_median=percentile(ttfts, 0.5) * ms,
        ttft_ms_p99=percentile(ttfts, 0.99) * ms,
        idle_rss_mb=idle_rss / 2**20,
        peak_rss_mb=peak_rss / 2**20,
        rss_kib_per_stream=(peak_rss - idle_rss) / 1024 / args.streams,
        server_cpu=server_cpu / span,
        server_us_per_event=server_cpu / max(1, in_window) * 1e6 if span > 0.1 else float("nan"),
        client_cpu=clients_cpu / span,
        other_cpu=other / span,
        events_per_s=in_window / max(1e-9, hi - lo),
    )


def failures(result: Result, args: argparse.Namespace) -> list[str]:
    """The targets ``result`` misses."""
    out = []
    if abs(result.gap_ms_median - args.itl) > 2:
        out.append(f"median gap {result.gap_ms_median:.2f} ms is not within 2 ms of {args.itl}")
    if result.gap_ms_p99 > args.itl + 10:
        out.append(f"p99 gap {result.gap_ms_p99:.2f} ms is above {args.itl} + 10 ms")
    if result.complete < result.streams:
        out.append(f"{result.streams - result.complete} of {result.streams} streams incomplete")
    if result.rss_kib_per_stream > 16:
        out.append(f"RSS per stream {result.rss_kib_per_stream:.1f} KiB is above 16 KiB")
    return out


def report(results: list[Result]) -> str:
    head = (
        f"{'variant':<7} {'complete':>9} {'open':>4} {'steady':>6} {'ev/s':>6} "
        f"{'gap p50':>7} {'p99':>6} {'p1':>5} {'max':>6} {'all p50':>7} {'p99':>6} "
        f"{'TTFT':>6} {'p99':>6} {'KiB/str':>7} {'srv CPU':>7} {'us/ev':>5} {'clients':>7} "
        f"{'other':>5}"
    )
    lines = [head]
    for r in results:
        lines.append(
            f"{r.variant:<7} {r.complete:>4}/{r.streams:<4} {r.peak_open:>4} {r.steady_s:>5.1f}s "
            f"{r.events_per_s:>6.0f} {r.gap_ms_median:>7.2f} {r.gap_ms_p99:>6.2f} "
            f"{r.gap_ms_p1:>5.1f} {r.gap_ms_max:>6.1f} {r.all_gap_ms_median:>7.2f} "
            f"{r.all_gap_ms_p99:>6.2f} {r.ttft_ms_median:>6.1f} {r.ttft_ms_p99:>6.0f} "
            f"{r.rss_kib_per_stream:>7.2f} "
            f"{r.server_cpu:>7.0%} {r.server_us_per_event:>5.1f} {r.client_cpu:>7.0%} "
            f"{r.other_cpu:>5.0%}"
        )
    lines.append(
        "gap: ms between consecutive events of a stream, in the steady window (every stream "
        "open), then over the whole run (all); TTFT: ms from request to first event (p50, p99; "
        "it includes the wait to be accepted); "
        "KiB/str: (peak RSS - RSS at rest) / streams; CPU in the steady window, as a share "
        "of one core (other: the rest of the machine); us/ev: server CPU per event received"
    )
    return "\n".join(lines)


def wait_quiet(limit: float, seconds: float) -> float:
    """Wait (up to ``seconds``) for a second in which the machine is busy less than
    ``limit`` of a core; the busy share of the last second measured."""
    deadline = time.monotonic() + seconds
    while True:
        before = machine_busy_seconds()
        time.sleep(1.0)
        busy = machine_busy_seconds() - before
        if busy < limit or time.monotonic() > deadline:
            return busy


def main_run(args: argparse.Namespace) -> int:
    command = shlex.join([".venv/bin/python", "bench/pacing.py", *sys.argv[1:]])
    print(f"$ {command}")
    print(
        f"setup: {os.cpu_count()} CPUs, {platform.python_implementation()} "
        f"{platform.python_version()}, uvicorn 1 worker (uvloop, httptools); "
        f"{args.streams} streams x {args.events} events, ITL {args.itl} ms, TTFT {args.ttft} ms, "
        f"ramp {args.ramp} s, {args.clients} client process(es)",
        flush=True,
    )
    raise_fd_limit()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="pacing-bench-") as tmp:
        if args.keep:
            tmp = args.keep
            Path(tmp).mkdir(parents=True, exist_ok=True)
        for round_ in range(args.rounds):
            for variant in args.variants:
                if args.wait_quiet:
                    busy = wait_quiet(0.15, args.wait_quiet)
                    print(f"machine busy before the run: {busy:.0%} of a core", flush=True)
                result = measure(variant, args, Path(tmp))
                results.append(result)
                print(f"round {round_ + 1} {variant}: done", flush=True)
    print(report(results))
    HERE.joinpath("results").mkdir(exist_ok=True)
    path = HERE / "results" / "pacing.json"
    path.write_text(
        json.dumps(
            {"command": command, "args": vars(args), "results": [asdict(r) for r in results]},
            indent=2,
            default=str,
        )
    )
    print(f"written: {path.relative_to(REPO)}")
    status = 0
    if args.check:
        # The best round of each variant counts (a loaded machine disturbs single rounds):
        # the pacer's sets the exit status; mockllm's, when it ran, is reported.
        if not any(r.variant == "pacer" for r in results):
            print("check: no pacer round")
            return 2
        for variant in CHECKED:
            rounds = [r for r in results if r.variant == variant]
            if not rounds:
                continue
            best = min((failures(r, args) for r in rounds), key=len)
            gated = variant in GATED
            for line in best:
                print(f"{'FAIL' if gated else 'MISS'} ({variant}): {line}")
            if not best:
                print(f"PASS ({variant}): median, p99, completion and memory targets met")
            elif gated:
                status = 2
    return status


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    s = sub.add_parser("serve", help="(internal) run one variant's server")
    s.add_argument("--variant", choices=VARIANTS, required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--resolution", type=float, default=1.0)
    s.add_argument("--batch", type=int, default=32)
    s.add_argument("--cpus", default="")
    s.add_argument("--config", help="the mockllm variant's config file")
    c = sub.add_parser("client", help="(internal) run one load client")
    for name, kind in [
        ("--port", int),
        ("--streams", int),
        ("--events", int),
        ("--itl", float),
        ("--ttft", float),
        ("--ramp", float),
        ("--clients", int),
        ("--index", int),
        ("--at", float),
        ("--timeout", float),
        ("--poll", float),
    ]:
        c.add_argument(name, type=kind, required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--variant", choices=VARIANTS, required=True)
    c.add_argument("--cpus", default="")
    parser.add_argument("--streams", type=int, default=2000, help="concurrent streams (2000)")
    parser.add_argument("--events", type=int, default=200, help="events per stream (200)")
    parser.add_argument("--itl", type=float, default=20.0, help="inter-token latency, ms (20)")
    parser.add_argument("--ttft", type=float, default=20.0, help="time to first event, ms (20)")
    parser.add_argument("--ramp", type=float, default=1.0, help="seconds to open them all (1)")
    parser.add_argument("--clients", type=int, default=1, help="load client processes (1)")
    parser.add_argument(
        "--poll", type=float, default=0.5, help="clients' pause between polls, ms (0.5)"
    )
    parser.add_argument("--resolution", type=float, default=1.0, help="the Pacer's slot, ms (1)")
    parser.add_argument(
        "--batch", type=int, default=32, help="the Pacer's waits released per iteration (32)"
    )
    parser.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="server on the first CPU, clients on the others (default: on)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="measurements of each variant")
    parser.add_argument("--rest", type=float, default=1.0, help="idle seconds before RSS at rest")
    parser.add_argument("--timeout", type=float, default=60.0, help="per stream, seconds")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="S",
        help="before each run, wait up to S seconds for the machine to be quiet",
    )
    parser.add_argument("--keep", metavar="DIR", help="keep the clients' raw records in DIR")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 2 when the pacer misses a target (mockllm's misses are reported)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.command == "serve":
        serve(args)
        return 0
    if args.command == "client":
        client(args)
        return 0
    return main_run(args)


if __name__ == "__main__":
    sys.exit(main())
