"""OpenAI legacy text completions: ``POST /v1/completions`` (wire-formats.md section 4).

Each prompt becomes a neutral :class:`~mockllm.core.types.ChatRequest` (endpoint
``completions``, one user message holding the prompt) answered by the engine, so rules,
sequences, ``max_tokens`` (default 16, as on the real API), ``stop`` and lag apply as on
chat. A list of prompts gets ``n`` choices per prompt, in prompt order (indices
``prompt * n + k``). ``echo`` puts the prompt before the answer; ``suffix``, ``logprobs``
(answered ``null``), ``best_of`` and the sampling parameters are accepted and ignored.

``usage.prompt_tokens`` is the prompts' own token count (a token array counts its length),
with no chat message overheads; ``completion_tokens`` is the engine's (a rule's ``usage``
override of ``completion_tokens`` applies).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ...core.errors import MockError
from ...core.events import (
    ChoiceEnd,
    ChoiceStart,
    Frame,
    RefusalDelta,
    ReplyEvent,
    TextDelta,
    iter_events,
)
from ...core.ids import new_id
from ...core.types import ChatRequest, Completion, Message, TextPart
from ...serving import decide, deliver
from ...wire import HttpCall, Result
from ..base import RouteSpec
from ..sse import sse
from ..validation import parse_body
from .errors import invalid_request
from .extras_protocol import CompletionRequest
from .inputs import Text, texts
from .translate import SYSTEM_FINGERPRINT, now

DEFAULT_MAX_TOKENS = 16
MAX_STOP = 4
FINISH = {
    "stop": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "tool_calls": "stop",  # text completions have no tool calls: the text part is the answer
    "content_filter": "content_filter",
    "refusal": "stop",  # a refusal is answered as the text
}


@dataclass(slots=True)
class Answer:
    """One legacy completions request, answered: the engine's completion of each prompt."""

    body: CompletionRequest
    prompts: list[Text]
    completions: list[Completion]
    id: str
    created: int
    model: str

    @property
    def n(self) -> int:
        return self.body.n or 1

    def answered(self) -> Iterator[tuple[int, Text, Completion]]:
        """Each prompt with its completion and the index of its first choice."""
        for position, (prompt, completion) in enumerate(
            zip(self.prompts, self.completions, strict=True)
        ):
            yield position * self.n, prompt, completion

    def usage(self) -> dict[str, int]:
        prompt = sum(p.tokens for p in self.prompts)
        completion = sum(c.usage.completion_tokens for c in self.completions)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }


def _stop(stop: str | list[str] | None) -> tuple[str, ...]:
    if stop is None:
        return ()
    if isinstance(stop, str):
        return (stop,)
    if len(stop) > MAX_STOP:
        raise MockError(
            "invalid_request",
            f"Invalid 'stop': array too long. Expected an array with maximum length {MAX_STOP}, "
            f"but got an array with length {len(stop)} instead.",
            param="stop",
            code="array_above_max_length",
        )
    return tuple(stop)


def answer(call: HttpCall, provider: str) -> Answer:
    """Validate ``call``'s body and answer every prompt through the engine; ``provider``
    names the dialect (its catalogue, its rules' ``provider``). Raises :class:`MockError`."""
    body = parse_body(CompletionRequest, call.body, lambda exc: invalid_request(exc, call.body))
    stop = _stop(body.stop)
    if body.stream_options is not None and not body.stream:
        raise MockError(
            "invalid_request",
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
            code="invalid_value",
        )
    engine = call.services.engine
    info = engine.resolve_model(provider, body.model)
    prompt = body.prompt if body.prompt is not None else ""
    prompts = texts(prompt, "prompt", call.services.tokenizer, info.tokenizer)
    if not prompts:
        raise MockError(
            "invalid_request",
            "Invalid 'prompt': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            param="prompt",
            code="empty_array",
        )
    max_tokens = body.max_tokens if body.max_tokens is not None else DEFAULT_MAX_TOKENS
    for item in prompts:
        if item.tokens + max_tokens > info.context_window:
            raise MockError(
                "invalid_request",
                f"This model's maximum context length is {info.context_window} tokens, "
                f"however you requested {item.tokens + max_tokens} tokens ({item.tokens} in "
                f"your prompt; {max_tokens} for the completion). Please reduce your prompt; "
                "or completion length.",
                param="prompt",
                code="context_length_exceeded",
            )
    completions = [
        decide(
            call,
            ChatRequest(
                provider=provider,
                endpoint="completions",
                model=body.model,
                messages=(Message("user", (TextPart(item.text),)),),
                max_tokens=max_tokens,
                stop=stop,
                n=body.n or 1,
                stream=bool(body.stream),
                headers=call.headers,
            ),
        )
        for item in prompts
    ]
    return Answer(body, prompts, completions, new_id("cmpl-", 15), now(), body.model)


def _choice(index: int, text: str, finish: str | None) -> dict[str, Any]:
    return {"text": text, "index": index, "logprobs": None, "finish_reason": finish}


def encode(answer: Answer) -> dict[str, Any]:
    """The non-streaming ``text_completion`` object."""
    echo = bool(answer.body.echo)
    choices = []
    for offset, prompt, completion in answer.answered():
        for choice in completion.choices:
            text = choice.refusal if choice.refusal is not None else choice.text
            choices.append(
                _choice(
                    offset + choice.index,
                    prompt.text + text if echo else text,
                    FINISH[choice.finish_reason],
                )
            )
    return {
        "id": answer.id,
        "object": "text_completion",
        "created": answer.created,
        "model": answer.model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": choices,
        "usage": answer.usage(),
    }


def chunks(answer: Answer) -> Iterator[tuple[ReplyEvent | None, dict[str, Any]]]:
    """The stream chunks, as payloads: one per text piece (the echoed prompt first), a
    finish chunk per choice, and a usage chunk (``choices: []``) last if asked."""
    include_usage = bool(answer.body.stream_options and answer.body.stream_options.include_usage)
    head: dict[str, Any] = {
        "id": answer.id,
        "object": "text_completion",
        "created": answer.created,
        "model": answer.model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
    tail: dict[str, Any] = {"usage": None} if include_usage else {}
    echo = bool(answer.body.echo)
    for offset, prompt, completion in answer.answered():
        for event in iter_events(completion):
            kind = type(event)
            if kind is TextDelta or kind is RefusalDelta:
                assert isinstance(event, TextDelta | RefusalDelta)
                choice = _choice(offset + event.choice, event.text, None)
            elif kind is ChoiceStart and echo and prompt.text:
                choice = _choice(offset + event.choice, prompt.text, None)
            elif kind is ChoiceEnd:
                finish = FINISH[completion.choices[event.choice].finish_reason]
                choice = _choice(offset + event.choice, "", finish)
            else:
                continue
            yield event, {**head, "choices": [choice], **tail}
    if include_usage:
        yield None, {**head, "choices": [], "usage": answer.usage()}


def frames(payloads: Iterable[tuple[ReplyEvent | None, dict[str, Any]]]) -> Iterator[Frame]:
    """SSE frames of the chunk payloads, then ``data: [DONE]``."""
    for event, payload in payloads:
        yield event, sse(payload)
    yield None, b"data: [DONE]\n\n"


async def respond(
    answer: Answer,
    payload: Callable[[Answer], dict[str, Any]] = encode,
    chunk: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Result:
    """The answer through the serving path's delivery: the ``text_completion`` object
    (``payload``), or its SSE stream, each chunk's payload passed through ``chunk``."""

    def stream_frames() -> Iterator[Frame]:
        payloads = chunks(answer)
        if chunk is not None:
            payloads = ((event, chunk(data)) for event, data in payloads)
        return frames(payloads)

    return await deliver(
        answer.completions,
        bool(answer.body.stream),
        lambda: payload(answer),
        stream_frames,
    )


async def create_completion(call: HttpCall) -> Result:
    """``POST /v1/completions``."""
    return await respond(answer(call, "openai"))


def routes() -> tuple[RouteSpec, ...]:
    """The completions routes of one app."""
    return (RouteSpec("/v1/completions", ("POST",), create_completion, "completions"),)
