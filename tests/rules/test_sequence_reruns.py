"""Sequences that do not go silently stale: a scripted agent run twice against one server
gets the same answers; a template's missing value is an error naming the rule; what an
exhausted sequence does is the rule's choice; counters reset without touching the config.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from mockllm.testing import MockServer

CONFIG = """
rules:
  - name: agent
    match: {prompt: {icontains: weather}}
    sequence:
      - tool_calls: [{name: get_weather, arguments: {city: Paris}}]
      - "It is {{ tool_result('get_weather') }} in Paris."
  - name: steps
    match: {prompt: steps}
    sequence: [one, two]
    after_sequence: restart
  - name: stuck
    match: {prompt: stuck}
    sequence: [first, second]
  - name: missing
    match: {prompt: missing}
    reply: "Result: {{ tool_result('get_weather') }}"
  - name: optional
    match: {prompt: optional}
    reply: "{% if tool_result('get_weather') is defined %}got it{% else %}none yet{% endif %}"
"""

TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


@pytest.fixture(scope="module")
def sequence_server() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG) as running:
        yield running


@pytest.fixture(scope="module")
def oai(sequence_server: MockServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=sequence_server.openai_url, api_key="x", max_retries=0) as c:
        yield c


def run_agent(client: openai.OpenAI) -> str:
    """The agent loop a user writes: ask, run the tool the model calls, send its result."""
    messages: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "What is the weather in Paris?"}
    ]
    first = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    calls = first.choices[0].message.tool_calls
    assert calls, f"expected a tool call, got {first.choices[0].message}"
    call = calls[0]
    assert call.type == "function"
    messages.append(
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": call.function.arguments},
                }
            ],
        }
    )
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 22 C"})
    final = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    return final.choices[0].message.content or ""


def test_the_same_scripted_agent_run_twice_gets_the_same_answers(oai: openai.OpenAI) -> None:
    # Both runs share a conversation key (same first user message, no header): the second
    # run's first request carries fewer messages than the last one seen, so it starts over.
    assert run_agent(oai) == "It is sunny, 22 C in Paris."
    assert run_agent(oai) == "It is sunny, 22 C in Paris."
    assert run_agent(oai) == "It is sunny, 22 C in Paris."


def test_retries_of_the_same_request_still_advance(oai: openai.OpenAI) -> None:
    # Same messages again is not a rerun (a retry, a poll): the sequence moves on.
    ask = [{"role": "user", "content": "stuck"}]
    answers = [
        oai.chat.completions.create(model="gpt-4o", messages=ask).choices[0].message.content  # type: ignore[arg-type]
        for _ in range(3)
    ]
    assert answers == ["first", "second", "second"]


def test_after_sequence_restart_starts_from_the_first_reply(oai: openai.OpenAI) -> None:
    ask = [{"role": "user", "content": "steps"}]
    answers = [
        oai.chat.completions.create(model="gpt-4o", messages=ask).choices[0].message.content  # type: ignore[arg-type]
        for _ in range(5)
    ]
    assert answers == ["one", "two", "one", "two", "one"]


def test_a_missing_tool_result_is_an_error_naming_the_rule(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        oai.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "missing"}]
        )
    message = str(caught.value)
    assert "template error in rule 'missing'" in message
    assert "tool_result('get_weather')" in message
    assert "None" not in message.split("template error", 1)[1].split(":", 1)[0]


def test_is_defined_tests_for_an_optional_tool_result(oai: openai.OpenAI) -> None:
    reply = oai.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "optional"}]
    )
    assert reply.choices[0].message.content == "none yet"


def test_a_sequence_past_its_end_says_so_when_its_template_fails(
    sequence_server: MockServer,
) -> None:
    # A conversation that really goes on past the script (more messages each time) gets
    # the last reply again; when that reply's template cannot render, the error says the
    # conversation is past the end of the sequence and how to start over.
    base: list[dict[str, Any]] = [{"role": "user", "content": "weather?"}]
    with httpx.Client(base_url=sequence_server.openai_url, timeout=10) as http:
        sent = []
        for extra in range(3):
            messages = base + [
                {"role": "user", "content": f"weather again {i}"} for i in range(extra)
            ]
            sent.append(
                http.post(
                    "/chat/completions",
                    headers={"x-mockllm-conversation": "past-the-end"},
                    json={"model": "gpt-4o", "messages": messages, "tools": TOOLS},
                )
            )
    assert sent[0].status_code == 200
    assert sent[1].status_code == 500
    error = sent[2].json()["error"]
    assert "rule 'agent' (reply 2 of its sequence)" in error["message"]
    assert "reply 3 of a sequence of 2" in error["message"]
    assert "POST /-/reset" in error["message"]


def test_reset_starts_sequences_over_and_keeps_the_config(
    sequence_server: MockServer, oai: openai.OpenAI
) -> None:
    headers = {"x-mockllm-conversation": "reset-me"}
    ask: Any = [{"role": "user", "content": "stuck"}]
    create = oai.chat.completions.create
    assert (
        create(model="gpt-4o", messages=ask, extra_headers=headers).choices[0].message.content
        == "first"
    )
    assert (
        create(model="gpt-4o", messages=ask, extra_headers=headers).choices[0].message.content
        == "second"
    )
    assert sequence_server.reset()[0] == "sequence_counters"  # then the provider states
    assert (
        create(model="gpt-4o", messages=ask, extra_headers=headers).choices[0].message.content
        == "first"
    )
    with httpx.Client(base_url=sequence_server.url) as http:
        assert http.post("/-/reset").json()["reset"][0] == "sequence_counters"
    assert (
        create(model="gpt-4o", messages=ask, extra_headers=headers).choices[0].message.content
        == "first"
    )
