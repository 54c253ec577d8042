"""No secret reaches a cassette, on any dialect: API keys in every header the SDKs use,
``?key=``, cookies, and the body fields the settings name."""

from __future__ import annotations

from pathlib import Path

import anthropic
import httpx
import ollama
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from cassettes.support import cassette_files, recording, replayer

SECRET = "SECRET"  # every secret below holds this word; no file may


def record_everything(url: str) -> None:
    cookie = {"cookie": f"session={SECRET}-cookie-123456; theme=dark"}
    with openai.OpenAI(
        base_url=url + "/v1", api_key=f"sk-{SECRET}-openai-123456", default_headers=cookie
    ) as oa:
        oa.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hello"}],
            user=f"{SECRET}-user-id",
            extra_body={"api_token": f"{SECRET}-body-field-123", "api_key": f"{SECRET}-key-1"},
        )
        list(
            oa.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hello"}], stream=True
            )
        )
    with anthropic.Anthropic(base_url=url, api_key=f"sk-ant-{SECRET}-123456") as an:
        an.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=20,
            messages=[{"role": "user", "content": "hello"}],
            metadata={"user_id": f"{SECRET}-anthropic-user"},
        )
    with anthropic.Anthropic(base_url=url, auth_token=f"{SECRET}-bearer-123456") as an:
        with an.messages.stream(
            model="claude-sonnet-4-6", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            stream.until_done()
    options = genai_types.HttpOptions(base_url=url, api_version="v1beta")
    with genai.Client(api_key=f"AIza{SECRET}-gemini-123456", http_options=options) as gm:
        gm.models.generate_content(model="gemini-2.5-flash", contents="hello")
        list(gm.models.generate_content_stream(model="gemini-2.5-flash", contents="hello"))
    response = httpx.post(
        url + f"/v1beta/models/gemini-2.5-flash:generateContent?key={SECRET}-query-123456",
        json={"contents": [{"role": "user", "parts": [{"text": "hello query"}]}]},
    )
    assert response.status_code == 200, response.text
    bearer = {"authorization": f"Bearer {SECRET}-ollama-123456"}
    with ollama.Client(host=url, headers=bearer) as ol:
        ol.chat(model="llama3.2", messages=[{"role": "user", "content": "hello"}])
        list(ol.chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}], stream=True))
    with openai.AzureOpenAI(
        azure_endpoint=url, api_version="2024-10-21", api_key=f"{SECRET}-azure-123456"
    ) as az:
        az.chat.completions.create(
            model="my-deployment", messages=[{"role": "user", "content": "hello"}]
        )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("secrets")
    with recording(root, redact_fields="api_token") as proxy:
        record_everything(proxy.url)
    return root


def test_no_secret_in_any_file(folder: Path) -> None:
    files = cassette_files(folder)
    dialects = {name.split("-", 1)[0] for name in files}
    assert dialects == {"openai", "anthropic", "gemini", "ollama", "azure"}
    assert len(files) == 10
    for name in files:
        text = (folder / name).read_text()
        assert SECRET not in text, name
        for header in ("authorization", "x-api-key", "api-key:", "x-goog-api-key", "cookie"):
            assert header not in text.lower(), (name, header)


def test_redacted_fields_are_marked_and_volatile_ones_left_out(folder: Path) -> None:
    [name] = [
        n
        for n in cassette_files(folder)
        if n.startswith("openai-")
        and "stream" not in n
        and "[redacted]" in (folder / n).read_text()
    ]
    text = (folder / name).read_text()
    assert "api_token: '[redacted]'" in text and "api_key: '[redacted]'" in text
    assert "user:" not in text  # a volatile field: not matched, not kept
    gemini = [n for n in cassette_files(folder) if "hello-query" in n]
    assert gemini and "key" not in (folder / gemini[0]).read_text().split("response:")[0]


def test_the_redacted_requests_still_replay(folder: Path) -> None:
    # The replay is not told about api_token: the cassettes say it was redacted.
    with replayer(folder, replay_timing="fast") as server:
        record_everything(server.url)  # every request matches, whatever its secrets
        assert httpx.get(server.url + "/-/stats").json()["cassettes.missed"] == 0
