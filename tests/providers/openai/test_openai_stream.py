"""Streamed Chat Completions (wire-formats.md 2.3 and pitfalls P3, P6, P9, P31): through the
SDK's ``create(stream=True)`` and ``.stream()`` helper, and byte-level over raw HTTP."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import tiktoken
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from mockllm.core.tokens import Tokenizer
from mockllm.testing import MockServer

SKY = "what colour is the sky?"
SKY_ANSWER = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
LONG_ANSWER = "One two three four five six seven eight nine ten. STOP here. Eleven twelve."
UNICODE_ANSWER = "Grüße 👋 — 日本語のテキスト."

SKY_MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": SKY}]

_TOKENIZER = Tokenizer()


def encoding() -> tiktoken.Encoding:
    return _TOKENIZER.encoding("o200k_base")


def tokens(text: str) -> int:
    return len(encoding().encode_ordinary(text))


def check_text_stream(chunks: list[ChatCompletionChunk], answer: str, usage: bool) -> None:
    """The chunk sequence rules of wire-formats.md 2.3 for one choice of plain text."""
    assert chunks, "no chunks"
    ids = {c.id for c in chunks}
    assert len(ids) == 1 and ids.pop().startswith("chatcmpl-")
    assert {c.created for c in chunks} == {chunks[0].created}
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert {c.model for c in chunks} == {"gpt-4o"}

    body = chunks[:-1] if usage else chunks
    assert all(len(c.choices) == 1 and c.choices[0].index == 0 for c in body)
    # Role once, in the first delta (P3).
    assert body[0].choices[0].delta.role == "assistant"
    assert all(c.choices[0].delta.role is None for c in body[1:])
    # Finish chunk: empty delta and the only non-null finish_reason.
    finish = body[-1].choices[0]
    assert finish.finish_reason == "stop"
    assert finish.delta.content is None and finish.delta.role is None
    assert all(c.choices[0].finish_reason is None for c in body[:-1])
    text = "".join(c.choices[0].delta.content or "" for c in body)
    assert text == answer
    assert len(body) >= 3  # role, at least one content chunk, finish

    if usage:
        # Usage chunk last, with choices == [] (P6); usage null everywhere else.
        last = chunks[-1]
        assert last.choices == []
        assert last.usage is not None
        assert last.usage.completion_tokens == tokens(answer)
        assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
        assert all(c.usage is None for c in body)
    else:
        assert all(c.usage is None for c in chunks)


def test_stream_with_usage(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=SKY_MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    with stream:
        chunks = list(stream)
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        assert stream.response.headers["x-request-id"].startswith("req_")
        assert int(stream.response.headers["openai-processing-ms"]) >= 0
    check_text_stream(chunks, SKY_ANSWER, usage=True)
    # The same numbers as the non-streaming answer.
    plain = client.chat.completions.create(model="gpt-4o", messages=SKY_MESSAGES)
    assert chunks[-1].usage is not None and plain.usage is not None
    assert chunks[-1].usage.prompt_tokens == plain.usage.prompt_tokens
    assert chunks[-1].usage.completion_tokens == plain.usage.completion_tokens


@pytest.mark.parametrize("stream_options", [None, {"include_usage": False}])
def test_stream_without_usage(client: OpenAI, stream_options: dict[str, bool] | None) -> None:
    if stream_options is None:
        stream = client.chat.completions.create(model="gpt-4o", messages=SKY_MESSAGES, stream=True)
    else:
        stream = client.chat.completions.create(
            model="gpt-4o",
            messages=SKY_MESSAGES,
            stream=True,
            stream_options={"include_usage": False},
        )
    with stream:
        chunks = list(stream)
    assert all(c.choices for c in chunks), "a usage chunk was sent without include_usage"
    check_text_stream(chunks, SKY_ANSWER, usage=False)


def test_stream_chunks_are_split_by_token(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "unicode"}], stream=True
    )
    with stream:
        pieces = [c.choices[0].delta.content for c in stream if c.choices[0].delta.content]
    assert "".join(pieces) == UNICODE_ANSWER
    # Each piece is valid text (no split UTF-8 characters), and there is more than one.
    assert len(pieces) > 1
    assert all("\ufffd" not in piece for piece in pieces)


def test_async_stream_with_usage(server: MockServer) -> None:
    async def main() -> list[ChatCompletionChunk]:
        async with AsyncOpenAI(
            base_url=server.openai_url, api_key="sk-test", max_retries=0
        ) as client:
            stream = await client.chat.completions.create(
                model="gpt-4o",
                messages=SKY_MESSAGES,
                stream=True,
                stream_options={"include_usage": True},
            )
            async with stream:
                return [chunk async for chunk in stream]

    check_text_stream(asyncio.run(main()), SKY_ANSWER, usage=True)


def test_stream_helper_final_completion(client: OpenAI) -> None:
    with client.chat.completions.stream(
        model="gpt-4o", messages=SKY_MESSAGES, stream_options={"include_usage": True}
    ) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(deltas) == SKY_ANSWER
    assert len(final.choices) == 1
    message = final.choices[0].message
    assert message.role == "assistant"  # "assistantassistant..." if role were repeated (P3)
    assert message.content == SKY_ANSWER
    assert final.choices[0].finish_reason == "stop"
    assert final.usage is not None  # lost if usage were not last (P6)
    assert final.usage.completion_tokens == tokens(SKY_ANSWER)


def test_async_stream_helper_final_completion(server: MockServer) -> None:
    async def main() -> None:
        async with AsyncOpenAI(
            base_url=server.openai_url, api_key="sk-test", max_retries=0
        ) as client:
            async with client.chat.completions.stream(
                model="gpt-4o", messages=[{"role": "user", "content": "unicode"}]
            ) as stream:
                final = await stream.get_final_completion()
            assert final.choices[0].message.role == "assistant"
            assert final.choices[0].message.content == UNICODE_ANSWER

    asyncio.run(main())


def test_stream_helper_n_choices(client: OpenAI) -> None:
    with client.chat.completions.stream(
        model="gpt-4o", messages=SKY_MESSAGES, n=3, stream_options={"include_usage": True}
    ) as stream:
        final = stream.get_final_completion()
    assert [c.index for c in final.choices] == [0, 1, 2]
    for choice in final.choices:
        assert choice.message.role == "assistant"
        assert choice.message.content == SKY_ANSWER
        assert choice.finish_reason == "stop"
    assert final.usage is not None
    assert final.usage.completion_tokens == 3 * tokens(SKY_ANSWER)


def test_stream_n_choices_chunks(client: OpenAI) -> None:
    stream = client.chat.completions.create(model="gpt-4o", messages=SKY_MESSAGES, n=3, stream=True)
    with stream:
        chunks = list(stream)
    assert all(len(c.choices) == 1 for c in chunks)
    # First chunk seen for each index arrives in order 0, 1, 2 (the accumulator appends).
    first_seen: list[int] = []
    for chunk in chunks:
        if chunk.choices[0].index not in first_seen:
            first_seen.append(chunk.choices[0].index)
    assert first_seen == [0, 1, 2]
    for index in range(3):
        mine = [c.choices[0] for c in chunks if c.choices[0].index == index]
        assert [c.delta.role for c in mine if c.delta.role] == ["assistant"]
        assert mine[0].delta.role == "assistant"
        assert "".join(c.delta.content or "" for c in mine) == SKY_ANSWER
        assert [c.finish_reason for c in mine if c.finish_reason] == ["stop"]
        assert mine[-1].finish_reason == "stop"


@pytest.mark.parametrize("limit_field", ["max_tokens", "max_completion_tokens"])
def test_stream_truncated_by_token_limit(client: OpenAI, limit_field: str) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "long answer"}]
    if limit_field == "max_tokens":
        stream = client.chat.completions.create(
            model="gpt-4o",
            messages=messages,
            stream=True,
            max_tokens=3,
            stream_options={"include_usage": True},
        )
    else:
        stream = client.chat.completions.create(
            model="gpt-4o",
            messages=messages,
            stream=True,
            max_completion_tokens=3,
            stream_options={"include_usage": True},
        )
    with stream:
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == encoding().decode(encoding().encode_ordinary(LONG_ANSWER)[:3])
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert [f for f in finishes if f] == ["length"]
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 3


def test_stream_cut_by_stop_sequence(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "long answer"}],
        stream=True,
        stop=["STOP"],
    )
    with stream:
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "One two three four five six seven eight nine ten. "
    assert chunks[-1].choices[0].finish_reason == "stop"


# --- raw bytes -------------------------------------------------------------------------


def raw_stream(http: httpx.Client, **body: object) -> tuple[httpx.Response, bytes]:
    request = {"model": "gpt-4o", "messages": [{"role": "user", "content": SKY}], "stream": True}
    request.update(body)
    with http.stream("POST", "/chat/completions", json=request) as response:
        data = response.read()
    return response, data


@pytest.mark.parametrize("include_usage", [True, False])
@pytest.mark.parametrize("n", [1, 2])
def test_raw_sse_framing(http: httpx.Client, include_usage: bool, n: int) -> None:
    response, data = raw_stream(http, n=n, stream_options={"include_usage": include_usage})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert data.endswith(b"data: [DONE]\n\n")
    assert data.count(b"[DONE]") == 1
    assert b"\r" not in data
    events = data.split(b"\n\n")
    assert events[-1] == b"", "the stream must end with a blank line"
    events = events[:-1]
    assert events[-1] == b"data: [DONE]"
    payloads = []
    for event in events[:-1]:
        # One line per event: `data: <single-line compact JSON>` (P31); no `event:` lines.
        assert b"\n" not in event, event
        assert event.startswith(b"data: {"), event
        payloads.append(json.loads(event[len(b"data: ") :]))
    assert all("error" not in p for p in payloads)  # P2
    if include_usage:
        assert [p["choices"] for p in payloads].count([]) == 1
        assert payloads[-1]["choices"] == []
        assert isinstance(payloads[-1]["usage"], dict)
        assert all(p["usage"] is None for p in payloads[:-1])
    else:
        assert all(p["choices"] for p in payloads)
        assert all(p.get("usage") is None for p in payloads)
    finishes = [c["finish_reason"] for p in payloads for c in p["choices"] if c["finish_reason"]]
    assert finishes == ["stop"] * n


def test_raw_stream_sends_its_first_event_at_once(http: httpx.Client) -> None:
    """A stream is chunked, never one buffered body with a length (P32); with no lag the
    first event is written alone, before the rest (which is ready at the same moment)."""
    request = {"model": "gpt-4o", "messages": [{"role": "user", "content": SKY}], "stream": True}
    with http.stream("POST", "/chat/completions", json=request) as response:
        assert "content-length" not in response.headers
        assert response.headers["cache-control"] == "no-cache"
        parts = list(response.iter_raw())
    assert len(parts) > 1
    first = parts[0].decode()
    assert first.startswith("data: ") and first.endswith("\n\n") and first.count("data: ") == 1
    assert b"".join(parts).endswith(b"data: [DONE]\n\n")


def test_a_paced_stream_flushes_each_event_as_it_is_produced() -> None:
    """With lag, each event is written when it is due: they arrive one by one, over time."""
    from mockllm.testing import MockServer

    config = 'responses: {"pace": "one two three four five six"}\n'
    config += "settings: {lag_enabled: true, lag_factor: 5}\n"  # 20 ms a character
    request = {"model": "gpt-4o", "messages": [{"role": "user", "content": "pace"}], "stream": True}
    with MockServer(config_text=config) as server, httpx.Client(timeout=30) as client:
        arrivals = []
        with client.stream("POST", server.openai_url + "/chat/completions", json=request) as r:
            for part in r.iter_raw():
                arrivals.append((time.monotonic(), part))
    content = [p for _, p in arrivals if b'"content":"' in p and b'"content":""' not in p]
    assert len(content) >= 6  # each word its own write
    assert arrivals[-1][0] - arrivals[0][0] > 0.3  # spread over the answer's lag
