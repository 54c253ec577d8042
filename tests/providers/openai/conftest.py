"""Fixtures of the OpenAI dialect's tests: a server of their own (its stores are per app,
so lists and bounds are not disturbed by other modules) and the official SDK on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openai import OpenAI

from mockllm.testing import MockServer

CONFIG = """
models:
  - id: ft:gpt-4o-mini-2024-07-18:acme::abc123
    provider: openai
    owned_by: user-acme
rules:
  - name: weather
    match: {prompt: {icontains: weather}}
    reply: "It is sunny in Paris, 22 degrees."
  - name: city-template
    match: {prompt: {icontains: "city: Paris"}}
    reply: "Paris it is."
responses:
  "what colour is the sky?": "Blue."
"""


@pytest.fixture(scope="module")
def openai_server() -> Iterator[MockServer]:
    """A server of the module's own, on :data:`CONFIG`."""
    with MockServer(config_text=CONFIG) as running:
        yield running


@pytest.fixture
def sdk(openai_server: MockServer) -> Iterator[OpenAI]:
    """The official OpenAI client, no retries, on a freshly reset server."""
    openai_server.reset()
    with OpenAI(base_url=openai_server.openai_url, api_key="sk-test", max_retries=0) as client:
        yield client
