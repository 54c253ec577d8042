"""Ollama ``/api/generate`` through the official ``ollama`` client: ``response`` text,
streams, ``context`` token ids that carry the conversation to the next request, ``system``,
``raw``, ``suffix``, ``format``, ``options`` and thinking."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import ollama
import pytest
from ollama import GenerateResponse
from pydantic import BaseModel

from mockllm.core.tokens import Tokenizer
from mockllm.testing import MockServer

MODEL = "llama3.2"
SKY = "what colour is the sky?"
SKY_ANSWER = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
LONG_ANSWER = "One two three four five six seven eight nine ten. STOP here. Eleven twelve."
ENCODING = Tokenizer().encoding("o200k_base")
END_OF_PROMPT = ENCODING.encode_single_token("<|endofprompt|>")

CONFIG = """
responses:
  "what colour is the sky?": "Blue."
rules:
  - name: memory
    match: {any_message: {contains: "My name is Ada"}, prompt: {exact: "What is my name?"}}
    reply: "Your name is Ada."
  - name: introduction
    match: {prompt: {contains: "My name is"}}
    reply: "Nice to meet you."
  - name: pirate
    match: {system: {contains: pirate}}
    reply: "Arr, {{ prompt }}!"
  - name: which-endpoint
    match: {provider: ollama, endpoint: generate, prompt: {exact: which endpoint}}
    reply: "generate"
  - name: thinker
    match: {prompt: {exact: think first}}
    reply: {text: "42.", reasoning: "Six times seven."}
"""


def tokens(text: str) -> int:
    return len(ENCODING.encode_ordinary(text))


@pytest.fixture(scope="module")
def client(server: MockServer) -> Iterator[ollama.Client]:
    with ollama.Client(host=server.url) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def scripted() -> Iterator[ollama.Client]:
    with MockServer(config_text=CONFIG) as running, ollama.Client(host=running.url) as sdk:
        yield sdk


def check_final(final: GenerateResponse, answer: str, prompt: str) -> None:
    assert final.done is True and final.done_reason == "stop"
    assert final.eval_count == tokens(answer)
    assert final.prompt_eval_count == 3 + 3 + tokens("user") + tokens(prompt)
    assert final.total_duration is not None and final.total_duration > 0
    assert final.context is not None
    context = list(final.context)
    assert all(isinstance(token, int) for token in context)
    # the prompt's tokens, <|endofprompt|>, the answer's tokens, <|endoftext|>
    assert context == [
        *ENCODING.encode_ordinary(prompt),
        END_OF_PROMPT,
        *ENCODING.encode_ordinary(answer),
        ENCODING.eot_token,
    ]


def test_generate(client: ollama.Client) -> None:
    response = client.generate(model=MODEL, prompt=SKY)
    assert isinstance(response, GenerateResponse)
    assert response.model == MODEL
    assert response.response == SKY_ANSWER
    assert response.thinking is None
    check_final(response, SKY_ANSWER, SKY)


def test_generate_stream(client: ollama.Client) -> None:
    chunks = list(client.generate(model=MODEL, prompt=SKY, stream=True))
    *pieces, final = chunks
    assert len(pieces) > 1
    assert all(c.done is False and c.context is None for c in pieces)
    assert "".join(c.response or "" for c in pieces) == SKY_ANSWER
    assert final.response == ""
    check_final(final, SKY_ANSWER, SKY)


def test_async_generate(server: MockServer) -> None:
    async def main() -> list[GenerateResponse]:
        async with ollama.AsyncClient(host=server.url) as sdk:
            stream = await sdk.generate(model=MODEL, prompt=SKY, stream=True)
            return [chunk async for chunk in stream]

    chunks = asyncio.run(main())
    assert "".join(c.response or "" for c in chunks) == SKY_ANSWER
    check_final(chunks[-1], SKY_ANSWER, SKY)


def test_context_carries_the_conversation(scripted: ollama.Client) -> None:
    first = scripted.generate(model=MODEL, prompt="My name is Ada")
    assert first.response == "Nice to meet you."
    assert first.context is not None
    second = scripted.generate(model=MODEL, prompt="What is my name?", context=first.context)
    assert second.response == "Your name is Ada."
    assert second.prompt_eval_count is not None and first.prompt_eval_count is not None
    assert second.prompt_eval_count > first.prompt_eval_count
    assert second.context is not None
    assert list(second.context[: len(first.context)]) == list(first.context)
    # Without the context, the model does not know.
    alone = scripted.generate(model=MODEL, prompt="What is my name?")
    assert alone.response != "Your name is Ada."


def test_foreign_context_ids_are_tolerated(scripted: ollama.Client) -> None:
    response = scripted.generate(model=MODEL, prompt=SKY, context=[1, 2, 3, 10**7, 128006])
    assert response.response == "Blue."


def test_system(scripted: ollama.Client) -> None:
    response = scripted.generate(model=MODEL, prompt="hello", system="You are a pirate.")
    assert response.response == "Arr, hello!"


def test_rules_see_the_endpoint(scripted: ollama.Client) -> None:
    assert scripted.generate(model=MODEL, prompt="which endpoint").response == "generate"


def test_raw_mode_has_no_context(client: ollama.Client) -> None:
    response = client.generate(model=MODEL, prompt=SKY, raw=True)
    assert response.response == SKY_ANSWER
    assert response.context is None


def test_raw_mode_rejects_system(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        client.generate(model=MODEL, prompt=SKY, raw=True, system="x")
    assert info.value.status_code == 400
    assert info.value.error == "raw mode does not support template, system, or context"


def test_suffix_needs_an_insert_model(client: ollama.Client) -> None:
    response = client.generate(model="qwen2.5", prompt=SKY, suffix="return x")
    assert response.response == SKY_ANSWER
    with pytest.raises(ollama.ResponseError) as info:
        client.generate(model=MODEL, prompt=SKY, suffix="return x")
    assert info.value.status_code == 400
    assert info.value.error == "registry.ollama.ai/library/llama3.2:latest does not support insert"


def test_num_predict(client: ollama.Client) -> None:
    response = client.generate(model=MODEL, prompt="long answer", options={"num_predict": 5})
    assert response.response == ENCODING.decode(ENCODING.encode_ordinary(LONG_ANSWER)[:5])
    assert response.done_reason == "length"
    assert response.eval_count == 5


class Point(BaseModel):
    x: int
    y: int


def test_format_schema(client: ollama.Client) -> None:
    response = client.generate(model=MODEL, prompt="a point", format=Point.model_json_schema())
    assert response.response is not None
    Point.model_validate_json(response.response)


def test_thinking(scripted: ollama.Client) -> None:
    response = scripted.generate(model="deepseek-r1", prompt="think first")
    assert response.thinking == "Six times seven."
    assert response.response == "42."
    chunks = list(scripted.generate(model="deepseek-r1", prompt="think first", stream=True))
    assert "".join(c.thinking or "" for c in chunks) == "Six times seven."
    hidden = scripted.generate(model="deepseek-r1", prompt="think first", think=False)
    assert hidden.thinking is None and hidden.eval_count == tokens("42.")


def test_empty_prompt_loads_the_model(client: ollama.Client) -> None:
    response = client.generate(model="phi4")
    assert response.done is True and response.done_reason == "load"
    assert response.response == "" and response.context is None


def test_embedding_model_cannot_generate(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        client.generate(model="nomic-embed-text", prompt=SKY)
    assert info.value.status_code == 400
    assert info.value.error == '"nomic-embed-text" does not support generate'
