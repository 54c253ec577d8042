"""Python clients we do not control prove the wire format: LangChain (``langchain-openai``,
``langchain-anthropic``) and LiteLLM, against a real mockllm server."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Iterator
from typing import Any

import pytest

from mockllm.testing import MockServer

# LiteLLM fetches its model price list from the web at import unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

SKY = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
CONFIG = f"""
responses:
  "what colour is the sky?": "{SKY}"
rules:
  - name: weather-tool
    match: {{prompt: {{icontains: weather in paris}}, tool_result: false, tools: [get_weather]}}
    reply: {{tool_calls: [{{name: get_weather, arguments: {{city: Paris}}}}]}}
"""


@pytest.fixture(scope="module", autouse=True)
def close_leaked_event_loops() -> Iterator[None]:
    """LiteLLM and LangChain leave event loops open behind them; close them here, or their
    ResourceWarning fails whichever later test the garbage collector happens to run in."""
    before = {id(o) for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop)}
    yield
    for obj in gc.get_objects():
        if (
            isinstance(obj, asyncio.AbstractEventLoop)
            and id(obj) not in before
            and not obj.is_running()
            and not obj.is_closed()
        ):
            obj.close()
    gc.collect()


@pytest.fixture(scope="module")
def client_server() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG) as running:
        yield running


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def test_langchain_openai(client_server: MockServer) -> None:
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(
        model="gpt-4o",
        base_url=client_server.openai_url,
        api_key="x",
        max_retries=0,
    )
    assert chat.invoke("what colour is the sky?").content == SKY
    streamed = "".join(str(chunk.content) for chunk in chat.stream("what colour is the sky?"))
    assert streamed == SKY
    message = chat.bind_tools([get_weather]).invoke("what is the weather in Paris?")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    usage: Any = message.usage_metadata
    assert usage["input_tokens"] > 0


def test_langchain_anthropic(client_server: MockServer) -> None:
    from langchain_anthropic import ChatAnthropic

    chat = ChatAnthropic(
        model_name="claude-opus-4-6",
        base_url=client_server.url,  # type: ignore[call-arg]
        api_key="x",
        max_retries=0,
        max_tokens_to_sample=512,
        timeout=30,
        stop=None,
    )
    assert chat.invoke("what colour is the sky?").content == SKY
    streamed = "".join(str(chunk.content) for chunk in chat.stream("what colour is the sky?"))
    assert streamed == SKY
    message = chat.bind_tools([get_weather]).invoke("what is the weather in Paris?")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("get_weather", {"city": "Paris"})
    ]


def test_litellm_openai_and_anthropic(client_server: MockServer) -> None:
    import litellm

    reply: Any = litellm.completion(
        model="openai/gpt-4o",
        api_base=client_server.openai_url,
        api_key="x",
        messages=[{"role": "user", "content": "what colour is the sky?"}],
    )
    assert reply.choices[0].message.content == SKY
    chunks = litellm.completion(
        model="openai/gpt-4o",
        api_base=client_server.openai_url,
        api_key="x",
        stream=True,
        messages=[{"role": "user", "content": "what colour is the sky?"}],
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == SKY
    claude: Any = litellm.completion(
        model="anthropic/claude-opus-4-6",
        api_base=client_server.url,
        api_key="x",
        max_tokens=256,
        messages=[{"role": "user", "content": "what colour is the sky?"}],
    )
    assert claude.choices[0].message.content == SKY
    streamed = litellm.completion(
        model="anthropic/claude-opus-4-6",
        api_base=client_server.url,
        api_key="x",
        max_tokens=256,
        stream=True,
        messages=[{"role": "user", "content": "what colour is the sky?"}],
    )
    assert "".join(c.choices[0].delta.content or "" for c in streamed) == SKY
