"""Ollama ``/api/chat`` through the official ``ollama`` Python client (sync and async):
answers, streams, exact token counters, tools and a scripted agent loop, structured output,
``options`` limits, thinking, images and the load/unload forms (wire-formats.md section 7).

ollama-python validates every response with pydantic (P29), so each call below also checks
that every typed field of the answer has the right type.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import httpx
import ollama
import pytest
from ollama import ChatResponse
from pydantic import BaseModel, Field

from mockllm.core.tokens import Tokenizer
from mockllm.testing import MockServer

MODEL = "llama3.2"
SKY = "what colour is the sky?"
SKY_ANSWER = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
LONG_ANSWER = "One two three four five six seven eight nine ten. STOP here. Eleven twelve."
UNICODE_ANSWER = "Grüße 👋 — 日本語のテキスト."
ENCODING = Tokenizer().encoding("o200k_base")

CONFIG = """
rules:
  - name: two-cities-answer
    match: {prompt: {icontains: two cities}, tool_result: {tool: get_weather}}
    reply: "{{ tool_results | map(attribute='content') | join(' and ') }}"
  - name: weather-answer
    match: {tool_result: {tool: get_weather}}
    reply: "It is {{ tool_result('get_weather') }} in {{ tool_args('get_weather').city }}."
  - name: two-cities
    match: {prompt: {icontains: two cities}}
    reply:
      tool_calls:
        - {name: get_weather, arguments: {city: Paris}}
        - {name: get_weather, arguments: {city: Rome}}
  - name: weather-call
    match: {prompt: {icontains: weather}, tools: [get_weather]}
    reply:
      tool_calls:
        - name: get_weather
          arguments: {city: "{{ prompt.split()[-1] }}"}
  - name: booking
    match: {prompt: {icontains: book}}
    reply: {tool_calls: [{name: book_flight}]}
  - name: thinker
    match: {prompt: {exact: think first}}
    reply: {text: "The answer is 42.", reasoning: "Six times seven is forty-two."}
  - name: fixed-json
    match: {prompt: {exact: fixed json}}
    reply: {json: {ok: true}}
  - name: which-endpoint
    match: {provider: ollama, endpoint: chat, prompt: {exact: which endpoint}}
    reply: "chat"
"""


def tokens(text: str) -> int:
    return len(ENCODING.encode_ordinary(text))


def prompt_tokens(*contents: str) -> int:
    """Prompt tokens of a conversation of user messages: 3 priming the reply, then per
    message 3 + role + content."""
    return 3 + sum(3 + tokens("user") + tokens(c) for c in contents)


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


@pytest.fixture(scope="module")
def client(server: MockServer) -> Iterator[ollama.Client]:
    with ollama.Client(host=server.url) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def scripted() -> Iterator[ollama.Client]:
    """A client on a server running :data:`CONFIG`."""
    with MockServer(config_text=CONFIG) as running, ollama.Client(host=running.url) as sdk:
        yield sdk


def check_final(final: ChatResponse, answer: str, prompt: int, reason: str = "stop") -> None:
    """The counters of the final object: exact counts, plausible durations."""
    assert final.done is True
    assert final.done_reason == reason
    assert final.prompt_eval_count == prompt
    assert final.eval_count == tokens(answer)
    assert final.load_duration is not None and final.load_duration > 0
    assert final.prompt_eval_duration is not None and final.prompt_eval_duration > 0
    assert final.eval_duration is not None and final.eval_duration >= 0
    assert final.total_duration is not None
    parts = final.load_duration + final.prompt_eval_duration + final.eval_duration
    assert final.total_duration > parts
    assert final.created_at is not None
    assert datetime.fromisoformat(final.created_at).tzinfo is not None


# --- answers ---------------------------------------------------------------------------------


def test_chat(client: ollama.Client) -> None:
    response = client.chat(model=MODEL, messages=user(SKY))
    assert isinstance(response, ChatResponse)
    assert response.model == MODEL
    assert response.message.role == "assistant"
    assert response.message.content == SKY_ANSWER
    assert response.message.tool_calls is None and response.message.thinking is None
    check_final(response, SKY_ANSWER, prompt_tokens(SKY))


def test_chat_stream(client: ollama.Client) -> None:
    chunks = list(client.chat(model=MODEL, messages=user(SKY), stream=True))
    assert len(chunks) > 2
    *pieces, final = chunks
    assert all(c.done is False and c.done_reason is None for c in pieces)
    assert all(c.eval_count is None for c in pieces)
    assert "".join(c.message.content or "" for c in pieces) == SKY_ANSWER
    assert final.message.content == ""
    check_final(final, SKY_ANSWER, prompt_tokens(SKY))


def test_chat_stream_unicode_pieces_are_whole_characters(client: ollama.Client) -> None:
    chunks = list(client.chat(model=MODEL, messages=user("unicode"), stream=True))
    pieces = [c.message.content or "" for c in chunks[:-1]]
    assert "".join(pieces) == UNICODE_ANSWER
    assert all("\ufffd" not in piece for piece in pieces)
    check_final(chunks[-1], UNICODE_ANSWER, prompt_tokens("unicode"))


def test_async_client(server: MockServer) -> None:
    async def main() -> tuple[ChatResponse, list[ChatResponse]]:
        async with ollama.AsyncClient(host=server.url) as sdk:
            whole = await sdk.chat(model=MODEL, messages=user(SKY))
            stream = await sdk.chat(model=MODEL, messages=user(SKY), stream=True)
            chunks = [chunk async for chunk in stream]
        return whole, chunks

    whole, chunks = asyncio.run(main())
    assert whole.message.content == SKY_ANSWER
    assert "".join(c.message.content or "" for c in chunks) == SKY_ANSWER
    check_final(chunks[-1], SKY_ANSWER, prompt_tokens(SKY))


@pytest.mark.parametrize(
    "name", ["llama3.2", "llama3.2:latest", "LLAMA3.2", "library/llama3.2", "qwen2.5:7b"]
)
def test_model_names_are_echoed(client: ollama.Client, name: str) -> None:
    response = client.chat(model=name, messages=user(SKY))
    assert response.model == name
    assert response.message.content == SKY_ANSWER


def test_unknown_model_is_accepted_by_default(client: ollama.Client) -> None:
    response = client.chat(model="my-own-finetune:q8", messages=user(SKY))
    assert response.model == "my-own-finetune:q8"
    assert response.message.content == SKY_ANSWER


def test_system_prompt_and_history_are_counted(client: ollama.Client) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "Hi."},
        {"role": "user", "content": SKY},
    ]
    response = client.chat(model=MODEL, messages=messages)
    expected = 3 + sum(3 + tokens(m["role"]) + tokens(m["content"]) for m in messages)
    assert response.prompt_eval_count == expected
    assert response.message.content == SKY_ANSWER


def test_images_are_counted(client: ollama.Client) -> None:
    image = b"\x89PNG\r\n\x1a\n" + bytes(64)
    messages = [{"role": "user", "content": SKY, "images": [image]}]
    response = client.chat(model="gemma3", messages=messages)
    assert response.message.content == SKY_ANSWER
    assert response.prompt_eval_count == prompt_tokens(SKY) + 765


# --- options ---------------------------------------------------------------------------------


def test_num_predict_truncates(client: ollama.Client) -> None:
    response = client.chat(model=MODEL, messages=user("long answer"), options={"num_predict": 3})
    expected = ENCODING.decode(ENCODING.encode_ordinary(LONG_ANSWER)[:3])
    assert response.message.content == expected
    assert response.done_reason == "length"
    assert response.eval_count == 3


def test_num_predict_truncates_stream(client: ollama.Client) -> None:
    options = ollama.Options(num_predict=4, temperature=0.2, seed=1, num_ctx=8192)
    chunks = list(
        client.chat(model=MODEL, messages=user("long answer"), options=options, stream=True)
    )
    expected = ENCODING.decode(ENCODING.encode_ordinary(LONG_ANSWER)[:4])
    assert "".join(c.message.content or "" for c in chunks) == expected
    assert chunks[-1].done_reason == "length"
    assert chunks[-1].eval_count == 4


@pytest.mark.parametrize("limit", [-1, -2, 0])
def test_num_predict_without_limit(client: ollama.Client, limit: int) -> None:
    options = {"num_predict": limit}
    response = client.chat(model=MODEL, messages=user("long answer"), options=options)
    assert response.message.content == LONG_ANSWER
    assert response.done_reason == "stop"


def test_stop_option(client: ollama.Client) -> None:
    response = client.chat(model=MODEL, messages=user("long answer"), options={"stop": ["STOP"]})
    expected = LONG_ANSWER[: LONG_ANSWER.index("STOP")]
    assert response.message.content == expected
    assert response.done_reason == "stop"
    assert response.eval_count == tokens(expected)


# --- tools and the agent loop ----------------------------------------------------------------


def get_weather(city: str) -> str:
    """Get the current weather in a city.

    Args:
      city: The name of the city

    Returns:
      str: The weather
    """
    return "sunny" if city == "Paris" else "rainy"


BOOK_FLIGHT = {
    "type": "function",
    "function": {
        "name": "book_flight",
        "description": "Book a flight",
        "parameters": {
            "type": "object",
            "properties": {
                "origin": {"type": "string", "description": "IATA code"},
                "seats": {"type": "integer", "description": "How many"},
                "cabin": {"type": "string", "enum": ["economy", "business"]},
            },
            "required": ["origin", "seats", "cabin"],
        },
    },
}


def test_tool_call_arguments_are_objects(scripted: ollama.Client) -> None:
    response = scripted.chat(
        model=MODEL, messages=user("What is the weather in Paris"), tools=[get_weather]
    )
    calls = response.message.tool_calls
    assert calls is not None and len(calls) == 1
    assert calls[0].function.name == "get_weather"
    assert calls[0].function.arguments == {"city": "Paris"}
    assert response.message.content == ""
    assert response.done_reason == "stop"
    assert response.eval_count == tokens("get_weather") + tokens('{"city":"Paris"}')


def test_agent_loop(scripted: ollama.Client) -> None:
    """The usual ollama-python loop: call the tools the model asks for, send the results
    back as ``role: tool`` messages with ``tool_name``, until the model answers."""
    messages: list[Mapping[str, Any] | ollama.Message] = [
        {"role": "user", "content": "What is the weather in Paris"}
    ]
    tools = {"get_weather": get_weather}
    for _turn in range(3):
        response = scripted.chat(model=MODEL, messages=messages, tools=[get_weather])
        messages.append(response.message)
        if not response.message.tool_calls:
            break
        for call in response.message.tool_calls:
            result = tools[call.function.name](**call.function.arguments)
            messages.append({"role": "tool", "content": result, "tool_name": call.function.name})
    assert response.message.content == "It is sunny in Paris."
    assert len(messages) == 4


def test_parallel_calls_and_results_linked_in_order(scripted: ollama.Client) -> None:
    first = scripted.chat(model=MODEL, messages=user("weather in two cities"), tools=[get_weather])
    calls = first.message.tool_calls
    assert calls is not None
    assert [c.function.arguments for c in calls] == [{"city": "Paris"}, {"city": "Rome"}]
    messages: list[Mapping[str, Any] | ollama.Message] = [
        *user("weather in two cities"),
        first.message,
    ]
    for call in calls:
        content = get_weather(**call.function.arguments)
        messages.append({"role": "tool", "content": content, "tool_name": "get_weather"})
    final = scripted.chat(model=MODEL, messages=messages, tools=[get_weather])
    assert final.message.content == "sunny and rainy"


def test_tool_result_without_tool_name_links_to_the_pending_call(scripted: ollama.Client) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "What is the weather in Paris"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}],
        },
        {"role": "tool", "content": "foggy"},
    ]
    response = scripted.chat(model=MODEL, messages=messages, tools=[get_weather])
    assert response.message.content == "It is foggy in Paris."


def test_parallel_calls_stream_in_one_chunk(scripted: ollama.Client) -> None:
    chunks = list(
        scripted.chat(
            model=MODEL, messages=user("weather in two cities"), tools=[get_weather], stream=True
        )
    )
    with_calls = [c for c in chunks if c.message.tool_calls]
    assert len(with_calls) == 1
    calls = with_calls[0].message.tool_calls
    assert calls is not None and [c.function.name for c in calls] == ["get_weather"] * 2
    assert with_calls[0].done is False
    assert chunks[-1].done is True and chunks[-1].message.tool_calls is None


def test_generated_arguments_fit_the_schema(scripted: ollama.Client) -> None:
    response = scripted.chat(model=MODEL, messages=user("book me a flight"), tools=[BOOK_FLIGHT])
    calls = response.message.tool_calls
    assert calls is not None and calls[0].function.name == "book_flight"
    arguments = calls[0].function.arguments
    assert isinstance(arguments["origin"], str)
    assert isinstance(arguments["seats"], int)
    assert arguments["cabin"] in ("economy", "business")


def test_rules_see_provider_and_endpoint(scripted: ollama.Client) -> None:
    assert scripted.chat(model=MODEL, messages=user("which endpoint")).message.content == "chat"


# --- structured output ---------------------------------------------------------------------


class Country(BaseModel):
    name: str = Field(min_length=1)
    capital: str
    languages: list[str] = Field(min_length=1)
    population: int = Field(ge=0)


def test_format_json(client: ollama.Client) -> None:
    response = client.chat(model=MODEL, messages=user("Tell me about Canada."), format="json")
    content = response.message.content
    assert content is not None
    assert isinstance(json.loads(content), dict)


def test_format_schema(client: ollama.Client) -> None:
    schema = Country.model_json_schema()
    response = client.chat(model=MODEL, messages=user("Tell me about Canada."), format=schema)
    assert response.message.content is not None
    Country.model_validate_json(response.message.content)
    again = client.chat(model=MODEL, messages=user("Tell me about Canada."), format=schema)
    assert again.message.content == response.message.content  # deterministic


def test_format_schema_stream(client: ollama.Client) -> None:
    schema = Country.model_json_schema()
    chunks = list(
        client.chat(model=MODEL, messages=user("Tell me about Peru."), format=schema, stream=True)
    )
    Country.model_validate_json("".join(c.message.content or "" for c in chunks))


def test_rule_json_wins_over_format(scripted: ollama.Client) -> None:
    response = scripted.chat(model=MODEL, messages=user("fixed json"), format="json")
    assert response.message.content is not None
    assert json.loads(response.message.content) == {"ok": True}


# --- thinking ------------------------------------------------------------------------------


def test_thinking(scripted: ollama.Client) -> None:
    response = scripted.chat(model="qwen3", messages=user("think first"))
    assert response.message.thinking == "Six times seven is forty-two."
    assert response.message.content == "The answer is 42."
    answer_tokens = tokens("The answer is 42.") + tokens("Six times seven is forty-two.")
    assert response.eval_count == answer_tokens


def test_thinking_stream_comes_first(scripted: ollama.Client) -> None:
    chunks = list(
        scripted.chat(model="qwen3", messages=user("think first"), think=True, stream=True)
    )
    kinds = ["thinking" if c.message.thinking else "content" for c in chunks[:-1]]
    assert kinds == sorted(kinds, key=lambda k: k != "thinking")
    assert "".join(c.message.thinking or "" for c in chunks) == "Six times seven is forty-two."
    assert "".join(c.message.content or "" for c in chunks) == "The answer is 42."


def test_think_false_hides_thinking(scripted: ollama.Client) -> None:
    response = scripted.chat(model="qwen3", messages=user("think first"), think=False)
    assert response.message.thinking is None
    assert response.message.content == "The answer is 42."
    assert response.eval_count == tokens("The answer is 42.")


def test_think_levels_on_gpt_oss(scripted: ollama.Client) -> None:
    response = scripted.chat(model="gpt-oss:20b", messages=user("think first"), think="low")
    assert response.message.thinking == "Six times seven is forty-two."


# --- load and unload -----------------------------------------------------------------------


def test_empty_messages_load_and_unload(server: MockServer) -> None:
    with ollama.Client(host=server.url) as sdk:
        loaded = sdk.chat(model="mistral", messages=[])
        assert loaded.done is True and loaded.done_reason == "load"
        assert loaded.message.content == "" and loaded.model == "mistral"
        assert "mistral:latest" in [m.model for m in sdk.ps().models]
        unloaded = sdk.chat(model="mistral", messages=[], keep_alive=0)
        assert unloaded.done_reason == "unload"
        assert "mistral:latest" not in [m.model for m in sdk.ps().models]


# --- the context window ----------------------------------------------------------------------


HISTORY: list[dict[str, str]] = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "My name is Ada and this sentence makes the history long."},
    {"role": "assistant", "content": "Noted, Ada."},
    {"role": "user", "content": "which endpoint"},
]


def test_num_ctx_drops_the_oldest_messages(scripted: ollama.Client) -> None:
    whole = scripted.chat(model=MODEL, messages=HISTORY)
    assert whole.prompt_eval_count is not None and whole.prompt_eval_count > 30
    fitted = scripted.chat(model=MODEL, messages=HISTORY, options={"num_ctx": 30})
    assert fitted.message.content == "chat"  # the last message is always kept
    kept = [HISTORY[0], *HISTORY[2:]]  # the oldest message after the system prompt went
    expected = 3 + sum(3 + tokens(m["role"]) + tokens(m["content"]) for m in kept)
    assert fitted.prompt_eval_count == expected <= 30


def test_truncate_false_refuses_a_prompt_over_num_ctx(server: MockServer) -> None:
    body = {
        "model": MODEL,
        "messages": HISTORY,
        "options": {"num_ctx": 30},
        "truncate": False,
        "stream": False,
    }
    response = httpx.post(server.url + "/api/chat", json=body)
    assert response.status_code == 400
    assert response.json() == {"error": "the input length exceeds the context length"}
