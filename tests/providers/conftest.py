"""SDK clients on the session server, shared by the provider (contract) tests."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import httpx
import pytest
from openai import OpenAI

from mockllm.testing import MockServer


@pytest.fixture(scope="module")
def client(server: MockServer) -> Iterator[OpenAI]:
    """The official OpenAI client, no retries, on the session server."""
    with OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def http(server: MockServer) -> Iterator[httpx.Client]:
    """A raw HTTP client on the session server's OpenAI base URL."""
    with httpx.Client(base_url=server.openai_url, timeout=10) as raw:
        yield raw


@pytest.fixture(scope="module")
def anthropic_client(server: MockServer) -> Iterator[anthropic.Anthropic]:
    """The official Anthropic client, no retries, on the session server."""
    with anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0) as sdk:
        yield sdk
