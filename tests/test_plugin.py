"""A third-party provider package adds a dialect without touching the core.

``tests/plugins/echo_plugin`` is a separate distribution, installed into the test
environment, that registers the ``echo`` provider through the ``mockllm.providers``
entry-point group, exactly as the built-in providers do.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import httpx

from mockllm.plugins import discover_providers
from mockllm.testing import MockServer

CONFIG = """
rules:
  - match: {prompt: {exact: "say hi"}, model: {exact: echo-1}}
    reply: "hi from a plugin"
"""


def test_plugin_is_registered_like_builtins() -> None:
    names = {ep.name: ep.value for ep in entry_points(group="mockllm.providers")}
    assert names["echo"] == "mockllm_echo:provider"
    assert names["openai"] == "mockllm.providers.openai:provider"
    loaded = [p.name for p in discover_providers()]
    assert loaded[:2] == ["openai", "anthropic"]
    assert "echo" in loaded


def test_plugin_serves_its_endpoint_with_the_shared_rules_engine() -> None:
    with MockServer(config_text=CONFIG) as server, httpx.Client(base_url=server.url) as client:
        answer = client.post("/echo/v1/generate", json={"model": "echo-1", "prompt": "say hi"})
        assert answer.status_code == 200
        assert answer.json()["output"] == "hi from a plugin"
        assert answer.json()["tokens"]["output"] == 4
        # Its models join the shared registry.
        assert server.app.services.store.current.models.get("echo", "echo-1") is not None
        # Its own error envelope, for its handler's errors and for unknown paths under its prefix.
        bad = client.post("/echo/v1/generate", json={"model": "echo-1"})
        assert bad.status_code == 400
        assert bad.json() == {
            "echo_error": {"kind": "invalid_request", "detail": "prompt: a string is required"}
        }
        missing = client.get("/echo/v1/unknown")
        assert missing.status_code == 404
        assert missing.json()["echo_error"]["kind"] == "not_found"
        # Built-in dialects are unaffected.
        ok = client.post(
            "/v1/chat/completions",
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]},
        )
        assert ok.status_code == 200


def test_allow_list_can_exclude_the_plugin() -> None:
    with MockServer(config_text=CONFIG, providers="openai,anthropic") as server:
        response = httpx.post(server.url + "/echo/v1/generate", json={"prompt": "say hi"})
        assert response.status_code == 404
        assert "error" in response.json()  # OpenAI's envelope: nobody owns /echo/ now
