"""Logprobs through the official SDK over a real socket: Chat Completions (``logprobs`` /
``top_logprobs``, JSON and stream), legacy completions (``logprobs: k``, ``echo``, stream),
the Responses API (``include: ["message.output_text.logprobs"]``, JSON and stream) and
Azure's Chat Completions; deterministic, plausible, one entry per streamed token, and
nothing when not asked for. Payloads are validated against OpenAI's spec."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from typing import Any, Final

import httpx
import pytest
from openai import AzureOpenAI, OpenAI, omit
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionTokenLogprob
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
)

from mockllm.providers.openai.decode import decode_plain
from mockllm.testing import MockServer
from openapi_schemas import assert_valid, errors

CONFIG = """
rules:
  - name: weather
    match: {prompt: {icontains: weather}}
    reply: "It is sunny in Paris, 22 degrees."
  - name: unicode
    match: {prompt: {exact: unicode}}
    reply: "Grüße 👋 — 日本語のテキスト."
  - name: refuse
    match: {prompt: {exact: refuse}}
    reply: {refusal: "I can't help with that."}
  - name: call
    match: {prompt: {exact: call}}
    reply:
      tool_calls: [{name: get_weather, arguments: {city: Paris}}]
  - name: talk-and-call
    match: {prompt: {exact: talk and call}}
    reply:
      text: "Checking."
      tool_calls: [{name: get_weather, arguments: {city: Paris}}]
"""
WEATHER = "It is sunny in Paris, 22 degrees."
UNICODE = "Grüße 👋 — 日本語のテキスト."
REFUSAL = "I can't help with that."
LEGACY_MODEL = "gpt-3.5-turbo-instruct"
INCLUDE: Final = "message.output_text.logprobs"
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def ask(text: str) -> list[ChatCompletionMessageParam]:
    return [{"role": "user", "content": text}]


@pytest.fixture(scope="module")
def lp_server() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG) as running:
        yield running


@pytest.fixture
def sdk(lp_server: MockServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=lp_server.openai_url, api_key="sk-test", max_retries=0) as client:
        yield client


@pytest.fixture
def raw(lp_server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=lp_server.openai_url, timeout=10) as client:
        yield client


# --- the contract of one entry, whatever the endpoint --------------------------------------


def check_values(token: str, logprob: float, top: Sequence[tuple[str, float]]) -> None:
    """The chosen token likely, its alternatives distinct, each less likely than the one
    before, their probabilities adding up to at most 1; the chosen token first."""
    assert -3 <= logprob <= -0.0001
    if not top:
        return
    assert top[0] == (token, logprob)
    values = [value for _, value in top]
    assert all(a > b for a, b in zip(values, values[1:], strict=False)), values
    assert sum(math.exp(value) for value in values) <= 1.0
    tokens = [t for t, _ in top]
    assert len(set(tokens)) == len(tokens)


def check_entry(entry: ChatCompletionTokenLogprob | Any, top: int) -> None:
    """One ``{token, logprob, bytes, top_logprobs}`` entry (SDK object) for ``top``."""
    assert entry.bytes is not None and bytes(entry.bytes).decode() == entry.token
    assert len(entry.top_logprobs) == top
    for alternative in entry.top_logprobs:
        assert alternative.bytes is not None
        assert bytes(alternative.bytes).decode() == alternative.token
    check_values(entry.token, entry.logprob, [(a.token, a.logprob) for a in entry.top_logprobs])


def sse_payloads(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    events = response.content.split(b"\n\n")
    assert events[-2:] == [b"data: [DONE]", b""]
    return [json.loads(e.removeprefix(b"data: ")) for e in events[:-2]]


# --- Chat Completions ----------------------------------------------------------------------


def test_chat_logprobs(sdk: OpenAI) -> None:
    completion = sdk.chat.completions.create(
        model="gpt-4o", messages=ask("weather?"), logprobs=True, top_logprobs=3
    )
    choice = completion.choices[0]
    assert choice.message.content == WEATHER
    assert choice.logprobs is not None and choice.logprobs.refusal is None
    entries = choice.logprobs.content
    assert entries is not None and len(entries) > 5
    assert "".join(e.token for e in entries) == WEATHER
    # One entry per token: as many as the completion tokens counted.
    assert completion.usage is not None and len(entries) == completion.usage.completion_tokens
    for entry in entries:
        check_entry(entry, 3)
    # Most tokens are likely.
    assert sum(e.logprob > -0.5 for e in entries) > len(entries) / 2

    again = sdk.chat.completions.create(
        model="gpt-4o", messages=ask("weather?"), logprobs=True, top_logprobs=3
    )
    assert again.choices[0].logprobs == choice.logprobs


@pytest.mark.parametrize("top", [None, 0, 1, 20])
def test_chat_top_logprobs_count(sdk: OpenAI, top: int | None) -> None:
    completion = sdk.chat.completions.create(
        model="gpt-4o",
        messages=ask("weather?"),
        logprobs=True,
        top_logprobs=omit if top is None else top,
    )
    logprobs = completion.choices[0].logprobs
    assert logprobs is not None and logprobs.content
    for entry in logprobs.content:
        check_entry(entry, top or 0)


def test_chat_stream_logprobs(sdk: OpenAI) -> None:
    whole = sdk.chat.completions.create(
        model="gpt-4o", messages=ask("weather?"), logprobs=True, top_logprobs=3
    )
    assert whole.choices[0].logprobs is not None
    chunks = list(
        sdk.chat.completions.create(
            model="gpt-4o",
            messages=ask("weather?"),
            logprobs=True,
            top_logprobs=3,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    role, *content, finish, usage = chunks
    assert usage.choices == []
    # The role chunk opens an empty list (as the live API sends it); the finish chunk none.
    assert role.choices[0].logprobs is not None and role.choices[0].logprobs.content == []
    assert finish.choices[0].finish_reason == "stop" and finish.choices[0].logprobs is None
    streamed = []
    for chunk in content:
        logprobs = chunk.choices[0].logprobs
        assert logprobs is not None and logprobs.content is not None
        assert logprobs.refusal is None
        assert "".join(e.token for e in logprobs.content) == chunk.choices[0].delta.content
        assert len(logprobs.content) == 1  # one token per content chunk
        streamed.extend(logprobs.content)
    assert streamed == whole.choices[0].logprobs.content


def test_chat_stream_helper_accumulates_logprobs(sdk: OpenAI) -> None:
    with sdk.chat.completions.stream(
        model="gpt-4o", messages=ask("weather?"), logprobs=True, top_logprobs=2
    ) as stream:
        final = stream.get_final_completion()
    logprobs = final.choices[0].logprobs
    assert logprobs is not None and logprobs.content is not None
    assert "".join(e.token for e in logprobs.content) == WEATHER


def test_chat_unicode_bytes(sdk: OpenAI) -> None:
    completion = sdk.chat.completions.create(
        model="gpt-4o", messages=ask("unicode"), logprobs=True, top_logprobs=2
    )
    logprobs = completion.choices[0].logprobs
    assert logprobs is not None and logprobs.content is not None
    assert "".join(e.token for e in logprobs.content) == UNICODE
    assert any(len(e.bytes or []) > len(e.token) for e in logprobs.content)  # multi-byte
    for entry in logprobs.content:
        check_entry(entry, 2)


def test_chat_n_choices_each_get_logprobs(sdk: OpenAI) -> None:
    completion = sdk.chat.completions.create(
        model="gpt-4o", messages=ask("weather?"), logprobs=True, n=3
    )
    reported = [c.logprobs for c in completion.choices]
    assert all(r is not None and r.content for r in reported)
    assert reported[0] == reported[1] == reported[2]  # the same text, the same numbers


def test_chat_refusal_logprobs(sdk: OpenAI, raw: httpx.Client) -> None:
    completion = sdk.chat.completions.create(
        model="gpt-4o", messages=ask("refuse"), logprobs=True, top_logprobs=2
    )
    choice = completion.choices[0]
    assert choice.message.refusal == REFUSAL and choice.logprobs is not None
    assert choice.logprobs.content is None and choice.logprobs.refusal is not None
    assert "".join(e.token for e in choice.logprobs.refusal) == REFUSAL
    for entry in choice.logprobs.refusal:
        check_entry(entry, 2)

    body = {"model": "gpt-4o", "messages": ask("refuse"), "logprobs": True, "top_logprobs": 2}
    payloads = sse_payloads(raw.post("/chat/completions", json={**body, "stream": True}))
    role = payloads[0]["choices"][0]
    assert role["logprobs"] == {"content": None, "refusal": []}
    streamed = []
    for payload in payloads[1:-1]:
        logprobs = payload["choices"][0]["logprobs"]
        assert logprobs["content"] is None
        streamed.extend(logprobs["refusal"])
    assert payloads[-1]["choices"][0]["logprobs"] is None
    whole = raw.post("/chat/completions", json=body).json()
    assert streamed == whole["choices"][0]["logprobs"]["refusal"]


def test_chat_tool_calls_have_no_content_logprobs(sdk: OpenAI, raw: httpx.Client) -> None:
    completion = sdk.chat.completions.create(
        model="gpt-4o", messages=ask("call"), tools=TOOLS, logprobs=True, top_logprobs=2
    )
    choice = completion.choices[0]
    assert choice.message.content is None and choice.message.tool_calls
    assert choice.logprobs is not None
    assert choice.logprobs.content is None and choice.logprobs.refusal is None

    body = {"model": "gpt-4o", "messages": ask("call"), "tools": TOOLS, "logprobs": True}
    payloads = sse_payloads(raw.post("/chat/completions", json={**body, "stream": True}))
    assert all(p["choices"][0]["logprobs"] is None for p in payloads)


def test_chat_text_and_tool_calls(raw: httpx.Client) -> None:
    body: dict[str, Any] = {"model": "gpt-4o", "messages": ask("talk and call"), "tools": TOOLS}
    body |= {"logprobs": True, "top_logprobs": 1}
    whole = raw.post("/chat/completions", json=body).json()["choices"][0]
    assert "".join(e["token"] for e in whole["logprobs"]["content"]) == "Checking."
    payloads = sse_payloads(raw.post("/chat/completions", json={**body, "stream": True}))
    streamed = []
    for payload in payloads:
        choice = payload["choices"][0]
        if "tool_calls" in choice["delta"] or choice["finish_reason"]:
            assert choice["logprobs"] is None
        else:
            streamed.extend(choice["logprobs"]["content"])
    assert streamed == whole["logprobs"]["content"]


@pytest.mark.parametrize(("logprobs", "top"), [(None, None), (False, None), (False, 3)])
def test_chat_no_logprobs_unless_asked(sdk: OpenAI, logprobs: bool | None, top: int | None) -> None:
    asked = omit if logprobs is None else logprobs
    top_logprobs = omit if top is None else top
    completion = sdk.chat.completions.create(
        model="gpt-4o", messages=ask("weather?"), logprobs=asked, top_logprobs=top_logprobs
    )
    assert completion.choices[0].logprobs is None
    chunks = sdk.chat.completions.create(
        model="gpt-4o",
        messages=ask("weather?"),
        logprobs=asked,
        top_logprobs=top_logprobs,
        stream=True,
    )
    assert all(c.choices[0].logprobs is None for c in chunks)


def test_plain_and_validated_bodies_report_the_same(raw: httpx.Client) -> None:
    """A plain body takes the fast path; one with a field outside it (``logit_bias``) the
    schema's: both report the same logprobs."""
    plain = {"model": "gpt-4o", "messages": ask("weather?"), "logprobs": True, "top_logprobs": 4}
    assert decode_plain(json.dumps(plain).encode(), {}) is not None
    fast = raw.post("/chat/completions", json=plain).json()
    slow = raw.post("/chat/completions", json={**plain, "logit_bias": {}}).json()
    assert fast["choices"][0]["logprobs"] == slow["choices"][0]["logprobs"]
    assert len(fast["choices"][0]["logprobs"]["content"][0]["top_logprobs"]) == 4


def test_decode_plain_keeps_logprobs() -> None:
    def decoded(**fields: Any) -> int | None:
        body = {"model": "m", "messages": ask("hi"), **fields}
        plain = decode_plain(json.dumps(body).encode(), {})
        assert plain is not None
        return plain[0].logprobs

    assert decoded() is None
    assert decoded(logprobs=False, top_logprobs=2) is None
    assert decoded(logprobs=True) == 0
    assert decoded(logprobs=True, top_logprobs=5) == 5


def test_chat_logprob_payloads_match_spec(raw: httpx.Client) -> None:
    for prompt in ("weather?", "refuse", "call", "talk and call", "unicode"):
        body: dict[str, Any] = {"model": "gpt-4o", "messages": ask(prompt), "tools": TOOLS}
        body |= {"logprobs": True, "top_logprobs": 2}
        assert_valid(
            "CreateChatCompletionResponse", raw.post("/chat/completions", json=body).json()
        )
        for chunk in sse_payloads(raw.post("/chat/completions", json={**body, "stream": True})):
            assert_valid("CreateChatCompletionStreamResponse", chunk)


def test_azure_chat_logprobs(lp_server: MockServer, sdk: OpenAI) -> None:
    with AzureOpenAI(
        azure_endpoint=lp_server.url, api_version="2024-10-21", api_key="x", max_retries=0
    ) as azure:
        completion = azure.chat.completions.create(
            model="gpt-4o", messages=ask("weather?"), logprobs=True, top_logprobs=2
        )
        chunks = list(
            azure.chat.completions.create(
                model="gpt-4o", messages=ask("weather?"), logprobs=True, top_logprobs=2, stream=True
            )
        )
    logprobs = completion.choices[0].logprobs
    assert logprobs is not None and logprobs.content is not None
    openai_side = sdk.chat.completions.create(
        model="gpt-4o", messages=ask("weather?"), logprobs=True, top_logprobs=2
    )
    assert logprobs == openai_side.choices[0].logprobs
    streamed = [
        entry
        for chunk in chunks
        if chunk.choices and chunk.choices[0].logprobs
        for entry in chunk.choices[0].logprobs.content or ()
    ]
    assert streamed == logprobs.content


# --- legacy completions --------------------------------------------------------------------


def check_legacy(logprobs: Any, text: str, k: int, echoed: str = "") -> None:
    """A legacy ``logprobs`` object for ``text`` (the choice's whole text, ``echoed``
    prompt first): the tokens join to it, the offsets point at them, ``k`` alternatives."""
    tokens, values = logprobs.tokens, logprobs.token_logprobs
    tops, offsets = logprobs.top_logprobs, logprobs.text_offset
    assert len(tokens) == len(values) == len(tops) == len(offsets)
    assert "".join(tokens) == text
    for token, offset in zip(tokens, offsets, strict=True):
        assert text[offset : offset + len(token)] == token
    for position, (token, value, top) in enumerate(zip(tokens, values, tops, strict=True)):
        if echoed and position == 0:
            assert value is None and top is None  # the prompt's first token, as on the real API
            continue
        assert len(top) == max(k, 1)
        check_values(token, value, list(top.items()))


def test_completions_logprobs(sdk: OpenAI) -> None:
    completion = sdk.completions.create(model=LEGACY_MODEL, prompt="weather?", logprobs=2)
    choice = completion.choices[0]
    assert choice.text == WEATHER and choice.logprobs is not None
    check_legacy(choice.logprobs, WEATHER, 2)
    assert choice.logprobs.text_offset is not None and choice.logprobs.text_offset[0] == 0
    again = sdk.completions.create(model=LEGACY_MODEL, prompt="weather?", logprobs=2)
    assert again.choices[0].logprobs == choice.logprobs


def test_completions_logprobs_zero_reports_the_chosen_token(sdk: OpenAI) -> None:
    completion = sdk.completions.create(model=LEGACY_MODEL, prompt="weather?", logprobs=0)
    logprobs = completion.choices[0].logprobs
    assert logprobs is not None and logprobs.top_logprobs is not None
    check_legacy(logprobs, WEATHER, 0)
    assert [list(top) for top in logprobs.top_logprobs] == [[t] for t in logprobs.tokens or ()]


def test_completions_logprobs_with_echo(sdk: OpenAI) -> None:
    prompt = "Tell me the weather, please."
    completion = sdk.completions.create(
        model=LEGACY_MODEL, prompt=prompt, logprobs=2, echo=True, max_tokens=50
    )
    choice = completion.choices[0]
    assert choice.text == prompt + WEATHER and choice.logprobs is not None
    check_legacy(choice.logprobs, prompt + WEATHER, 2, echoed=prompt)
    tokens = choice.logprobs.tokens or []
    assert completion.usage is not None
    assert len(tokens) == completion.usage.prompt_tokens + completion.usage.completion_tokens
    # The answer's own numbers do not change with echo.
    plain = sdk.completions.create(model=LEGACY_MODEL, prompt=prompt, logprobs=2, max_tokens=50)
    assert plain.choices[0].logprobs is not None
    answered = completion.usage.completion_tokens
    assert (choice.logprobs.token_logprobs or [])[-answered:] == plain.choices[
        0
    ].logprobs.token_logprobs


@pytest.mark.parametrize("echo", [False, True])
def test_completions_stream_logprobs(sdk: OpenAI, echo: bool) -> None:
    prompt = "weather?"
    whole = sdk.completions.create(
        model=LEGACY_MODEL, prompt=[prompt, "unicode"], logprobs=3, echo=echo, n=2
    )
    chunks = list(
        sdk.completions.create(
            model=LEGACY_MODEL,
            prompt=[prompt, "unicode"],
            logprobs=3,
            echo=echo,
            n=2,
            stream=True,
        )
    )
    merged: dict[int, dict[str, list[Any]]] = {}
    for chunk in chunks:
        choice = chunk.choices[0]
        if choice.finish_reason is not None:
            assert choice.logprobs is None
            continue
        assert choice.logprobs is not None
        assert "".join(choice.logprobs.tokens or []) == choice.text
        into = merged.setdefault(choice.index, {})
        for name in ("tokens", "token_logprobs", "top_logprobs", "text_offset"):
            into.setdefault(name, []).extend(getattr(choice.logprobs, name) or [])
    assert len(whole.choices) == len(merged) == 4
    for choice in whole.choices:
        assert choice.logprobs is not None
        assert merged[choice.index] == choice.logprobs.model_dump()
        check_legacy(choice.logprobs, choice.text, 3, echoed=prompt if echo else "")


def test_completions_without_logprobs(sdk: OpenAI) -> None:
    completion = sdk.completions.create(model=LEGACY_MODEL, prompt="weather?", echo=True)
    assert completion.choices[0].logprobs is None
    chunks = sdk.completions.create(model=LEGACY_MODEL, prompt="weather?", stream=True)
    assert all(c.choices[0].logprobs is None for c in chunks if c.choices)


def test_completions_logprobs_match_spec(raw: httpx.Client) -> None:
    """Valid ``CreateCompletionResponse`` payloads, but for the nulls the live API sends and
    the spec lacks: the echoed prompt's first token's logprobs, and a stream chunk's
    ``finish_reason`` before its finish chunk."""
    body = {"model": LEGACY_MODEL, "prompt": "weather?", "logprobs": 2}
    assert_valid("CreateCompletionResponse", raw.post("/completions", json=body).json())
    for chunk in sse_payloads(raw.post("/completions", json={**body, "stream": True})):
        problems = errors("CreateCompletionResponse", chunk)
        assert all(p.startswith("$.choices[0].finish_reason: None") for p in problems), problems
    echoed = raw.post("/completions", json={**body, "echo": True}).json()
    logprobs = echoed["choices"][0]["logprobs"]
    assert logprobs["token_logprobs"][0] is None and logprobs["top_logprobs"][0] is None
    logprobs["token_logprobs"][0], logprobs["top_logprobs"][0] = -1.0, {}
    assert_valid("CreateCompletionResponse", echoed)


# --- Responses API -------------------------------------------------------------------------


def output_text(response: Response) -> ResponseOutputText:
    """The ``output_text`` part of the response's message."""
    message = response.output[0]
    assert isinstance(message, ResponseOutputMessage)
    part = message.content[0]
    assert isinstance(part, ResponseOutputText)
    return part


def test_responses_logprobs(sdk: OpenAI) -> None:
    response = sdk.responses.create(
        model="gpt-4o", input="weather?", include=[INCLUDE], top_logprobs=2
    )
    assert response.output_text == WEATHER
    part = output_text(response)
    assert part.logprobs
    assert "".join(e.token for e in part.logprobs) == WEATHER
    for entry in part.logprobs:
        check_entry(entry, 2)
    again = sdk.responses.create(
        model="gpt-4o", input="weather?", include=[INCLUDE], top_logprobs=2
    )
    assert output_text(again) == part
    # The same numbers as Chat Completions gives for the same answer.
    chat = sdk.chat.completions.create(
        model="gpt-4o", messages=ask("weather?"), logprobs=True, top_logprobs=2
    )
    assert chat.choices[0].logprobs is not None and chat.choices[0].logprobs.content
    assert [e.model_dump() for e in part.logprobs] == [
        e.model_dump() for e in chat.choices[0].logprobs.content
    ]


def test_responses_logprobs_default_to_no_alternatives(sdk: OpenAI) -> None:
    part = output_text(sdk.responses.create(model="gpt-4o", input="weather?", include=[INCLUDE]))
    assert part.logprobs
    assert all(entry.top_logprobs == [] for entry in part.logprobs)


def test_responses_stream_logprobs(sdk: OpenAI) -> None:
    events = list(
        sdk.responses.create(
            model="gpt-4o", input="unicode", include=[INCLUDE], top_logprobs=3, stream=True
        )
    )
    streamed: list[dict[str, Any]] = []
    for delta in events:
        if isinstance(delta, ResponseTextDeltaEvent):
            assert "".join(entry.token for entry in delta.logprobs) == delta.delta
            streamed.extend(entry.model_dump(exclude_none=True) for entry in delta.logprobs)
    (done,) = [e for e in events if isinstance(e, ResponseTextDoneEvent)]
    (part_done,) = [e for e in events if isinstance(e, ResponseContentPartDoneEvent)]
    (added,) = [e for e in events if isinstance(e, ResponseContentPartAddedEvent)]
    completed = events[-1]
    assert isinstance(completed, ResponseCompletedEvent)
    final = output_text(completed.response)
    assert final.text == UNICODE
    whole = [entry.model_dump() for entry in final.logprobs or ()]
    assert streamed == whole
    assert [entry.model_dump(exclude_none=True) for entry in done.logprobs] == whole
    assert isinstance(part_done.part, ResponseOutputText)
    assert [entry.model_dump() for entry in part_done.part.logprobs or ()] == whole
    assert isinstance(added.part, ResponseOutputText) and added.part.logprobs == []


def sse_events(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return [
        json.loads(event.split(b"data: ", 1)[1])
        for event in response.content.split(b"\n\n")
        if b"data: " in event
    ]


def test_responses_logprob_payloads_match_spec(raw: httpx.Client) -> None:
    body = {"model": "gpt-4o", "input": "weather?", "include": [INCLUDE], "top_logprobs": 2}
    response = raw.post("/responses", json=body).json()
    part = response["output"][0]["content"][0]
    assert part["logprobs"]
    assert_valid("OutputTextContent", part)
    schemas = {
        "response.output_text.delta": "ResponseTextDeltaEvent",
        "response.output_text.done": "ResponseTextDoneEvent",
    }
    checked = 0
    for payload in sse_events(raw.post("/responses", json={**body, "stream": True})):
        if payload["type"] in schemas:
            assert payload["logprobs"]
            assert_valid(schemas[payload["type"]], payload)
            checked += 1
        elif payload["type"] == "response.content_part.done":
            assert_valid("OutputTextContent", payload["part"])
    assert checked > 2


def test_responses_without_include(sdk: OpenAI) -> None:
    part = output_text(sdk.responses.create(model="gpt-4o", input="weather?", top_logprobs=2))
    assert part.logprobs == []
    events = sdk.responses.create(model="gpt-4o", input="weather?", stream=True)
    assert all(e.logprobs == [] for e in events if isinstance(e, ResponseTextDeltaEvent))


def test_responses_stored_stream_replays_logprobs(sdk: OpenAI, raw: httpx.Client) -> None:
    response = sdk.responses.create(
        model="gpt-4o", input="weather?", include=[INCLUDE], top_logprobs=1
    )
    replay = sse_events(raw.get(f"/responses/{response.id}", params={"stream": "true"}))
    replayed = [
        entry
        for event in replay
        if event["type"] == "response.output_text.delta"
        for entry in event["logprobs"]
    ]
    assert replayed == [entry.model_dump() for entry in output_text(response).logprobs or ()]
