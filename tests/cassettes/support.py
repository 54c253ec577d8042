"""Helpers of the record-and-replay tests (``from cassettes.support import ...``).

Record and replay without the network: a mockllm server plays the upstream service, a
second one (``record=True``) records through it, a third replays the cassettes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mockllm.testing import MockServer

UPSTREAM_CONFIG = """
defaults:
  unknown_response: "I am the upstream service."
rules:
  - name: weather-call
    match: {prompt: {icontains: weather}, tool_result: false}
    reply:
      tool_calls:
        - name: get_weather
          arguments: {city: Paris}
  - name: weather-answer
    match: {tool_result: {tool: get_weather}}
    reply: "It is sunny in Paris, 22 degrees."
  - name: counting
    match: {prompt: {exact: count please}}
    sequence: ["one", "two", "three"]
  - name: hello
    match: {prompt: {icontains: hello}}
    reply: "Hello! How can I help you today?"
"""
"""The upstream's script: a tool call and its answer, a sequence, a greeting."""

WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


def upstream(**settings: Any) -> MockServer:
    """The service recorded (a mockllm server on :data:`UPSTREAM_CONFIG`)."""
    return MockServer(config_text=UPSTREAM_CONFIG, **settings)


def recorder(folder: Path, upstream_url: str, **settings: Any) -> MockServer:
    """A recording proxy to ``upstream_url`` writing into ``folder`` (``mockllm record``)."""
    return MockServer(cassettes=folder, upstream=upstream_url, record=True, **settings)


def replayer(folder: Path, **settings: Any) -> MockServer:
    """A server replaying ``folder`` (``mockllm serve --cassettes``)."""
    return MockServer(cassettes=folder, **settings)


@contextmanager
def recording(folder: Path, **settings: Any) -> Iterator[MockServer]:
    """A recorder in front of a fresh upstream; both stopped at the end."""
    with upstream() as service, recorder(folder, service.url, **settings) as proxy:
        yield proxy


def cassette_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.yml"))
