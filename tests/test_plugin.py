"""A third-party provider package adds a dialect without touching the core.

``tests/plugins/echo_plugin`` is a separate distribution, installed into the test
environment, that registers the ``echo`` provider through the ``mockllm.providers``
entry-point group, exactly as the built-in providers do.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai as openai_sdk
import pytest

from mockllm.plugins import PluginError, discover_providers
from mockllm.testing import MockServer

CONFIG = """
rules:
  - match: {prompt: {exact: "say hi"}, model: {exact: echo-1}}
    reply: "hi from a plugin"
defaults:
  unknown_response: "the default answer"
"""
DEFAULT_ANSWER = "the default answer"


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


def test_plugin_streams_through_the_serving_path() -> None:
    with MockServer(config_text=CONFIG) as server, httpx.Client(base_url=server.url) as client:
        answer = client.post(
            "/echo/v1/generate", json={"model": "echo-1", "prompt": "say hi", "stream": True}
        )
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/x-ndjson"
        assert answer.headers["x-mockllm-rule"].startswith("rule #1 at config.yml")
        lines = [json.loads(line) for line in answer.text.splitlines()]
        assert "".join(line.get("token", "") for line in lines[:-1]) == "hi from a plugin"
        assert lines[-1]["done"] is True


def test_validator_plugin_refuses_in_each_dialect_s_own_envelope() -> None:
    with (
        MockServer(config_text=CONFIG, validators="require_user") as server,
        httpx.Client(base_url=server.url) as client,
    ):
        messages: list[Any] = [{"role": "user", "content": "hi"}]
        openai = openai_sdk.OpenAI(base_url=server.url + "/v1", api_key="k", max_retries=0)
        with pytest.raises(openai_sdk.BadRequestError) as refused:
            openai.chat.completions.create(model="gpt-4o", messages=messages)
        assert refused.value.body == {
            "message": "require_user: every request must name its end user ('user').",
            "type": "invalid_request_error",
            "param": "user",
            "code": "missing_user",
        }
        served = openai.chat.completions.create(model="gpt-4o", messages=messages, user="u1")
        assert served.choices[0].message.content
        claude = anthropic.Anthropic(base_url=server.url, api_key="k", max_retries=0)
        with pytest.raises(anthropic.BadRequestError) as denied:
            claude.messages.create(model="claude-sonnet-4-5", max_tokens=50, messages=messages)
        assert denied.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
        ok = claude.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=50,
            messages=messages,
            metadata={"user_id": "u1"},
        )
        assert ok.content
        echo = client.post("/echo/v1/generate", json={"prompt": "say hi"})
        assert echo.status_code == 400
        assert echo.json()["echo_error"]["kind"] == "invalid_request"
        # Endpoints that generate nothing are not validated.
        assert client.get("/v1/models").status_code == 200


def test_stage_plugin_rewrites_the_reply_of_every_dialect() -> None:
    with MockServer(config_text=CONFIG, stages="shout") as server:
        openai = openai_sdk.OpenAI(base_url=server.url + "/v1", api_key="k")
        text = openai.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hello"}]
        )
        assert text.choices[0].message.content == DEFAULT_ANSWER.upper()
        stream = openai.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hello"}], stream=True
        )
        pieces = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert pieces == DEFAULT_ANSWER.upper()
        claude = anthropic.Anthropic(base_url=server.url, api_key="k")
        message = claude.messages.create(
            model="claude-sonnet-4-5", max_tokens=200, messages=[{"role": "user", "content": "hi"}]
        )
        assert message.content[0].text == DEFAULT_ANSWER.upper()  # type: ignore[union-attr]


def test_unknown_validator_or_stage_fails_at_start() -> None:
    with pytest.raises(PluginError, match="no mockllm.validators plugin called 'nope'"):
        MockServer(config_text=CONFIG, validators="nope")
    with pytest.raises(PluginError, match="installed: shout"):
        MockServer(config_text=CONFIG, stages="nope")


def test_cli_refuses_an_unknown_stage(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockllm", "serve", "--stage", "nope", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "no mockllm.stages plugin called 'nope'" in done.stderr


def test_example_plugin_imports_only_the_public_surface() -> None:
    spec = importlib.util.find_spec("mockllm_echo")
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mockllm")
    }
    imported |= {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.startswith("mockllm")
    }
    assert imported == {"mockllm.plugin"}


PUBLIC_SURFACE = [
    "SSE",
    "ChatRequest",
    "Choice",
    "ChoiceEnd",
    "ChoiceStart",
    "Completion",
    "ErrorKind",
    "Frame",
    "Handler",
    "HttpCall",
    "ImagePart",
    "JsonResult",
    "Limits",
    "Message",
    "MockError",
    "ModelInfo",
    "OtherPart",
    "Part",
    "Provider",
    "ReasoningDelta",
    "RefusalDelta",
    "ReplyEvent",
    "Result",
    "RouteSpec",
    "Stage",
    "StreamResult",
    "TextDelta",
    "TextPart",
    "ToolArgumentsDelta",
    "ToolCall",
    "ToolCallEnd",
    "ToolCallStart",
    "ToolChoice",
    "ToolSpec",
    "Traits",
    "Turn",
    "Usage",
    "Validator",
    "answer",
    "decide",
    "deliver",
    "generation",
    "header_value",
    "iter_events",
    "new_id",
    "sse",
]


def test_public_plugin_surface_is_pinned() -> None:
    """A change to mockllm.plugin's names is a decision: update this list, the plugin
    guide (docs/plugins.md) and the changelog together."""
    import mockllm.plugin

    assert sorted(mockllm.plugin.__all__) == sorted(PUBLIC_SURFACE)
    for name in PUBLIC_SURFACE:
        assert getattr(mockllm.plugin, name) is not None
    guide = (Path(__file__).parent.parent / "docs" / "plugins.md").read_text(encoding="utf-8")
    missing = [n for n in PUBLIC_SURFACE if f"`{n}`" not in guide and f"`{n}(" not in guide]
    assert not missing, f"docs/plugins.md does not describe {missing}"
