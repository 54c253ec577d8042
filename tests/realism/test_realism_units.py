"""The realism building blocks on their own: knob layering and headers, seeded draws,
buckets, stream faults, the load gate, and config validation of profiles."""

from __future__ import annotations

import asyncio
import random

import pytest

from mockllm.core.errors import MockError
from mockllm.realism.faults import StreamCut, request_fault, with_stream_faults
from mockllm.realism.knobs import ModelLevel, Plan, header_knobs, resolve
from mockllm.realism.latency import PROFILES, draw, request_random
from mockllm.realism.load import Gate
from mockllm.realism.quotas import Quotas, check_key, go_duration
from mockllm.rules.loader import ConfigError, parse_config
from mockllm.rules.schema import Distribution, Faults, Latency, Load, RateLimits

# --- knobs ---------------------------------------------------------------------------------


def test_levels_layer_field_by_field_and_a_header_wins() -> None:
    plan = Plan(
        latency=Latency(ttft_ms=100, itl_ms=10, prefill_ms_per_token=1),
        faults=Faults(retry_after=3),
    )
    model = ModelLevel(latency=Latency(itl_ms=20))
    rule = (Latency(ttft_ms=300), Faults(error=503))
    knobs = resolve(plan, model, rule, None)
    assert (knobs.ttft_ms, knobs.itl_ms, knobs.prefill_ms_per_token) == (300, 20, 1)
    assert (knobs.error, knobs.retry_after) == (503, 3)
    headed = resolve(plan, model, rule, header_knobs({"x-mockllm-ttft-ms": "50"}))
    # the header's time to first token is the whole of it: no prefill on top
    assert (headed.ttft_ms, headed.prefill_ms_per_token, headed.itl_ms) == (50, None, 20)


def test_a_profile_gives_its_fields_first_and_the_level_its_own_after() -> None:
    plan = Plan(latency=Latency(profile="large", itl_ms=5))
    knobs = resolve(plan, None, None, None)
    assert knobs.ttft_ms == PROFILES["large"].ttft_ms
    assert knobs.itl_ms == 5
    custom = Plan(profiles={"mine": Latency(ttft_ms=7)})
    assert resolve(custom, None, None, header_knobs({"x-mockllm-profile": "mine"})).ttft_ms == 7


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("x-mockllm-itl-ms", "abc"),
        ("x-mockllm-ttft-ms", "-1"),
        ("x-mockllm-error", "200"),
        ("x-mockllm-error", "600"),
        ("x-mockllm-fail-first", "1.5"),
        ("x-mockllm-error-rate", "2"),
        ("x-mockllm-tokens-per-chunk", "0"),
        ("x-mockllm-stall-ms", "nan"),
        ("x-mockllm-itl-ms", "1_000"),
        ("x-mockllm-itl-ms", "1e3"),
        ("x-mockllm-ttft-ms", "inf"),
        ("x-mockllm-retry-after", "1e300"),
        ("x-mockllm-fail-first", "\u0661"),
        ("x-mockllm-error", "4290"),
    ],
)
def test_a_header_with_a_bad_value_is_a_400_naming_it(name: str, value: str) -> None:
    with pytest.raises(MockError) as caught:
        header_knobs({name: value})
    assert caught.value.status == 400
    assert name in caught.value.message and caught.value.param == name


def test_an_unknown_profile_header_is_a_400_listing_the_known_ones() -> None:
    with pytest.raises(MockError, match="known: fast, large, reasoning"):
        resolve(Plan(), None, None, header_knobs({"x-mockllm-profile": "huge"}))


def test_no_mockllm_header_means_no_header_knobs() -> None:
    assert header_knobs({"x-mockllm-conversation": "c1", "authorization": "x"}) is None


# --- seeded draws ----------------------------------------------------------------------------


def test_draws_stay_within_their_bounds() -> None:
    rng = random.Random(1)
    normal = Distribution(distribution="normal", mean=20, sd=50, min=5, max=40)
    lognormal = Distribution(distribution="lognormal", median=100, sigma=2, max=500)
    uniform = Distribution(distribution="uniform", min=3, max=4)
    for _ in range(2000):
        assert 5 <= draw(normal, rng) <= 40
        assert 0 <= draw(lognormal, rng) <= 500
        assert 3 <= draw(uniform, rng) <= 4
    assert draw(12.5, rng) == 12.5 and draw(None, rng) == 0.0


def test_the_same_seed_identity_and_occurrence_give_the_same_draws() -> None:
    spec = Distribution(distribution="uniform", min=0, max=1000)
    first = [draw(spec, request_random(7, "gpt-4o/c1/1", n)) for n in range(1, 6)]
    again = [draw(spec, request_random(7, "gpt-4o/c1/1", n)) for n in range(1, 6)]
    other = [draw(spec, request_random(8, "gpt-4o/c1/1", n)) for n in range(1, 6)]
    assert first == again
    assert first != other
    assert len(set(first)) == 5  # repeats of one request still see the distribution


def test_a_distribution_needs_its_parameters() -> None:
    with pytest.raises(ValueError, match="needs mean and sd"):
        Distribution(distribution="normal")
    with pytest.raises(ValueError, match="min is more than max"):
        Distribution(distribution="uniform", min=5, max=1)


# --- faults ------------------------------------------------------------------------------------


def test_fail_first_fails_the_first_attempts_only() -> None:
    knobs = resolve(Plan(), None, None, header_knobs({"x-mockllm-fail-first": "2"}))
    statuses = [request_fault(knobs, attempt, None) for attempt in (1, 2, 3)]
    assert [e.status if e else None for e in statuses] == [429, 429, None]


def test_an_error_with_retry_after_carries_the_retry_headers() -> None:
    knobs = resolve(
        Plan(), None, None, header_knobs({"x-mockllm-error": "503", "x-mockllm-retry-after": "2"})
    )
    error = request_fault(knobs, None, None)
    assert error is not None and error.status == 503 and error.kind == "overloaded"
    assert error.headers == {"retry-after": "2", "retry-after-ms": "2000"}


def test_error_rate_is_seeded() -> None:
    knobs = resolve(Plan(), None, None, header_knobs({"x-mockllm-error-rate": "0.5"}))
    runs = [
        [request_fault(knobs, None, request_random(3, "id", n)) is not None for n in range(50)]
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    assert 10 < sum(runs[0]) < 40


FRAMES = [(0.0, b'data: {"n": %d}\n\n' % i) for i in range(6)]


def test_a_cut_stream_stops_after_exactly_n_events_and_raises() -> None:
    knobs = resolve(Plan(), None, None, header_knobs({"x-mockllm-stream-cut-after": "4"}))
    out: list[bytes] = []
    with pytest.raises(StreamCut):
        for _delay, frame in with_stream_faults(FRAMES, knobs, 0.0):
            out.append(frame)
    assert out == [f for _d, f in FRAMES[:4]]


def test_a_stream_no_longer_than_the_cut_still_has_no_clean_end() -> None:
    knobs = resolve(Plan(), None, None, header_knobs({"x-mockllm-stream-cut-after": "6"}))
    with pytest.raises(StreamCut):
        list(with_stream_faults(FRAMES, knobs, 0.0))


def test_stall_malformed_and_in_stream_error() -> None:
    knobs = resolve(
        Plan(),
        None,
        None,
        header_knobs({"x-mockllm-malformed-after": "2", "x-mockllm-stream-error-after": "4"}),
    )
    out = []
    with pytest.raises(MockError) as caught:
        for delay, frame in with_stream_faults(FRAMES, knobs, 1.5):
            out.append((delay, frame))
    assert caught.value.status == 500
    assert [d for d, _f in out] == [0.0, 1.5, 0.0, 0.0]  # the stall: after the first event
    broken = out[2][1]
    assert broken.endswith(b"\n\n") and broken != FRAMES[2][1]
    with pytest.raises(ValueError):
        import json

        json.loads(broken[len(b"data: ") :])


# --- rate limits -----------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_buckets_refill_continuously_and_a_429_says_the_real_wait() -> None:
    clock = Clock()
    quotas = Quotas(clock=clock, wall=lambda: 1_700_000_000.0)
    limits = RateLimits(requests_per_minute=2)
    remaining = []
    for _ in range(2):
        account = quotas.admit("k", "gpt-4o", 0, limits, None)
        remaining.append(quotas.charge(account, 0).requests.remaining)
    assert remaining == [1, 0]  # remaining counts the request it answers
    with pytest.raises(MockError) as caught:
        quotas.admit("k", "gpt-4o", 0, limits, None)
    assert caught.value.status == 429 and caught.value.code == "rate_limit_exceeded"
    assert caught.value.headers["retry-after"] == "30"  # one request refills in 30 s
    quotas.admit("other-key", "gpt-4o", 0, limits, None)  # its own bucket
    clock.now += 30
    quotas.admit("k", "gpt-4o", 0, limits, None)


def test_token_buckets_take_prompt_and_output_tokens() -> None:
    clock = Clock()
    quotas = Quotas(clock=clock)
    limits = RateLimits(tokens_per_minute=100)
    account = quotas.admit("k", "m", 0, limits, None)
    quotas.take(account, 60)
    view = quotas.charge(account, 30)
    assert view.tokens.remaining == 10
    assert go_duration(view.tokens.reset) == "54s"
    with pytest.raises(MockError, match="tokens per min"):
        quotas.take(quotas.admit("k", "m", 0, limits, None), 20)


def test_a_model_level_overrides_the_global_limits() -> None:
    quotas = Quotas(clock=Clock())
    account = quotas.admit(
        "k", "m", 0, RateLimits(requests_per_minute=5), RateLimits(requests_per_minute=50)
    )
    assert quotas.charge(account, 0).requests.limit == 50


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (0.0004, "1ms"), (0.12, "120ms"), (8.64, "8.64s"), (360, "6m0s"), (3723, "1h2m3s")],
)
def test_go_durations(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_api_keys() -> None:
    check_key("sk-good", frozenset({"sk-good"}))
    with pytest.raises(MockError) as caught:
        check_key("sk-bad-key-1234", frozenset({"sk-good"}))
    assert caught.value.status == 401 and caught.value.detail["key"] == "sk-****1234"
    with pytest.raises(MockError) as missing:
        check_key(None, frozenset({"sk-good"}))
    assert missing.value.detail["key"] is None


# --- load --------------------------------------------------------------------------------------


def test_the_gate_queues_hands_slots_over_and_refuses_past_the_queue() -> None:
    async def scenario() -> None:
        gate = Gate()
        load = Load(max_concurrent=1, queue=1)
        await gate.enter(load)
        waiting = asyncio.ensure_future(gate.enter(load))
        await asyncio.sleep(0)
        assert gate.queued == 1 and not waiting.done()
        with pytest.raises(MockError) as caught:
            await gate.enter(load)
        assert caught.value.kind == "overloaded" and caught.value.status == 529
        assert gate.scale(load) == 2.0
        gate.leave()  # the slot goes to the waiting request
        await waiting
        assert (gate.busy, gate.queued) == (1, 0)
        gate.leave()
        assert gate.busy == 0

    asyncio.run(scenario())


def test_a_cancelled_waiter_leaves_the_queue() -> None:
    async def scenario() -> None:
        gate = Gate()
        load = Load(max_concurrent=1, queue=2)
        await gate.enter(load)
        waiting = asyncio.ensure_future(gate.enter(load))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert gate.queued == 0
        gate.leave()
        assert gate.busy == 0

    asyncio.run(scenario())


# --- config ------------------------------------------------------------------------------------


def test_an_unknown_profile_in_the_config_is_a_located_problem() -> None:
    text = "settings:\n  latency:\n    profile: enormous\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "rules.yml")
    message = str(caught.value)
    assert "rules.yml:3" in message and "enormous" in message


def test_the_config_levels_compile_into_the_plan() -> None:
    text = """
settings:
  seed: 5
  latency: {itl_ms: 3}
  api_keys: [sk-a]
models:
  - id: gpt-4o
    aliases: [four]
    faults: {error: 500}
profiles:
  tiny: {ttft_ms: 1}
rules:
  - match: {prompt: {contains: x}}
    reply: y
    latency: {profile: tiny}
"""
    plan = parse_config(text, "c.yml").behaviour
    assert plan.seed == 5 and plan.api_keys == frozenset({"sk-a"})
    assert plan.models["four"] is plan.models["gpt-4o"]
    assert plan.rules_have_knobs and plan.active
    assert parse_config("responses: {a: b}\n", "c.yml").behaviour.active is False


def test_retry_after_is_written_in_fixed_point() -> None:
    from mockllm.core.errors import retry_headers

    assert retry_headers(2) == {"retry-after": "2", "retry-after-ms": "2000"}
    assert retry_headers(0.01)["retry-after"] == "0.01"
    assert retry_headers(1234567.5)["retry-after"] == "1234567.5"
