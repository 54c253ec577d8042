"""Cassettes per test (``x-mockllm-test``): one folder each, a re-recording replaces only
that test's files; the same request several times replays its answers in order."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai

from cassettes.support import cassette_files, recording, replayer
from mockllm.cassettes.format import parse

CHAT = "/v1/chat/completions"


def ask(url: str, prompt: str, test: str | None = None) -> httpx.Response:
    headers = {"x-mockllm-test": test} if test else {}
    response = httpx.post(
        url + CHAT,
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": prompt}]},
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response


def content(response: httpx.Response) -> str:
    return str(response.json()["choices"][0]["message"]["content"])


def test_each_test_gets_a_folder_and_a_rerecording_replaces_only_its_own(tmp_path: Path) -> None:
    one, two = "tests/test_app.py::test_one[gpt-4o]", "tests/test_app.py::test_two"
    with recording(tmp_path) as proxy:
        ask(proxy.url, "hello shared")
        ask(proxy.url, "hello first", one)
        ask(proxy.url, "hello second", one)  # the folder is emptied on the first request only
        ask(proxy.url, "hello other", two)
    first = cassette_files(tmp_path)
    assert [f.split("/")[0] for f in first] == [
        "openai-gpt-4o-hello-shared-" + first[0].split("-")[-1].removesuffix(".yml") + ".yml",
        "tests_test_app.py_test_one_gpt-4o",
        "tests_test_app.py_test_one_gpt-4o",
        "tests_test_app.py_test_two",
    ]
    assert parse((tmp_path / first[1]).read_text(), first[1]).test == one

    (tmp_path / "tests_test_app.py_test_one_gpt-4o" / "notes.txt").write_text("kept")
    with recording(tmp_path) as proxy:  # test_one again, with one request now
        ask(proxy.url, "hello again", one)
    second = cassette_files(tmp_path)
    assert second == sorted([first[0], first[3], *[f for f in second if "hello-again" in f]]), (
        second
    )
    assert (tmp_path / "tests_test_app.py_test_one_gpt-4o" / "notes.txt").is_file()

    with replayer(tmp_path) as server:
        assert content(ask(server.url, "hello again", one)) == "Hello! How can I help you today?"
        assert content(ask(server.url, "hello other", two))
        missing = httpx.post(
            server.url + CHAT,
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hello first"}]},
            headers={"x-mockllm-test": one},
        )
        assert missing.status_code == 404  # replaced by the re-recording


def test_the_same_request_replays_its_answers_in_order(tmp_path: Path) -> None:
    test = "test_counting"
    with recording(tmp_path) as proxy:
        recorded = [content(ask(proxy.url, "count please", test)) for _ in range(3)]
    assert recorded == ["one", "two", "three"]
    files = cassette_files(tmp_path)
    assert len(files) == 3
    base = files[-1].removesuffix(".yml")
    assert files == [f"{base}-1.yml", f"{base}-2.yml", f"{base}.yml"]
    indexes = [parse((tmp_path / f).read_text(), f).index for f in files]
    assert indexes == [1, 2, 0]

    with replayer(tmp_path) as server:
        replayed = [content(ask(server.url, "count please", test)) for _ in range(4)]
        assert replayed == ["one", "two", "three", "three"]  # then the last one again
        assert httpx.post(server.url + "/-/reset").status_code == 200
        assert content(ask(server.url, "count please", test)) == "one"
        stats = httpx.get(server.url + "/-/stats").json()
        journal = httpx.get(server.url + "/-/requests").json()["data"]
    assert stats["cassettes.files"] == 3 and stats["cassettes.replayed"] == 5
    # The journal (and the request log line) say which cassette answered.
    assert journal[-1]["reason"] == f"cassette {base}.yml"


def test_a_conversation_through_the_sdk_replays_turn_by_turn(tmp_path: Path) -> None:
    def conversation(url: str) -> list[str]:
        headers = {"x-mockllm-test": "test_conversation"}
        with openai.OpenAI(
            base_url=url + "/v1", api_key="k", default_headers=headers, max_retries=0
        ) as client:
            messages: list[openai.types.chat.ChatCompletionMessageParam] = []
            said = []
            for prompt in ("count please", "count please", "hello you"):
                messages.append({"role": "user", "content": prompt})
                reply = client.chat.completions.create(model="gpt-4o", messages=messages)
                text = reply.choices[0].message.content or ""
                messages.append({"role": "assistant", "content": text})
                said.append(f"{reply.id}:{text}")
            return said

    with recording(tmp_path) as proxy:
        recorded = conversation(proxy.url)
    with replayer(tmp_path) as server:
        assert conversation(server.url) == recorded
    assert [s.split(":")[1] for s in recorded] == ["one", "two", "Hello! How can I help you today?"]
