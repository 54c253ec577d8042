"""One YAML file scripts a whole agent run, and drives the same loop written against the
``openai`` SDK and against the ``anthropic`` SDK to the same outcome: the model calls
``get_weather``, then ``get_time``, then answers in text using both tool results."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import pytest
from openai import OpenAI

from mockllm.testing import MockServer

SCRIPT = """
rules:
  - name: ask-weather
    match:
      prompt: {icontains: weather}
      tools: [get_weather, get_time]
      tool_calls_before: 0
    reply:
      text: "Let me look that up."
      tool_calls:
        - name: get_weather
          arguments: {city: "{{ prompt.rstrip('?').split()[-1] }}"}
  - name: ask-time
    match:
      tool_result: {tool: get_weather}
    reply:
      tool_calls:
        - name: get_time
          arguments: {city: "{{ tool_args('get_weather').city }}"}
  - name: answer
    match:
      tool_result: {tool: get_time}
    reply: >-
      In {{ tool_args('get_weather').city }} it is {{ tool_result('get_weather') }}
      and the time is {{ tool_result('get_time') }}.
"""

FINAL = "In Paris it is sunny, 22 degrees and the time is 14:05."

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


def run_tool(name: str, arguments: dict[str, Any]) -> str:
    """The application's tools: what an agent would really execute."""
    assert arguments == {"city": "Paris"}, arguments
    return {"get_weather": "sunny, 22 degrees", "get_time": "14:05"}[name]


@pytest.fixture(scope="module")
def agent_server() -> Iterator[MockServer]:
    with MockServer(config_text=SCRIPT) as running:
        yield running


def openai_agent(client: OpenAI, question: str, trace: Callable[[str], None]) -> str:
    tools: Any = [
        {"type": "function", "function": {"name": n, "parameters": WEATHER_SCHEMA}}
        for n in ("get_weather", "get_time")
    ]
    messages: list[Any] = [{"role": "user", "content": question}]
    for _ in range(5):
        reply = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools)
        message = reply.choices[0].message
        messages.append(message.model_dump(exclude_none=True))
        if not message.tool_calls:
            assert reply.choices[0].finish_reason == "stop"
            return message.content or ""
        assert reply.choices[0].finish_reason == "tool_calls"
        for call in message.tool_calls:
            assert call.type == "function"
            trace(call.function.name)
            result = run_tool(call.function.name, json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    raise AssertionError("the agent did not finish")


def anthropic_agent(
    client: anthropic.Anthropic, question: str, trace: Callable[[str], None]
) -> str:
    tools: Any = [{"name": n, "input_schema": WEATHER_SCHEMA} for n in ("get_weather", "get_time")]
    messages: list[Any] = [{"role": "user", "content": question}]
    for _ in range(5):
        with client.messages.stream(
            model="claude-opus-4-6", max_tokens=1024, messages=messages, tools=tools
        ) as stream:
            message = stream.get_final_message()
        messages.append({"role": "assistant", "content": [b.model_dump() for b in message.content]})
        uses = [b for b in message.content if b.type == "tool_use"]
        if not uses:
            assert message.stop_reason == "end_turn"
            return "".join(b.text for b in message.content if b.type == "text")
        assert message.stop_reason == "tool_use"
        results = []
        for use in uses:
            trace(use.name)
            result = run_tool(use.name, dict(use.input))
            results.append({"type": "tool_result", "tool_use_id": use.id, "content": result})
        messages.append({"role": "user", "content": results})
    raise AssertionError("the agent did not finish")


def test_openai_agent_loop(agent_server: MockServer) -> None:
    calls: list[str] = []
    with OpenAI(base_url=agent_server.openai_url, api_key="x", max_retries=0) as client:
        answer = openai_agent(client, "What is the weather in Paris?", calls.append)
    assert calls == ["get_weather", "get_time"]
    assert answer == FINAL


def test_anthropic_agent_loop_same_script_same_outcome(agent_server: MockServer) -> None:
    calls: list[str] = []
    with anthropic.Anthropic(base_url=agent_server.url, api_key="x", max_retries=0) as client:
        answer = anthropic_agent(client, "What is the weather in Paris?", calls.append)
    assert calls == ["get_weather", "get_time"]
    assert answer == FINAL


def test_the_loop_without_tools_gets_the_default_answer(agent_server: MockServer) -> None:
    """The first rule needs the tools offered: without them nothing is called."""
    with OpenAI(base_url=agent_server.openai_url, api_key="x", max_retries=0) as client:
        reply = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "What is the weather in Paris?"}]
        )
    assert reply.choices[0].message.tool_calls is None
    assert reply.choices[0].finish_reason == "stop"
