"""The ``mockllm`` command line: validate, serve, the original ``start`` and the environment."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from mockllm import __version__
from mockllm.cli import build_parser, main
from mockllm.settings import Settings
from mockllm.testing import free_port

SKY = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
GOOD = 'responses:\n  "what colour is the sky?": "From my file."\nrules:\n  - reply: ruled\n'
BAD = "responses:\n  a: b\nrulez: []\nsettings:\n  lag_factor: fast\n"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that configures mockllm, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith("MOCKLLM_") and k.upper() != "CONFIG"
    }
    env.update(extra)
    return env


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockllm", *args],
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@contextmanager
def serving(
    args: list[str], port: int, tmp_path: Path, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run ``mockllm ARGS`` until it answers on ``port``; yield its URL; always kill it."""
    log = tmp_path / f"server-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mockllm", *args],
            env=env if env is not None else clean_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mockllm exited with {proc.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"mockllm did not start:\n{log.read_text()}")
            try:
                # Any HTTP answer means the server is up (the health check is tested elsewhere).
                httpx.get(url + "/-/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def ask(url: str, prompt: str = "what colour is the sky?") -> str:
    response = httpx.post(
        url + "/v1/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": prompt}]},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    content: str = response.json()["choices"][0]["message"]["content"]
    return content


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.yml"
    path.write_text(GOOD, encoding="utf-8")
    return path


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yml"
    path.write_text(BAD, encoding="utf-8")
    return path


# --- validate -----------------------------------------------------------------------------------


def test_validate_invalid_file_subprocess(bad: Path) -> None:
    done = run("validate", str(bad))
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{bad}:3:1: rulez: unknown field; did you mean 'rules'?",
        f"{bad}:5:15: settings.lag_factor: Input should be a valid number, "
        "unable to parse string as a number",
        f"{bad}: invalid (2 problem(s))",
    ]
    assert done.stderr == ""  # `validate f.yml > out.txt` keeps everything, in order


def test_validate_valid_file_subprocess(good: Path) -> None:
    done = run("validate", str(good))
    assert done.returncode == 0, done.stderr
    assert "valid" in done.stdout and "invalid" not in done.stdout
    assert str(good) in done.stdout


def test_validate_in_process(bad: Path, good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(bad)]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0] == f"{bad}:3:1: rulez: unknown field; did you mean 'rules'?"
    assert lines[1].startswith(f"{bad}:5:15: settings.lag_factor: ")
    assert lines[2] == f"{bad}: invalid (2 problem(s))"
    assert err == ""

    assert main(["validate", str(good)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"{good}: valid (1 responses, 1 rules)"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("responses:\n  a: [b\n  c: d\n", ":3:"),  # invalid YAML
        ("rules:\n  - match: {prompt: {regex: '('}}\n    reply: x\n", ":2:29:"),
        ("responses:\n  a: b\n  a: c\n", ":3:3:"),  # duplicate key
        ("- a list\n", ":1:1:"),
    ],
)
def test_validate_reports_file_line_column(
    tmp_path: Path, text: str, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yml"
    path.write_text(text, encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{path}{where}"), out


def test_validate_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.yml"
    assert main(["validate", str(missing)]) == 1
    assert capsys.readouterr().out.startswith(f"{missing}:1:1: cannot read the file")


def test_validate_embedded_default_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mockllm.rules.loader import embedded_config_text

    path = tmp_path / "default.yml"
    path.write_text(embedded_config_text(), encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: valid")


# --- help and flags -----------------------------------------------------------------------------


def test_start_help_original_form() -> None:
    done = run("start", "--help")
    assert done.returncode == 0, done.stderr
    for flag in ("--responses", "-r", "--host", "-h HOST", "--port", "-p", "--reload", "--help"):
        assert flag in done.stdout


def test_start_dash_h_means_host() -> None:
    args = build_parser().parse_args(
        ["start", "-r", "x.yml", "-h", "0.0.0.0", "-p", "8080", "--reload"]
    )
    assert (args.command, args.responses, args.host, args.port) == (
        "start",
        "x.yml",
        "0.0.0.0",
        8080,
    )
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["start", "-h"])  # -h needs a value here
    assert info.value.code == 2


def test_serve_help_lists_the_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["serve", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for flag in (
        "--config",
        "--host",
        "--port",
        "--workers",
        "--no-watch",
        "--log-level",
        "--strict-models",
        "--no-request-log",
        "-h, --help",
    ):
        assert flag in out


def test_serve_help_subprocess() -> None:
    done = run("serve", "--help")
    assert done.returncode == 0
    assert "--config" in done.stdout and "--no-watch" in done.stdout


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"mockllm {__version__}\n"


def help_of(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    return capsys.readouterr().out


def test_help_says_what_mockllm_is(capsys: pytest.CaptureFixture[str]) -> None:
    out = help_of(["--help"], capsys)
    text = " ".join(out.split())
    assert "mock LLM server" in text
    for api in ("OpenAI", "Anthropic", "Gemini", "Ollama", "Azure OpenAI", "YAML"):
        assert api in text
    for command in ("serve", "record", "cassettes", "start", "validate", "schema"):
        assert re.search(rf"^\s+{command}\s+\S", out, flags=re.M), command  # with its help


def test_serve_help_lists_every_environment_variable(capsys: pytest.CaptureFixture[str]) -> None:
    out = help_of(["serve", "--help"], capsys)
    text = " ".join(out.split())
    for name, field in Settings.model_fields.items():
        assert f"MOCKLLM_{name.upper()}" in out, name
        assert field.description is not None
        assert " ".join(field.description.split()) in text, name
    assert "MOCKLLM_RESPONSES_FILE" in out  # what the original MockLLM read
    assert "MOCKLLM_PORT Port to bind. Default: 8000." in text
    assert "MOCKLLM_WATCH Reload the config file when it changes. Default: true." in text
    assert "One of: critical, error, warning, info, debug, trace. Default: info." in text


def test_every_option_of_every_command_has_a_help_text() -> None:
    parser = build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(commands.choices) == {"serve", "record", "cassettes", "start", "validate", "schema"}
    for name, command in [("mockllm", parser), *commands.choices.items()]:
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)
        assert command.description, name


def test_validate_help_says_where_the_output_goes(capsys: pytest.CaptureFixture[str]) -> None:
    text = " ".join(help_of(["validate", "--help"], capsys).split())
    assert "file:line:column: message" in text and "stdout" in text
    assert "--strict" in text


@pytest.fixture
def captured_run(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """``uvicorn.run`` replaced by a recorder; every MOCKLLM_* variable unset, and put back
    as it was after the test (``_run`` exports the flags as MOCKLLM_* variables)."""
    import uvicorn

    for field in Settings.model_fields:
        for name in (f"MOCKLLM_{field.upper()}", "MOCKLLM_RESPONSES_FILE", "CONFIG"):
            monkeypatch.setenv(name, "")  # remembered, so the test's value is undone too
            monkeypatch.delenv(name)
    calls: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.update(kwargs))
    return calls


def test_serve_flags_become_settings(captured_run: dict[str, object], good: Path) -> None:
    argv = ["serve", "--config", str(good), "--host", "0.0.0.0", "--port", "9123"]
    argv += ["--workers", "2", "--no-watch", "--no-request-log", "--log-level", "debug"]
    assert main([*argv, "--strict-models"]) == 0
    settings = Settings()
    assert (settings.config, settings.host, settings.port) == (good, "0.0.0.0", 9123)
    assert (settings.workers, settings.watch, settings.request_log) == (2, False, False)
    assert (settings.log_level, settings.strict_models) == ("debug", True)
    assert (captured_run["host"], captured_run["port"], captured_run["workers"]) == (
        "0.0.0.0",
        9123,
        2,
    )


def test_serve_without_flags_keeps_the_defaults(captured_run: dict[str, object]) -> None:
    assert main(["serve"]) == 0
    settings = Settings()
    assert settings.request_log is True and settings.watch is True
    assert "MOCKLLM_REQUEST_LOG" not in os.environ
    assert (captured_run["host"], captured_run["port"]) == ("127.0.0.1", 8000)


# --- schema -------------------------------------------------------------------------------------


def test_schema_prints_the_config_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    from mockllm.rules.jsonschema import config_json_schema

    assert main(["schema"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == config_json_schema()
    assert err == ""


def test_schema_subprocess_checks_a_config(tmp_path: Path) -> None:
    """What docs/editors.md tells users to do: save the schema, check a config with it."""
    import jsonschema
    import yaml

    done = run("schema")
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(yaml.safe_load(GOOD))
    assert not validator.is_valid(yaml.safe_load(BAD))


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


# --- serving ------------------------------------------------------------------------------------


def test_serve_embedded_default_config(tmp_path: Path) -> None:
    port = free_port()
    with serving(["serve", "--port", str(port), "--log-level", "warning"], port, tmp_path) as url:
        assert ask(url) == SKY
        assert ask(url, "  What Colour Is The Sky?  ") == SKY
        assert ask(url, "ping") == "pong"


def test_start_original_flags(tmp_path: Path, good: Path) -> None:
    port = free_port()
    args = ["start", "-r", str(good), "-h", "127.0.0.1", "-p", str(port)]
    with serving(args, port, tmp_path) as url:
        assert ask(url) == "From my file."
        assert ask(url, "anything") == "ruled"


def test_serve_reads_mockllm_env_vars(tmp_path: Path, good: Path) -> None:
    port = free_port()
    env = clean_env(MOCKLLM_CONFIG=str(good), MOCKLLM_PORT=str(port), MOCKLLM_LOG_LEVEL="warning")
    with serving(["serve"], port, tmp_path, env) as url:
        assert ask(url) == "From my file."


def test_serve_invalid_config_exits_quickly_with_file_line(bad: Path) -> None:
    started = time.monotonic()
    done = run("serve", "--config", str(bad), "--port", str(free_port()))
    assert time.monotonic() - started < 10
    assert done.returncode != 0
    assert f"{bad}:3:1: rulez: unknown field; did you mean 'rules'?" in done.stderr
    assert f"{bad}:5:15:" in done.stderr


def test_start_invalid_config_exits_with_file_line(bad: Path) -> None:
    done = run("start", "-r", str(bad), "-p", str(free_port()))
    assert done.returncode != 0
    assert f"{bad}:3:1:" in done.stderr


def test_serve_missing_config_file_exits(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yml"
    done = run("serve", "--config", str(missing), "--port", str(free_port()))
    assert done.returncode != 0
    assert f"{missing}:1:1: cannot read the file" in done.stderr


def test_serve_missing_cassette_folder_exits_with_the_cassettes_message(tmp_path: Path) -> None:
    """The command line catches the cassettes' error without importing mockllm.cassettes
    when no cassettes are asked for."""
    missing = tmp_path / "no-cassettes"
    done = run("serve", "--cassettes", str(missing), "--port", str(free_port()))
    assert done.returncode == 1
    assert done.stderr.startswith("mockllm: cassettes\n")
    assert f"{missing} does not exist: nothing to replay" in done.stderr
    assert "Traceback" not in done.stderr


def test_unrelated_config_env_var_is_not_read_by_serve(tmp_path: Path, good: Path) -> None:
    """BUG: an environment variable named plain ``CONFIG`` (any case) is read as mockllm's
    config file and beats both ``MOCKLLM_CONFIG`` and ``--config``."""
    port = free_port()
    env = clean_env(CONFIG=str(tmp_path / "someone-elses.conf"))
    with serving(["serve", "--config", str(good), "--port", str(port)], port, tmp_path, env) as url:
        assert ask(url) == "From my file."


# --- settings from the environment --------------------------------------------------------------


@pytest.fixture
def no_mockllm_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.upper().startswith("MOCKLLM_") or name.upper() == "CONFIG":
            monkeypatch.delenv(name)
    return monkeypatch


def test_settings_defaults(no_mockllm_env: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert settings.config is None
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 1)
    assert settings.watch is True
    assert settings.strict_models is None


def test_settings_from_mockllm_env(no_mockllm_env: pytest.MonkeyPatch) -> None:
    no_mockllm_env.setenv("MOCKLLM_CONFIG", "/tmp/a.yml")
    no_mockllm_env.setenv("MOCKLLM_PORT", "9123")
    no_mockllm_env.setenv("MOCKLLM_HOST", "0.0.0.0")
    no_mockllm_env.setenv("MOCKLLM_WATCH", "false")
    no_mockllm_env.setenv("MOCKLLM_STRICT_MODELS", "true")
    no_mockllm_env.setenv("MOCKLLM_PROVIDERS", "openai")
    settings = Settings()
    assert settings.config == Path("/tmp/a.yml")
    assert (settings.port, settings.host, settings.watch) == (9123, "0.0.0.0", False)
    assert (settings.strict_models, settings.providers) == (True, "openai")


def test_settings_original_responses_file_env_var(no_mockllm_env: pytest.MonkeyPatch) -> None:
    no_mockllm_env.setenv("MOCKLLM_RESPONSES_FILE", "/tmp/original.yml")
    assert Settings().config == Path("/tmp/original.yml")
    no_mockllm_env.setenv("MOCKLLM_CONFIG", "/tmp/new.yml")
    assert Settings().config == Path("/tmp/new.yml")


def test_settings_init_arguments_win(no_mockllm_env: pytest.MonkeyPatch) -> None:
    no_mockllm_env.setenv("MOCKLLM_PORT", "9123")
    assert Settings(port=1234).port == 1234
    assert Settings(config=Path("x.yml")).config == Path("x.yml")


@pytest.mark.parametrize("name", ["CONFIG", "config"])
def test_settings_ignore_unprefixed_config_env_var(
    no_mockllm_env: pytest.MonkeyPatch, name: str
) -> None:
    """BUG (src/mockllm/settings.py): ``validation_alias=AliasChoices("config", ...)`` makes
    pydantic-settings read an env var named ``config``/``CONFIG`` (env names are
    case-insensitive and aliases bypass ``env_prefix``), and it wins over MOCKLLM_CONFIG."""
    no_mockllm_env.setenv(name, "/etc/unrelated.conf")
    assert Settings().config is None
    no_mockllm_env.setenv("MOCKLLM_CONFIG", "/tmp/mine.yml")
    assert Settings().config == Path("/tmp/mine.yml")
