"""Rate limits with a shared state answer as with the memory state: the same requests, sent
one after the other to a server with each, get the same statuses, error codes, answers and
``x-ratelimit-*`` headers, whichever refuses them (the request bucket before a fault or an
engine error, the token bucket after), with or without a load model (with one, a request's
unit is taken on its own, before it may wait for a slot)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from state.conftest import Mockllm, Starter

RPD = 7
TPD = 200

CONFIG = f"""
settings:
  rate_limits: {{requests_per_day: {RPD}, tokens_per_day: {TPD}}}
responses:
  hello: "Hello there."
rules:
  - name: broken
    match: {{prompt: {{contains: broken}}}}
    reply: "{{{{ (messages | length) // 0 }}}}"
  - name: seq
    match: {{prompt: {{contains: count}}}}
    sequence: [{{text: one}}, {{text: two}}, {{text: three}}]
"""
LOAD = "\n  load: {max_concurrent: 4, queue: 4, slowdown: 0}"

LONG = "hello " + "many words " * 100
"""A prompt of more tokens than the day's token limit."""

STEPS: list[tuple[str, str, dict[str, str]]] = [
    ("a", "hello", {}),
    ("a", "hello", {"x-mockllm-error": "503"}),
    ("a", "broken", {}),
    ("a", "count", {}),
    ("a", LONG, {}),
    ("a", "count", {}),
    ("a", "hello", {}),
    ("a", "hello", {}),  # the requests are used up: 429s from here on
    ("a", "broken", {}),
    ("a", "hello", {"x-mockllm-error": "503"}),
    ("a", "count", {}),
    ("b", "hello", {"x-mockllm-fail-first": "1"}),
    ("b", "hello", {"x-mockllm-fail-first": "1"}),
    ("b", "count " + "word " * 40, {}),
    ("b", "count " + "word " * 40, {}),
    ("b", "count " + "word " * 40, {}),
    ("b", "hello " + "word " * 40, {}),  # short of tokens, not of requests
    ("b", "hello", {}),
]
"""(API key, prompt, headers) of each request, in order."""

SHOWN = (
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
)


def answers(server: Mockllm, key_prefix: str) -> list[tuple[Any, ...]]:
    """What each request of :data:`STEPS` got: status, error code or answer text, and
    the rate-limit headers."""
    seen = []
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for key, prompt, headers in STEPS:
            response = client.post(
                "/v1/chat/completions",
                json={"model": "gpt-4o", "messages": [{"role": "user", "content": prompt}]},
                headers={"authorization": f"Bearer {key_prefix}-{key}", **headers},
            )
            data = response.json()
            what = (
                data["choices"][0]["message"]["content"]
                if response.status_code == 200
                else (data["error"]["code"], data["error"]["type"])
            )
            seen.append(
                (response.status_code, what, *(response.headers.get(name) for name in SHOWN))
            )
    return seen


@pytest.mark.parametrize("load", [False, True], ids=["no-load-model", "load-model"])
def test_rate_limits_answer_as_with_the_memory_state(
    start_mockllm: Starter, redis_url: str, load: bool
) -> None:
    config = CONFIG.replace("\nresponses:", LOAD + "\nresponses:") if load else CONFIG
    memory = start_mockllm(config, state=None)
    shared = start_mockllm(config, state=redis_url)
    prefix = f"sk-{uuid.uuid4().hex}"
    expected = answers(memory, prefix)
    assert answers(shared, prefix) == expected
    statuses = [status for status, *_ in expected]
    # every kind of refusal is in the script: a fault, an engine error, both buckets
    # every kind of answer is in the script: faults, an engine error, both buckets' 429s
    assert statuses[:11] == [200, 503, 500, 200, 429, 200, 200, 429, 429, 429, 429]  # key a
    assert statuses[11:] == [429, 200, 200, 200, 200, 429, 200]  # key b
    assert [what[1] for _, what, *_ in expected if isinstance(what, tuple)] == [
        "server_error",  # the fault
        "server_error",  # the template error
        "tokens",  # the long prompt: more tokens than the limit (the request unit is taken)
        *["requests"] * 4,  # whatever the request would have been
        "requests",  # the first of fail-first
        "tokens",  # short of tokens
    ]
    assert "writes lost" not in shared.stderr()
