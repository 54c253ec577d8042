"""What ``mockllm serve`` prints: the start-up summary and one line per request, as a user
reads them in a terminal (a real process, its real output)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mockllm.cli import _is_loopback
from mockllm.testing import free_port

CONFIG = """
responses:
  "hello": "Hello from the file."
rules:
  - name: weather
    match: {prompt: {icontains: weather}}
    reply: "Sunny."
"""


def serve(tmp_path: Path, *args: str) -> tuple[str, int]:
    """Run ``mockllm serve`` with ``args``, send three requests, stop it; its output."""
    config = tmp_path / "rules.yml"
    config.write_text(CONFIG)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKLLM_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockllm",
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(base + "/-/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                assert process.poll() is None, "server exited"
                time.sleep(0.05)
        body: dict[str, object] = {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "weather?"}],
        }
        assert httpx.post(base + "/v1/chat/completions", json=body).status_code == 200
        body["stream"] = True
        assert httpx.post(base + "/v1/chat/completions", json=body).status_code == 200
        anthropic = {
            "model": "claude-sonnet-4-6",
            "max_tokens": 9,
            "messages": [{"role": "user", "content": "hello"}],
        }
        assert httpx.post(base + "/v1/messages", json=anthropic).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=15)
    return output, port


def test_start_up_summary_and_one_line_per_request(tmp_path: Path) -> None:
    output, port = serve(tmp_path)
    assert f"config: {tmp_path / 'rules.yml'} (1 responses, 1 rules, watched for changes)" in output
    assert "dialects: openai (/v1/), anthropic (/v1/messages, /v1/)" in output
    assert "ollama (/api/)" in output and "gemini (/v1beta/, /v1/)" in output
    assert f"serving on http://127.0.0.1:{port}" in output
    assert "POST /v1/chat/completions openai model=gpt-4o rule=weather 200 json" in output
    assert "POST /v1/chat/completions openai model=gpt-4o rule=weather 200 stream" in output
    assert "POST /v1/messages anthropic model=claude-sonnet-4-6 rule=responses 200 json" in output
    assert "Traceback" not in output


def test_no_request_log_keeps_the_summary_and_drops_the_lines(tmp_path: Path) -> None:
    output, _port = serve(tmp_path, "--no-request-log")
    assert "dialects: openai" in output
    assert "POST /v1/" not in output


def test_log_level_warning_silences_both(tmp_path: Path) -> None:
    output, _port = serve(tmp_path, "--log-level", "warning")
    assert "dialects:" not in output and "POST /v1/" not in output


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.4", False),
        ("example.internal", False),
    ],
)
def test_which_addresses_count_as_loopback(host: str, loopback: bool) -> None:
    # A non-loopback address without MOCKLLM_ADMIN_TOKEN gets a warning at start.
    assert _is_loopback(host) is loopback
