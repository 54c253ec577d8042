"""Prometheus metrics at ``GET /metrics`` (a public contract: dashboards and alerts outside
this repo read these names).

* ``mockllm_requests_total`` (counter; labels ``dialect``, ``model``, ``status``,
  ``rule``): every request a dialect answered, errors and unknown URLs included;
* ``mockllm_prompt_tokens_total``, ``mockllm_generation_tokens_total`` (counters; labels
  ``dialect``, ``model``): the input and output tokens of the answers generated
  (status below 400), as their ``usage`` says;
* ``mockllm_time_to_first_token_seconds`` (histogram; label ``model``): request start to
  the first byte of the answer's body (for a JSON answer, the whole answer);
* ``mockllm_time_per_output_token_seconds`` (histogram; label ``model``): a stream's
  time after its first byte divided by its output tokens but one, as vLLM computes it;
* ``mockllm_e2e_request_latency_seconds`` (histogram; label ``model``): request start to
  the last piece of the answer;
* ``mockllm_open_streams`` (gauge): streams whose headers are sent and that have not
  ended yet.

The histograms and token counters count generated answers (status below 400). The names
are vLLM's with ``mockllm_`` for ``vllm:`` and the histograms have vLLM's bucket
boundaries: a vLLM dashboard needs only the names (and its ``model_name`` label, here
``model``) changed. A label whose value was never set is empty (``model=""``: no model in
the request; ``rule=""``: no rule answered).

Label cardinality is bounded: ``model`` and ``rule`` come from clients and configs, so
after :data:`MAX_LABEL_VALUES` distinct values of either, new ones are counted as
``"other"``; a value is cut to :data:`MAX_LABEL_LENGTH` characters. ``POST /-/reset``
leaves the metrics alone (Prometheus counters only grow).

The metrics are plain numbers on the hot path (a few dictionary and list updates per
request, on the event loop) and become ``prometheus_client`` metric families only when
scraped, from a collector in the app's own :class:`~prometheus_client.CollectorRegistry`
(never the global one: several apps may live in one process). ``prometheus_client`` is
imported at the first scrape, not at start-up. Each worker process counts its own
requests (``--workers``: a scrape reaches one of them).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics_core import Metric

    from .journal import Entry
    from .services import Services

MAX_LABEL_VALUES = 200
"""Distinct values kept for each of the ``model`` and ``rule`` labels; later ones are
counted under :data:`OTHER`."""
MAX_LABEL_LENGTH = 200
"""Longest ``model`` or ``rule`` label value (characters); a longer one is cut."""
OTHER = "other"

TTFT_BUCKETS = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
    10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
)  # fmt: skip
"""vLLM's buckets of ``vllm:time_to_first_token_seconds``."""
TPOT_BUCKETS = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    20.0, 40.0, 80.0,
)  # fmt: skip
"""vLLM's buckets of ``vllm:time_per_output_token_seconds``."""
E2E_BUCKETS = (
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0,
    240.0, 480.0, 960.0, 1920.0, 7680.0,
)  # fmt: skip
"""vLLM's buckets of ``vllm:e2e_request_latency_seconds``."""

_HISTOGRAMS = (
    (
        "mockllm_time_to_first_token_seconds",
        "Histogram of time to first token (first byte of the answer's body) in seconds.",
    ),
    (
        "mockllm_time_per_output_token_seconds",
        "Histogram of time per output token in seconds (streams).",
    ),
    ("mockllm_e2e_request_latency_seconds", "Histogram of e2e request latency in seconds."),
)
"""The names and help of the histograms, in the order of :attr:`Metrics.latency`'s."""


class Histogram:
    """Observations counted per bucket (not cumulative; the last is ``+Inf``) and summed."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    def cumulative(self) -> list[tuple[str, float]]:
        """The buckets as Prometheus has them: ``(le, observations <= le)``, ``+Inf`` last."""
        buckets: list[tuple[str, float]] = []
        total = 0
        for bound, count in zip((*map(repr, self.bounds), "+Inf"), list(self.counts), strict=True):
            total += count
            buckets.append((bound, total))
        return buckets


Latency = tuple[Histogram, Histogram, Histogram]
"""The TTFT, time-per-output-token and e2e histograms of one model."""


class Series:
    """The requests of one (dialect, model, status, rule) label set, and what they add to:
    the token counts of their (dialect, model), the histograms of their model."""

    __slots__ = ("requests", "tokens", "latency")

    def __init__(self, tokens: list[int], latency: Latency) -> None:
        self.requests = 0
        self.tokens = tokens
        self.latency = latency


class Metrics:
    """The metrics of one app: what :meth:`observe` counts, :meth:`exposition` shows."""

    def __init__(self, max_label_values: int = MAX_LABEL_VALUES) -> None:
        self.max_label_values = max_label_values
        self.series: dict[tuple[str, str, int, str], Series] = {}
        """The requests by (dialect, model, status, rule) label values."""
        self.tokens: dict[tuple[str, str], list[int]] = {}
        """[prompt tokens, generation tokens] by (dialect, model) label values."""
        self.latency: dict[str, Latency] = {}
        """The histograms by model label value."""
        self.open_streams = 0
        """Streams whose headers are sent and that have not ended."""
        # The series by the request's own (dialect, model, status, rule), for the values
        # that are their own label (None, or a name admitted uncut): a request of a known
        # series is one look-up. Bounded as the label sets are.
        self._cache: dict[tuple[str, str | None, int, str | None], Series] = {}
        self._models: dict[str, str] = {}
        self._rules: dict[str, str] = {}
        self._registry: CollectorRegistry | None = None

    def _label(self, value: str | None, known: dict[str, str]) -> str:
        """The label value of ``value`` (a model or rule name): ``""`` for None, else
        ``value`` cut to :data:`MAX_LABEL_LENGTH`, admitted to ``known`` while it has
        room; :data:`OTHER` past the cap."""
        if value is None:
            return ""
        value = value[:MAX_LABEL_LENGTH]
        label = known.get(value)
        if label is not None:
            return label
        if len(known) < self.max_label_values:
            known[value] = value
            return value
        return OTHER

    def _series(self, key: tuple[str, str | None, int, str | None]) -> Series:
        """The series of a request's (dialect, model, status, rule), made when new."""
        dialect, model, status, rule = key
        model_label = self._label(model, self._models)
        rule_label = self._label(rule, self._rules)
        labels = (dialect, model_label, status, rule_label)
        series = self.series.get(labels)
        if series is None:
            tokens = self.tokens.get((dialect, model_label))
            if tokens is None:
                tokens = self.tokens[(dialect, model_label)] = [0, 0]
            latency = self.latency.get(model_label)
            if latency is None:
                latency = self.latency[model_label] = (
                    Histogram(TTFT_BUCKETS),
                    Histogram(TPOT_BUCKETS),
                    Histogram(E2E_BUCKETS),
                )
            series = self.series[labels] = Series(tokens, latency)
        if model in (None, model_label) and rule in (None, rule_label):
            self._cache[key] = series
        return series

    def observe(self, entry: Entry) -> None:
        """Count the request of ``entry`` (once per request, as the wire records it)."""
        key = (entry.dialect, entry.model, entry.status, entry.rule)
        series = self._cache.get(key)
        if series is None:
            series = self._series(key)
        series.requests += 1
        usage = entry.usage
        if usage is None or entry.status >= 400:
            return
        output = usage["output_tokens"]
        tokens = series.tokens
        tokens[0] += usage["input_tokens"]
        tokens[1] += output
        ttft, tpot, e2e = series.latency
        duration = entry.duration_ms / 1000
        ttfb = entry.ttfb_ms
        if ttfb is not None:
            ttfb /= 1000
            ttft.observe(ttfb)
            if entry.stream and output > 1:
                tpot.observe((duration - ttfb) / (output - 1))
        e2e.observe(duration)

    def stream_started(self) -> None:
        self.open_streams += 1

    def stream_ended(self) -> None:
        self.open_streams -= 1

    def collect(self) -> Iterator[Metric]:
        """The metric families (``prometheus_client``'s collector protocol)."""
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        requests = CounterMetricFamily(
            "mockllm_requests",
            "Requests answered, by dialect, model, status and rule.",
            labels=("dialect", "model", "status", "rule"),
        )
        for (dialect, model, status, rule), series in sorted(
            self.series.items(), key=lambda item: item[0]
        ):
            requests.add_metric((dialect, model, str(status), rule), series.requests)
        yield requests
        prompt = CounterMetricFamily(
            "mockllm_prompt_tokens",
            "Number of prefill (input) tokens processed.",
            labels=("dialect", "model"),
        )
        generation = CounterMetricFamily(
            "mockllm_generation_tokens",
            "Number of generation (output) tokens processed.",
            labels=("dialect", "model"),
        )
        for labels, (prompt_tokens, generation_tokens) in sorted(self.tokens.items()):
            prompt.add_metric(labels, prompt_tokens)
            generation.add_metric(labels, generation_tokens)
        yield prompt
        yield generation
        latency = sorted(self.latency.items(), key=lambda item: item[0])
        for index, (name, documentation) in enumerate(_HISTOGRAMS):
            family = HistogramMetricFamily(name, documentation, labels=("model",))
            for model, histograms in latency:
                histogram = histograms[index]
                family.add_metric((model,), histogram.cumulative(), histogram.sum)
            yield family
        yield GaugeMetricFamily(
            "mockllm_open_streams", "Streams started and not ended yet.", self.open_streams
        )

    def exposition(self) -> bytes:
        """The metrics in the Prometheus text format (``prometheus_client.generate_latest``
        of the app's own registry; ``CONTENT_TYPE_LATEST``)."""
        from prometheus_client import CollectorRegistry, generate_latest

        if self._registry is None:
            registry = CollectorRegistry(auto_describe=False)
            registry.register(self)
            self._registry = registry
        return generate_latest(self._registry)


def routes(services: Services) -> list[BaseRoute]:
    """The ``GET /metrics`` route, behind the admin token like ``/-/`` (see
    :func:`mockllm.admin.guarded`)."""
    from .admin import guarded  # admin imports this module

    metrics = services.metrics

    async def endpoint(_request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST

        return Response(metrics.exposition(), headers={"content-type": CONTENT_TYPE_LATEST})

    return [Route("/metrics", guarded(services, endpoint), methods=["GET"])]


__all__ = [
    "E2E_BUCKETS",
    "MAX_LABEL_LENGTH",
    "MAX_LABEL_VALUES",
    "OTHER",
    "TPOT_BUCKETS",
    "TTFT_BUCKETS",
    "Histogram",
    "Metrics",
    "routes",
]
