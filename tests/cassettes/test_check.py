"""``mockllm cassettes check DIR``: a good folder passes; invalid files, duplicates and
files that are not cassettes are reported, and the exit status is 1."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cassettes.support import cassette_files, recording, replayer
from mockllm.cassettes import CassetteError
from mockllm.cli import main


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("good")
    with recording(root) as proxy:
        for test, prompt in ((None, "hello one"), ("test_a", "hello two"), ("test_a", "hi")):
            response = httpx.post(
                proxy.url + "/api/chat",
                json={"model": "llama3.2", "messages": [{"role": "user", "content": prompt}]},
                headers={"x-mockllm-test": test} if test else {},
            )
            assert response.status_code == 200
    (root / ".gitkeep").write_text("")
    return root


def test_a_good_folder_passes(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cassettes", "check", str(good)]) == 0
    out = capsys.readouterr().out
    assert out == f"{good}: 3 cassettes, valid\n"


def test_a_good_folder_passes_in_a_subprocess(good: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockllm", "cassettes", "check", str(good)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 cassettes, valid" in done.stdout


def test_a_bad_folder_fails_with_each_problem(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    [first, *_] = cassette_files(bad)
    shutil.copy(bad / first, bad / "copy-of-the-first.yml")  # a duplicate
    (bad / "broken.yml").write_text("version: 1\nrequest: [unclosed\n")
    (bad / "schema.yml").write_text(
        "version: 2\nrequest: {dialect: openai, method: POST}\nresponse: {status: 200}\n"
    )
    (bad / "README.md").write_text("notes")
    (bad / "test_a" / "deeper").mkdir()
    shutil.copy(bad / first, bad / "test_a" / "deeper" / "lost.yml")

    assert main(["cassettes", "check", str(bad)]) == 1
    lines = capsys.readouterr().out.splitlines()
    text = "\n".join(lines)
    assert f"{bad}/README.md: not a cassette" in text
    assert f"{bad}/broken.yml: not valid YAML" in text
    assert f"{bad}/schema.yml: version: Input should be 1" in text
    assert f"{bad}/schema.yml: request.path: Field required" in text
    assert "schema.yml: response: Value error, a response has exactly one of" in text
    assert f"{bad}/copy-of-the-first.yml: duplicate of {first}" in text or (
        f"{bad}/{first}: duplicate of copy-of-the-first.yml" in text
    )
    assert f"{bad}/test_a/deeper/lost.yml: not where a cassette is read" in text
    assert ".gitkeep" not in text
    assert lines[-1] == f"{bad}: 3 valid cassettes, 7 problem(s)"


def test_a_missing_folder_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cassettes", "check", str(tmp_path / "nope")]) == 1
    assert "no such folder" in capsys.readouterr().out


def test_a_server_refuses_an_invalid_cassette(good: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    (bad / "broken.yml").write_text("version: 1\nrequest: [unclosed\n")
    (bad / "notes.txt").write_text("not a cassette, but no reason to refuse to start")
    with pytest.raises(CassetteError, match=r"broken\.yml: not valid YAML"):
        replayer(bad)
    (bad / "broken.yml").write_text((good / cassette_files(good)[0]).read_text())
    with replayer(bad) as server:  # the duplicate is skipped, the server starts
        assert httpx.get(server.url + "/-/stats").json()["cassettes.files"] == 3
