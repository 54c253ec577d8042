"""What the realism features decide about one generating request, around the engine's
answer: :func:`admit` before it (knobs, request faults, the request bucket), then
:meth:`Admission.enter` (a generation slot), :meth:`Admission.settle` once the answer is
decided (token buckets, rate-limit headers, timing), :meth:`Admission.hold` to keep the
slot until the answer is written.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING

from ..core import outcome
from ..core.conversation import Conversation
from ..core.errors import MockError
from ..core.types import ChatRequest, Completion
from ..rules.schema import Distribution
from .faults import request_fault
from .knobs import Knobs, Plan, header_knobs, resolve
from .latency import Timing, draw, request_random
from .quotas import Account

if TYPE_CHECKING:
    from ..wire import HttpCall, Result

MOCKLLM_HEADERS = b"x-mockllm-"


def _mockllm_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    """The request's ``x-mockllm-*`` headers (only those decoded, when the wire's)."""
    prefixed = getattr(headers, "prefixed", None)
    return prefixed(MOCKLLM_HEADERS) if prefixed is not None else headers


def _note(text: str) -> None:
    """Say in the request's outcome (the journal's ``faults``) what was simulated."""
    facts = outcome.current()
    if facts is not None:
        facts.fault(text)


def _random_knobs(knobs: Knobs) -> bool:
    return knobs.error_rate is not None or any(
        isinstance(getattr(knobs, f), Distribution)
        for f in ("ttft_ms", "prefill_ms_per_token", "itl_ms", "tokens_per_chunk")
    )


class Admission:
    """The realism decisions of one request (see the module docstring)."""

    __slots__ = ("plan", "knobs", "rng", "account", "entered", "_left")

    def __init__(self, plan: Plan, knobs: Knobs | None) -> None:
        self.plan = plan
        self.knobs = knobs
        self.rng: random.Random | None = None
        self.account: Account | None = None
        self.entered = False
        self._left = False

    # --- around the engine ----------------------------------------------------------------

    async def enter(self, call: HttpCall) -> None:
        """Take a generation slot when the config has a load model (may wait in its
        queue; raises the overload error past it)."""
        load = self.plan.load
        if load is not None:
            try:
                await call.services.realism.gate.enter(load)
            except MockError as exc:
                _note(f"overloaded: {load.max_concurrent} busy, {load.queue} queued")
                raise self.with_limit_headers(call, exc) from None
            self.entered = True

    def settle(
        self, call: HttpCall, completion: Completion
    ) -> tuple[Completion, dict[str, str], Timing | None]:
        """Once the answer is decided: its tokens taken from the buckets (the 429 when
        they are short), the rate-limit headers, the stream's regrouping into
        ``tokens_per_chunk`` and the timing."""
        headers: dict[str, str] = {}
        realism = call.services.realism
        usage = completion.usage
        if self.account is not None:
            try:
                realism.quotas.take(self.account, usage.prompt_tokens)
            except MockError as exc:
                _note(f"rate limit: {exc.detail.get('bucket', 'tokens')}")
                raise self.with_limit_headers(call, exc) from None
            view = realism.quotas.charge(self.account, usage.completion_tokens)
            provider = call.provider
            if provider is not None and provider.limit_headers is not None:
                headers = provider.limit_headers(view)
        knobs = self.knobs
        if knobs is None:
            return completion, headers, None
        rng = self.rng
        if knobs.chunking:
            size = max(1, round(draw(knobs.tokens_per_chunk, rng)))
            completion = regroup(completion, size)
        if not knobs.has_latency and not knobs.stall_ms:
            return completion, headers, None
        load = self.plan.load
        scale = realism.gate.scale(load) if load is not None else 1.0
        ttft = (
            draw(knobs.ttft_ms, rng) + draw(knobs.prefill_ms_per_token, rng) * usage.prompt_tokens
        )
        itl = knobs.itl_ms
        timing = Timing(
            ttft=ttft / 1000 * scale,
            itl=0.0 if isinstance(itl, Distribution) else draw(itl, rng) / 1000,
            itl_value=itl,
            per_char=completion.delay_per_char,
            scale=scale,
            rng=rng,
        )
        _note(f"latency: ttft {timing.ttft * 1000:.0f} ms, itl {_shown(itl)} ms")
        return completion, headers, timing

    def with_limit_headers(self, call: HttpCall, error: MockError) -> MockError:
        """``error`` with the rate-limit headers of the request's buckets (a real 429
        carries them too)."""
        provider = call.provider
        if self.account is not None and provider is not None and provider.limit_headers:
            view = self.account.view(call.services.realism.quotas.wall())
            error.headers = {**provider.limit_headers(view), **error.headers}
        return error

    def leave(self, call: HttpCall) -> None:
        """Give the generation slot back (once)."""
        if self.entered and not self._left:
            self._left = True
            call.services.realism.gate.leave()

    def hold(self, call: HttpCall, result: Result) -> Result:
        """``result`` keeping the generation slot until it is written: a JSON answer gives
        it back now, a stream when it ends or its client leaves."""
        if not self.entered:
            return result
        from ..wire import StreamResult

        if not isinstance(result, StreamResult):
            self.leave(call)
            return result
        chunks = result.chunks
        cancel = result.cancel

        async def held() -> AsyncIterator[bytes]:
            try:
                async for piece in chunks:
                    yield piece
            finally:
                self.leave(call)

        def cancelled() -> None:
            if cancel is not None:
                cancel()
            self.leave(call)

        result.chunks = held()
        result.cancel = cancelled
        return result


def _shown(value: object) -> str:
    if isinstance(value, Distribution):
        return value.distribution
    return f"{float(value or 0):g}"  # type: ignore[arg-type]


def regroup(completion: Completion, size: int) -> Completion:
    """``completion`` with its stream pieces joined ``size`` tokens to an event."""
    if size <= 1:
        return completion

    def joined(pieces: tuple[str, ...]) -> tuple[str, ...]:
        return tuple("".join(pieces[i : i + size]) for i in range(0, len(pieces), size))

    choices = tuple(
        dataclasses.replace(
            c,
            chunks=joined(c.chunks),
            refusal_chunks=joined(c.refusal_chunks),
            reasoning_chunks=joined(c.reasoning_chunks),
        )
        for c in completion.choices
    )
    return dataclasses.replace(completion, choices=choices)


def admit(call: HttpCall, request: ChatRequest) -> Admission | None:
    """The realism decisions to take before the engine answers ``request``: its knobs
    (config levels and ``x-mockllm-*`` headers), a request fault (raised: the dialect's
    error), one unit of its request buckets (the 429 when short). None when nothing is to
    be simulated (no knob, no load model, no rate limits and no rate-limit headers)."""
    services = call.services
    plan = services.store.current.config.behaviour
    provider = call.provider
    headers = call.headers
    given = header_knobs(_mockllm_headers(headers))
    limited = plan.rate_limits is not None or (
        provider is not None and provider.limit_headers is not None
    )
    if not (given or plan.active or plan.load or limited):
        return None
    facts = outcome.current()
    if facts is not None:  # known before the engine runs: a fault's entry names them too
        facts.model = request.model
    realism = services.realism
    knobs = None
    conversation = None
    if given or plan.active:
        snapshot = services.store.current
        conversation = Conversation(request)
        if facts is not None:
            facts.conversation = conversation
        model = plan.models.get(request.model) if plan.models else None
        rule = None
        if plan.rules_have_knobs:
            found = snapshot.config.rules.first_match(conversation)
            if found is not None and (found.latency or found.faults):
                rule = (found.latency, found.faults)
        knobs = resolve(plan, model, rule, given)
    admission = Admission(plan, knobs)
    if limited:
        model_level = plan.models.get(request.model) if plan.models else None
        key = (provider.api_key(call) if provider is not None else None) or "-"
        quotas = realism.quotas
        admission.account = quotas.account(
            key,
            request.model,
            plan.rate_limits,
            model_level.rate_limits if model_level is not None else None,
        )
        try:
            quotas.take_request(admission.account)
        except MockError as exc:
            _note("rate limit: requests")
            raise admission.with_limit_headers(call, exc) from None
    if knobs is not None and conversation is not None:
        header = services.store.current.config.settings.conversation_header
        if _random_knobs(knobs):
            identity = f"{request.model}\x00{conversation.key(header)}\x00{len(request.messages)}"
            admission.rng = request_random(plan.seed, identity, realism.occurrence(identity))
        attempt = None
        if knobs.fail_first:
            attempt = realism.attempts.next(conversation.key(header), len(request.messages))
        error = request_fault(knobs, attempt, admission.rng)
        if error is not None:
            _note(f"error {error.status} ({error.detail.get('fault')})")
            raise admission.with_limit_headers(call, error)
        if knobs.stream_faults and request.stream:
            for name in ("stream_cut_after", "stall_ms", "malformed_after", "stream_error_after"):
                value = getattr(knobs, name)
                if value is not None:
                    _note(f"{name} {value:g}")
    return admission


GENERATING = "__mockllm_generating__"
"""The attribute that marks a route handler as one on the serving path (it admits its
requests itself); :func:`off_path_faults` applies to the others."""


def off_path_faults(call: HttpCall) -> None:
    """The request faults of a request off the serving path (embeddings, model listings,
    token counting...): the global ``settings.faults`` and the ``x-mockllm-*`` headers
    (error, fail-first, error rate; there is no model or rule level). Raises the error."""
    services = call.services
    plan = services.store.current.config.behaviour
    headers = call.headers
    given = header_knobs(_mockllm_headers(headers))
    if not given and plan.faults is None:
        return
    knobs = resolve(plan, None, None, given)
    realism = services.realism
    key = headers.get(services.store.current.config.settings.conversation_header) or (
        f"{call.method} {call.path}"
    )
    rng = None
    if knobs.error_rate is not None:
        rng = request_random(plan.seed, key, realism.occurrence(key))
    attempt = realism.attempts.next(key, 0) if knobs.fail_first else None
    error = request_fault(knobs, attempt, rng)
    if error is not None:
        _note(f"error {error.status} ({error.detail.get('fault')})")
        raise error


__all__ = ["GENERATING", "Admission", "admit", "off_path_faults", "regroup"]
