"""A request no cassette matches: the dialect's own 404 naming the nearest cassettes and
how they differ (``--on-miss error``), the config's rules (``rules``), or the upstream,
recorded (``record``)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import anthropic
import httpx
import ollama
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from cassettes.support import cassette_files, recording, replayer, upstream
from mockllm.cassettes import CASSETTE_HEADER, NO_CASSETTE

ANTHROPIC = {"anthropic-version": "2023-06-01", "x-api-key": "k"}
REQUESTS: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {
    "openai": (
        "/v1/chat/completions",
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello there"}]},
        {},
    ),
    "anthropic": (
        "/v1/messages",
        {
            "model": "claude-sonnet-4-6",
            "max_tokens": 50,
            "messages": [{"role": "user", "content": "hello there"}],
        },
        ANTHROPIC,
    ),
    "gemini": (
        "/v1beta/models/gemini-2.5-flash:generateContent",
        {"contents": [{"role": "user", "parts": [{"text": "hello there"}]}]},
        {"x-goog-api-key": "k"},
    ),
    "ollama": (
        "/api/chat",
        {
            "model": "llama3.2",
            "stream": False,
            "messages": [{"role": "user", "content": "hello there"}],
        },
        {},
    ),
    "azure": (
        "/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21",
        {"messages": [{"role": "user", "content": "hello there"}]},
        {"api-key": "k"},
    ),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One recorded "hello there" per dialect, and one for the test ``test_one``."""
    root = tmp_path_factory.mktemp("misses")
    with recording(root) as proxy:
        for path, body, headers in REQUESTS.values():
            response = httpx.post(proxy.url + path, json=body, headers=headers)
            assert response.status_code == 200, response.text
        path, body, headers = REQUESTS["openai"]
        changed = {**body, "messages": [{"role": "user", "content": "hello only one"}]}
        response = httpx.post(
            proxy.url + path, json=changed, headers={"x-mockllm-test": "test_one"}
        )
        assert response.status_code == 200
    return root


def _changed(dialect: str) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The recorded request of ``dialect`` with another last message."""
    path, body, headers = REQUESTS[dialect]
    body = dict(body)
    if dialect == "gemini":
        body["contents"] = [{"role": "user", "parts": [{"text": "hello here"}]}]
    else:
        body["messages"] = [{"role": "user", "content": "hello here"}]
    return path, body, headers


def _message(dialect: str, body: Any) -> str:
    """The error message, read from the dialect's own envelope (which this checks)."""
    if dialect in ("openai", "azure"):
        error = body["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert error["code"] == NO_CASSETTE and error["type"] == "invalid_request_error"
        return str(error["message"])
    if dialect == "anthropic":
        assert body["type"] == "error" and body["error"]["type"] == "not_found_error"
        return str(body["error"]["message"])
    if dialect == "gemini":
        assert body["error"]["code"] == 404 and body["error"]["status"] == "NOT_FOUND"
        return str(body["error"]["message"])
    assert set(body) == {"error"} and isinstance(body["error"], str)  # ollama
    return str(body["error"])


@pytest.mark.parametrize("dialect", list(REQUESTS))
def test_a_miss_names_the_nearest_cassette_in_the_dialects_envelope(
    folder: Path, dialect: str
) -> None:
    path, body, headers = _changed(dialect)
    with replayer(folder) as server:
        hit = httpx.post(
            server.url + REQUESTS[dialect][0],
            json=REQUESTS[dialect][1],
            headers=REQUESTS[dialect][2],
        )
        miss = httpx.post(server.url + path, json=body, headers=headers)
    assert hit.status_code == 200 and hit.headers[CASSETTE_HEADER]
    assert miss.status_code == 404
    message = _message(dialect, miss.json())
    assert NO_CASSETTE in message
    nearest = hit.headers[CASSETTE_HEADER]
    assert f"Nearest: {nearest} (message 1 differs: " in message, message
    assert "'hello here'" in message or "hello here" in message
    assert "hello there" in message


def test_a_miss_says_which_field_differs(folder: Path) -> None:
    path, body, _ = REQUESTS["openai"]
    with replayer(folder) as server:
        response = httpx.post(
            server.url + path, json={**body, "model": "gpt-4o-mini", "temperature": 0.2}
        )
    message = response.json()["error"]["message"]
    assert "model: 'gpt-4o-mini' here, 'gpt-4o' recorded" in message
    assert "parameter temperature: '0.2' here, not recorded" in message
    assert "message 1" not in message.split("Nearest: ")[1].split(")")[0]


def test_a_miss_in_each_sdk_raises_its_not_found_error(folder: Path) -> None:
    with replayer(folder) as server:
        with openai.OpenAI(base_url=server.openai_url, api_key="k", max_retries=0) as oa:
            with pytest.raises(openai.NotFoundError) as oa_error:
                oa.chat.completions.create(
                    model="gpt-4o", messages=[{"role": "user", "content": "not recorded"}]
                )
        assert oa_error.value.code == NO_CASSETTE
        with anthropic.Anthropic(base_url=server.url, api_key="k", max_retries=0) as an:
            with pytest.raises(anthropic.NotFoundError, match=NO_CASSETTE):
                an.messages.create(
                    model="claude-sonnet-4-6",
                    max_tokens=10,
                    messages=[{"role": "user", "content": "not recorded"}],
                )
        options = genai_types.HttpOptions(base_url=server.url, api_version="v1beta")
        with genai.Client(api_key="k", http_options=options) as gm:
            with pytest.raises(genai_errors.ClientError, match=NO_CASSETTE) as gm_error:
                gm.models.generate_content(model="gemini-2.5-flash", contents="not recorded")
        assert gm_error.value.code == 404
        with ollama.Client(host=server.url) as ol:
            with pytest.raises(ollama.ResponseError, match=NO_CASSETTE) as ol_error:
                ol.chat(model="llama3.2", messages=[{"role": "user", "content": "not recorded"}])
        assert ol_error.value.status_code == 404


def test_a_miss_says_when_another_test_recorded_the_request(folder: Path) -> None:
    path, body, _ = REQUESTS["openai"]
    changed = {**body, "messages": [{"role": "user", "content": "hello only one"}]}
    with replayer(folder) as server:
        mine = httpx.post(server.url + path, json=changed, headers={"x-mockllm-test": "test_one"})
        other = httpx.post(server.url + path, json=changed, headers={"x-mockllm-test": "test_two"})
        shared = httpx.post(server.url + path, json=body, headers={"x-mockllm-test": "test_two"})
    assert mine.status_code == 200
    assert mine.headers[CASSETTE_HEADER].startswith("test_one/")
    assert other.status_code == 404
    assert "It is recorded for test test_one" in other.json()["error"]["message"]
    # A test's requests also find the cassettes of the top folder.
    assert shared.status_code == 200 and "/" not in shared.headers[CASSETTE_HEADER]


RULES = """
rules:
  - name: fallback
    match: {prompt: {icontains: unrecorded}}
    reply: "From the rules."
"""


def test_on_miss_rules_falls_back_to_the_config(folder: Path) -> None:
    path, body, _ = REQUESTS["openai"]
    with replayer(folder, on_miss="rules", config_text=RULES) as server:
        recorded = httpx.post(server.url + path, json=body)
        ruled = httpx.post(
            server.url + path,
            json={**body, "messages": [{"role": "user", "content": "something unrecorded"}]},
        )
    assert recorded.headers[CASSETTE_HEADER]
    assert recorded.json()["choices"][0]["message"]["content"] == "Hello! How can I help you today?"
    assert ruled.status_code == 200 and CASSETTE_HEADER not in ruled.headers
    assert ruled.json()["choices"][0]["message"]["content"] == "From the rules."
    assert ruled.headers["x-mockllm-rule"] == "fallback"


def test_on_miss_record_forwards_and_records(folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    before = cassette_files(copy)
    path, body, _ = REQUESTS["openai"]
    new = {**body, "messages": [{"role": "user", "content": "hello newcomer"}]}
    with upstream() as service:
        with replayer(copy, on_miss="record", upstream=service.url) as server:
            recorded = httpx.post(server.url + path, json=body)
            forwarded = httpx.post(server.url + path, json=new)
            service.stop()  # from now on, only cassettes answer
            server.reset()  # identical requests start from their first cassette again
            again = httpx.post(server.url + path, json=new)
    assert recorded.headers[CASSETTE_HEADER] in before
    assert forwarded.status_code == 200 and CASSETTE_HEADER not in forwarded.headers
    added = sorted(set(cassette_files(copy)) - set(before))
    assert len(added) == 1 and added[0].startswith("openai-gpt-4o-hello-newcomer-")
    assert again.headers[CASSETTE_HEADER] == added[0]
    assert again.content == forwarded.content
    with replayer(copy) as server:  # and a new server finds it too
        assert httpx.post(server.url + path, json=new).content == forwarded.content


def test_recording_needs_an_upstream(tmp_path: Path) -> None:
    from mockllm.cassettes import CassetteError

    with pytest.raises(CassetteError, match="upstream"):
        replayer(tmp_path, on_miss="record")
    with pytest.raises(CassetteError, match="no dialect 'nope'"):
        replayer(tmp_path, on_miss="record", upstream="nope=http://127.0.0.1:1")


def test_an_unreachable_upstream_is_a_502_in_the_dialects_envelope(tmp_path: Path) -> None:
    from mockllm.testing import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    with replayer(tmp_path, record=True, upstream=dead) as proxy:
        response = httpx.post(
            proxy.url + "/v1/messages", json=REQUESTS["anthropic"][1], headers=ANTHROPIC
        )
    assert response.status_code == 502
    assert response.json()["type"] == "error"
    assert "the upstream" in response.json()["error"]["message"]
    assert cassette_files(tmp_path) == []


def test_replaying_a_folder_that_is_not_there_fails_at_start_saying_so(tmp_path: Path) -> None:
    from mockllm.cassettes import CassetteError

    missing = tmp_path / "typo"
    with pytest.raises(CassetteError, match="does not exist: nothing to replay"):
        replayer(missing)
    afile = tmp_path / "a-file.yml"
    afile.write_text("x: 1\n")
    with pytest.raises(CassetteError, match="is not a folder"):
        replayer(afile)
