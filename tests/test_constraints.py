"""What a request demands holds on every answer, whatever rule matched
(``src/mockllm/constraints.py``), checked through the official SDKs over a real socket.

A plain ``responses:`` mapping matches the prompts below; the requests force a tool or ask
for a JSON schema, and the real services never answer those with prose. Capabilities: a
request using what its catalogue model cannot do gets the provider's own 400.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import jsonschema
import ollama
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types
from pydantic import BaseModel

from mockllm.testing import MockServer

PROMPT = "what is the weather in Paris?"
MAPPED = "It is sunny in Paris."

CONFIG = f"""
responses:
  "{PROMPT}": "{MAPPED}"
  "give me json": '{{"city": "Paris", "celsius": 21}}'
rules:
  - name: broken
    match: {{prompt: {{exact: fail please}}}}
    reply: {{error: {{status: 503, message: down for maintenance}}}}
models:
  - id: tiny-chat
    provider: openai
    capabilities: [streaming]
  - id: no-stream
    provider: openai
    capabilities: [tools]
  - id: claude-tiny
    provider: anthropic
    capabilities: [streaming, tools]
  - id: gemini-tiny
    provider: gemini
    capabilities: [streaming]
"""

WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["city", "unit"],
    "additionalProperties": False,
}
OPENAI_TOOLS: list[Any] = [
    {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}},
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
]


class Forecast(BaseModel):
    city: str
    celsius: int
    summary: str


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG) as running:
        yield running


@pytest.fixture(scope="module")
def oai(server: MockServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.openai_url, api_key="k", max_retries=0) as client:
        yield client


def user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


# --- hard constraints ---------------------------------------------------------------------


def test_named_tool_choice_beats_a_text_mapping(oai: openai.OpenAI) -> None:
    raw = oai.chat.completions.with_raw_response.create(
        model="gpt-4o",
        messages=user(PROMPT),
        tools=OPENAI_TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    assert raw.headers["x-mockllm-rule"] == "responses"  # the mapping matched...
    choice = raw.parse().choices[0]
    assert choice.finish_reason == "tool_calls"  # ...and the forced call was made
    calls = choice.message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather"]  # type: ignore[union-attr]
    jsonschema.validate(json.loads(calls[0].function.arguments), WEATHER)  # type: ignore[union-attr]
    assert choice.message.content == MAPPED  # the mapped text goes alongside


def test_required_tool_choice_streams_a_tool_call(oai: openai.OpenAI) -> None:
    stream = oai.chat.completions.create(
        model="gpt-4o",
        messages=user(PROMPT),
        tools=OPENAI_TOOLS,
        tool_choice="required",
        stream=True,
    )
    names, arguments, finish = [], "", None
    for chunk in stream:
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or []:
                if call.function and call.function.name:
                    names.append(call.function.name)
                if call.function and call.function.arguments:
                    arguments += call.function.arguments
            finish = choice.finish_reason or finish
    assert names == ["get_weather"] and finish == "tool_calls"
    jsonschema.validate(json.loads(arguments), WEATHER)


def test_json_schema_format_beats_a_text_mapping(oai: openai.OpenAI) -> None:
    parsed = oai.chat.completions.parse(
        model="gpt-4o", messages=user(PROMPT), response_format=Forecast
    )
    message = parsed.choices[0].message
    assert isinstance(message.parsed, Forecast)
    assert parsed.choices[0].finish_reason == "stop"


def test_mapped_text_that_fits_the_schema_is_kept(oai: openai.OpenAI) -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "celsius": {"type": "integer"}},
        "required": ["city", "celsius"],
    }
    answer = oai.chat.completions.create(
        model="gpt-4o",
        messages=user("give me json"),
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "w", "schema": schema},
        },
    )
    assert json.loads(answer.choices[0].message.content or "") == {"city": "Paris", "celsius": 21}


def test_json_object_format_gets_a_json_object(oai: openai.OpenAI) -> None:
    answer = oai.chat.completions.create(
        model="gpt-4o", messages=user(PROMPT), response_format={"type": "json_object"}
    )
    assert json.loads(answer.choices[0].message.content or "") == {"response": MAPPED}


def test_an_error_rule_still_wins(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as failed:
        oai.chat.completions.parse(
            model="gpt-4o", messages=user("fail please"), response_format=Forecast
        )
    assert failed.value.status_code == 503


def test_responses_text_format_beats_a_text_mapping(oai: openai.OpenAI) -> None:
    response = oai.responses.parse(model="gpt-4o", input=PROMPT, text_format=Forecast)
    assert isinstance(response.output_parsed, Forecast)


def test_anthropic_forced_tool_beats_a_text_mapping(server: MockServer) -> None:
    with anthropic.Anthropic(base_url=server.url, api_key="k", max_retries=0) as client:
        _forced_tools(client)


def _forced_tools(client: anthropic.Anthropic) -> None:
    tools: list[Any] = [
        {"name": "get_weather", "input_schema": WEATHER},
        {"name": "get_time", "input_schema": {"type": "object"}},
    ]
    choices: list[Any] = [{"type": "any"}, {"type": "tool", "name": "get_time"}]
    for choice in choices:
        message = client.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=500,
            messages=user(PROMPT),
            tools=tools,
            tool_choice=choice,
        )
        assert message.stop_reason == "tool_use"
        used = [b for b in message.content if b.type == "tool_use"]
        assert [b.name for b in used] == [choice.get("name", "get_weather")]
        if used[0].name == "get_weather":
            jsonschema.validate(used[0].input, WEATHER)


def test_gemini_response_schema_beats_a_text_mapping(server: MockServer) -> None:
    client = genai.Client(api_key="k", http_options=genai_types.HttpOptions(base_url=server.url))
    try:
        answer = client.models.generate_content(
            model="gemini-2.5-flash",
            contents=PROMPT,
            config=genai_types.GenerateContentConfig(
                response_mime_type="application/json", response_schema=Forecast
            ),
        )
    finally:
        client.close()
    assert isinstance(answer.parsed, Forecast)


def test_ollama_format_beats_a_text_mapping(server: MockServer) -> None:
    client = ollama.Client(host=server.url)
    try:
        answer = client.chat(
            model="llama3.2", messages=user(PROMPT), format=Forecast.model_json_schema()
        )
    finally:
        client.close()  # type: ignore[no-untyped-call]
    Forecast.model_validate_json(answer.message.content or "")


def test_openai_agents_sdk_gets_its_output_type(server: MockServer) -> None:
    """The OpenAI Agents SDK with an ``output_type`` on a mapped prompt: a typed answer,
    where a prose reply used to make it raise."""
    from agents import Agent, OpenAIChatCompletionsModel, Runner, set_tracing_disabled

    set_tracing_disabled(True)

    async def run() -> Any:
        async with openai.AsyncOpenAI(
            base_url=server.openai_url, api_key="k", max_retries=0
        ) as client:
            agent = Agent(
                name="forecaster",
                instructions="Answer with a forecast.",
                model=OpenAIChatCompletionsModel(model="gpt-4o", openai_client=client),
                output_type=Forecast,
            )
            return await Runner.run(agent, PROMPT)

    result = asyncio.run(run())
    assert isinstance(result.final_output, Forecast)


# --- capabilities -------------------------------------------------------------------------


def _openai_error(exc: openai.APIStatusError) -> dict[str, Any]:
    body = exc.body
    assert isinstance(body, dict)
    return body


@pytest.mark.parametrize(
    ("model", "extra", "param", "message"),
    [
        (
            "tiny-chat",
            {"tools": OPENAI_TOOLS},
            "tools",
            "Unsupported parameter: 'tools' is not supported with this model.",
        ),
        (
            "gpt-4o",
            {"reasoning_effort": "high"},
            "reasoning_effort",
            "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
        ),
        (
            "no-stream",
            {"stream": True},
            "stream",
            "Unsupported value: 'stream' does not support true with this model. Only the "
            "default (false) value is supported.",
        ),
        (
            "text-embedding-3-small",
            {},
            "model",
            "This is not a chat model and thus not supported in the v1/chat/completions "
            "endpoint. Did you mean to use v1/completions?",
        ),
    ],
)
def test_openai_capabilities(
    oai: openai.OpenAI, model: str, extra: dict[str, Any], param: str, message: str
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        oai.chat.completions.create(model=model, messages=user("hi"), **extra)
    error = _openai_error(refused.value)
    assert error["message"] == message
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    # The next request is served as usual.
    assert oai.chat.completions.create(model="gpt-4o", messages=user("hi")).choices


def test_openai_images_and_json_schema_need_the_capability(oai: openai.OpenAI) -> None:
    image: list[Any] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        }
    ]
    with pytest.raises(openai.BadRequestError) as refused:
        oai.chat.completions.create(model="tiny-chat", messages=image)
    assert "image_url is only supported by certain models" in str(refused.value)
    with pytest.raises(openai.BadRequestError) as refused:
        oai.chat.completions.parse(model="tiny-chat", messages=user("x"), response_format=Forecast)
    assert _openai_error(refused.value)["param"] == "response_format"
    # gpt-4o has both.
    assert oai.chat.completions.create(model="gpt-4o", messages=image).choices


def test_models_outside_the_catalogue_are_not_checked(oai: openai.OpenAI) -> None:
    answer = oai.chat.completions.create(
        model="my-own-model", messages=user(PROMPT), tools=OPENAI_TOOLS, reasoning_effort="low"
    )
    assert answer.choices[0].message.content == MAPPED


def test_anthropic_thinking_needs_a_reasoning_model(server: MockServer) -> None:
    with (
        anthropic.Anthropic(base_url=server.url, api_key="k", max_retries=0) as client,
        pytest.raises(anthropic.BadRequestError) as refused,
    ):
        client.messages.create(
            model="claude-tiny",
            max_tokens=2000,
            messages=user("hi"),
            thinking={"type": "enabled", "budget_tokens": 1024},
        )
    body = refused.value.body
    assert isinstance(body, dict)
    assert body["error"] == {
        "type": "invalid_request_error",
        "message": "thinking: thinking is not supported on this model",
    }


def test_gemini_tools_need_function_calling(server: MockServer) -> None:
    client = genai.Client(api_key="k", http_options=genai_types.HttpOptions(base_url=server.url))

    def get_weather(city: str) -> str:
        """The weather in a city."""
        return "sunny"

    with pytest.raises(genai_errors.ClientError) as refused, client:
        client.models.generate_content(
            model="gemini-tiny",
            contents="hi",
            config=genai_types.GenerateContentConfig(
                tools=[get_weather],
                automatic_function_calling=genai_types.AutomaticFunctionCallingConfig(disable=True),
            ),
        )
    assert refused.value.code == 400
    assert refused.value.status == "INVALID_ARGUMENT"
    assert refused.value.message == "Function calling is not enabled for models/gemini-tiny"


def test_context_length_is_worded_by_each_dialect(server: MockServer) -> None:
    big = "word " * 300_000
    raw = httpx.post(
        server.url + "/v1/messages",
        headers={"anthropic-version": "2023-06-01", "x-api-key": "k"},
        json={"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": user(big)},
        timeout=30,
    )
    assert raw.status_code == 400
    assert raw.json()["error"]["message"].startswith("prompt is too long: ")
    assert raw.json()["error"]["message"].endswith(" maximum")
    gemini = httpx.post(
        server.url + "/v1beta/models/gemini-2.5-flash:generateContent",
        headers={"x-goog-api-key": "k"},
        json={"contents": [{"parts": [{"text": big * 4}]}]},
        timeout=30,
    )
    assert gemini.status_code == 400
    assert gemini.json()["error"]["message"].startswith("The input token count (")


def test_responses_reasoning_effort_needs_a_reasoning_model(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        oai.responses.create(model="gpt-4o", input="hi", reasoning={"effort": "low"})
    error = _openai_error(refused.value)
    assert error["param"] == "reasoning.effort"
    assert error["code"] == "unsupported_parameter"
    assert oai.responses.create(model="gpt-5", input="hi", reasoning={"effort": "low"}).output


def test_ollama_images_need_a_vision_model(server: MockServer) -> None:
    client = ollama.Client(host=server.url)
    try:
        with pytest.raises(ollama.ResponseError) as refused:
            client.chat(
                model="llama3.2",
                messages=[{"role": "user", "content": "what is this?", "images": ["AAAA"]}],
            )
        assert refused.value.status_code == 400
        assert refused.value.error == "llama3.2:latest does not support images"
    finally:
        client.close()  # type: ignore[no-untyped-call]
