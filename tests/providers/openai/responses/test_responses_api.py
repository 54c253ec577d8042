"""The Responses API through the official ``openai`` SDK (wire-formats.md section 3):
``responses.create`` with string and item-list input, instructions, function tools and the
agent loop over ``previous_response_id``, ``parse()``, reasoning, refusals, truncation, the
stored-response endpoints (retrieve, delete, input items, cancel, input token counts) and
errors as the SDK's own exception classes."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseReasoningItem,
)
from pydantic import BaseModel, Field

from mockllm.testing import MockServer

SCRIPT = """
rules:
  - name: ask-weather
    match:
      prompt: {icontains: weather}
      tools: [get_weather]
      tool_result: false
    reply:
      tool_calls:
        - name: get_weather
          arguments: {city: "{{ prompt.rstrip('?').split()[-1] }}"}
  - name: answer
    match:
      tool_result: {tool: get_weather}
    reply: "In {{ tool_args('get_weather').city }} it is {{ tool_result('get_weather') }}."
  - name: brief
    match: {system: {icontains: brief}, prompt: {exact: hello}}
    reply: "Hi."
  - name: count
    match: {prompt: {exact: count}}
    reply: "turn {{ turn }}"
  - name: two-calls
    match: {prompt: {exact: two calls}}
    reply:
      text: "Checking both."
      tool_calls:
        - {name: get_weather, arguments: {city: Paris}}
        - {name: get_weather, arguments: {city: Rome}}
  - name: think
    match: {prompt: {exact: think}}
    reply: {text: "Forty-two.", reasoning: "Six times seven is forty-two, so that is the answer."}
  - name: refuse
    match: {prompt: {exact: refuse}}
    reply: {refusal: "I can't help with that."}
  - name: long
    match: {prompt: {exact: long}}
    reply: >-
      One two three four five six seven eight nine ten eleven twelve thirteen fourteen
      fifteen sixteen seventeen eighteen nineteen twenty twenty-one twenty-two.
  - name: tagged
    match: {metadata: {suite: {exact: responses}}}
    reply: "tagged"
  - name: picture
    match: {prompt: {exact: describe this}}
    reply: "A cat, {{ turn }} message."
  - name: limited
    match: {prompt: {exact: slow down}}
    reply: {error: {status: 429, message: "Rate limit reached", code: rate_limit_exceeded}}
"""

WEATHER_TOOL: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}
LONG = (
    "One two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty twenty-one twenty-two."
)


@pytest.fixture(scope="module")
def rserver() -> Iterator[MockServer]:
    with MockServer(config_text=SCRIPT) as running:
        yield running


@pytest.fixture(scope="module")
def sdk(rserver: MockServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=rserver.openai_url, api_key="sk-test", max_retries=0) as client:
        yield client


@pytest.fixture(scope="module")
def raw(rserver: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=rserver.openai_url, timeout=10) as client:
        yield client


def message_of(error: openai.APIStatusError) -> str:
    """The error envelope's message (the SDK prefixes its own text with the status)."""
    body = error.body
    assert isinstance(body, dict)
    message = body["message"]
    assert isinstance(message, str)
    return message


def only_message(response: Any) -> ResponseOutputMessage:
    assert len(response.output) == 1
    message = response.output[0]
    assert isinstance(message, ResponseOutputMessage)
    return message


# --- create ----------------------------------------------------------------------------


def test_string_input(sdk: OpenAI) -> None:
    response = sdk.responses.create(model="gpt-4o", input="count")
    assert response.output_text == "turn 1"
    assert re.fullmatch(r"resp_[0-9a-f]{50}", response.id)
    assert response.object == "response"
    assert response.status == "completed"
    assert response.model == "gpt-4o"
    assert response.error is None and response.incomplete_details is None
    assert response.completed_at is not None and response.completed_at >= response.created_at
    message = only_message(response)
    assert message.role == "assistant" and message.status == "completed"
    assert re.fullmatch(r"msg_[0-9a-f]{50}", message.id)
    part = message.content[0]
    assert isinstance(part, ResponseOutputText)
    assert part.text == "turn 1" and part.annotations == [] and part.logprobs == []
    usage = response.usage
    assert usage is not None and usage.input_tokens > 0 and usage.output_tokens == 3
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0
    # Request settings are echoed with the real defaults.
    assert response.to_dict()["store"] is True and response.parallel_tool_calls is True
    assert response.tool_choice == "auto" and response.tools == []
    assert response.temperature == 1.0 and response.top_p == 1.0
    assert response.text is not None and response.text.format is not None
    assert response.text.format.type == "text"
    assert response.previous_response_id is None and response.metadata == {}


def test_item_list_input_and_instructions(sdk: OpenAI) -> None:
    response = sdk.responses.create(
        model="gpt-4o",
        instructions="Be brief.",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "hello"}]}],
    )
    assert response.output_text == "Hi."
    assert response.instructions == "Be brief."
    # The same conversation in every item form.
    item: Any
    for item in (
        {"role": "user", "content": "hello"},
        {"type": "message", "role": "user", "content": "hello"},
    ):
        again = sdk.responses.create(model="gpt-4o", instructions="Be brief.", input=[item])
        assert again.output_text == "Hi."
    conversation: Any = [
        {"role": "developer", "content": "Please be brief."},
        {"role": "assistant", "content": "How can I help?"},
        {"role": "user", "content": "hello"},
    ]
    system = sdk.responses.create(model="gpt-4o", input=conversation)
    assert system.output_text == "Hi."


def test_content_parts(sdk: OpenAI) -> None:
    message: Any = {
        "role": "user",
        "content": [
            {"type": "input_text", "text": "describe this"},
            {"type": "input_image", "image_url": "https://example.com/cat.png"},
            {"type": "input_file", "file_id": "file-123"},
        ],
    }
    response = sdk.responses.create(model="gpt-4o", input=[message])
    # Images and files are accepted; the prompt is the message's text.
    assert response.output_text == "A cat, 1 message."


def test_async_create() -> None:
    async def main(url: str) -> tuple[str, str]:
        async with AsyncOpenAI(base_url=url, api_key="sk-test", max_retries=0) as client:
            first = await client.responses.create(model="gpt-4o", input="count")
            second = await client.responses.create(
                model="gpt-4o", input="count", previous_response_id=first.id
            )
            fetched = await client.responses.retrieve(second.id)
            assert fetched.id == second.id
            return first.output_text, second.output_text

    with MockServer(config_text=SCRIPT) as running:
        assert asyncio.run(main(running.openai_url)) == ("turn 1", "turn 2")


def test_metadata_is_matched_and_echoed(sdk: OpenAI) -> None:
    response = sdk.responses.create(
        model="gpt-4o", input="anything", metadata={"suite": "responses"}
    )
    assert response.output_text == "tagged"
    assert response.metadata == {"suite": "responses"}


# --- function tools and the agent loop -------------------------------------------------


def run_tool(name: str, arguments: str) -> str:
    assert name == "get_weather" and arguments == '{"city":"Paris"}'
    return "sunny, 22 degrees"


def test_agent_loop_with_previous_response_id(sdk: OpenAI) -> None:
    first = sdk.responses.create(
        model="gpt-4o", input="What is the weather in Paris?", tools=[WEATHER_TOOL]
    )
    assert first.output_text == ""
    [call] = first.output
    assert isinstance(call, ResponseFunctionToolCall)
    assert call.type == "function_call" and call.status == "completed"
    assert call.name == "get_weather" and call.arguments == '{"city":"Paris"}'
    assert re.fullmatch(r"call_\w+", call.call_id)
    assert call.id is not None and call.id.startswith("fc_")
    # The client sends only the tool result: the server supplies the rest.
    second = sdk.responses.create(
        model="gpt-4o",
        previous_response_id=first.id,
        input=[
            {
                "type": "function_call_output",
                "call_id": call.call_id,
                "output": run_tool(call.name, call.arguments),
            }
        ],
        tools=[WEATHER_TOOL],
    )
    assert second.output_text == "In Paris it is sunny, 22 degrees."
    assert second.previous_response_id == first.id
    # Without the history the result belongs to no known call: no rule matches it.
    orphan = sdk.responses.create(
        model="gpt-4o",
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
        tools=[WEATHER_TOOL],
    )
    assert orphan.output_text != second.output_text


def test_agent_loop_stateless_with_store_false(sdk: OpenAI) -> None:
    """The other way to run the loop: ``store: false`` and the whole history resent."""
    question: list[Any] = [{"role": "user", "content": "weather in Paris?"}]
    first = sdk.responses.create(model="gpt-4o", input=question, tools=[WEATHER_TOOL], store=False)
    assert first.to_dict()["store"] is False
    call = first.output[0]
    assert isinstance(call, ResponseFunctionToolCall)
    history = question + [item.model_dump(exclude_none=True) for item in first.output]
    history.append(
        {"type": "function_call_output", "call_id": call.call_id, "output": "rainy, 12 degrees"}
    )
    second = sdk.responses.create(model="gpt-4o", input=history, tools=[WEATHER_TOOL], store=False)
    assert second.output_text == "In Paris it is rainy, 12 degrees."
    # Nothing was kept.
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(first.id)
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.responses.create(model="gpt-4o", input="count", previous_response_id=first.id)
    assert caught.value.code == "previous_response_not_found"


def test_conversation_grows_over_a_chain(sdk: OpenAI) -> None:
    previous: str | None = None
    answers = []
    for _ in range(3):
        response = sdk.responses.create(
            model="gpt-4o", input="count", previous_response_id=previous
        )
        answers.append(response.output_text)
        previous = response.id
    assert answers == ["turn 1", "turn 2", "turn 3"]


def test_instructions_are_not_carried_over(sdk: OpenAI) -> None:
    first = sdk.responses.create(model="gpt-4o", instructions="Be brief.", input="hello")
    assert first.output_text == "Hi."
    second = sdk.responses.create(model="gpt-4o", input="hello", previous_response_id=first.id)
    assert second.instructions is None
    assert second.output_text != "Hi."


def test_text_and_parallel_calls(sdk: OpenAI) -> None:
    response = sdk.responses.create(model="gpt-4o", input="two calls", tools=[WEATHER_TOOL])
    kinds = [item.type for item in response.output]
    assert kinds == ["message", "function_call", "function_call"]
    assert response.output_text == "Checking both."
    calls = [i for i in response.output if isinstance(i, ResponseFunctionToolCall)]
    assert [c.arguments for c in calls] == ['{"city":"Paris"}', '{"city":"Rome"}']
    assert len({c.call_id for c in calls}) == len({c.id for c in calls}) == 2


def test_forced_tool_gets_schema_valid_arguments(sdk: OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 3},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
            "unit": {"type": "string", "enum": ["c", "f"]},
        },
        "required": ["city", "days", "unit"],
        "additionalProperties": False,
    }
    tool: Any = {**WEATHER_TOOL, "name": "forecast", "parameters": schema}
    response = sdk.responses.create(
        model="gpt-4o",
        input="plan my week",
        tools=[tool, {"type": "web_search"}],
        tool_choice={"type": "function", "name": "forecast"},
    )
    [call] = response.output
    assert isinstance(call, ResponseFunctionToolCall) and call.name == "forecast"
    jsonschema.validate(json.loads(call.arguments), schema)
    assert response.tool_choice is not None
    assert [t.type for t in response.tools] == ["function", "web_search"]


class Weather(BaseModel):
    city: str = Field(min_length=2)
    temperature: float = Field(ge=-50, le=60)
    conditions: list[str] = Field(min_length=1, max_length=3)


def test_parse_without_a_rule(sdk: OpenAI) -> None:
    parsed = sdk.responses.parse(
        model="gpt-4o", input="weather report as JSON", text_format=Weather
    )
    assert isinstance(parsed.output_parsed, Weather)
    assert parsed.text is not None and parsed.text.format is not None
    assert parsed.text.format.type == "json_schema"
    # The same request gets the same JSON.
    again = sdk.responses.parse(model="gpt-4o", input="weather report as JSON", text_format=Weather)
    assert again.output_parsed == parsed.output_parsed


def test_json_object_format(sdk: OpenAI) -> None:
    response = sdk.responses.create(
        model="gpt-4o", input="anything", text={"format": {"type": "json_object"}}
    )
    assert set(json.loads(response.output_text)) == {"response"}
    assert response.text is not None and response.text.format is not None
    assert response.text.format.type == "json_object"


# --- reasoning, refusal, truncation ----------------------------------------------------


def test_reasoning_item_and_tokens(sdk: OpenAI) -> None:
    response = sdk.responses.create(model="o4-mini", input="think")
    reasoning, message = response.output
    assert isinstance(reasoning, ResponseReasoningItem)
    assert reasoning.summary == [] and reasoning.id.startswith("rs_")
    assert isinstance(message, ResponseOutputMessage)
    assert response.output_text == "Forty-two."
    assert response.usage is not None
    assert response.usage.output_tokens_details.reasoning_tokens > 0
    assert response.usage.output_tokens > response.usage.output_tokens_details.reasoning_tokens


def test_reasoning_summary_and_encrypted_content(sdk: OpenAI) -> None:
    response = sdk.responses.create(
        model="o4-mini",
        input="think",
        reasoning={"effort": "low", "summary": "auto"},
        include=["reasoning.encrypted_content"],
    )
    reasoning = response.output[0]
    assert isinstance(reasoning, ResponseReasoningItem)
    assert [s.text for s in reasoning.summary] == [
        "Six times seven is forty-two, so that is the answer."
    ]
    assert reasoning.encrypted_content
    assert response.reasoning is not None
    assert response.reasoning.effort == "low" and response.reasoning.summary == "auto"
    # The reasoning item may be passed back in the input of the next turn.
    turns: Any = [
        {"role": "user", "content": "think"},
        reasoning.model_dump(exclude_none=True),
        {"role": "user", "content": "count"},
    ]
    follow = sdk.responses.create(model="o4-mini", input=turns)
    assert follow.output_text == "turn 2"


def test_refusal(sdk: OpenAI) -> None:
    response = sdk.responses.create(model="gpt-4o", input="refuse")
    message = only_message(response)
    [part] = message.content
    assert isinstance(part, ResponseOutputRefusal)
    assert part.refusal == "I can't help with that."
    assert response.output_text == "" and response.status == "completed"


def test_max_output_tokens_makes_it_incomplete(sdk: OpenAI) -> None:
    response = sdk.responses.create(model="gpt-4o", input="long", max_output_tokens=16)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.completed_at is None and response.max_output_tokens == 16
    message = only_message(response)
    assert message.status == "incomplete"
    assert LONG.startswith(response.output_text) and response.output_text != LONG
    assert response.usage is not None and response.usage.output_tokens == 16


# --- stored responses ------------------------------------------------------------------


def test_retrieve_returns_the_stored_response(sdk: OpenAI, raw: httpx.Client) -> None:
    created = sdk.responses.create(model="gpt-4o", input="two calls", tools=[WEATHER_TOOL])
    fetched = sdk.responses.retrieve(created.id)
    assert fetched.model_dump() == created.model_dump()
    posted = raw.post("/responses", json={"model": "gpt-4o", "input": "count"}).json()
    assert raw.get(f"/responses/{posted['id']}").json() == posted


def test_delete(sdk: OpenAI, raw: httpx.Client) -> None:
    created = sdk.responses.create(model="gpt-4o", input="count")
    sdk.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.responses.retrieve(created.id)
    assert message_of(caught.value) == f"Response with id '{created.id}' not found."
    other = sdk.responses.create(model="gpt-4o", input="count")
    deleted = raw.delete(f"/responses/{other.id}")
    assert deleted.status_code == 200
    assert deleted.json() == {"id": other.id, "object": "response", "deleted": True}
    with pytest.raises(openai.NotFoundError):
        sdk.responses.delete(other.id)


def test_input_items(sdk: OpenAI, raw: httpx.Client) -> None:
    first = sdk.responses.create(
        model="gpt-4o",
        input=[
            {"role": "developer", "content": "Answer in French."},
            {"role": "user", "content": "weather in Paris?"},
        ],
        tools=[WEATHER_TOOL],
    )
    call = first.output[0]
    assert isinstance(call, ResponseFunctionToolCall)
    second = sdk.responses.create(
        model="gpt-4o",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
        tools=[WEATHER_TOOL],
    )
    # Newest first by default; the previous response's input and output included.
    items = list(sdk.responses.input_items.list(second.id))
    assert [i.type for i in items] == [
        "function_call_output",
        "function_call",
        "message",
        "message",
    ]
    assert all(i.id for i in items)
    assert items[1].id == call.id
    ascending = list(sdk.responses.input_items.list(second.id, order="asc"))
    assert [i.id for i in ascending] == [i.id for i in reversed(items)]
    # Pagination: the SDK follows ``after`` until ``has_more`` is false.
    page = sdk.responses.input_items.list(second.id, limit=3)
    assert len(page.data) == 3 and page.has_more
    assert [i.id for i in page] == [i.id for i in items]  # iterating fetches the rest
    body = raw.get(f"/responses/{second.id}/input_items", params={"limit": 2}).json()
    assert body["object"] == "list" and body["has_more"] is True
    assert body["first_id"] == items[0].id and body["last_id"] == items[1].id
    assert [i["type"] for i in body["data"]] == ["function_call_output", "function_call"]


def test_item_reference(sdk: OpenAI) -> None:
    first = sdk.responses.create(model="gpt-4o", input="count")
    message = only_message(first)
    second = sdk.responses.create(
        model="gpt-4o",
        input=[
            {"role": "user", "content": "count"},
            {"type": "item_reference", "id": message.id},
            {"role": "user", "content": "count"},
        ],
    )
    assert second.output_text == "turn 2"
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.responses.create(model="gpt-4o", input=[{"type": "item_reference", "id": "msg_nope"}])
    assert message_of(caught.value).startswith("Item with id 'msg_nope' not found.")


def test_cancel(sdk: OpenAI) -> None:
    plain = sdk.responses.create(model="gpt-4o", input="count")
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.responses.cancel(plain.id)
    assert message_of(caught.value) == (
        "Only responses created with background=true can be cancelled."
    )
    background = sdk.responses.create(model="gpt-4o", input="count", background=True)
    assert background.background is True
    cancelled = sdk.responses.cancel(background.id)
    assert cancelled.id == background.id and cancelled.status == "completed"
    with pytest.raises(openai.NotFoundError):
        sdk.responses.cancel("resp_unknown")


def test_input_tokens_count(sdk: OpenAI) -> None:
    created = sdk.responses.create(
        model="gpt-4o", instructions="Be brief.", input="hello", tools=[WEATHER_TOOL]
    )
    counted = sdk.responses.input_tokens.count(
        model="gpt-4o", instructions="Be brief.", input="hello", tools=[WEATHER_TOOL]
    )
    assert counted.object == "response.input_tokens"
    assert created.usage is not None and counted.input_tokens == created.usage.input_tokens
    chained = sdk.responses.input_tokens.count(
        model="gpt-4o", input="more", previous_response_id=created.id
    )
    assert chained.input_tokens > 0


def test_stored_stream_replays(sdk: OpenAI) -> None:
    created = sdk.responses.create(model="gpt-4o", input="two calls", tools=[WEATHER_TOOL])
    events = list(sdk.responses.retrieve(created.id, stream=True))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    tail = list(sdk.responses.retrieve(created.id, stream=True, starting_after=4))
    assert [e.sequence_number for e in tail] == list(range(5, len(events)))
    with sdk.responses.stream(response_id=created.id) as stream:
        final = stream.get_final_response()
    assert final.id == created.id and final.output_text == created.output_text
    assert [getattr(i, "id", None) for i in final.output] == [
        getattr(i, "id", None) for i in created.output
    ]


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message", "param"),
    [
        ({"input": "hi"}, "Missing required parameter: 'model'.", "model"),
        ({"model": "gpt-4o"}, "Missing required parameter: 'input'.", "input"),
        (
            {"model": "gpt-4o", "input": "hi", "max_output_tokens": 3},
            "Invalid 'max_output_tokens': integer below minimum value. "
            "Expected a value >= 16, but got 3 instead.",
            "max_output_tokens",
        ),
        (
            {"model": "gpt-4o", "input": [{"role": "robot", "content": "hi"}]},
            "Invalid value: 'robot'. Supported values are: "
            "'user', 'system', 'developer', and 'assistant'.",
            "input[0].role",
        ),
        (
            {"model": "gpt-4o", "input": "hi", "tools": [{"type": "function"}]},
            "Missing required parameter: 'tools[0].name'.",
            "tools[0].name",
        ),
    ],
)
def test_bad_requests(sdk: OpenAI, body: dict[str, Any], message: str, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.post("/responses", cast_to=httpx.Response, body=body)
    assert message_of(caught.value) == message
    assert caught.value.param == param
    assert caught.value.type == "invalid_request_error"
    assert sdk.responses.create(model="gpt-4o", input="count").output_text == "turn 1"


def test_sdk_raises_bad_request_for_missing_fields(sdk: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        sdk.responses.create(model="gpt-4o")
    with pytest.raises(openai.BadRequestError):
        sdk.responses.create(input="hi")
    assert sdk.responses.create(model="gpt-4o", input="count").status == "completed"


def test_unknown_previous_response(sdk: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.responses.create(model="gpt-4o", input="hi", previous_response_id="resp_x")
    error = caught.value
    assert message_of(error) == "Previous response with id 'resp_x' not found."
    assert error.param == "previous_response_id"
    assert error.code == "previous_response_not_found"
    assert sdk.responses.create(model="gpt-4o", input="count").output_text == "turn 1"


def test_error_reply_is_the_sdk_exception(sdk: OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        sdk.responses.create(model="gpt-4o", input="slow down")
    assert caught.value.code == "rate_limit_exceeded"
    with pytest.raises(openai.RateLimitError):
        sdk.responses.create(model="gpt-4o", input="slow down", stream=True)
    assert sdk.responses.create(model="gpt-4o", input="count").output_text == "turn 1"


def test_strict_models_unknown_model() -> None:
    with (
        MockServer(config_text="{}", strict_models=True) as strict,
        OpenAI(base_url=strict.openai_url, api_key="sk-test", max_retries=0) as client,
    ):
        with pytest.raises(openai.NotFoundError) as caught:
            client.responses.create(model="gpt-nope", input="hi")
        assert caught.value.code == "model_not_found"
        with pytest.raises(openai.NotFoundError):
            client.responses.input_tokens.count(model="gpt-nope", input="hi")
        assert client.responses.create(model="gpt-4o", input="hi").status == "completed"


def test_each_app_has_its_own_store(sdk: OpenAI) -> None:
    created = sdk.responses.create(model="gpt-4o", input="count")
    with (
        MockServer(config_text=SCRIPT) as other,
        OpenAI(base_url=other.openai_url, api_key="sk-test", max_retries=0) as client,
    ):
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(created.id)


def test_docs_examples_are_valid_configs() -> None:
    from mockllm.rules.loader import parse_config

    doc = Path(__file__).parents[4] / "docs" / "responses.md"
    blocks = re.findall(r"```yaml\n(.*?)```", doc.read_text(encoding="utf-8"), flags=re.S)
    assert blocks
    for block in blocks:
        assert not parse_config(block, doc.name).warnings
