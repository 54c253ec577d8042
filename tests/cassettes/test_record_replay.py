"""Record through the official clients of every dialect, stop the upstream, replay: the
clients get the same bytes, the same SDK objects and the same events in the same order.

One recording session (module scope) runs :func:`session` through a recorder in front of
a mockllm upstream; the replay runs the same :func:`session` against a server that has
only the cassettes. The upstream's ids and timestamps are random, so equal answers prove
they were replayed, not made again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import ollama
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from cassettes.support import WEATHER_SCHEMA, cassette_files, recording, replayer
from mockllm.cassettes import CASSETTE_HEADER

KEY = "test-key"
OPENAI_TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {"name": "get_weather", "description": "Weather", "parameters": WEATHER_SCHEMA},
    }
]
ANTHROPIC_TOOLS: list[Any] = [
    {"name": "get_weather", "description": "Weather", "input_schema": WEATHER_SCHEMA}
]


def raw_exchanges(url: str) -> dict[str, Any]:
    """Plain HTTP requests of every dialect, streamed and not: the bodies' bytes and the
    content types, as received."""
    out: dict[str, Any] = {}
    requests: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [
        (
            "raw-openai-json",
            "/v1/chat/completions",
            {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello raw"}]},
            {"authorization": f"Bearer {KEY}"},
        ),
        (
            "raw-openai-stream",
            "/v1/chat/completions",
            {
                "model": "gpt-4o",
                "stream": True,
                "stream_options": {"include_usage": True},
                "messages": [{"role": "user", "content": "hello raw stream"}],
            },
            {"authorization": f"Bearer {KEY}"},
        ),
        (
            "raw-responses-stream",
            "/v1/responses",
            {"model": "gpt-4o", "stream": True, "input": "hello responses"},
            {"authorization": f"Bearer {KEY}"},
        ),
        (
            "raw-anthropic-json",
            "/v1/messages",
            {
                "model": "claude-sonnet-4-6",
                "max_tokens": 100,
                "messages": [{"role": "user", "content": "hello raw"}],
            },
            {"x-api-key": KEY, "anthropic-version": "2023-06-01"},
        ),
        (
            "raw-anthropic-stream",
            "/v1/messages",
            {
                "model": "claude-sonnet-4-6",
                "max_tokens": 100,
                "stream": True,
                "messages": [{"role": "user", "content": "weather raw?"}],
                "tools": ANTHROPIC_TOOLS,
            },
            {"x-api-key": KEY, "anthropic-version": "2023-06-01"},
        ),
        (
            "raw-gemini-json",
            "/v1beta/models/gemini-2.5-flash:generateContent",
            {"contents": [{"role": "user", "parts": [{"text": "hello raw"}]}]},
            {"x-goog-api-key": KEY},
        ),
        (
            "raw-gemini-stream",
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            {"contents": [{"role": "user", "parts": [{"text": "hello raw stream"}]}]},
            {"x-goog-api-key": KEY},
        ),
        (
            "raw-ollama-json",
            "/api/chat",
            {
                "model": "llama3.2",
                "stream": False,
                "messages": [{"role": "user", "content": "hello raw"}],
            },
            {},
        ),
        (
            "raw-ollama-stream",
            "/api/chat",
            {"model": "llama3.2", "messages": [{"role": "user", "content": "hello raw stream"}]},
            {},
        ),
        (
            "raw-azure-json",
            "/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21",
            {"messages": [{"role": "user", "content": "hello azure"}]},
            {"api-key": KEY},
        ),
    ]
    with httpx.Client(base_url=url, timeout=10) as client:
        for name, path, body, headers in requests:
            response = client.post(path, json=body, headers=headers)
            assert response.status_code == 200, (name, response.text)
            out[name] = (response.headers["content-type"], response.content)
        models = client.get("/v1/models", headers={"authorization": f"Bearer {KEY}"})
        out["raw-openai-models"] = (models.headers["content-type"], models.content)
    return out


def openai_session(url: str) -> dict[str, Any]:
    with openai.OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0) as client:
        return _openai_calls(client)


def _openai_calls(client: openai.OpenAI) -> dict[str, Any]:
    out: dict[str, Any] = {}
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    call = client.chat.completions.create(model="gpt-4o", messages=messages, tools=OPENAI_TOOLS)
    out["openai-tool-call"] = call.model_dump()
    tool_call = call.choices[0].message.tool_calls[0]  # type: ignore[index]
    messages += [
        call.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": tool_call.id, "content": "sunny, 22C"},
    ]
    answer = client.chat.completions.create(model="gpt-4o", messages=messages, tools=OPENAI_TOOLS)
    out["openai-tool-answer"] = answer.model_dump()
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "hello, stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    out["openai-stream"] = [chunk.model_dump() for chunk in stream]
    tool_stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "weather in Paris, streamed"}],
        tools=OPENAI_TOOLS,
        stream=True,
    )
    out["openai-tool-stream"] = [chunk.model_dump() for chunk in tool_stream]
    out["openai-responses"] = client.responses.create(
        model="gpt-4o", input="hello from the Responses API"
    ).model_dump()
    embedding = client.embeddings.create(model="text-embedding-3-small", input="a cat")
    out["openai-embedding"] = embedding.model_dump()
    return out


def anthropic_session(url: str) -> dict[str, Any]:
    with anthropic.Anthropic(base_url=url, api_key=KEY, max_retries=0) as client:
        return _anthropic_calls(client)


def _anthropic_calls(client: anthropic.Anthropic) -> dict[str, Any]:
    out: dict[str, Any] = {}
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    call = client.messages.create(
        model="claude-sonnet-4-6", max_tokens=200, messages=messages, tools=ANTHROPIC_TOOLS
    )
    out["anthropic-tool-call"] = call.model_dump()
    use = next(block for block in call.content if block.type == "tool_use")
    messages += [
        {"role": "assistant", "content": [b.model_dump() for b in call.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny"}],
        },
    ]
    answer = client.messages.create(
        model="claude-sonnet-4-6", max_tokens=200, messages=messages, tools=ANTHROPIC_TOOLS
    )
    out["anthropic-tool-answer"] = answer.model_dump()
    with client.messages.stream(
        model="claude-sonnet-4-6",
        max_tokens=200,
        messages=[{"role": "user", "content": "hello, stream please"}],
    ) as stream:
        out["anthropic-stream"] = [event.model_dump() for event in stream]
        out["anthropic-stream-final"] = stream.get_final_message().model_dump()
    return out


def gemini_session(url: str) -> dict[str, Any]:
    options = genai_types.HttpOptions(base_url=url, api_version="v1beta")
    with genai.Client(api_key=KEY, http_options=options) as client:
        return _gemini_calls(client)


def _gemini_calls(client: genai.Client) -> dict[str, Any]:
    out: dict[str, Any] = {}
    skip = {"sdk_http_response"}  # the HTTP headers the SDK keeps (date, x-mockllm-cassette)
    reply = client.models.generate_content(model="gemini-2.5-flash", contents="hello gemini")
    out["gemini-text"] = reply.model_dump(exclude=skip)
    tool = genai_types.Tool(
        function_declarations=[
            genai_types.FunctionDeclaration(
                name="get_weather",
                description="Weather",
                parameters=genai_types.Schema(
                    type=genai_types.Type.OBJECT,
                    properties={"city": genai_types.Schema(type=genai_types.Type.STRING)},
                ),
            )
        ]
    )
    config = genai_types.GenerateContentConfig(
        tools=[tool],
        automatic_function_calling=genai_types.AutomaticFunctionCallingConfig(disable=True),
    )
    call = client.models.generate_content(
        model="gemini-2.5-flash", contents="What is the weather in Paris?", config=config
    )
    out["gemini-tool-call"] = call.model_dump(exclude=skip)
    assert call.function_calls and call.function_calls[0].name == "get_weather"
    out["gemini-stream"] = [
        chunk.model_dump(exclude=skip)
        for chunk in client.models.generate_content_stream(
            model="gemini-2.5-flash", contents="hello, stream please"
        )
    ]
    return out


def ollama_session(url: str) -> dict[str, Any]:
    with ollama.Client(host=url) as client:
        return _ollama_calls(client)


def _ollama_calls(client: ollama.Client) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["ollama-chat"] = client.chat(
        model="llama3.2", messages=[{"role": "user", "content": "hello ollama"}]
    ).model_dump()
    call = client.chat(
        model="llama3.2",
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=OPENAI_TOOLS,
    )
    assert call.message.tool_calls
    out["ollama-tool-call"] = call.model_dump()
    out["ollama-stream"] = [
        part.model_dump()
        for part in client.chat(
            model="llama3.2",
            messages=[{"role": "user", "content": "hello, stream please"}],
            stream=True,
        )
    ]
    out["ollama-generate"] = client.generate(model="llama3.2", prompt="hello generate").model_dump()
    return out


def azure_session(url: str) -> dict[str, Any]:
    with openai.AzureOpenAI(
        azure_endpoint=url, api_version="2024-10-21", api_key=KEY, max_retries=0
    ) as client:
        reply = client.chat.completions.create(
            model="my-deployment", messages=[{"role": "user", "content": "hello azure sdk"}]
        )
    return {"azure-chat": reply.model_dump()}


def session(url: str) -> dict[str, Any]:
    """Everything the clients got, by name."""
    out: dict[str, Any] = {}
    for part in (
        raw_exchanges,
        openai_session,
        anthropic_session,
        gemini_session,
        ollama_session,
        azure_session,
    ):
        out.update(part(url))
    return out


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("cassettes")
    with recording(folder) as proxy:
        got = session(proxy.url)
    return folder, got  # the upstream is stopped: only the cassettes are left


@pytest.fixture(scope="module")
def replayed(recorded: tuple[Path, dict[str, Any]]) -> Iterator[dict[str, Any]]:
    folder, _ = recorded
    with replayer(folder, replay_timing="fast") as server:
        yield session(server.url)


def test_every_interaction_is_one_cassette(recorded: tuple[Path, dict[str, Any]]) -> None:
    folder, got = recorded
    files = cassette_files(folder)
    # one per request: 11 raw, 6 OpenAI, 3 Anthropic, 3 Gemini, 4 Ollama, 1 Azure
    assert len(files) == 28, files
    assert all(name.endswith(".yml") and "/" not in name for name in files)  # no test header
    dialects = {name.split("-", 1)[0] for name in files}
    assert dialects == {"openai", "anthropic", "gemini", "ollama", "azure"}
    assert "openai-gpt-4o-what-is-the-weather-in-paris-" in " ".join(files)


@pytest.mark.parametrize(
    "name",
    [
        "raw-openai-json",
        "raw-openai-stream",
        "raw-responses-stream",
        "raw-anthropic-json",
        "raw-anthropic-stream",
        "raw-gemini-json",
        "raw-gemini-stream",
        "raw-ollama-json",
        "raw-ollama-stream",
        "raw-azure-json",
        "raw-openai-models",
    ],
)
def test_replayed_bytes_are_the_recorded_bytes(
    name: str, recorded: tuple[Path, dict[str, Any]], replayed: dict[str, Any]
) -> None:
    media, body = recorded[1][name]
    assert replayed[name] == (media, body)
    assert len(body) > 50


def test_the_sdks_get_the_same_objects(
    recorded: tuple[Path, dict[str, Any]], replayed: dict[str, Any]
) -> None:
    got = recorded[1]
    assert set(replayed) == set(got)
    for name, value in got.items():
        assert replayed[name] == value, name


def test_streams_keep_their_events_in_order(recorded: tuple[Path, dict[str, Any]]) -> None:
    got = recorded[1]
    # The content of the recorded streams, as the SDKs assembled it.
    assert "".join(c["choices"][0]["delta"]["content"] or "" for c in got["openai-stream"][:-1])
    assert got["openai-stream"][-1]["usage"] is not None  # the usage chunk stays last
    types = [event["type"] for event in got["anthropic-stream"]]
    assert types[0] == "message_start" and types[-1] == "message_stop"
    assert got["ollama-stream"][-1]["done"] is True
    tool_deltas = [c["choices"][0]["delta"]["tool_calls"] for c in got["openai-tool-stream"]]
    assert tool_deltas[1][0]["function"]["name"] == "get_weather"


def test_a_replayed_answer_names_its_cassette(recorded: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = recorded
    with replayer(folder, replay_timing="fast") as server:
        response = httpx.post(
            server.url + "/api/chat",
            json={
                "model": "llama3.2",
                "stream": False,
                "messages": [{"role": "user", "content": "hello raw"}],
            },
        )
    assert response.status_code == 200
    name = response.headers[CASSETTE_HEADER]
    assert name.startswith("ollama-llama3.2-hello-raw-") and (folder / name).is_file()
