"""Fixtures of the scenario tests (``test_scenarios_*.py``): a server on the scenarios' rule
file, one per module, and the official OpenAI and Anthropic SDKs on it."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest

from mockllm.testing import MockServer
from rules.scenario_support import CONFIG


@pytest.fixture(scope="module")
def scenario_server() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG) as running:
        yield running


@pytest.fixture(scope="module")
def oai(scenario_server: MockServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=scenario_server.openai_url, api_key="sk-test", max_retries=0
    ) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def claude(scenario_server: MockServer) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(
        base_url=scenario_server.url, api_key="sk-ant-test", max_retries=0
    ) as sdk:
        yield sdk
