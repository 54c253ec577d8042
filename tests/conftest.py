"""Shared fixtures: real mockllm servers on loopback sockets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mockllm.testing import MockServer

HERE = Path(__file__).parent

TEST_CONFIG = """
responses:
  "what colour is the sky?": "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
defaults:
  unknown_response: "I don't know the answer to that. This is a mock response."
rules:
  - name: weather
    match: {prompt: {icontains: weather}}
    reply: "It is sunny in Paris, 22 degrees."
  - name: claude-only
    match: {prompt: {exact: which model}, model: {glob: "claude-*"}}
    reply: "You are talking to a Claude model."
  - name: long
    match: {prompt: {exact: long answer}}
    reply: "One two three four five six seven eight nine ten. STOP here. Eleven twelve."
  - name: unicode
    match: {prompt: {exact: unicode}}
    reply: "Grüße 👋 — 日本語のテキスト."
"""


@pytest.fixture(scope="session")
def server() -> Iterator[MockServer]:
    """One server for the session, on :data:`TEST_CONFIG`."""
    with MockServer(config_text=TEST_CONFIG) as running:
        yield running
