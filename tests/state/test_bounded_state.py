"""Requests whose size could stall the server or grow it: each gets its answer in bounded
time while the server keeps serving, and what the server keeps across requests is bounded.
(Reproductions from the hardening issue; the bounds are generous, the benchmark measures.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mockllm.core.limits import Limits
from mockllm.core.types import Message, TextPart
from mockllm.engine import Engine
from mockllm.state.memory import MemoryCounters
from mockllm.testing import MockServer

CONFIG = """
rules:
  - name: steps
    match: {prompt: {icontains: step}}
    sequence: [one, two, three]
"""


@pytest.fixture(scope="module")
def big_server() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG, request_log=False) as running:
        yield running


def while_serving(
    server: MockServer, request: Callable[[], httpx.Response]
) -> tuple[httpx.Response, float, float]:
    """Run ``request`` in a thread; meanwhile poll ``GET /-/health``. Returns the response,
    its duration and the worst health latency seen while it ran."""
    done: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        done["response"] = request()
        done["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run)
    thread.start()
    worst = 0.0
    with httpx.Client(base_url=server.url, timeout=30) as health:
        while thread.is_alive():
            started = time.monotonic()
            assert health.get("/-/health").status_code == 200
            worst = max(worst, time.monotonic() - started)
            time.sleep(0.02)
    thread.join()
    return done["response"], done["seconds"], worst


def test_a_16_mb_prompt_gets_the_context_error_quickly(big_server: MockServer) -> None:
    prompt = "lorem ipsum dolor sit amet " * (16 * 1024 * 1024 // 27)
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": prompt}]}
    response, seconds, worst = while_serving(
        big_server,
        lambda: httpx.post(big_server.openai_url + "/chat/completions", json=body, timeout=60),
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "context_length_exceeded"
    assert "maximum context length is 128000 tokens" in error["message"]
    assert seconds < 2.0, seconds
    assert worst < 1.0, worst


def test_count_tokens_of_a_huge_prompt_is_bounded_too(big_server: MockServer) -> None:
    prompt = "word " * 4_000_000
    started = time.monotonic()
    response = httpx.post(
        big_server.url + "/v1/messages/count_tokens",
        headers={"anthropic-version": "2023-06-01"},
        json={"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": prompt}]},
        timeout=60,
    )
    assert time.monotonic() - started < 2.0
    assert response.status_code == 200
    # past the window the count is an estimate from the share counted: about 1 token a word
    assert 3_000_000 < response.json()["input_tokens"] < 5_000_000


def test_ollama_context_of_300k_ids_is_decoded_in_linear_time(big_server: MockServer) -> None:
    body = {"model": "llama3.2", "prompt": "hi", "stream": False, "context": list(range(300_000))}
    response, seconds, worst = while_serving(
        big_server, lambda: httpx.post(big_server.url + "/api/generate", json=body, timeout=60)
    )
    assert response.status_code < 500
    assert seconds < 2.0, seconds
    assert worst < 1.0, worst


def test_a_long_conversation_header_is_not_kept(big_server: MockServer) -> None:
    # (A 10 MB header is refused with a 431 before it is read: tests/test_connections.py.)
    counters = big_server.app.services.engine.counters
    assert isinstance(counters, MemoryCounters)
    huge = "c" * 60_000
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "step"}]}
    for _ in range(2):
        response = httpx.post(
            big_server.openai_url + "/chat/completions",
            json=body,
            headers={"x-mockllm-conversation": huge},
            timeout=30,
        )
        assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "two"
    assert all(len(key) == 16 for key in counters._values)


def test_sequence_counters_are_bounded_by_count_and_age() -> None:
    now = [0.0]
    counters = MemoryCounters(max_entries=100, ttl_seconds=60, clock=lambda: now[0])
    for i in range(1000):
        assert counters.advance(f"conversation {i}", 1) == 1
    assert len(counters) == 100
    assert counters.advance("conversation 999", 1) == 2  # the recent ones are kept
    assert counters.advance("conversation 0", 1) == 1  # the oldest were dropped
    now[0] += 61
    assert counters.advance("conversation 999", 1) == 1  # idle too long: starts over
    assert len(counters) == 1


def test_the_token_cache_is_bounded_by_bytes() -> None:
    from mockllm.core.tokens import Tokenizer
    from mockllm.rules.store import ConfigStore

    limits = Limits(token_cache_bytes=2_000_000)
    engine = Engine(ConfigStore(None, []), Tokenizer(), limits=limits)
    for i in range(200):  # 200 different 50 kB answers: 10 MB of text
        engine._split(f"answer {i} " + "some words of text " * 2600, "o200k_base")
    assert engine._pieces_bytes <= 2_000_000
    assert 0 < len(engine._pieces) < 200


def test_a_chain_of_stored_responses_grows_linearly(big_server: MockServer) -> None:
    previous = None
    sizes = []
    store_bytes = []
    with httpx.Client(base_url=big_server.openai_url, timeout=30) as http:
        for turn in range(300):
            body: dict[str, Any] = {"model": "gpt-4o", "input": f"turn {turn}"}
            if previous:
                body["previous_response_id"] = previous
            response = http.post("/responses", json=body)
            assert response.status_code == 200, response.text
            previous = response.json()["id"]
            if turn in (9, 299):
                sizes.append(len(response.content))
                store_bytes.append(_store_bytes(big_server))
    # The 300th turn is stored at the cost of one turn (the chain is referenced, not copied):
    # 290 more turns cost about 290 times one turn, not 290 times the history.
    per_turn = (store_bytes[1] - store_bytes[0]) / 290
    assert per_turn < 5_000, per_turn
    assert (
        len(
            httpx.get(f"{big_server.openai_url}/responses/{previous}/input_items?limit=100").json()[
                "data"
            ]
        )
        == 100
    )


def _store_bytes(server: MockServer) -> int:
    """Bytes the server's Responses store counts (per-app state: one store per app)."""
    return int(server.app.services.state("openai.responses").bytes)


def test_prompt_counts_below_the_window_stay_exact() -> None:
    from mockllm.core.tokens import Tokenizer

    tokenizer = Tokenizer()
    text = "The quick brown fox jumps over the lazy dog. " * 5000  # 225 kB, one text
    message = Message("user", (TextPart(text),))
    exact = tokenizer.count_messages([message], [], "o200k_base")
    bounded = tokenizer.count_messages([message], [], "o200k_base", stop_above=128_000)
    assert bounded == exact > 50_000
