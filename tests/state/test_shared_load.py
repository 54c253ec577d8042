"""The shared state under load: many more concurrent requests on one worker than it keeps
connections to Redis are all served (none gets the 503 of a state that ran out of
connections, no write is lost), and rate limits and sequences stay exact while requests
share the round trips to Redis. Scripts that Redis forgot are loaded again, and a Redis
restarted while the server was idle serves the very next request."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx
import redis

from mockllm.state.redis_backend import SCRIPTS

if TYPE_CHECKING:
    from state.conftest import Mockllm, RedisServer, Starter

CONCURRENT = 300
"""Requests in flight at once: well above the connections a worker keeps to Redis (and
above redis-py's default pool of 100)."""
WAVES = 3
STEPS = 120
LIMIT = 100

CONFIG = f"""
settings:
  rate_limits: {{requests_per_minute: {LIMIT}}}
responses:
  hello: "Hello there."
rules:
  - name: steps
    match: {{prompt: {{contains: count}}}}
    sequence: [{", ".join(f"{{text: r{n}}}" for n in range(1, STEPS + 1))}]
"""


def body(prompt: str, stream: bool = False) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": prompt}], "stream": stream}


async def at_once(
    server: Mockllm, requests: list[tuple[str, dict[str, Any]]]
) -> list[httpx.Response]:
    """Every request of ``requests`` (API key, body) sent at once, each on a connection
    of its own."""
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:
        start = asyncio.Event()

        async def send(key: str, payload: dict[str, Any]) -> httpx.Response:
            await start.wait()
            return await client.post(
                "/v1/chat/completions",
                json=payload,
                headers={"authorization": f"Bearer {key}"},
            )

        tasks = [asyncio.ensure_future(send(key, payload)) for key, payload in requests]
        await asyncio.sleep(0)
        start.set()
        return await asyncio.gather(*tasks)


def test_far_more_concurrent_requests_than_connections_are_all_served(
    start_mockllm: Starter, redis_url: str
) -> None:
    server = start_mockllm(CONFIG, state=redis_url)
    sent = 0
    for wave in range(WAVES):
        requests = [(f"sk-{wave}-{n}", body("hello", stream=n % 2 == 1)) for n in range(CONCURRENT)]
        responses = asyncio.run(at_once(server, requests))
        sent += len(responses)
        statuses = Counter(r.status_code for r in responses)
        assert statuses == {200: CONCURRENT}, (statuses, server.stderr()[-2000:])
        for response in responses:
            assert "Hello" in response.text
            assert response.headers["x-ratelimit-remaining-requests"] == str(LIMIT - 1)
    stderr = server.stderr()
    assert "writes lost" not in stderr
    assert "unavailable" not in stderr
    assert server.admin("GET", "/-/stats").json()["state_errors"] == 0
    # every request's writes reached Redis: its journal hit, counted once
    assert server.admin("GET", "/-/rules").json()["responses_hits"] == sent


def test_a_rate_limit_stays_exact_under_concurrent_requests(
    start_mockllm: Starter, redis_url: str
) -> None:
    server = start_mockllm(CONFIG, state=redis_url)
    key = f"sk-{uuid.uuid4().hex}"
    requests = [(key, body("hello", stream=n % 3 == 0)) for n in range(2 * LIMIT + 50)]
    responses = asyncio.run(at_once(server, requests))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: LIMIT, 429: LIMIT + 50}, statuses
    remaining = sorted(
        int(r.headers["x-ratelimit-remaining-requests"]) for r in responses if r.status_code == 200
    )
    assert remaining == list(range(LIMIT))  # each unit taken once, by one request
    for response in responses:
        if response.status_code == 429:
            assert response.headers["x-ratelimit-remaining-requests"] == "0"
            assert json.loads(response.text)["error"]["code"] == "rate_limit_exceeded"


def test_a_sequence_serves_each_reply_once_to_many_concurrent_requests(
    start_mockllm: Starter, redis_url: str
) -> None:
    server = start_mockllm(CONFIG, state=redis_url)
    requests = [(f"sk-{n}", body("count", stream=False)) for n in range(STEPS)]
    responses = asyncio.run(at_once(server, requests))
    assert {r.status_code for r in responses} == {200}
    replies = sorted(r.json()["choices"][0]["message"]["content"] for r in responses)
    assert replies == sorted(f"r{n}" for n in range(1, STEPS + 1))


def hello(server: Mockllm, key: str = "sk-test") -> httpx.Response:
    return httpx.post(
        server.url + "/v1/chat/completions",
        json=body("hello"),
        headers={"authorization": f"Bearer {key}"},
        timeout=10,
    )


def test_scripts_that_redis_forgot_are_loaded_again(
    start_mockllm: Starter, own_redis: RedisServer
) -> None:
    server = start_mockllm(CONFIG, state=own_redis.url)
    assert hello(server).status_code == 200
    with redis.Redis.from_url(own_redis.url) as client:
        assert client.script_exists(*SCRIPTS) == [True] * len(SCRIPTS)  # loaded at start
        client.script_flush()
    responses = asyncio.run(at_once(server, [("sk-test", body("hello")) for _ in range(20)]))
    assert {r.status_code for r in responses} == {200}
    remaining = sorted(int(r.headers["x-ratelimit-remaining-requests"]) for r in responses)
    assert remaining == list(range(LIMIT - 21, LIMIT - 1))  # each unit taken once
    assert server.admin("GET", "/-/rules").json()["responses_hits"] == 21  # no write lost
    assert "writes lost" not in server.stderr()
    assert "failed" not in server.stderr()


def test_a_redis_restarted_while_the_server_was_idle_serves_the_next_request(
    start_mockllm: Starter, own_redis: RedisServer
) -> None:
    server = start_mockllm(CONFIG, state=own_redis.url)
    responses = asyncio.run(at_once(server, [(f"sk-{n}", body("hello")) for n in range(20)]))
    assert {r.status_code for r in responses} == {200}  # every connection to Redis in use
    own_redis.stop()
    own_redis.start()  # the same port, empty: the connections the server holds are closed
    for n in range(5):
        response = hello(server, f"sk-after-{n}")
        assert response.status_code == 200, response.text
        assert response.headers["x-ratelimit-remaining-requests"] == str(LIMIT - 1)
