"""The shortcuts of the per-request path give what the long ways give: request headers
read from the raw list, Go durations below a second from a table, a plan's ``active``
computed once, the token counter made once per encoding.
"""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from mockllm.core.tokens import Tokenizer
from mockllm.realism.knobs import ModelLevel, Plan
from mockllm.realism.quotas import go_duration
from mockllm.rules.schema import Faults, Latency
from mockllm.wire import RawHeaders

_names = st.sampled_from([b"authorization", b"x-a", b"X-A", b"x-mockllm-error", b"caf\xe9", b""])
_values = st.binary(max_size=8)
_keys = st.sampled_from(["authorization", "x-a", "X-A", "x-mockllm-error", "café", "", "ĉ"])


@given(st.lists(st.tuples(_names, _values), max_size=24), _keys)
def test_a_raw_header_look_up_is_the_decoded_dicts(
    raw: list[tuple[bytes, bytes]], key: str
) -> None:
    decoded = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw}
    assert RawHeaders(raw).get(key) == decoded.get(key)
    assert RawHeaders(raw).get(key, "-") == decoded.get(key, "-")
    headers = RawHeaders(raw)
    assert headers.get(key) == (decoded[key] if key in headers else None)  # decoded by now
    assert headers.get(key) == decoded.get(key)


def test_a_raw_header_look_up_with_an_odd_key() -> None:
    headers = RawHeaders([(b"x-a", b"1")])
    assert headers.get(b"x-a") is None  # type: ignore[arg-type]
    assert headers.get(None) is None  # type: ignore[arg-type]


def _go_duration_formula(seconds: float) -> str:
    return "0s" if seconds <= 0 else f"{max(1, round(seconds * 1000))}ms"


@given(st.floats(min_value=-1, max_value=0.9999999999, allow_nan=False))
def test_go_durations_below_a_second_come_from_the_table(seconds: float) -> None:
    assert go_duration(seconds) == _go_duration_formula(seconds)


def test_go_durations_at_the_table_edges() -> None:
    for seconds in (0.0, 1e-12, 0.0004999, 0.0005, 0.0015, 0.5, 0.9994, 0.9995, 0.99999):
        assert go_duration(seconds) == _go_duration_formula(seconds)


def test_a_plan_is_active_when_any_level_sets_a_knob() -> None:
    assert Plan().active is False
    assert Plan(latency=Latency(ttft_ms=5)).active is True
    assert Plan(faults=Faults(error=500)).active is True
    assert Plan(rules_have_knobs=True).active is True
    assert Plan(models={"m": ModelLevel()}).active is False
    assert Plan(models={"m": ModelLevel(latency=Latency(itl_ms=1))}).active is True
    assert dataclasses.replace(Plan(), faults=Faults(error=500)).active is True
    assert dataclasses.replace(Plan(faults=Faults(error=500)), faults=None).active is False
    assert Plan() == dataclasses.replace(Plan())


def test_counts_are_the_same_before_and_after_tiktoken_loads() -> None:
    text = "Counting with the compact table, then with tiktoken itself."
    tokenizer = Tokenizer()
    before = tokenizer._counter("o200k_base")
    assert tokenizer._counter("o200k_base") is before  # made once
    counted = before(text)
    tokenizer.encoding("o200k_base")
    after = tokenizer._counter("o200k_base")
    assert after is not before  # made anew: it calls tiktoken's encode directly
    assert after(text + " ") == Tokenizer().count(text + " ", "o200k_base")
    assert after(text) == counted
