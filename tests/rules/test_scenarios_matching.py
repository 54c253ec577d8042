"""Which rule answers: strict mode, the automatic answers with the ``x-mockllm-rule`` header,
and conditions seeing the same request through both SDKs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
from anthropic.types import MessageParam, TextBlock
from openai.types.chat import ChatCompletionMessageParam

from mockllm.testing import MockServer
from openapi_schemas import assert_valid
from rules.scenario_support import (
    ANTHROPIC_TOOLS,
    CLAUDE,
    GPT,
    OPENAI_HEADERS,
    OPENAI_TOOLS,
    openai_asker,
)

# --- strict mode ------------------------------------------------------------------------------

STRICT = """\
settings: {strict: true}
responses: {"hello there": "General Kenobi."}
rules:
  - name: weather-claude
    match: {prompt: {icontains: weather}, model: {glob: 'claude-*'}}
    reply: Sunny, says Claude.
  - name: after-weather
    match: {tool_result: {tool: get_weather}, provider: openai}
    reply: "It is {{ tool_result('get_weather') }}."
  - name: news
    match: {prompt: news, headers: {x-test: "yes"}}
    reply: No news.
"""


def tool_round(tool: str) -> list[ChatCompletionMessageParam]:
    """A conversation ending with the result of a call of ``tool``."""
    return [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": tool, "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "rainy"},
    ]


@pytest.fixture(scope="module")
def strict_server() -> Iterator[MockServer]:
    with MockServer(config_text=STRICT) as running:
        yield running


def test_strict_mode_rejects_unmatched_requests_naming_the_closest_rules(
    strict_server: MockServer,
) -> None:
    with openai.OpenAI(base_url=strict_server.openai_url, api_key="sk", max_retries=0) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(
                model=GPT, messages=[{"role": "user", "content": "weather in Paris?"}]
            )
        error = caught.value
        assert error.code == "mockllm_no_rule_matched"
        message = error.message
        assert "no rule matched" in message
        assert "'weather-claude' (" in message and "failed model glob 'claude-*'" in message
        assert "'news' (" in message and "prompt exact 'news'" in message
        assert "header x-test exact 'yes'" in message
        assert "'after-weather'" in message and "tool result of tool exact 'get_weather'" in message
        assert_valid(
            "ErrorResponse",
            httpx.post(
                f"{strict_server.openai_url}/chat/completions",
                json={"model": GPT, "messages": [{"role": "user", "content": "nothing"}]},
                headers=OPENAI_HEADERS,
                timeout=10,
            ).json(),
        )
        # matched requests are still served, rules and responses alike
        assert openai_asker(client)("news", {"x-test": "yes"}) == "No news."
        assert openai_asker(client)("Hello there", {}) == "General Kenobi."
        answer = client.chat.completions.create(model=GPT, messages=tool_round("get_weather"))
        assert answer.choices[0].message.content == "It is rainy."
        # no automatic answer after a tool result either
        with pytest.raises(openai.BadRequestError, match="no rule matched"):
            client.chat.completions.create(model=GPT, messages=tool_round("get_time"))

    with anthropic.Anthropic(base_url=strict_server.url, api_key="sk", max_retries=0) as claude:
        with pytest.raises(anthropic.BadRequestError) as caught_claude:
            claude.messages.create(
                model=CLAUDE, max_tokens=10, messages=[{"role": "user", "content": "news"}]
            )
        assert "'news' (" in caught_claude.value.message
        assert "header x-test exact 'yes'" in caught_claude.value.message
        news = caught_claude.value.message.split("'news'")[1].split(" | ")[0]
        assert "prompt exact" not in news  # the prompt held: only the header failed
        served = claude.messages.create(
            model=CLAUDE, max_tokens=50, messages=[{"role": "user", "content": "weather?"}]
        )
        assert served.content == [TextBlock(type="text", text="Sunny, says Claude.")]


# --- automatic answers and the x-mockllm-rule header ------------------------------------------

OPENAI_TOOL_ROUND: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "weather in Paris?"},
    {
        "role": "assistant",
        "content": "Let me check.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "22C and sunny"},
]
ANTHROPIC_TOOL_ROUND: list[MessageParam] = [
    {"role": "user", "content": "weather in Paris?"},
    {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Let me check."},
            {
                "type": "tool_use",
                "id": "toolu_01",
                "name": "get_weather",
                "input": {"city": "Paris"},
            },
        ],
    },
    {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "22C and sunny"}],
    },
]


def test_automatic_answers_and_rule_header(oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    raw = oai.chat.completions.with_raw_response.create(
        model=GPT, messages=OPENAI_TOOL_ROUND, tools=OPENAI_TOOLS
    )
    assert raw.headers["x-mockllm-rule"] == "(auto: after tool result)"
    completion = raw.parse()
    assert completion.choices[0].message.content == "Done: get_weather said 22C and sunny."
    assert completion.choices[0].finish_reason == "stop"

    raw_claude = claude.messages.with_raw_response.create(
        model=CLAUDE, max_tokens=100, messages=ANTHROPIC_TOOL_ROUND, tools=ANTHROPIC_TOOLS
    )
    assert raw_claude.headers["x-mockllm-rule"] == "(auto: after tool result)"
    message = raw_claude.parse()
    assert message.content == [TextBlock(type="text", text="Done: get_weather said 22C and sunny.")]
    assert message.stop_reason == "end_turn"

    default = oai.chat.completions.with_raw_response.create(
        model=GPT, messages=[{"role": "user", "content": 'say "nothing"'}]
    )
    assert default.headers["x-mockllm-rule"] == "(default)"
    assert default.parse().choices[0].message.content == 'No rule for "say \\"nothing\\"".'
    default_claude = claude.messages.with_raw_response.create(
        model=CLAUDE, max_tokens=100, messages=[{"role": "user", "content": "nothing"}]
    )
    assert default_claude.headers["x-mockllm-rule"] == "(default)"

    named = oai.chat.completions.with_raw_response.create(
        model=GPT, messages=[{"role": "user", "content": "weather?"}], tools=OPENAI_TOOLS
    )
    assert named.headers["x-mockllm-rule"] == "weather-call"
    named_claude = claude.messages.with_raw_response.create(
        model=CLAUDE,
        max_tokens=100,
        messages=[{"role": "user", "content": "think"}],
        stream=True,
    )
    assert named_claude.headers["x-mockllm-rule"] == "think"
    with named_claude.parse() as events:
        assert [e.type for e in events][-1] == "message_stop"


def test_after_tool_result_falls_back_to_the_default_answer() -> None:
    config = 'defaults: {unknown_response: "Default for {{ prompt }}."}\nrules: []\n'
    with (
        MockServer(config_text=config) as running,
        openai.OpenAI(base_url=running.openai_url, api_key="sk", max_retries=0) as client,
        anthropic.Anthropic(base_url=running.url, api_key="sk", max_retries=0) as claude,
    ):
        raw = client.chat.completions.with_raw_response.create(
            model=GPT, messages=OPENAI_TOOL_ROUND, tools=OPENAI_TOOLS
        )
        assert raw.headers["x-mockllm-rule"] == "(auto: after tool result)"
        assert raw.parse().choices[0].message.content == "Default for weather in Paris?."
        message = claude.messages.create(
            model=CLAUDE, max_tokens=100, messages=ANTHROPIC_TOOL_ROUND, tools=ANTHROPIC_TOOLS
        )
        assert message.content == [TextBlock(type="text", text="Default for weather in Paris?.")]


# --- conditions see the same request through both SDKs ----------------------------------------

CONDITIONS = """\
rules:
  - {name: metadata, match: {metadata: {user_id: alice}}, reply: by metadata}
  - name: forced-any
    match: {tool_choice: any, tools: [get_time]}
    reply: {tool_calls: [{name: get_time, arguments: {tz: UTC}}]}
  - name: forced-named
    match: {tool_choice: get_weather}
    reply: {tool_calls: [{name: get_weather, arguments: {city: Oslo}}]}
  - {name: choice-none, match: {tool_choice: none, tools: [get_weather]}, reply: no tools}
  - name: failed-tool
    match: {tool_result: {tool: get_weather, is_error: true}}
    reply: "Sorry: {{ last_tool_result.content }}"
  - {name: pirate, match: {system: {icontains: pirate}, turn: 1}, reply: Arr.}
  - {name: test-id, match: {headers: {X-Test-Id: {regex: '^t-\\d+$'}}}, reply: tagged}
"""


@pytest.fixture(scope="module")
def conditions_server() -> Iterator[MockServer]:
    with MockServer(config_text=CONDITIONS) as running:
        yield running


CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "metadata",
        {"metadata": {"user_id": "alice"}},
        {"metadata": {"user_id": "alice"}},
    ),
    (
        "forced-any",
        {"tools": OPENAI_TOOLS, "tool_choice": "required"},
        {"tools": ANTHROPIC_TOOLS, "tool_choice": {"type": "any"}},
    ),
    (
        "forced-named",
        {
            "tools": OPENAI_TOOLS,
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        },
        {"tools": ANTHROPIC_TOOLS, "tool_choice": {"type": "tool", "name": "get_weather"}},
    ),
    (
        "choice-none",
        {"tools": OPENAI_TOOLS, "tool_choice": "none"},
        {"tools": ANTHROPIC_TOOLS, "tool_choice": {"type": "none"}},
    ),
    (
        "pirate",
        {"messages": [{"role": "developer", "content": "Talk like a PIRATE."}]},
        {"system": [{"type": "text", "text": "Talk like a pirate."}]},
    ),
    ("test-id", {"extra_headers": {"X-Test-Id": "t-42"}}, {"extra_headers": {"x-test-id": "t-42"}}),
]


@pytest.mark.parametrize(("rule", "openai_extra", "anthropic_extra"), CASES)
def test_conditions_see_the_same_request_through_both_sdks(
    conditions_server: MockServer,
    rule: str,
    openai_extra: dict[str, Any],
    anthropic_extra: dict[str, Any],
) -> None:
    openai_extra = dict(openai_extra)
    messages = [*openai_extra.pop("messages", []), {"role": "user", "content": "hi"}]
    with (
        openai.OpenAI(base_url=conditions_server.openai_url, api_key="sk", max_retries=0) as oc,
        anthropic.Anthropic(base_url=conditions_server.url, api_key="sk", max_retries=0) as ac,
    ):
        raw = oc.chat.completions.with_raw_response.create(
            model=GPT, messages=messages, **openai_extra
        )
        assert raw.headers["x-mockllm-rule"] == rule
        raw_claude = ac.messages.with_raw_response.create(
            model=CLAUDE,
            max_tokens=50,
            messages=[{"role": "user", "content": "hi"}],
            **anthropic_extra,
        )
        assert raw_claude.headers["x-mockllm-rule"] == rule


def test_anthropic_error_tool_result_is_matched_and_rendered(conditions_server: MockServer) -> None:
    messages: list[MessageParam] = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": "boom",
                    "is_error": True,
                }
            ],
        },
    ]
    with anthropic.Anthropic(base_url=conditions_server.url, api_key="sk", max_retries=0) as ac:
        message = ac.messages.create(
            model=CLAUDE, max_tokens=50, messages=messages, tools=ANTHROPIC_TOOLS
        )
    assert message.content == [TextBlock(type="text", text="Sorry: boom")]
