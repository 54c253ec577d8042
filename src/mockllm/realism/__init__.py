"""Realism: latency that looks like a loaded model, faults on demand, rate limits and API
keys; one implementation on the serving path (:mod:`mockllm.serving`) for every dialect.

* :mod:`~mockllm.realism.knobs`: the per-request knobs, layered global < model < rule <
  ``x-mockllm-*`` header;
* :mod:`~mockllm.realism.latency`: fixed values, seeded distributions, profiles, timing;
* :mod:`~mockllm.realism.faults`: error statuses, first-N and random failures, stream
  faults;
* :mod:`~mockllm.realism.quotas`: request and token buckets, API keys;
* :mod:`~mockllm.realism.load`: concurrency limit, queue, overload.

:class:`Realism` is the state an app keeps for them (``Services.realism``).
"""

from __future__ import annotations

from ..state.shared import Backend
from .faults import Attempts
from .load import Gate
from .quotas import Quotas


class Realism:
    """What the realism features keep across requests, one per app: fault attempts per
    conversation, the draw counts that seed each request's generator, the rate-limit
    buckets and the generation slots. :meth:`clear` is part of ``POST /-/reset``.

    Kept by ``backend`` (memory by default): shared by every worker and replica with a
    shared back-end, but the generation slots, which are each process's own."""

    def __init__(self, backend: Backend | None = None) -> None:
        backend = backend or Backend()
        self.attempts = Attempts(backend.counters("attempt", 100_000, 3600.0, None))
        self.draws = backend.counters("draw", 100_000, 3600.0, None)
        self.quotas: Quotas = backend.quotas()
        self.gate = Gate()

    def occurrence(self, identity: str) -> int:
        """How many requests of ``identity`` this one makes (1 for the first)."""
        return self.draws.advance(identity, 0)

    def clear(self) -> None:
        self.attempts.clear()
        self.draws.clear()
        self.quotas.clear()

    def stats(self) -> dict[str, int]:
        return {
            "fault_attempts": self.attempts.stats()["entries"],
            "rate_limit_accounts": self.quotas.stats()["entries"],
            "generations_busy": self.gate.busy,
            "generations_queued": self.gate.queued,
        }


__all__ = ["Realism"]
