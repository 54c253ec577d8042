"""The app factory: independent apps, provider plugins, health, body limit, crash safety."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from importlib.metadata import EntryPoint, EntryPoints, entry_points
from pathlib import Path
from typing import Any

import httpx
import pytest

import mockllm.plugins
from mockllm.app import create_app
from mockllm.core.errors import MockError
from mockllm.core.types import ChatRequest, Completion, Message, TextPart
from mockllm.plugins import GROUP, discover_providers
from mockllm.providers.openai import provider as openai_provider
from mockllm.settings import Settings
from mockllm.testing import MockServer

ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01"}
OPENAI_BODY: dict[str, Any] = {
    "model": "gpt-4o",
    "messages": [{"role": "user", "content": "hello"}],
}
ANTHROPIC_BODY: dict[str, Any] = {
    "model": "claude-sonnet-5-5",
    "max_tokens": 100,
    "messages": [{"role": "user", "content": "hello"}],
}


def openai_answer(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    text: str = response.json()["choices"][0]["message"]["content"]
    return text


def anthropic_answer(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    text: str = response.json()["content"][0]["text"]
    return text


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(config_text='responses:\n  hello: "hi there"\n') as running:
        yield running


@pytest.fixture
def http(server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


# --- independent apps ---------------------------------------------------------------------------


def test_two_apps_with_different_configs_do_not_share_state(tmp_path: Path) -> None:
    one, two = tmp_path / "one.yml", tmp_path / "two.yml"
    one.write_text("responses:\n  hello: one\nsettings:\n  strict_models: true\n", "utf-8")
    two.write_text("responses:\n  hello: two\nmodels:\n  - id: extra\n", "utf-8")
    app_one = create_app(Settings(config=one))
    app_two = create_app(Settings(config=two))
    a, b = app_one.services, app_two.services
    assert a.store is not b.store and a.engine is not b.engine and a.tokenizer is not b.tokenizer
    assert a.store.current.strict_models and not b.store.current.strict_models
    assert b.store.current.models.get("openai", "extra") is not None
    assert a.store.current.models.get("openai", "extra") is None
    hello = (Message("user", (TextPart("hello"),)),)
    assert (
        a.engine.complete(ChatRequest("openai", "chat", "gpt-4o", hello)).choices[0].text == "one"
    )
    assert (
        b.engine.complete(ChatRequest("openai", "chat", "gpt-4o", hello)).choices[0].text == "two"
    )
    with pytest.raises(MockError):
        a.engine.complete(ChatRequest("openai", "chat", "extra", hello))
    assert b.engine.complete(ChatRequest("openai", "chat", "extra", hello)).choices[0].text == "two"


def test_two_servers_side_by_side() -> None:
    with (
        MockServer(config_text="responses:\n  hello: one\n") as one,
        MockServer(config_text="responses:\n  hello: two\n") as two,
        httpx.Client(timeout=10) as http,
    ):

        def ask(server: MockServer) -> str:
            return openai_answer(
                http.post(server.openai_url + "/chat/completions", json=OPENAI_BODY)
            )

        assert (ask(one), ask(two)) == ("one", "two")
        two.write_config("responses:\n  hello: changed\n")
        assert two.app.services.store.reload()
        assert (ask(one), ask(two)) == ("one", "changed")


def test_invalid_config_fails_the_factory(tmp_path: Path) -> None:
    from mockllm.rules.loader import ConfigError

    bad = tmp_path / "bad.yml"
    bad.write_text("nope: 1\n", "utf-8")
    with pytest.raises(ConfigError) as info:
        create_app(Settings(config=bad))
    assert str(info.value) == f"{bad}:1:1: nope: unknown field"


# --- providers ----------------------------------------------------------------------------------


def test_all_builtin_providers_by_default() -> None:
    names = [p.name for p in create_app(Settings()).services.providers]
    assert names[:2] == ["openai", "anthropic"]


def test_provider_allow_list_openai_only() -> None:
    with MockServer(providers="openai") as server, httpx.Client(base_url=server.url) as http:
        assert [p.name for p in server.app.services.providers] == ["openai"]
        response = http.post("/v1/messages", json=ANTHROPIC_BODY, headers=ANTHROPIC_HEADERS)
        assert response.status_code == 404
        body = response.json()
        assert set(body) == {"error"}
        assert body["error"]["type"] == "invalid_request_error"
        assert set(body["error"]) == {"message", "type", "param", "code"}
        assert openai_answer(http.post("/v1/chat/completions", json=OPENAI_BODY))
        models = http.get("/v1/models", headers=ANTHROPIC_HEADERS).json()
        assert models["object"] == "list"  # OpenAI's listing, whatever the headers
        assert not [m for m in models["data"] if m["id"].startswith("claude-")]


def test_provider_allow_list_anthropic_only() -> None:
    with MockServer(providers="anthropic") as server, httpx.Client(base_url=server.url) as http:
        assert [p.name for p in server.app.services.providers] == ["anthropic"]
        response = http.post("/v1/chat/completions", json=OPENAI_BODY)
        assert response.status_code == 404
        body = response.json()
        assert body["type"] == "error"
        assert body["error"]["type"] == "not_found_error"
        response = http.post("/v1/messages", json=ANTHROPIC_BODY, headers=ANTHROPIC_HEADERS)
        assert anthropic_answer(response)


def test_allow_list_tolerates_spaces() -> None:
    assert [p.name for p in discover_providers([" openai ", "anthropic"])] == [
        "openai",
        "anthropic",
    ]
    assert discover_providers([]) == []


def test_providers_given_explicitly() -> None:
    app = create_app(Settings(), providers=[openai_provider()])
    assert [p.name for p in app.services.providers] == ["openai"]
    assert app.services.store.current.models.for_provider("anthropic") == []


def _with_extra_entry_points(monkeypatch: pytest.MonkeyPatch, *extra: EntryPoint) -> None:
    def with_extra(*, group: str) -> EntryPoints:
        return EntryPoints([*extra, *entry_points(group=group)])

    monkeypatch.setattr(mockllm.plugins, "entry_points", with_extra)


def test_broken_plugins_are_skipped_with_a_logged_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    installed = [p.name for p in discover_providers()]
    _with_extra_entry_points(
        monkeypatch,
        EntryPoint("missing", "mockllm_no_such_plugin_module:provider", GROUP),
        EntryPoint("raising", "json:loads", GROUP),  # loads() without arguments raises
        EntryPoint("wrong", "builtins:object", GROUP),  # returns an object, not a Provider
    )
    with caplog.at_level(logging.ERROR, logger="mockllm.plugins"):
        app = create_app(Settings())
    assert [p.name for p in app.services.providers] == installed
    assert installed[:2] == ["openai", "anthropic"]
    messages = {r.getMessage().split(" ", 3)[2]: r for r in caplog.records}
    assert set(messages) == {"'missing'", "'raising'", "'wrong'"}
    assert messages["'missing'"].exc_info is not None
    assert messages["'raising'"].exc_info is not None
    assert "not a Provider" in messages["'wrong'"].getMessage()


def test_broken_plugin_does_not_stop_the_server(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _with_extra_entry_points(monkeypatch, EntryPoint("broken", "mockllm_no_such:x", GROUP))
    with MockServer() as server, httpx.Client(base_url=server.url) as http:
        assert openai_answer(http.post("/v1/chat/completions", json=OPENAI_BODY))
    assert any("'broken'" in r.getMessage() for r in caplog.records)


# --- health -------------------------------------------------------------------------------------


def test_health(http: httpx.Client) -> None:
    """BUG (src/mockllm/app.py): ``_health`` is a raw ASGI callable, but ``Route`` wraps
    plain functions as request/response endpoints, so ``GET /-/health`` is a 500
    ("_health() missing 2 required positional arguments")."""
    response = http.get("/-/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_stats_count_the_stored_responses_and_completions(http: httpx.Client) -> None:
    """``GET /-/stats`` adds the entries and bytes of each store (each provider state with a
    ``stats()``), and ``POST /-/reset`` empties both stores."""
    stores = ("openai.responses", "openai.chat_store")

    def figures() -> dict[str, int]:
        stats: dict[str, int] = http.get("/-/stats").json()
        return {k: v for k, v in stats.items() if k.startswith(stores)}

    assert figures() == {f"{s}.{f}": 0 for s in stores for f in ("entries", "bytes")}
    response = http.post("/v1/responses", json={"model": "gpt-4o", "input": "hello"})
    assert response.status_code == 200, response.text
    assert openai_answer(http.post("/v1/chat/completions", json=OPENAI_BODY | {"store": True}))
    assert openai_answer(http.post("/v1/chat/completions", json=OPENAI_BODY))  # not stored
    kept = figures()
    assert kept["openai.responses.entries"] == kept["openai.chat_store.entries"] == 1
    assert kept["openai.responses.bytes"] > 1024 and kept["openai.chat_store.bytes"] > 1024
    reset = http.post("/-/reset").json()["reset"]
    assert set(stores) <= set(reset)
    assert set(figures().values()) == {0}
    assert http.get(f"/v1/responses/{response.json()['id']}").status_code == 404


# --- body size limit ----------------------------------------------------------------------------


@pytest.fixture
def small_body_server() -> Iterator[MockServer]:
    with MockServer(config_text='responses:\n  hello: "hi there"\n', max_body_bytes=1000) as s:
        yield s


def _big(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "messages": [{"role": "user", "content": "x" * 5000}]}


def test_body_over_limit_gets_413_in_openai_envelope(small_body_server: MockServer) -> None:
    with httpx.Client(base_url=small_body_server.url, timeout=10) as http:
        response = http.post("/v1/chat/completions", json=_big(OPENAI_BODY))
        assert response.status_code == 413
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert "1000 bytes" in error["message"]
        assert response.headers["x-request-id"]
        assert openai_answer(http.post("/v1/chat/completions", json=OPENAI_BODY)) == "hi there"


def test_body_over_limit_gets_413_in_anthropic_envelope(small_body_server: MockServer) -> None:
    with httpx.Client(base_url=small_body_server.url, timeout=10) as http:
        response = http.post("/v1/messages", json=_big(ANTHROPIC_BODY), headers=ANTHROPIC_HEADERS)
        assert response.status_code == 413
        body = response.json()
        assert body["type"] == "error"
        assert body["error"]["type"] == "request_too_large"
        assert body["request_id"] == response.headers["request-id"]
        response = http.post("/v1/messages", json=ANTHROPIC_BODY, headers=ANTHROPIC_HEADERS)
        assert anthropic_answer(response) == "hi there"


def test_streamed_body_over_limit_gets_413(small_body_server: MockServer) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * 100

    with httpx.Client(base_url=small_body_server.url, timeout=10) as http:
        response = http.post(
            "/v1/chat/completions", content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert openai_answer(http.post("/v1/chat/completions", json=OPENAI_BODY)) == "hi there"


def test_body_at_the_limit_is_accepted(small_body_server: MockServer) -> None:
    body = b'{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}'
    padded = body + b" " * (1000 - len(body))
    with httpx.Client(base_url=small_body_server.url, timeout=10) as http:
        response = http.post(
            "/v1/chat/completions", content=padded, headers={"content-type": "application/json"}
        )
        assert openai_answer(response) == "hi there"


# --- unexpected exceptions ----------------------------------------------------------------------


def _explode(request: ChatRequest) -> Completion:
    raise RuntimeError("kaboom in the engine")


def _crash_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR
        and r.exc_info is not None
        and isinstance(r.exc_info[1], RuntimeError)
        and "kaboom" in str(r.exc_info[1])
    ]


def test_unexpected_exception_becomes_openai_500(
    server: MockServer,
    http: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(server.app.services.engine, "complete", _explode)
    with caplog.at_level(logging.ERROR):
        response = http.post("/v1/chat/completions", json=OPENAI_BODY)
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["type"] == "server_error"
    assert set(error) == {"message", "type", "param", "code"}
    assert "kaboom" not in response.text  # internals are logged, not sent
    assert response.headers["x-request-id"]
    (record,) = _crash_records(caplog)
    assert "/v1/chat/completions" in record.getMessage()
    monkeypatch.undo()
    assert openai_answer(http.post("/v1/chat/completions", json=OPENAI_BODY)) == "hi there"


def test_unexpected_exception_becomes_anthropic_500(
    server: MockServer,
    http: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(server.app.services.engine, "complete", _explode)
    with caplog.at_level(logging.ERROR):
        response = http.post("/v1/messages", json=ANTHROPIC_BODY, headers=ANTHROPIC_HEADERS)
    assert response.status_code == 500
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "api_error"
    assert "kaboom" not in response.text
    assert len(_crash_records(caplog)) == 1
    monkeypatch.undo()
    response = http.post("/v1/messages", json=ANTHROPIC_BODY, headers=ANTHROPIC_HEADERS)
    assert anthropic_answer(response) == "hi there"


def test_unexpected_exception_on_a_stream_request_is_a_500(
    server: MockServer,
    http: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(server.app.services.engine, "complete", _explode)
    with caplog.at_level(logging.ERROR):
        response = http.post("/v1/chat/completions", json={**OPENAI_BODY, "stream": True})
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "server_error"
    monkeypatch.undo()
    assert openai_answer(http.post("/v1/chat/completions", json=OPENAI_BODY)) == "hi there"


def test_the_same_connection_serves_after_errors(
    server: MockServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """One keep-alive connection: a crash, then an ordinary request on that connection."""
    ports: list[int] = []

    def after(response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        if stream is not None:
            ports.append(stream.get_extra_info("client_addr")[1])

    with httpx.Client(base_url=server.url, timeout=10, event_hooks={"response": [after]}) as http:
        monkeypatch.setattr(server.app.services.engine, "complete", _explode)
        with caplog.at_level(logging.ERROR):
            assert http.post("/v1/chat/completions", json=OPENAI_BODY).status_code == 500
        monkeypatch.undo()
        assert openai_answer(http.post("/v1/chat/completions", json=OPENAI_BODY)) == "hi there"
    assert len(ports) == 2 and ports[0] == ports[1], ports
