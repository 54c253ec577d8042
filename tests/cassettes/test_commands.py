"""The command line of record and replay: ``mockllm record``, the ``serve`` flags, and
both commands run for real."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from cassettes.support import cassette_files, upstream
from mockllm.cli import main
from mockllm.settings import Settings
from mockllm.testing import free_port


@pytest.fixture
def captured_run(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """``uvicorn.run`` replaced by a recorder; every MOCKLLM_* variable unset, and put
    back as it was after the test (``_run`` exports the flags as MOCKLLM_* variables)."""
    import uvicorn

    for name in [*Settings.model_fields, "responses_file"]:
        variable = f"MOCKLLM_{name.upper()}"
        monkeypatch.setenv(variable, "")
        monkeypatch.delenv(variable)
    calls: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.update(kwargs))
    return calls


def test_record_flags_become_settings(captured_run: dict[str, object], tmp_path: Path) -> None:
    argv = ["record", "--cassettes", str(tmp_path), "--port", "9124"]
    argv += ["--upstream", "http://127.0.0.1:1", "--upstream", "anthropic=http://127.0.0.1:2"]
    assert main([*argv, "--redact-field", "api_token", "--redact-field", "session"]) == 0
    settings = Settings()
    assert settings.record is True and settings.cassettes == tmp_path
    assert settings.upstream == "http://127.0.0.1:1,anthropic=http://127.0.0.1:2"
    assert settings.redact_fields == "api_token,session"
    assert settings.workers == 1 and captured_run["port"] == 9124


def test_serve_flags_of_replay_become_settings(
    captured_run: dict[str, object], tmp_path: Path
) -> None:
    argv = ["serve", "--cassettes", str(tmp_path), "--on-miss", "record", "--replay-timing"]
    argv += ["0.5", "--upstream", "http://127.0.0.1:1", "--upstream", "gemini=http://x:3"]
    assert main(argv) == 0
    settings = Settings()
    assert (settings.cassettes, settings.on_miss, settings.replay_timing) == (
        tmp_path,
        "record",
        "0.5",
    )
    assert settings.record is False and settings.upstream == "http://127.0.0.1:1,gemini=http://x:3"


def test_record_needs_an_upstream_and_a_folder(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["record", "--cassettes", "x"])
    assert info.value.code == 2
    assert "--upstream" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["record", "--upstream", "http://127.0.0.1:1"])


def test_settings_that_do_not_fit_fail_before_serving(
    captured_run: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--cassettes", str(tmp_path), "--on-miss", "record"]) == 1
    assert "recording needs an upstream" in capsys.readouterr().err
    argv = ["record", "--cassettes", str(tmp_path), "--upstream", "ftp://nowhere"]
    assert main(argv) == 1
    assert "not an http:// or https:// URL" in capsys.readouterr().err
    assert captured_run == {}


def test_an_invalid_replay_timing_is_refused() -> None:
    with pytest.raises(ValueError, match="recorded, fast or a factor"):
        Settings(replay_timing="slow")
    assert Settings(replay_timing=" Fast ").replay_timing == "fast"


def test_help_describes_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["record", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "x-mockllm-test" in text and "DIALECT=URL" in text and "never reach a file" in text
    with pytest.raises(SystemExit):
        main(["cassettes", "check", "--help"])
    assert "Exit status: 0 valid, 1 problems." in " ".join(capsys.readouterr().out.split())


@contextmanager
def command(args: list[str], log: Path) -> Iterator[str]:
    """Run ``mockllm ARGS --port P`` until it answers; yield its URL; stop it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("MOCKLLM_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mockllm", *args, "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                httpx.get(url + "/-/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_record_then_serve_from_the_command_line(tmp_path: Path) -> None:
    folder = tmp_path / "cassettes"
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello command"}]}
    with upstream() as service:
        args = ["record", "--upstream", service.url, "--cassettes", str(folder)]
        with command(args, tmp_path / "record.log") as url:
            recorded = httpx.post(url + "/v1/chat/completions", json=body)
    assert recorded.status_code == 200
    assert len(cassette_files(folder)) == 1
    log = (tmp_path / "record.log").read_text()
    assert f"recording: every request goes to {service.url}" in log
    with command(["serve", "--cassettes", str(folder)], tmp_path / "serve.log") as url:
        replayed = httpx.post(url + "/v1/chat/completions", json=body)
    assert replayed.content == recorded.content
    assert "cassettes: 1 in" in (tmp_path / "serve.log").read_text()
