"""Clients we do not control prove the wire format: the JavaScript ``openai`` package and
the Vercel AI SDK (``ai`` with ``@ai-sdk/openai``, whose default model call uses the
Responses API, and ``@ai-sdk/anthropic``), run with Node against a real mockllm server.

The scripts live in ``tests/js/`` and print what the client saw as JSON; ``scripts/test``
installs their pinned dependencies (``npm ci``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mockllm.testing import MockServer

JS = Path(__file__).parent.parent / "js"
SKY = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."

CONFIG = f"""
responses:
  "what colour is the sky?": "{SKY}"
rules:
  - name: weather-tool
    match: {{prompt: {{icontains: weather in paris}}, tool_result: false, tools: [get_weather]}}
    reply: {{tool_calls: [{{name: get_weather, arguments: {{city: Paris}}}}]}}
  - name: weather-final
    match: {{tool_result: {{tool: get_weather}}}}
    reply: "Result: {{{{ last_tool_result.content }}}}."
"""


@pytest.fixture(scope="module")
def js_server() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG) as running:
        yield running


def run_node(script: str, server: MockServer) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "Node.js is required: scripts/test installs it (apt-get install nodejs)"
    assert (JS / "node_modules").is_dir(), "run `npm ci` in tests/js (scripts/test does)"
    env = dict(os.environ, MOCKLLM_OPENAI_URL=server.openai_url)
    done = subprocess.run(
        [node, str(JS / script)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def openai_js(js_server: MockServer) -> dict[str, Any]:
    return run_node("openai_sdk.mjs", js_server)


@pytest.fixture(scope="module")
def vercel(js_server: MockServer) -> dict[str, Any]:
    return run_node("vercel_ai.mjs", js_server)


def test_openai_js_chat(openai_js: dict[str, Any]) -> None:
    assert openai_js["chat"]["content"] == SKY
    assert openai_js["chat"]["id"].startswith("chatcmpl-")
    usage = openai_js["chat"]["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_openai_js_stream(openai_js: dict[str, Any]) -> None:
    assert openai_js["stream"]["text"] == SKY
    assert openai_js["stream"]["chunks"] > 5
    assert openai_js["stream"]["usage"]["completion_tokens"] > 0


def test_openai_js_stream_helper_tool_call(openai_js: dict[str, Any]) -> None:
    assert openai_js["tool"] == {
        "name": "get_weather",
        "arguments": {"city": "Paris"},
        "finish": "tool_calls",
        "role": "assistant",
    }


def test_openai_js_error_class(openai_js: dict[str, Any]) -> None:
    assert openai_js["error"]["status"] == 400
    assert openai_js["error"]["name"] == "BadRequestError"
    assert openai_js["error"]["code"] == "empty_array"


def test_openai_js_responses(openai_js: dict[str, Any]) -> None:
    responses = openai_js["responses"]
    assert "error" not in responses, responses
    assert responses["text"] == SKY
    assert responses["stream_text"] == SKY
    assert responses["events"][0] == "response.created"
    assert responses["events"][-1] == "response.completed"


def test_openai_js_embeddings(openai_js: dict[str, Any]) -> None:
    assert openai_js["embedding"] == {"length": 1536, "tokens": 2}


def test_vercel_chat_completions(vercel: dict[str, Any]) -> None:
    assert vercel["chat_text"] == {"text": SKY, "finish": "stop"}
    assert vercel["chat_stream"] == {"text": SKY, "finish": "stop"}


def test_vercel_chat_tool_loop(vercel: dict[str, Any]) -> None:
    assert vercel["chat_tools"]["calls"] == [["get_weather", {"city": "Paris"}]]
    assert vercel["chat_tools"]["text"] == "Result: sunny in Paris."


def test_vercel_default_model_uses_the_responses_api(vercel: dict[str, Any]) -> None:
    assert vercel["responses_text"]["text"] == SKY, vercel["responses_text"]
    assert vercel["responses_text"]["finish"] == "stop"
    assert vercel["responses_stream"]["text"] == SKY
    assert vercel["responses_stream"]["chunks"] > 5


def test_vercel_responses_tool_loop(vercel: dict[str, Any]) -> None:
    assert vercel["responses_tools"]["calls"] == [["get_weather", {"city": "Paris"}]]
    assert vercel["responses_tools"]["text"] == "Result: sunny in Paris."


def test_vercel_generate_object_gets_schema_valid_json(vercel: dict[str, Any]) -> None:
    obj = vercel["object"]["object"]
    assert isinstance(obj["name"], str)
    assert isinstance(obj["population"], int) and obj["population"] >= 0
    assert all(isinstance(t, str) for t in obj["tags"])


def test_vercel_anthropic(vercel: dict[str, Any]) -> None:
    assert vercel["anthropic_text"] == {"text": SKY, "finish": "stop"}
    assert vercel["anthropic_stream"] == {"text": SKY, "finish": "stop"}
