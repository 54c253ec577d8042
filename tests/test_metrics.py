"""Prometheus metrics at ``GET /metrics``, through the official SDKs against a live server,
read back with Prometheus' own text parser: request counts by dialect, model, status and
rule; token counters equal to the usage the SDKs saw; the latency histograms; the open
streams gauge; reset leaves the counters alone; the admin token; the label caps.

Timing bounds are loose (a shared 2-core machine): each would still fail if the latency
were missing or misplaced.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import anthropic
import httpx
import openai
import pytest
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from mockllm.journal import Entry
from mockllm.metrics import E2E_BUCKETS, OTHER, TPOT_BUCKETS, TTFT_BUCKETS, Metrics
from mockllm.testing import MockServer

GPT = "gpt-4o"
CLAUDE = "claude-opus-4-6"
ANSWER = "One two three four five six seven eight nine ten."
CONFIG = f"""
rules:
  - name: count
    match: {{prompt: {{icontains: count}}}}
    reply: "{ANSWER}"
responses:
  "hello": "Hello there."
"""
COUNT: list[ChatCompletionMessageParam] = [{"role": "user", "content": "count to ten"}]
HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]

Labels = frozenset[tuple[str, str]]


@dataclass
class Scrape:
    """One ``GET /metrics``, parsed: sample values by (sample name, labels)."""

    samples: dict[tuple[str, Labels], float]
    types: dict[str, str]

    def value(self, name: str, **labels: str) -> float:
        """The sample ``name`` with exactly ``labels``; 0 when there is none (a counter
        not incremented yet)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def total(self, name: str, **labels: str) -> float:
        """The sum of the samples ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and wanted <= ls)

    def label_values(self, name: str, label: str) -> set[str]:
        return {dict(ls)[label] for (n, ls) in self.samples if n == name}


def scrape(server: MockServer, token: str | None = None) -> Scrape:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(server.url + "/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    samples: dict[tuple[str, Labels], float] = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(response.text):
        types[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return Scrape(samples, types)


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG) as running:
        yield running


@pytest.fixture
def client(server: MockServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def claude(server: MockServer) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0) as sdk:
        yield sdk


def test_the_families_and_their_types(server: MockServer, client: OpenAI) -> None:
    client.chat.completions.create(model=GPT, messages=COUNT)
    found = scrape(server).types
    assert found == {
        "mockllm_requests": "counter",
        "mockllm_prompt_tokens": "counter",
        "mockllm_generation_tokens": "counter",
        "mockllm_time_to_first_token_seconds": "histogram",
        "mockllm_time_per_output_token_seconds": "histogram",
        "mockllm_e2e_request_latency_seconds": "histogram",
        "mockllm_open_streams": "gauge",
    }


def test_requests_are_counted_by_dialect_model_status_and_rule(
    server: MockServer, client: OpenAI, claude: anthropic.Anthropic
) -> None:
    before = scrape(server)
    assert before.total("mockllm_requests_total") == 0
    for _ in range(2):
        client.chat.completions.create(model=GPT, messages=COUNT)
    for _ in client.chat.completions.create(model=GPT, messages=COUNT, stream=True):
        pass
    client.chat.completions.create(model=GPT, messages=HELLO)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(
            model=GPT, messages=COUNT, extra_headers={"x-mockllm-error": "429"}
        )
    claude.messages.create(
        model=CLAUDE, max_tokens=100, messages=[{"role": "user", "content": "count to ten"}]
    )
    httpx.post(server.url + "/v1/no-such-thing", json={})

    after = scrape(server)
    requests = "mockllm_requests_total"
    assert after.value(requests, dialect="openai", model=GPT, status="200", rule="count") == 3
    # the responses: map answers as the rule "responses", as the journal's hit counts say
    assert after.value(requests, dialect="openai", model=GPT, status="200", rule="responses") == 1
    # the fault answered before any rule
    assert after.value(requests, dialect="openai", model=GPT, status="429", rule="") == 1
    assert after.value(requests, dialect="anthropic", model=CLAUDE, status="200", rule="count") == 1
    # an unknown URL: the 404 of the dialect whose prefix it has, no model, no rule
    assert after.value(requests, dialect="openai", model="", status="404", rule="") == 1
    assert after.total(requests) == 7
    # /metrics itself and the admin API are not counted
    assert scrape(server).total(requests) == 7


def test_the_token_counters_equal_the_usage_the_sdks_saw(
    server: MockServer, client: OpenAI, claude: anthropic.Anthropic
) -> None:
    prompt = generation = 0
    for messages in (COUNT, HELLO):
        answer = client.chat.completions.create(model=GPT, messages=messages)
        assert answer.usage is not None
        prompt += answer.usage.prompt_tokens
        generation += answer.usage.completion_tokens
    stream = client.chat.completions.create(
        model=GPT, messages=COUNT, stream=True, stream_options={"include_usage": True}
    )
    for chunk in stream:
        if chunk.usage is not None:
            prompt += chunk.usage.prompt_tokens
            generation += chunk.usage.completion_tokens
    # an error answer uses no tokens
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(
            model=GPT, messages=COUNT, extra_headers={"x-mockllm-error": "500"}
        )
    message = claude.messages.create(
        model=CLAUDE, max_tokens=100, messages=[{"role": "user", "content": "count to ten"}]
    )

    found = scrape(server)
    assert prompt > 0 and generation > 0
    assert found.value("mockllm_prompt_tokens_total", dialect="openai", model=GPT) == prompt
    assert found.value("mockllm_generation_tokens_total", dialect="openai", model=GPT) == generation
    assert (
        found.value("mockllm_prompt_tokens_total", dialect="anthropic", model=CLAUDE)
        == message.usage.input_tokens
    )
    assert (
        found.value("mockllm_generation_tokens_total", dialect="anthropic", model=CLAUDE)
        == message.usage.output_tokens
    )


def bucket(found: Scrape, name: str, le: float | str, model: str = GPT) -> float:
    return found.value(f"{name}_bucket", model=model, le=str(le))


def test_the_latency_histograms(server: MockServer, client: OpenAI) -> None:
    client.chat.completions.create(model=GPT, messages=COUNT)
    for _ in client.chat.completions.create(model=GPT, messages=COUNT, stream=True):
        pass
    # a slow first token: its observation lands at or above 0.2 s
    for _ in client.chat.completions.create(
        model=GPT, messages=COUNT, stream=True, extra_headers={"x-mockllm-ttft-ms": "200"}
    ):
        pass
    # 30 ms between tokens: the time per output token of this stream is about that
    for _ in client.chat.completions.create(
        model=GPT, messages=COUNT, stream=True, extra_headers={"x-mockllm-itl-ms": "30"}
    ):
        pass
    found = scrape(server)

    ttft = "mockllm_time_to_first_token_seconds"
    assert found.value(f"{ttft}_count", model=GPT) == 4
    assert bucket(found, ttft, "+Inf") == 4
    assert bucket(found, ttft, 0.1) == 3  # all but the slow one, in a bucket >= 0.25 s
    assert bucket(found, ttft, 2.5) == 4
    assert 0.2 <= found.value(f"{ttft}_sum", model=GPT) < 2.5
    # every vLLM boundary is there, counts growing with it
    counts = [bucket(found, ttft, le) for le in TTFT_BUCKETS]
    assert counts == sorted(counts)

    # streams only (a JSON answer has no time between its tokens to measure)
    tpot = "mockllm_time_per_output_token_seconds"
    assert found.value(f"{tpot}_count", model=GPT) == 3
    assert bucket(found, tpot, TPOT_BUCKETS[0]) == 2  # the one with 30 ms ITL is above 10 ms
    assert 0.015 < found.value(f"{tpot}_sum", model=GPT) < 0.3

    e2e = "mockllm_e2e_request_latency_seconds"
    assert found.value(f"{e2e}_count", model=GPT) == 4
    # the slow first token and ten 30 ms gaps: at least 0.2 + 0.27 s in all
    assert 0.45 < found.value(f"{e2e}_sum", model=GPT) < 3
    assert [bucket(found, e2e, le) for le in E2E_BUCKETS][-1] == 4


def test_reset_does_not_lower_the_counters(server: MockServer, client: OpenAI) -> None:
    for _ in range(3):
        client.chat.completions.create(model=GPT, messages=COUNT)
    before = scrape(server)
    response = httpx.post(server.url + "/-/reset")
    assert response.status_code == 200
    after = scrape(server)
    assert after.samples == before.samples
    assert after.total("mockllm_requests_total") == 3
    client.chat.completions.create(model=GPT, messages=COUNT)
    later = scrape(server)
    assert later.total("mockllm_requests_total") == 4
    for key, value in before.samples.items():
        assert later.samples[key] >= value, key


def open_streams(server: MockServer) -> float:
    return scrape(server).value("mockllm_open_streams")


def eventually(condition: object, timeout: float = 5.0) -> bool:
    """Whether ``condition()`` (a callable) becomes true within ``timeout`` seconds."""
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def test_the_open_streams_gauge_follows_the_streams(server: MockServer, client: OpenAI) -> None:
    assert open_streams(server) == 0
    first = client.chat.completions.create(
        model=GPT, messages=COUNT, stream=True, extra_headers={"x-mockllm-itl-ms": "30"}
    )
    # 500 ms between tokens: still going long after the first one is over
    second = client.chat.completions.create(
        model=GPT, messages=COUNT, stream=True, extra_headers={"x-mockllm-itl-ms": "500"}
    )
    next(iter(first))
    next(iter(second))
    assert open_streams(server) == 2
    for _ in first:  # read to the end
        pass
    assert eventually(lambda: open_streams(server) == 1)
    second.close()  # the client goes away mid-stream
    assert eventually(lambda: open_streams(server) == 0)

    # a stream cut by a fault ends too
    with pytest.raises(openai.APIConnectionError):
        for _ in client.chat.completions.create(
            model=GPT,
            messages=COUNT,
            stream=True,
            extra_headers={"x-mockllm-stream-cut-after": "2"},
        ):
            pass
    assert eventually(lambda: open_streams(server) == 0)
    # a JSON answer never counts as a stream
    client.chat.completions.create(model=GPT, messages=COUNT)
    assert open_streams(server) == 0


def test_the_admin_token_protects_the_metrics() -> None:
    with MockServer(config_text=CONFIG, admin_token="t") as server:
        with OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0) as client:
            client.chat.completions.create(model=GPT, messages=COUNT)
        assert httpx.get(server.url + "/metrics").status_code == 401
        wrong = httpx.get(server.url + "/metrics", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert scrape(server, token="t").total("mockllm_requests_total") == 1


def test_the_metrics_are_counted_with_the_journal_off() -> None:
    with MockServer(config_text=CONFIG, journal_size=0) as server:
        with OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0) as sdk:
            sdk.chat.completions.create(model=GPT, messages=COUNT)
        assert httpx.get(server.url + "/-/requests").json()["data"] == []
        found = scrape(server)
        assert found.total("mockllm_requests_total") == 1
        assert found.value("mockllm_e2e_request_latency_seconds_count", model=GPT) == 1


def test_each_app_has_its_own_metrics(server: MockServer, client: OpenAI) -> None:
    from prometheus_client import REGISTRY

    client.chat.completions.create(model=GPT, messages=COUNT)
    with MockServer(config_text=CONFIG) as other:
        assert scrape(other).total("mockllm_requests_total") == 0
    assert scrape(server).total("mockllm_requests_total") == 1
    assert not [m for m in REGISTRY.collect() if m.name.startswith("mockllm")]


def test_the_model_label_is_capped(server: MockServer, client: OpenAI) -> None:
    models = [f"model-{i:03d}" for i in range(205)]
    for model in models:
        client.chat.completions.create(model=model, messages=HELLO)
    client.chat.completions.create(model=models[0], messages=HELLO)  # a known one stays
    found = scrape(server)
    labels = found.label_values("mockllm_requests_total", "model")
    assert labels == {*models[:200], OTHER}
    requests = "mockllm_requests_total"
    assert found.total(requests, model=OTHER) == 5
    assert found.total(requests, model=models[0]) == 2
    assert found.total(requests) == 206
    assert found.value("mockllm_e2e_request_latency_seconds_count", model=OTHER) == 5
    assert found.label_values("mockllm_prompt_tokens_total", "model") == labels


def entry(
    model: str | None = GPT,
    rule: str | None = "r",
    *,
    status: int = 200,
    stream: bool = True,
    duration_ms: float = 1000.0,
    ttfb_ms: float | None = 100.0,
    output_tokens: int = 10,
) -> Entry:
    usage = {"input_tokens": 7, "output_tokens": output_tokens}
    return Entry(
        1, 0.0, "openai", "POST", "/v1/chat/completions", "", [], b"", status, stream,
        duration_ms, ttfb_ms, model, rule, None, None, usage,
    )  # fmt: skip


def parsed(metrics: Metrics) -> Scrape:
    samples: dict[tuple[str, Labels], float] = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        types[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return Scrape(samples, types)


def test_time_per_output_token_is_computed_as_vllm_does() -> None:
    metrics = Metrics()
    metrics.observe(entry())  # (1000 - 100) ms / (10 - 1) tokens: 0.1 s
    metrics.observe(entry(output_tokens=1))  # one token: no time between tokens
    metrics.observe(entry(stream=False))  # a JSON answer: none either
    metrics.observe(entry(ttfb_ms=None))  # no body byte written: no first token
    found = parsed(metrics)
    tpot = "mockllm_time_per_output_token_seconds"
    assert found.value(f"{tpot}_count", model=GPT) == 1
    assert found.value(f"{tpot}_sum", model=GPT) == pytest.approx(0.1)
    assert found.value(f"{tpot}_bucket", model=GPT, le="0.075") == 0
    assert found.value(f"{tpot}_bucket", model=GPT, le="0.1") == 1
    assert found.value("mockllm_time_to_first_token_seconds_count", model=GPT) == 3
    assert found.value("mockllm_e2e_request_latency_seconds_count", model=GPT) == 4
    assert found.value("mockllm_e2e_request_latency_seconds_sum", model=GPT) == pytest.approx(4)


def test_errors_count_requests_but_no_tokens_or_latency() -> None:
    metrics = Metrics()
    metrics.observe(entry(status=429))
    metrics.observe(entry(model=None, rule=None, status=404))
    found = parsed(metrics)
    requests = "mockllm_requests_total"
    assert found.value(requests, dialect="openai", model=GPT, status="429", rule="r") == 1
    assert found.value(requests, dialect="openai", model="", status="404", rule="") == 1
    assert found.total("mockllm_prompt_tokens_total") == 0
    assert found.total("mockllm_e2e_request_latency_seconds_count") == 0


def test_the_rule_label_is_capped_and_long_values_are_cut() -> None:
    metrics = Metrics(max_label_values=3)
    for rule in ("a", "b", "c", "d", "e", "a"):
        metrics.observe(entry(rule=rule))
    long = "m" * 1000
    metrics.observe(entry(model=long, rule=None))
    metrics.observe(entry(model="third", rule=None))
    found = parsed(metrics)
    requests = "mockllm_requests_total"
    assert found.label_values(requests, "rule") == {"a", "b", "c", OTHER, ""}
    assert found.total(requests, rule=OTHER) == 2
    assert found.total(requests, rule="a") == 2
    assert found.label_values(requests, "model") == {GPT, "m" * 200, "third"}
    # past the caps, new values come under "other", and nothing more is kept for them
    kept = len(metrics._cache)
    for i in range(100):
        metrics.observe(entry(model=f"x{i}", rule=f"y{i}"))
    assert len(metrics._cache) == kept
    assert len(metrics.series) == 7
    assert parsed(metrics).total(requests, model=OTHER, rule=OTHER) == 100


def test_streams_started_and_ended() -> None:
    metrics = Metrics()
    metrics.stream_started()
    metrics.stream_started()
    assert parsed(metrics).value("mockllm_open_streams") == 2
    metrics.stream_ended()
    metrics.stream_ended()
    assert parsed(metrics).value("mockllm_open_streams") == 0
