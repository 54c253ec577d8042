"""Hot reload through a real server: edits are served within a second, broken edits are not.

The watcher is tested with edits made as an editor makes them (:func:`edit`, which leaves the
reload to the watcher); ``MockServer.write_config`` (which loads synchronously) is tested at
the end.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from openai import OpenAI

from mockllm.rules.loader import ConfigError
from mockllm.testing import MockServer

POLL = 0.05


def config(answer: str) -> str:
    return f'responses:\n  "hello": "{answer}"\n'


def edit(server: MockServer, text: str) -> None:
    """Replace the config file as editors do (a new file renamed over the old one) and
    leave the rest to the file watcher."""
    path = server.config_path
    assert path is not None
    tmp = path.with_suffix(".edit")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class Client:
    """Asks a running server "hello" with the official OpenAI SDK."""

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self.openai = OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)

    def ask(self) -> str | None:
        completion = self.openai.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hello"}]
        )
        return completion.choices[0].message.content

    def seconds_until(self, answer: str, limit: float = 2.0) -> float:
        """Poll every 50 ms until the server answers ``answer``; the delay, or inf."""
        started = time.monotonic()
        while time.monotonic() - started < limit:
            if self.ask() == answer:
                return time.monotonic() - started
            time.sleep(POLL)
        return float("inf")

    def keeps_answering(self, answer: str, seconds: float = 0.5) -> None:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            assert self.ask() == answer
            time.sleep(POLL)

    def close(self) -> None:
        self.openai.close()


@pytest.fixture
def watched() -> Iterator[Client]:
    with MockServer(config_text=config("first")) as server:
        client = Client(server)
        try:
            assert client.ask() == "first"
            yield client
        finally:
            client.close()


def last_error(client: Client) -> str:
    error = client.server.app.services.store.last_error
    assert error is not None
    return str(error)


def test_new_answer_is_served_within_one_second(watched: Client) -> None:
    edit(watched.server, config("second"))
    assert watched.seconds_until("second") < 1.0
    edit(watched.server, config("third"))
    assert watched.seconds_until("third") < 1.0
    store = watched.server.app.services.store
    assert store.reloads >= 2
    assert store.last_error is None


def test_in_place_write_is_picked_up(watched: Client) -> None:
    path = watched.server.config_path
    assert path is not None
    path.write_text(config("written in place"), encoding="utf-8")
    assert watched.seconds_until("written in place") < 1.0


def test_rules_and_settings_reload_too(watched: Client) -> None:
    edit(watched.server, "rules:\n  - match: {prompt: {icontains: HELLO}}\n    reply: ruled\n")
    assert watched.seconds_until("ruled") < 1.0


def test_invalid_yaml_keeps_previous_rules_then_fix_is_picked_up(watched: Client) -> None:
    path = watched.server.config_path
    edit(watched.server, 'responses:\n  "hello": [unclosed\n  "x": "y"\n')
    watched.keeps_answering("first", 0.5)
    assert last_error(watched).startswith(f"{path}:3:")
    assert "invalid YAML" in last_error(watched)
    edit(watched.server, config("fixed"))
    assert watched.seconds_until("fixed") < 1.0
    assert watched.server.app.services.store.last_error is None


def test_schema_error_keeps_previous_rules_then_fix_is_picked_up(watched: Client) -> None:
    path = watched.server.config_path
    edit(watched.server, config("broken") + "rules:\n  - match: {promt: x}\n    reply: y\n")
    watched.keeps_answering("first", 0.5)
    assert last_error(watched).startswith(f"{path}:4:13: ")
    assert "match.promt: unknown field" in last_error(watched)
    edit(watched.server, config("fixed"))
    assert watched.seconds_until("fixed") < 1.0
    assert watched.server.app.services.store.last_error is None


def test_broken_edit_after_a_good_one_keeps_the_latest_good_one(watched: Client) -> None:
    edit(watched.server, config("second"))
    assert watched.seconds_until("second") < 1.0
    edit(watched.server, "settings:\n  lag_factor: -1\n")
    watched.keeps_answering("second", 0.5)
    assert ":2:15: settings.lag_factor" in last_error(watched)


def test_deleted_file_keeps_rules_and_recreation_is_picked_up(watched: Client) -> None:
    path = watched.server.config_path
    assert path is not None
    path.unlink()
    watched.keeps_answering("first", 0.3)
    path.write_text(config("recreated"), encoding="utf-8")
    assert watched.seconds_until("recreated") < 1.0


def test_models_section_reloads() -> None:
    with MockServer(config_text=config("x")) as server, httpx.Client(base_url=server.url) as http:
        assert http.get("/v1/models/my-new-model").status_code == 404
        edit(server, config("x") + "models:\n  - id: my-new-model\n")
        started = time.monotonic()
        while http.get("/v1/models/my-new-model").status_code != 200:
            assert time.monotonic() - started < 2
            time.sleep(POLL)
        assert time.monotonic() - started < 1.0


def test_no_reload_when_watch_is_off() -> None:
    with MockServer(config_text=config("first"), watch=False) as server:
        client = Client(server)
        try:
            assert client.ask() == "first"
            edit(server, config("second"))
            client.keeps_answering("first", 0.6)
            assert server.app.services.store.reloads == 0
        finally:
            client.close()


def test_write_config_returns_once_the_new_rules_are_in_force() -> None:
    with MockServer(config_text=config("first"), watch=False) as server:
        client = Client(server)
        try:
            for answer in ("second", "third", "fourth"):
                server.write_config(config(answer))
                assert client.ask() == answer  # no waiting, no watcher
        finally:
            client.close()


def test_write_config_raises_on_an_invalid_config_and_keeps_the_rules(watched: Client) -> None:
    with pytest.raises(ConfigError) as caught:
        watched.server.write_config(config("broken") + "rules:\n  - match: {promt: x}\n")
    assert "promt" in str(caught.value)
    assert watched.ask() == "first"
    watched.keeps_answering("first", 0.3)  # the watcher's later look changes nothing


def test_a_reload_of_the_same_content_keeps_sequence_counters() -> None:
    text = "rules:\n  - {name: count, match: {prompt: hello}, sequence: [one, two, three]}\n"
    with MockServer(config_text=text) as server:
        client = Client(server)
        try:
            assert client.ask() == "one"
            edit(server, text)  # a save without a change (or a touch)
            assert server.app.services.store.reload()
            assert client.ask() == "two"
        finally:
            client.close()


def test_an_empty_file_keeps_the_rules_and_rules_empty_clears_them(watched: Client) -> None:
    for empty in ("", "  \n\n"):
        with pytest.raises(ConfigError) as caught:
            watched.server.write_config(empty)
        assert str(caught.value).endswith(
            ":1:1: config file is empty (a write in progress?); the rules in force stay; "
            "write `rules: []` to clear them"
        )
        assert watched.ask() == "first"
    watched.keeps_answering("first", 0.3)  # the watcher's look at it changes nothing
    watched.server.write_config("rules: []\n")
    assert watched.ask() == "I don't know the answer to that. This is a mock response."


def test_the_watcher_survives_a_reload_that_raised(
    watched: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = watched.server.app.services.store
    original = store.reload
    calls: list[str] = []

    def broken_once() -> bool:
        calls.append("called")
        if len(calls) == 1:
            raise RuntimeError("a bug in reload")
        return original()

    monkeypatch.setattr(store, "reload", broken_once)
    edit(watched.server, config("second"))
    watched.keeps_answering("first", 0.3)
    assert calls
    edit(watched.server, config("third"))
    assert watched.seconds_until("third") < 1.0


def test_reloads_are_parsed_off_the_event_loop(
    watched: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = watched.server.app.services.store
    original = store.reload
    threads: list[str] = []

    def slow_reload() -> bool:
        threads.append(threading.current_thread().name)
        time.sleep(0.5)  # a big config
        return original()

    monkeypatch.setattr(store, "reload", slow_reload)
    edit(watched.server, config("second"))
    with httpx.Client(base_url=watched.server.url) as http:
        assert until_called(threads) < 1.0
        started = time.monotonic()
        assert http.get("/-/health").status_code == 200
        assert watched.ask() == "first"  # served while the reload runs
        assert time.monotonic() - started < 0.3
    assert watched.seconds_until("second") < 1.5
    assert threads[0] != "mockllm-server"  # uvicorn's event loop runs there


def until_called(calls: list[str], limit: float = 2.0) -> float:
    started = time.monotonic()
    while not calls and time.monotonic() - started < limit:
        time.sleep(0.01)
    return time.monotonic() - started


def test_the_watcher_thread_ends_with_the_server() -> None:
    others = {t for t in threading.enumerate() if t.name == "mockllm-config-watch"}

    def watchers() -> set[threading.Thread]:  # this server's: others may be running
        return {t for t in threading.enumerate() if t.name == "mockllm-config-watch"} - others

    with MockServer(config_text=config("first")) as server:
        assert len(watchers()) == 1
        client = Client(server)
        try:
            edit(server, config("second"))
            assert client.seconds_until("second") < 1.0
        finally:
            client.close()
    assert not watchers()
