"""Scenarios (docs/rules.md) through the official SDKs, over real sockets: what the
``test_scenarios_*.py`` files share (the rule file, the tools, request helpers for the raw wire
and for each SDK; the fixtures are in this folder's ``conftest.py``).

One rule file behaves the same through both dialects: tool calls (single, parallel, with
text before them, streamed), refusals, reasoning, error replies raising the SDKs' own
exception classes (and SDK retries honouring ``retry-after``), sequences per conversation
(also under concurrency), strict mode and the automatic answers.

Raw OpenAI payloads are validated against the official OpenAPI schemas
(``tests/openapi_schemas.py``); raw Anthropic payloads against the SDK's own types in
pydantic strict mode (JSON mode), as ``test_anthropic_streaming`` does.

Imported as ``rules.scenario_support`` (``tests/`` is on the path, as for ``golden_files``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import openai
import orjson
import pydantic
from anthropic.types import RawMessageStreamEvent, TextBlock, ToolParam
from openai.types.chat import ChatCompletionToolUnionParam

from mockllm.testing import MockServer
from openapi_schemas import assert_valid

GPT = "gpt-4o"
CLAUDE = "claude-opus-4-6"
CONVERSATION = "x-mockllm-conversation"
ANTHROPIC_HEADERS = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}
OPENAI_HEADERS = {"authorization": "Bearer sk-test"}
EVENT: pydantic.TypeAdapter[RawMessageStreamEvent] = pydantic.TypeAdapter(RawMessageStreamEvent)

REASONING = "The user wants the meaning of life. Douglas Adams says forty-two."
LONG_NOTE = "a long note, so that the arguments stream in several fragments"

CONFIG = f"""\
defaults:
  unknown_response: "No rule for {{{{ prompt | tojson }}}}."
  after_tool_result: >-
    Done: {{{{ last_tool_result.tool }}}} said {{{{ last_tool_result.content }}}}.
rules:
  - name: weather-call
    match: {{prompt: {{icontains: weather}}, tool_result: false}}
    reply:
      text: Let me check.
      tool_calls:
        - name: get_weather
          arguments: {{city: Paris, unit: celsius, note: "{LONG_NOTE}"}}
  - name: parallel-calls
    match: {{prompt: {{icontains: compare}}, tool_result: false}}
    reply:
      text: Checking both cities.
      tool_calls:
        - {{name: get_weather, arguments: {{city: Paris, days: 3}}}}
        - {{name: get_weather, arguments: {{city: 'Rome, "Italy"'}}}}
        - {{name: get_time, arguments: '{{"tz": "Europe/Paris"}}'}}
  - name: call-only
    match: {{prompt: what time is it}}
    reply:
      tool_calls: [{{name: get_time, arguments: {{tz: UTC}}}}]
  - name: refuse
    match: {{prompt: {{icontains: forbidden}}}}
    reply: {{refusal: "I can't help with that request."}}
  - name: think
    match: {{prompt: think}}
    reply: {{reasoning: "{REASONING}", text: The answer is 42.}}
  - name: think-then-call
    match: {{prompt: think then call}}
    reply:
      reasoning: I need the weather and the time.
      text: Calling two tools.
      tool_calls:
        - {{name: get_weather, arguments: {{city: Oslo}}}}
        - {{name: get_time, arguments: {{tz: CET}}}}
  - name: rate-limited
    match: {{prompt: rate limit}}
    reply:
      error: {{status: 429, retry_after: 7, code: rate_limit_exceeded, message: Slow down.}}
  - name: overloaded
    match: {{prompt: overloaded}}
    reply: {{error: {{status: 529, message: Overloaded.}}}}
  - name: unauthorized
    match: {{prompt: bad key}}
    reply: {{error: {{status: 401, message: Invalid API key., code: invalid_api_key}}}}
  - name: flaky
    match: {{prompt: flaky}}
    sequence:
      - {{error: {{status: 429, retry_after: 0.01}}}}
      - "ok on attempt {{{{ counter }}}}"
  - name: flaky-overloaded
    match: {{prompt: overloaded then ok}}
    sequence:
      - {{error: {{status: 529, retry_after: 0.01}}}}
      - "ok on attempt {{{{ counter }}}}"
  - name: count
    match: {{prompt: {{icontains: count}}}}
    sequence: [one, two, three]
  - name: cycle
    match: {{prompt: cycle}}
    sequence: [a, b]
    after_sequence: cycle
  - name: limited
    match: {{prompt: limited}}
    sequence: [first, second]
    after_sequence: error
"""

WEATHER_PARAMETERS: dict[str, object] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string"},
        "note": {"type": "string"},
        "days": {"type": "integer"},
    },
    "required": ["city"],
}
TIME_PARAMETERS: dict[str, object] = {"type": "object", "properties": {"tz": {"type": "string"}}}
OPENAI_TOOLS: list[ChatCompletionToolUnionParam] = [
    {
        "type": "function",
        "function": {"name": "get_weather", "parameters": WEATHER_PARAMETERS},
    },
    {"type": "function", "function": {"name": "get_time", "parameters": TIME_PARAMETERS}},
]
ANTHROPIC_TOOLS: list[ToolParam] = [
    {"name": "get_weather", "input_schema": WEATHER_PARAMETERS},
    {"name": "get_time", "input_schema": TIME_PARAMETERS},
]


def new_id() -> str:
    return uuid.uuid4().hex


# --- tool calls on the raw wire ---------------------------------------------------------------


def openai_raw(server: MockServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{server.openai_url}/chat/completions",
        json={"model": GPT, "tools": OPENAI_TOOLS, **body},
        headers=OPENAI_HEADERS,
        timeout=10,
    )


def anthropic_raw(server: MockServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/messages",
        json={"model": CLAUDE, "max_tokens": 500, "tools": ANTHROPIC_TOOLS, **body},
        headers=ANTHROPIC_HEADERS,
        timeout=10,
    )


def user(prompt: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": prompt}]


def openai_chunks(server: MockServer, prompt: str, **body: Any) -> list[dict[str, Any]]:
    """Every chunk of a streamed answer, each valid against the OpenAPI schema."""
    response = openai_raw(server, {"messages": user(prompt), "stream": True, **body})
    assert response.status_code == 200
    frames = response.content.split(b"\n\n")
    assert frames[-2:] == [b"data: [DONE]", b""]
    chunks = [orjson.loads(frame.removeprefix(b"data: ")) for frame in frames[:-2]]
    for chunk in chunks:
        assert_valid("CreateChatCompletionStreamResponse", chunk)
    return chunks


def anthropic_events(server: MockServer, prompt: str, **body: Any) -> list[dict[str, Any]]:
    """Every event of a streamed answer, each valid against the SDK's types (strict)."""
    response = anthropic_raw(server, {"messages": user(prompt), "stream": True, **body})
    assert response.status_code == 200
    events = []
    for block in response.content.removesuffix(b"\n\n").split(b"\n\n"):
        name_line, data_line = block.split(b"\n")
        payload = data_line.removeprefix(b"data: ")
        event = orjson.loads(payload)
        assert name_line == b"event: " + event["type"].encode()
        if event["type"] != "ping":
            EVENT.validate_json(payload, strict=True)
        events.append(event)
    return events


Ask = Callable[[str, dict[str, str]], str]


def openai_asker(client: openai.OpenAI) -> Ask:
    def ask(prompt: str, headers: dict[str, str]) -> str:
        completion = client.chat.completions.create(
            model=GPT, messages=[{"role": "user", "content": prompt}], extra_headers=headers
        )
        return completion.choices[0].message.content or ""

    return ask


def anthropic_asker(client: anthropic.Anthropic) -> Ask:
    def ask(prompt: str, headers: dict[str, str]) -> str:
        message = client.messages.create(
            model=CLAUDE,
            max_tokens=50,
            messages=[{"role": "user", "content": prompt}],
            extra_headers=headers,
        )
        block = message.content[0]
        assert isinstance(block, TextBlock)
        return block.text

    return ask
