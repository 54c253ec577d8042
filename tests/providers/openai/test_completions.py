"""Legacy ``POST /v1/completions`` through the official SDK and raw HTTP (wire-formats.md
section 4): answers from the rules, ``max_tokens`` (default 16) with ``finish_reason:
"length"``, ``stop``, ``echo``, lists of prompts and token arrays, ``n``, streaming with
``text_completion`` chunks and the usage chunk, exact usage, errors in OpenAI's envelope;
every payload (stream chunks included) valid as ``CreateCompletionResponse``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types import Completion

from mockllm.core.tokens import Tokenizer
from mockllm.testing import MockServer
from openapi_schemas import assert_valid, errors

MODEL = "gpt-3.5-turbo-instruct"  # not in the catalogue: cl100k_base, guessed like tiktoken
SKY = "what colour is the sky?"
SKY_ANSWER = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
LONG_ANSWER = "One two three four five six seven eight nine ten. STOP here. Eleven twelve."
WEATHER_ANSWER = "It is sunny in Paris, 22 degrees."
DEFAULT_ANSWER = "I don't know the answer to that. This is a mock response."

_TOKENIZER = Tokenizer()


def encode(text: str) -> list[int]:
    return _TOKENIZER.encoding("cl100k_base").encode_ordinary(text)


def first_tokens(text: str, count: int) -> str:
    return _TOKENIZER.encoding("cl100k_base").decode(encode(text)[:count])


def post(http: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return http.post("/completions", json={"model": MODEL, **body})


def stream_payloads(http: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = post(http, {**body, "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = response.content.split(b"\n\n")
    assert events[-2:] == [b"data: [DONE]", b""]
    return [json.loads(e.removeprefix(b"data: ")) for e in events[:-2]]


def assert_valid_chunk(payload: dict[str, Any]) -> None:
    """A stream chunk is a ``CreateCompletionResponse`` (the spec gives both one shape), but
    for the nulls real streams send and the schema does not allow: ``finish_reason`` before
    the finish chunk, and ``usage`` before the usage chunk (with ``include_usage``)."""
    allowed = {"$.usage"} | {
        f"$.choices[{i}].finish_reason" for i in range(len(payload["choices"]))
    }
    problems = [
        problem
        for problem in errors("CreateCompletionResponse", payload)
        if problem.split(":")[0] not in allowed or "None is not" not in problem
    ]
    assert not problems, problems


def check(completion: Completion) -> None:
    assert completion.object == "text_completion"
    assert completion.id.startswith("cmpl-")
    assert completion.model == MODEL
    assert completion.system_fingerprint == "fp_mockllm"
    assert isinstance(completion.created, int) and completion.created > 1_700_000_000
    assert completion.usage is not None
    usage = completion.usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


# --- non-streaming -------------------------------------------------------------------------


def test_answer_and_exact_usage(client: OpenAI) -> None:
    completion = client.completions.create(model=MODEL, prompt="weather in Paris?")
    check(completion)
    [choice] = completion.choices
    assert choice.text == WEATHER_ANSWER
    assert choice.index == 0 and choice.finish_reason == "stop" and choice.logprobs is None
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == len(encode("weather in Paris?"))  # no overheads
    assert completion.usage.completion_tokens == len(encode(WEATHER_ANSWER))


def test_max_tokens_defaults_to_16(client: OpenAI) -> None:
    completion = client.completions.create(model=MODEL, prompt="long answer")
    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].text == first_tokens(LONG_ANSWER, 16)
    assert completion.usage is not None and completion.usage.completion_tokens == 16


def test_max_tokens_truncates(client: OpenAI) -> None:
    completion = client.completions.create(model=MODEL, prompt="long answer", max_tokens=3)
    assert completion.choices[0].text == "One two three"
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens == 3

    whole = client.completions.create(model=MODEL, prompt="long answer", max_tokens=100)
    assert whole.choices[0].text == LONG_ANSWER and whole.choices[0].finish_reason == "stop"


def test_stop(client: OpenAI) -> None:
    completion = client.completions.create(
        model=MODEL, prompt="long answer", max_tokens=50, stop=["STOP", "nothing"]
    )
    assert completion.choices[0].text == "One two three four five six seven eight nine ten. "
    assert completion.choices[0].finish_reason == "stop"
    single = client.completions.create(model=MODEL, prompt="long answer", stop="five")
    assert single.choices[0].text == "One two three four "


def test_echo(client: OpenAI) -> None:
    completion = client.completions.create(model=MODEL, prompt="weather?", echo=True)
    assert completion.choices[0].text == "weather?" + WEATHER_ANSWER
    assert completion.usage is not None
    assert completion.usage.completion_tokens == len(encode(WEATHER_ANSWER))
    # max_tokens 0 with echo: the prompt alone (how scoring clients use it).
    scored = client.completions.create(model=MODEL, prompt="weather?", echo=True, max_tokens=0)
    assert scored.choices[0].text == "weather?"
    assert scored.choices[0].finish_reason == "length"


def test_list_of_prompts_and_n(client: OpenAI) -> None:
    completion = client.completions.create(
        model=MODEL, prompt=["weather?", SKY, "anything"], n=2, max_tokens=100
    )
    check(completion)
    assert [c.index for c in completion.choices] == [0, 1, 2, 3, 4, 5]
    assert [c.text for c in completion.choices] == [
        WEATHER_ANSWER,
        WEATHER_ANSWER,
        SKY_ANSWER,
        SKY_ANSWER,
        DEFAULT_ANSWER,
        DEFAULT_ANSWER,
    ]
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == sum(
        len(encode(p)) for p in ["weather?", SKY, "anything"]
    )
    assert completion.usage.completion_tokens == 2 * sum(
        len(encode(a)) for a in [WEATHER_ANSWER, SKY_ANSWER, DEFAULT_ANSWER]
    )


def test_token_array_prompts(client: OpenAI) -> None:
    ids = encode(SKY)
    one = client.completions.create(model=MODEL, prompt=ids, max_tokens=100)
    assert one.choices[0].text == SKY_ANSWER
    assert one.usage is not None and one.usage.prompt_tokens == len(ids)
    many = client.completions.create(
        model=MODEL, prompt=[ids, encode("weather?")], max_tokens=100, echo=True
    )
    assert [c.text for c in many.choices] == [SKY + SKY_ANSWER, "weather?" + WEATHER_ANSWER]


def test_logprobs_answered_and_suffix_and_sampling_accepted(client: OpenAI) -> None:
    completion = client.completions.create(
        model=MODEL,
        prompt="weather?",
        logprobs=2,
        suffix="\n",
        temperature=0.2,
        top_p=0.9,
        best_of=1,
        seed=7,
        logit_bias={"50256": -100},
        user="u-1",
    )
    assert completion.choices[0].text == WEATHER_ANSWER
    logprobs = completion.choices[0].logprobs
    assert logprobs is not None and logprobs.tokens is not None
    assert "".join(logprobs.tokens) == WEATHER_ANSWER
    assert logprobs.top_logprobs is not None
    assert all(len(top) == 2 for top in logprobs.top_logprobs)


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "weather?"},
        {"prompt": ["long answer", SKY], "n": 2, "max_tokens": 5, "echo": True},
        {"prompt": "long answer", "stop": "STOP", "max_tokens": 50},
        {"prompt": [encode("weather?")]},
    ],
)
def test_payloads_match_the_spec(http: httpx.Client, body: dict[str, Any]) -> None:
    response = post(http, body)
    assert response.status_code == 200
    payload = response.json()
    assert_valid("CreateCompletionResponse", payload)
    assert list(payload) == [
        "id",
        "object",
        "created",
        "model",
        "system_fingerprint",
        "choices",
        "usage",
    ]
    for payload in stream_payloads(http, {**body, "stream_options": {"include_usage": True}}):
        assert_valid_chunk(payload)


def test_async_client(server: MockServer) -> None:
    async def run() -> tuple[str, str]:
        async with AsyncOpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0) as sdk:
            completion = await sdk.completions.create(model=MODEL, prompt="weather?")
            stream = await sdk.completions.create(model=MODEL, prompt="weather?", stream=True)
            text = "".join([c.choices[0].text async for c in stream if c.choices])
            return completion.choices[0].text, text

    assert asyncio.run(run()) == (WEATHER_ANSWER, WEATHER_ANSWER)


# --- streaming -----------------------------------------------------------------------------


def test_stream_through_the_sdk(client: OpenAI) -> None:
    stream = client.completions.create(
        model=MODEL,
        prompt="long answer",
        max_tokens=100,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert {c.object for c in chunks} == {"text_completion"}
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("cmpl-")
    assert len({c.created for c in chunks}) == 1
    *body, usage = chunks
    assert usage.choices == [] and usage.usage is not None
    assert usage.usage.prompt_tokens == 2
    assert usage.usage.completion_tokens == len(encode(LONG_ANSWER))
    assert all(c.usage is None for c in body)
    assert "".join(c.choices[0].text for c in body) == LONG_ANSWER
    assert len(body) == len(encode(LONG_ANSWER)) + 1  # one chunk per token, then the finish
    finish = body[-1].choices[0]
    assert finish.text == "" and finish.finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in body[:-1])


def test_stream_truncated_without_usage(http: httpx.Client) -> None:
    payloads = stream_payloads(http, {"prompt": "long answer", "max_tokens": 3})
    assert all("usage" not in p for p in payloads)
    assert [p["choices"][0]["text"] for p in payloads] == ["One", " two", " three", ""]
    assert payloads[-1]["choices"][0]["finish_reason"] == "length"


def test_stream_of_many_prompts_with_echo(http: httpx.Client) -> None:
    payloads = stream_payloads(
        http, {"prompt": ["weather?", SKY], "n": 2, "echo": True, "max_tokens": 100}
    )
    texts: dict[int, str] = {}
    finishes: dict[int, str] = {}
    for payload in payloads:
        [choice] = payload["choices"]
        texts[choice["index"]] = texts.get(choice["index"], "") + choice["text"]
        if choice["finish_reason"]:
            finishes[choice["index"]] = choice["finish_reason"]
    assert texts == {
        0: "weather?" + WEATHER_ANSWER,
        1: "weather?" + WEATHER_ANSWER,
        2: SKY + SKY_ANSWER,
        3: SKY + SKY_ANSWER,
    }
    assert finishes == dict.fromkeys(range(4), "stop")
    # The echoed prompt is the first chunk of its choice.
    assert payloads[0]["choices"][0] == {
        "text": "weather?",
        "index": 0,
        "logprobs": None,
        "finish_reason": None,
    }


# --- rules ---------------------------------------------------------------------------------

RULES = """
rules:
  - name: legacy
    match: {endpoint: completions, prompt: {icontains: poem}}
    reply: "Roses are red."
  - name: chat-only
    match: {endpoint: chat.completions, prompt: {icontains: poem}}
    reply: "A chat poem."
  - name: numbered
    match: {endpoint: completions, prompt: {regex: "^count"}}
    sequence: ["one", "two", "three"]
"""


@pytest.fixture(scope="module")
def rules_server() -> Iterator[MockServer]:
    with MockServer(config_text=RULES) as running:
        yield running


def test_rules_apply(rules_server: MockServer) -> None:
    with OpenAI(base_url=rules_server.openai_url, api_key="x", max_retries=0) as sdk:
        legacy = sdk.completions.with_raw_response.create(model=MODEL, prompt="a poem please")
        assert legacy.headers["x-mockllm-rule"] == "legacy"
        assert legacy.parse().choices[0].text == "Roses are red."
        chat = sdk.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "a poem please"}]
        )
        assert chat.choices[0].message.content == "A chat poem."
        texts = [
            sdk.completions.create(model=MODEL, prompt="count", max_tokens=5).choices[0].text
            for _ in range(3)
        ]
        assert texts == ["one", "two", "three"]
        both = sdk.completions.with_raw_response.create(model=MODEL, prompt=["poem", "x"])
        assert both.headers["x-mockllm-rule"] == "legacy, (default)"


# --- errors --------------------------------------------------------------------------------


def error_of(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert_valid("ErrorResponse", body)
    error: dict[str, Any] = body["error"]
    return error


def test_missing_prompt(http: httpx.Client) -> None:
    error = error_of(post(http, {}))
    assert error["param"] == "prompt" and error["code"] == "missing_required_parameter"


def test_empty_prompt_list(http: httpx.Client) -> None:
    error = error_of(post(http, {"prompt": []}))
    assert error["param"] == "prompt" and error["code"] == "empty_array"


def test_wrong_types(http: httpx.Client) -> None:
    assert error_of(post(http, {"prompt": 3}))["code"] == "invalid_type"
    assert error_of(post(http, {"prompt": "x", "max_tokens": "3"}))["param"] == "max_tokens"
    error = error_of(post(http, {"prompt": "x", "n": 0}))
    assert error["param"] == "n" and error["code"] == "integer_below_min_value"


def test_too_many_stop_sequences(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model=MODEL, prompt="x", stop=["a", "b", "c", "d", "e"])
    assert caught.value.param == "stop" and caught.value.code == "array_above_max_length"


def test_stream_options_without_stream(http: httpx.Client) -> None:
    error = error_of(post(http, {"prompt": "x", "stream_options": {"include_usage": True}}))
    assert error["param"] == "stream_options"


def test_context_window(server: MockServer) -> None:
    config = "models:\n  - {id: tiny-instruct, provider: openai, context_window: 20}\n"
    with MockServer(config_text=config) as small, httpx.Client(base_url=small.openai_url) as raw:
        ok = raw.post("/completions", json={"model": "tiny-instruct", "prompt": "a b c d"})
        assert ok.status_code == 200
        prompt = " ".join(["word"] * 10)
        error = error_of(
            raw.post("/completions", json={"model": "tiny-instruct", "prompt": prompt})
        )
        assert error["code"] == "context_length_exceeded"
        assert error["message"] == (
            "This model's maximum context length is 20 tokens, however you requested 26 tokens "
            "(10 in your prompt; 16 for the completion). Please reduce your prompt; or "
            "completion length."
        )


def test_rule_error_in_the_envelope() -> None:
    config = """
rules:
  - match: {endpoint: completions}
    reply: {error: {status: 429, message: Slow}}
"""
    with MockServer(config_text=config) as erring:
        with OpenAI(base_url=erring.openai_url, api_key="x", max_retries=0) as sdk:
            with pytest.raises(openai.RateLimitError) as caught:
                sdk.completions.create(model=MODEL, prompt="x")
    assert isinstance(caught.value.body, dict) and caught.value.body["message"] == "Slow"
    assert_valid("ErrorResponse", caught.value.response.json())
