#!/usr/bin/env python3
"""Smoke test of mockllm as users get it: the wheel, installed without extras.

Builds the wheel, checks what it holds (default config, vocabularies, py.typed, licence),
installs it with no extras into a new virtual environment (nothing of the test environment
can hide a missing dependency there), then, from that environment only:

* ``mockllm --version`` and ``python -m mockllm --version``;
* ``mockllm validate`` on the default config shipped inside the package;
* ``mockllm serve`` on the embedded default config, and the original
  ``mockllm start -r FILE -h HOST -p PORT`` on a seed-format file; each answers an OpenAI
  chat completion and an Anthropic message, then stops on SIGTERM;
* ``from mockllm.testing import MockServer`` serves a request in-process.

Standard library only; run by ``scripts/test`` before the suite. Exits non-zero on the first
failure, with what failed. Usage: ``python3 scripts/smoke_wheel.py [--python PY] [--keep]``;
``--wheel FILE`` skips the build. ``--lowest`` checks that the declared lower bounds are real:
it installs the lowest versions that ``pyproject.toml`` allows for each dependency (with uv's
``--resolution lowest-direct``; uv must be on PATH), then the wheel without its dependencies.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEEL_MUST_HOLD = (
    "mockllm/py.typed",
    "mockllm/rules/default.yml",
    "mockllm/core/vocab/o200k_base.tiktoken.gz",
    "mockllm/core/vocab/cl100k_base.tiktoken.gz",
    "mockllm/core/vocab/NOTICE",
)
SEED_CONFIG = """\
responses:
  "what colour is the sky?": "The sky is blue."
defaults:
  unknown_response: "Seed-format default answer."
settings:
  lag_enabled: false
  lag_factor: 10
"""


class SmokeFailure(Exception):
    """One check failed; the message says which and what was seen."""


def step(message: str) -> None:
    print(f"smoke: {message}", flush=True)


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; :class:`SmokeFailure` with its output when it exits non-zero."""
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        raise SmokeFailure(
            f"{' '.join(cmd)} exited {done.returncode}\n{done.stdout}\n{done.stderr}".rstrip()
        )
    return done  # type: ignore[no-any-return]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def build_wheel(out: Path, python: str) -> Path:
    step("building the wheel")
    run([python, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)])
    wheels = sorted(out.glob("mockllm-*.whl"))
    if len(wheels) != 1:
        raise SmokeFailure(f"expected one mockllm wheel in {out}, found {wheels}")
    return wheels[0]


def check_wheel(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [n for n in WHEEL_MUST_HOLD if n not in names]
    if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
        missing.append("*.dist-info/licenses/LICENSE")
    if missing:
        raise SmokeFailure(f"{wheel.name} lacks {missing}")
    step(f"{wheel.name} holds {', '.join(WHEEL_MUST_HOLD)} and the licence")


def make_venv(where: Path, python: str, wheel: Path, lowest: bool) -> Path:
    step(f"installing {wheel.name} without extras into a new virtual environment")
    run([python, "-m", "venv", str(where)])
    bin_dir = where / "bin"
    if not lowest:
        run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)])
        return bin_dir
    uv = shutil.which("uv")
    if uv is None:
        raise SmokeFailure("--lowest needs uv on PATH (pip install uv)")
    target = ["--python", str(bin_dir / "python")]
    lowest_args = ["--resolution", "lowest-direct", "-r", str(ROOT / "pyproject.toml")]
    run([uv, "pip", "install", "-q", *target, *lowest_args])
    run([uv, "pip", "install", "-q", *target, "--no-deps", str(wheel)])
    frozen = run([uv, "pip", "freeze", *target]).stdout
    step("lowest allowed versions: " + ", ".join(frozen.split()))
    return bin_dir


def post(url: str, body: dict[str, object], headers: dict[str, str]) -> dict[str, object]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, object] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as exc:
        raise SmokeFailure(f"POST {url}: {exc.code} {exc.read()[:500]!r}") from None


def wait_ready(base: str, process: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SmokeFailure(f"the server exited {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base + "/-/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SmokeFailure(f"the server did not answer /-/health within 30 s:\n{log.read_text()}")


def ask_both(base: str, prompt: str) -> tuple[str, str]:
    """The text of an OpenAI chat completion and of an Anthropic message for ``prompt``."""
    chat = post(
        base + "/v1/chat/completions",
        {"model": "gpt-4o", "messages": [{"role": "user", "content": prompt}]},
        {"authorization": "Bearer x"},
    )
    message = post(
        base + "/v1/messages",
        {
            "model": "claude-sonnet-4-6",
            "max_tokens": 100,
            "messages": [{"role": "user", "content": prompt}],
        },
        {"x-api-key": "x", "anthropic-version": "2023-06-01"},
    )
    try:
        usage = chat["usage"]
        assert isinstance(usage, dict) and usage["prompt_tokens"] > 0  # counted: vocab loaded
        text = chat["choices"][0]["message"]["content"]  # type: ignore[index]
        claude = message["content"][0]["text"]  # type: ignore[index]
    except (KeyError, IndexError, TypeError, AssertionError) as exc:
        raise SmokeFailure(f"unexpected answers: {chat} / {message}: {exc!r}") from None
    return str(text), str(claude)


def serve_and_ask(cmd: list[str], port: int, prompt: str, expected: str, workdir: Path) -> None:
    log = workdir / f"server-{port}.log"
    with log.open("w") as out:
        # A clean environment: no MOCKLLM_* of the caller's can change what is checked.
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKLLM_")}
        process = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, text=True, cwd=workdir, env=env
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process, log)
        chat, claude = ask_both(base, prompt)
        if chat != expected or claude != expected:
            raise SmokeFailure(f"{' '.join(cmd)}: expected {expected!r}, got {chat!r}, {claude!r}")
        step(f"{' '.join(Path(c).name for c in cmd[:2])} ... answered OpenAI and Anthropic")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            raise SmokeFailure(f"{' '.join(cmd)} did not stop on SIGTERM") from None
    # uvicorn shuts down gracefully, then re-raises the signal (so its exit says why).
    if code not in (0, -signal.SIGTERM) or "Application shutdown complete" not in log.read_text():
        raise SmokeFailure(f"{' '.join(cmd)} exited {code} on SIGTERM:\n{log.read_text()}")


def smoke(bin_dir: Path, workdir: Path) -> None:
    mockllm = str(bin_dir / "mockllm")
    python = str(bin_dir / "python")
    version = run([mockllm, "--version"]).stdout.strip()
    if not version.startswith("mockllm "):
        raise SmokeFailure(f"mockllm --version printed {version!r}")
    if run([python, "-m", "mockllm", "--version"]).stdout.strip() != version:
        raise SmokeFailure("python -m mockllm --version differs from mockllm --version")
    step(f"{version}; python -m mockllm works")
    shipped = run(
        [
            python,
            "-c",
            "import importlib.resources as r; print(r.files('mockllm.rules') / 'default.yml')",
        ]
    ).stdout.strip()
    run([mockllm, "validate", shipped])
    step("mockllm validate accepts the shipped default config")

    port = free_port()
    serve = [mockllm, "serve", "--port", str(port), "--no-watch"]
    serve_and_ask(serve, port, "ping", "pong", workdir)

    seed = workdir / "responses.yml"
    seed.write_text(SEED_CONFIG)
    port = free_port()
    start = [mockllm, "start", "-r", str(seed), "-h", "127.0.0.1", "-p", str(port)]
    serve_and_ask(start, port, "What colour is the sky?", "The sky is blue.", workdir)

    script = textwrap.dedent(
        """
        import json, urllib.request
        from mockllm.testing import MockServer
        with MockServer(config_text='responses: {"hi": "hello"}') as server:
            req = urllib.request.Request(
                server.openai_url + "/chat/completions",
                data=json.dumps({"model": "gpt-4o",
                                 "messages": [{"role": "user", "content": "hi"}]}).encode(),
                headers={"content-type": "application/json"})
            body = json.loads(urllib.request.urlopen(req, timeout=10).read())
            assert body["choices"][0]["message"]["content"] == "hello", body
        """
    )
    run([python, "-c", script], cwd=workdir)
    step("mockllm.testing.MockServer serves in-process")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="Python that builds the venv")
    parser.add_argument("--wheel", type=Path, help="test this wheel instead of building one")
    parser.add_argument(
        "--lowest", action="store_true", help="install the lowest allowed versions (needs uv)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="mockllm-smoke-"))
    try:
        wheel = args.wheel or build_wheel(tmp / "dist", args.python)
        check_wheel(wheel)
        bin_dir = make_venv(tmp / "venv", args.python, wheel, args.lowest)
        smoke(bin_dir, tmp)
    except SmokeFailure as exc:
        print(f"smoke: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            step(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    step(f"passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
