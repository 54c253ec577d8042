"""Schema-valid JSON without writing a rule: ``parse()`` with a pydantic response format,
forced tools with nested parameter schemas, through the official SDKs; and the rule forms
``json: auto`` and ``json_schema``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from typing import Any, Literal

import anthropic
import jsonschema
import openai
import pytest
from openai import OpenAI
from pydantic import BaseModel, Field

from mockllm.testing import MockServer

CONFIG = """
rules:
  - name: fixed-schema
    match: {prompt: {exact: "give me a point"}}
    reply:
      json_schema:
        type: object
        properties:
          x: {type: integer, minimum: 10, maximum: 20}
          y: {type: integer, minimum: -5, maximum: -1}
        required: [x, y]
        additionalProperties: false
  - name: auto-json
    match: {prompt: {exact: "auto json"}}
    reply: {json: auto}
  - name: seeded
    match: {prompt: {exact: "seeded"}}
    reply: {json: auto, seed: 7}
"""


class Cabin(StrEnum):
    economy = "economy"
    business = "business"


class Passenger(BaseModel):
    name: str = Field(min_length=2, max_length=40)
    age: int = Field(ge=0, le=120)
    cabin: Cabin


class Leg(BaseModel):
    origin: str = Field(pattern=r"^[A-Z]{3}$")
    destination: str = Field(pattern=r"^[A-Z]{3}$")
    day: date


class Trip(BaseModel):
    title: str
    passengers: list[Passenger] = Field(min_length=1, max_length=4)
    legs: list[Leg]
    kind: Literal["one-way", "return"]
    notes: str | None


@pytest.fixture(scope="module")
def json_server() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG) as running:
        yield running


@pytest.fixture(scope="module")
def oai(json_server: MockServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=json_server.openai_url, api_key="x", max_retries=0) as client:
        yield client


def ask(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


def test_parse_with_a_pydantic_model_and_no_rule(oai: OpenAI) -> None:
    completion = oai.chat.completions.parse(
        model="gpt-4o", messages=ask("plan my trip, no rule for this"), response_format=Trip
    )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Trip)
    assert parsed.passengers and parsed.legs is not None
    assert completion.choices[0].finish_reason == "stop"


def test_parse_is_deterministic_for_the_same_request(oai: OpenAI) -> None:
    first = oai.chat.completions.parse(model="gpt-4o", messages=ask("trip A"), response_format=Trip)
    again = oai.chat.completions.parse(model="gpt-4o", messages=ask("trip A"), response_format=Trip)
    other = oai.chat.completions.parse(model="gpt-4o", messages=ask("trip B"), response_format=Trip)
    assert first.choices[0].message.content == again.choices[0].message.content
    assert first.choices[0].message.content != other.choices[0].message.content


def test_streamed_parse_helper(oai: OpenAI) -> None:
    with oai.chat.completions.stream(
        model="gpt-4o", messages=ask("stream my trip"), response_format=Trip
    ) as stream:
        final = stream.get_final_completion()
    assert isinstance(final.choices[0].message.parsed, Trip)


class BookFlight(BaseModel):
    """Book a flight."""

    trip: Trip
    confirm: bool


def test_forced_strict_tool_with_nested_schema_parses(oai: OpenAI) -> None:
    completion = oai.chat.completions.parse(
        model="gpt-4o",
        messages=ask("book it"),
        tools=[openai.pydantic_function_tool(BookFlight)],
        tool_choice={"type": "function", "function": {"name": "BookFlight"}},
    )
    message = completion.choices[0].message
    assert completion.choices[0].finish_reason == "tool_calls"
    assert message.tool_calls is not None and len(message.tool_calls) == 1
    call = message.tool_calls[0]
    assert call.type == "function"
    assert call.function.name == "BookFlight"
    assert isinstance(call.function.parsed_arguments, BookFlight)


def test_tool_choice_required_calls_the_first_tool_with_valid_arguments(oai: OpenAI) -> None:
    schema = BookFlight.model_json_schema()
    reply = oai.chat.completions.create(
        model="gpt-4o",
        messages=ask("do something"),
        tools=[
            {"type": "function", "function": {"name": "book", "parameters": schema}},
            {"type": "function", "function": {"name": "cancel", "parameters": {"type": "object"}}},
        ],
        tool_choice="required",
    )
    calls = reply.choices[0].message.tool_calls
    assert calls is not None and calls[0].type == "function"
    assert calls[0].function.name == "book"
    BookFlight.model_validate_json(calls[0].function.arguments)


def test_anthropic_forced_tool_gets_schema_valid_input(json_server: MockServer) -> None:
    schema = BookFlight.model_json_schema()
    with anthropic.Anthropic(base_url=json_server.url, api_key="x", max_retries=0) as client:
        message = client.messages.create(
            model="claude-opus-4-6",
            max_tokens=4096,
            messages=ask("book it"),
            tools=[{"name": "book_flight", "input_schema": schema}],
            tool_choice={"type": "tool", "name": "book_flight"},
        )
        with client.messages.stream(
            model="claude-opus-4-6",
            max_tokens=4096,
            messages=ask("book it"),
            tools=[{"name": "book_flight", "input_schema": schema}],
            tool_choice={"type": "any"},
        ) as stream:
            streamed = stream.get_final_message()
    assert message.stop_reason == "tool_use"
    (use,) = [b for b in message.content if b.type == "tool_use"]
    assert use.name == "book_flight"
    jsonschema.validate(use.input, schema)
    BookFlight.model_validate(use.input)
    (streamed_use,) = [b for b in streamed.content if b.type == "tool_use"]
    assert streamed_use.input == use.input  # same request, same seed, same arguments


def test_rule_json_schema_reply(oai: OpenAI) -> None:
    reply = oai.chat.completions.create(model="gpt-4o", messages=ask("give me a point"))
    point = json.loads(reply.choices[0].message.content or "")
    assert 10 <= point["x"] <= 20 and -5 <= point["y"] <= -1
    assert set(point) == {"x", "y"}


def test_rule_json_auto_follows_the_request_schema_and_seed(oai: OpenAI) -> None:
    format_: Any = {
        "type": "json_schema",
        "json_schema": {
            "name": "colour",
            "schema": {
                "type": "object",
                "properties": {
                    "colour": {"enum": ["red", "green", "blue"]},
                    "shade": {"type": "integer", "minimum": 0, "maximum": 1000},
                },
                "required": ["colour", "shade"],
            },
        },
    }
    auto = oai.chat.completions.create(
        model="gpt-4o", messages=ask("auto json"), response_format=format_
    )
    value = json.loads(auto.choices[0].message.content or "")
    assert value["colour"] in ("red", "green", "blue") and 0 <= value["shade"] <= 1000
    seeded = [
        oai.chat.completions.create(model=m, messages=ask("seeded"), response_format=format_)
        for m in ("gpt-4o", "gpt-4.1")
    ]
    # The rule's seed, not the request, decides: the same JSON for different models.
    assert seeded[0].choices[0].message.content == seeded[1].choices[0].message.content


def test_json_object_format_without_rule_is_a_json_object(oai: OpenAI) -> None:
    reply = oai.chat.completions.create(
        model="gpt-4o", messages=ask("anything"), response_format={"type": "json_object"}
    )
    assert isinstance(json.loads(reply.choices[0].message.content or ""), dict)
