"""The one serving path of every generating request, whatever its dialect.

A dialect's handler does two things of its own: it *decodes* the wire request into a
:class:`Turn` (the neutral :class:`~mockllm.core.types.ChatRequest` plus how to encode the
answer in its format), and it supplies the *encoders*. Everything between is here, once:

1. **validate**: the request validators that plugins add (:class:`Validator`), which can
   refuse any dialect's request with that dialect's own error envelope;
2. **stages before**: each :class:`Stage` may rewrite the neutral request;
3. **decide**: the engine answers (capabilities of the model, the rules, the hard
   constraints of the request: a forced tool call, a JSON schema), asking the dialect to
   fit the request into the context window when it can (Ollama truncates);
4. **stages after**: each stage may rewrite the completion;
5. **deliver**: the rule header, the pacing of a stream or the latency of a whole answer,
   then the dialect's encoding and media type.

Errors raised anywhere on the path are :class:`~mockllm.core.errors.MockError` with
structured fields; the wire layer renders them in the dialect's envelope and words
(``Provider.reword``). Later concerns (faults, quotas, journal, metrics) hook in here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from .core import outcome
from .core.errors import MockError
from .core.events import (
    Frame,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    ToolArgumentsDelta,
    paced,
)
from .core.types import ChatRequest, Completion
from .pacing import Pacer
from .realism.admission import GENERATING, Admission, admit
from .realism.faults import with_stream_faults
from .realism.knobs import Knobs
from .realism.latency import Timing
from .wire import HttpCall, JsonResult, Result, StreamResult, header_value

SSE = "text/event-stream; charset=utf-8"


@runtime_checkable
class Validator(Protocol):
    """A request validator: called with every generating request of every dialect, before
    the engine decides. It raises :class:`~mockllm.core.errors.MockError` to refuse the
    request (rendered in the client's dialect); returning means the request is accepted.

    A plugin registers a factory ``() -> Validator`` in the ``mockllm.validators`` entry
    point group; it applies once enabled by name (``MOCKLLM_VALIDATORS``)."""

    def __call__(self, request: ChatRequest, call: HttpCall) -> None: ...


class Stage:
    """Middleware over neutral requests and replies, on every dialect's generating path.

    ``before`` sees the decoded request and returns the request the engine answers (the
    same object when it changes nothing); ``after`` sees the engine's completion and
    returns the one that is encoded (the stream's reply events derive from it, see
    :func:`mockllm.core.events.iter_events`). Both run on the event loop: keep them quick.
    A plugin registers a factory ``() -> Stage`` in the ``mockllm.stages`` entry point
    group; it applies once enabled by name (``MOCKLLM_STAGES``), in the order given."""

    name: str = "stage"

    def before(self, request: ChatRequest, call: HttpCall) -> ChatRequest:
        return request

    def after(self, request: ChatRequest, completion: Completion, call: HttpCall) -> Completion:
        return completion


@dataclass(frozen=True, slots=True)
class Hooks:
    """The validators and stages of one app, built by the app factory."""

    validators: tuple[Validator, ...] = ()
    stages: tuple[Stage, ...] = ()


Encode = Callable[[Completion], Any]
"""The whole answer's JSON body (or bytes) for a completion."""
Frames = Callable[[Completion], Iterable[Frame]]
"""The stream's frames for a completion."""
Wrap = Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]]
"""A transform of the paced byte stream (e.g. Gemini's JSON array closing on error)."""
Refit = Callable[[ChatRequest], ChatRequest]
"""The request made to fit the model's context window (raises its dialect's error when it
cannot); called when the engine finds the prompt too long."""


@dataclass(slots=True)
class Turn:
    """A decoded generating request and how to answer it in its dialect.

    ``encode`` builds the JSON answer, ``frames`` the stream; ``media_type`` is the
    stream's; ``wrap`` transforms the stream's bytes; ``refit`` fits a too-long prompt
    (None: a too-long prompt is the dialect's context-length error)."""

    request: ChatRequest
    encode: Encode
    frames: Frames
    media_type: str = SSE
    wrap: Wrap | None = None
    refit: Refit | None = None
    headers: dict[str, str] = field(default_factory=dict)


def decide(call: HttpCall, request: ChatRequest, refit: Refit | None = None) -> Completion:
    """Steps 1 to 4 of the path (see the module docstring): the completion that answers
    ``request``, or a :class:`MockError`."""
    services = call.services
    hooks = services.hooks
    for validator in hooks.validators:
        validator(request, call)
    for stage in hooks.stages:
        request = stage.before(request, call)
    engine = services.engine
    try:
        completion = engine.complete(request)
    except MockError as exc:
        if refit is None or exc.code != "context_length_exceeded":
            raise
        # The engine checks the window before it consults the rules: nothing was used up.
        completion = engine.complete(refit(request))
    for stage in hooks.stages:
        completion = stage.after(request, completion, call)
    facts = outcome.current()
    if facts is not None:
        usage = completion.usage
        if facts.usage is None:
            facts.usage = (usage.prompt_tokens, usage.completion_tokens)
        else:  # several prompts in one request (legacy completions): their sum
            facts.usage = (
                facts.usage[0] + usage.prompt_tokens,
                facts.usage[1] + usage.completion_tokens,
            )
    return completion


def rule_header(completions: Sequence[Completion]) -> dict[str, str]:
    """``x-mockllm-rule``: the rules that answered, without repeats."""
    if len(completions) == 1:
        names = completions[0].rule or "(default)"
    else:
        names = ", ".join(dict.fromkeys(c.rule or "(default)" for c in completions))
    return {"x-mockllm-rule": header_value(names)}


async def deliver(
    completions: Sequence[Completion],
    stream: bool,
    encode: Callable[[], Any],
    frames: Callable[[], Iterable[Frame]],
    *,
    media_type: str = SSE,
    wrap: Wrap | None = None,
    headers: dict[str, str] | None = None,
    pacer: Pacer | None = None,
    timing: Timing | None = None,
    knobs: Knobs | None = None,
) -> Result:
    """Step 5: the answer to send for ``completions`` (one per request; legacy
    completions answer several prompts at once). A stream follows ``timing`` (else the
    first completion's ``lag_*`` latency per character) and the stream faults of
    ``knobs``, on ``pacer`` (the app's one scheduler for all streams) when given; a whole
    answer waits what the whole generation would have taken first."""
    out = rule_header(completions)
    if headers:
        out.update(headers)
    first = completions[0]
    if timing is None and first.delay_per_char:
        timing = Timing(per_char=first.delay_per_char)
    faulty = knobs is not None and knobs.stream_faults
    if stream:
        cancel = None
        timed_stream = timing is not None and not timing.idle
        if pacer is not None and (timed_stream or faulty):
            scheduled: Iterator[tuple[float, bytes]] = schedule(frames(), timing or Timing())
            if knobs is not None and faulty:
                stall = (knobs.stall_ms or 0.0) / 1000
                scheduled = with_stream_faults(scheduled, knobs, stall)
            timed = pacer.paced(scheduled)
            chunks: AsyncIterator[bytes] = timed
            cancel = timed.cancel
        else:
            chunks = paced(first, frames())
        if wrap is not None:
            chunks = wrap(chunks)
        return StreamResult(
            chunks, media_type, headers=out, paced=timed_stream or faulty, cancel=cancel
        )
    if timing is not None and not timing.idle:
        delay = max(whole_answer_delay(c, timing) for c in completions)
        if delay > 0:
            await asyncio.sleep(delay)
    return JsonResult(encode(), headers=out)


_TOKEN_EVENTS = (TextDelta, ReasoningDelta, RefusalDelta, ToolArgumentsDelta)


def schedule(frames: Iterable[Frame], timing: Timing) -> Iterator[tuple[float, bytes]]:
    """``frames`` with the delay before each (seconds, relative): ``timing.ttft`` before
    the first frame; before each frame carrying tokens after the first such frame, the
    inter-token latency (drawn anew per frame for a distribution) plus ``per_char`` for
    each of its characters; none for the frames around them (finish, usage, done)."""
    per_char = timing.per_char
    first = True
    tokens_seen = False
    for event, frame in frames:
        delay = 0.0
        if first:
            delay = timing.ttft
            first = False
        if isinstance(event, _TOKEN_EVENTS):
            if tokens_seen:
                delay += timing.next_itl()
            tokens_seen = True
            if per_char and not isinstance(event, ToolArgumentsDelta):
                delay += per_char * len(event.text)
        yield delay, frame


def whole_answer_delay(completion: Completion, timing: Timing) -> float:
    """How long the whole generation of ``completion`` takes under ``timing``: the time to
    first token, then an inter-token wait for each token event after the first (the
    stream's events: reasoning, text or refusal pieces, tool calls), plus ``per_char`` per
    character (the longest choice)."""
    longest = 0.0
    for choice in completion.choices:
        events = (
            len(choice.reasoning_chunks)
            + max(len(choice.chunks), len(choice.refusal_chunks))
            + len(choice.tool_calls)
        )
        total = sum(timing.next_itl() for _ in range(max(0, events - 1)))
        if timing.per_char:
            text = choice.refusal if choice.refusal is not None else choice.text
            total += timing.per_char * (len(text or "") + len(choice.reasoning or ""))
        longest = max(longest, total)
    return timing.ttft + longest


async def answer(call: HttpCall, turn: Turn) -> Result:
    """The whole path for one decoded :class:`Turn`: admission (knobs, faults, rate
    limits, the load model's slot), the decision, then delivery with the request's
    timing and stream faults."""
    admission = admit(call, turn.request)
    if admission is None or (admission.knobs is None and admission.plan.load is None):
        # Nothing to time and no slot to hold: at most the rate-limit headers.
        completion = decide(call, turn.request, turn.refit)
        headers: dict[str, str] = {}
        if admission is not None:
            completion, headers, _ = admission.settle(call, completion)
        if not turn.request.stream and not completion.delay_per_char:
            # deliver()'s whole answer when there is no latency to wait, without its waits.
            headers.update(rule_header((completion,)))
            if turn.headers:
                headers.update(turn.headers)
            return JsonResult(turn.encode(completion), headers=headers)
        return await _deliver_turn(call, turn, completion, headers, None, None)
    await admission.enter(call)
    try:
        completion = decide(call, turn.request, turn.refit)
        completion, headers, timing = admission.settle(call, completion)
        result = await _deliver_turn(call, turn, completion, headers, timing, admission.knobs)
    except BaseException:
        admission.leave(call)
        raise
    return admission.hold(call, result)


async def _deliver_turn(
    call: HttpCall,
    turn: Turn,
    completion: Completion,
    headers: dict[str, str],
    timing: Timing | None,
    knobs: Knobs | None,
) -> Result:
    if turn.headers:
        headers.update(turn.headers)
    return await deliver(
        (completion,),
        turn.request.stream,
        lambda: turn.encode(completion),
        lambda: turn.frames(completion),
        media_type=turn.media_type,
        wrap=turn.wrap,
        headers=headers,
        pacer=call.services.pacer,
        timing=timing,
        knobs=knobs,
    )


def generation(
    decode: Callable[[HttpCall], Turn | Result],
) -> Callable[[HttpCall], Awaitable[Result]]:
    """A route handler from a dialect's ``decode``: it returns the :class:`Turn` to answer
    through the path, or a finished :class:`~mockllm.wire.Result` when the request needs no
    generation (Ollama's load and unload requests)."""

    async def handler(call: HttpCall) -> Result:
        turn = decode(call)
        if not isinstance(turn, Turn):
            return turn
        return await answer(call, turn)

    handler.__doc__ = decode.__doc__
    handler.__name__ = getattr(decode, "__name__", "handler")
    setattr(handler, GENERATING, True)
    return handler


__all__ = [
    "SSE",
    "Hooks",
    "Stage",
    "Turn",
    "Validator",
    "Admission",
    "admit",
    "answer",
    "decide",
    "deliver",
    "generation",
    "rule_header",
]
