"""Answers -> OpenAI wire bodies and stream frames (wire-formats.md sections 2 and 4): the
``chat.completion`` object and its chunk stream (:func:`encode`, :func:`stream`), legacy
completions' ``text_completion`` object and chunks, the embeddings list, the moderation
results.

Each endpoint's names say which it is (``encode_completion``, ``completion_chunks``,
``encode_embeddings``, ``encode_moderation``); Chat Completions' are ``encode``,
``stream`` and ``usage``.

**Legacy completions**: a list of prompts gets ``n`` choices per prompt, in prompt order
(indices ``prompt * n + k``). ``echo`` puts the prompt before the answer; ``logprobs`` is
answered ``null``. ``usage.prompt_tokens`` is the prompts' own token count (a token array
counts its length), with no chat message overheads; ``completion_tokens`` is the engine's
(a rule's ``usage`` override of ``completion_tokens`` applies).

**Embeddings**: each text gets the deterministic unit vector of
:func:`mockllm.core.embeddings.embed` (texts sharing words are closer), so retrieval code
can be tested without a config; a shorter vector is a vector of its own, not a prefix of
the full one. ``encoding_format: "base64"`` (what openai-python asks for by default) is
little-endian float32; ``"float"`` gives the same float32 values as JSON numbers, so both
decode to identical floats (pitfall P13). ``usage`` counts tokens exactly in the model's
encoding.

**Moderations**: one result per input, scored by the mock classifier of
:mod:`.moderation`.
"""

from __future__ import annotations

import base64
import struct
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from ...core.embeddings import embed
from ...core.events import (
    ChoiceEnd,
    ChoiceStart,
    Frame,
    RefusalDelta,
    ReplyEvent,
    TextDelta,
    ToolArgumentsDelta,
    ToolCallStart,
    iter_events,
)
from ...core.ids import new_id
from ...core.types import (
    Completion,
)
from ..sse import sse
from .decode import ModerationInput, Text
from .moderation import CATEGORIES, IMAGE_CATEGORIES, flagged_categories, score
from .protocol import CompletionRequest

# --- legacy completions: text_completion ---------------------------------------------------

COMPLETION_FINISH = {
    "stop": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "tool_calls": "stop",  # text completions have no tool calls: the text part is the answer
    "content_filter": "content_filter",
    "refusal": "stop",  # a refusal is answered as the text
}


@dataclass(slots=True)
class CompletionsAnswer:
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


def _text_choice(index: int, text: str, finish: str | None) -> dict[str, Any]:
    return {"text": text, "index": index, "logprobs": None, "finish_reason": finish}


def encode_completion(answer: CompletionsAnswer) -> dict[str, Any]:
    """The non-streaming ``text_completion`` object."""
    echo = bool(answer.body.echo)
    choices = []
    for offset, prompt, completion in answer.answered():
        for choice in completion.choices:
            text = choice.refusal if choice.refusal is not None else choice.text
            choices.append(
                _text_choice(
                    offset + choice.index,
                    prompt.text + text if echo else text,
                    COMPLETION_FINISH[choice.finish_reason],
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


def completion_chunks(
    answer: CompletionsAnswer,
) -> Iterator[tuple[ReplyEvent | None, dict[str, Any]]]:
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
                choice = _text_choice(offset + event.choice, event.text, None)
            elif kind is ChoiceStart and echo and prompt.text:
                choice = _text_choice(offset + event.choice, prompt.text, None)
            elif kind is ChoiceEnd:
                finish = COMPLETION_FINISH[completion.choices[event.choice].finish_reason]
                choice = _text_choice(offset + event.choice, "", finish)
            else:
                continue
            yield event, {**head, "choices": [choice], **tail}
    if include_usage:
        yield None, {**head, "choices": [], "usage": answer.usage()}


def completion_frames(
    payloads: Iterable[tuple[ReplyEvent | None, dict[str, Any]]],
) -> Iterator[Frame]:
    """SSE frames of the chunk payloads, then ``data: [DONE]``."""
    for event, payload in payloads:
        yield event, sse(payload)
    yield None, b"data: [DONE]\n\n"


# --- embeddings: the CreateEmbeddingResponse -----------------------------------------------


def encode_embeddings(items: list[Text], size: int, as_base64: bool, model: str) -> dict[str, Any]:
    """The ``CreateEmbeddingResponse``: a vector of ``size`` floats per text, as JSON
    numbers or (``as_base64``) base64 of little-endian float32."""
    data = []
    for index, item in enumerate(items):
        packed = struct.pack(f"<{size}f", *embed(item.text, size))
        vector: str | list[float] = (
            base64.b64encode(packed).decode()
            if as_base64
            else list(struct.unpack(f"<{size}f", packed))
        )
        data.append({"object": "embedding", "index": index, "embedding": vector})
    total = sum(item.tokens for item in items)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": total, "total_tokens": total},
    }


# --- moderations: the CreateModerationResponse ---------------------------------------------


def moderation_result(
    text: str, *, has_text: bool = True, has_image: bool = False
) -> dict[str, Any]:
    """One moderation result for ``text`` (the text of the input, images aside)."""
    flags = flagged_categories(text)
    applied: dict[str, list[str]] = {}
    for category in CATEGORIES:
        kinds = ["text"] if has_text else []
        if has_image and category in IMAGE_CATEGORIES:
            kinds.append("image")
        applied[category] = kinds
    return {
        "flagged": bool(flags),
        "categories": {c: c in flags for c in CATEGORIES},
        "category_scores": {c: score(text, c, c in flags) for c in CATEGORIES},
        "category_applied_input_types": applied,
    }


def encode_moderation(inputs: list[ModerationInput], model: str) -> dict[str, Any]:
    """The ``CreateModerationResponse``: one result per input."""
    results = [
        moderation_result(item.text, has_text=item.has_text, has_image=item.has_image)
        for item in inputs
    ]
    return {"id": new_id("modr-", 16), "model": model, "results": results}


# --- Chat Completions ----------------------------------------------------------------


SYSTEM_FINGERPRINT = "fp_mockllm"
FINISH = {
    "stop": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "refusal": "stop",  # a structured-output refusal ends normally, with message.refusal set
}


def usage(completion: Completion) -> dict[str, Any]:
    u = completion.usage
    return {
        "prompt_tokens": u.prompt_tokens,
        "completion_tokens": u.completion_tokens,
        "total_tokens": u.total_tokens,
        "prompt_tokens_details": {"cached_tokens": u.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": u.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def encode(completion: Completion, completion_id: str, created: int) -> dict[str, Any]:
    """The non-streaming ``chat.completion`` object."""
    choices = []
    for choice in completion.choices:
        content = choice.text if (choice.text or not choice.tool_calls) else None
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if choice.refusal is not None else content,
            "refusal": choice.refusal,
            "annotations": [],
        }
        if choice.tool_calls:
            message["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in choice.tool_calls
            ]
        choices.append(
            {
                "index": choice.index,
                "message": message,
                "logprobs": None,
                "finish_reason": FINISH[choice.finish_reason],
            }
        )
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": completion.model,
        "choices": choices,
        "usage": usage(completion),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def stream(
    completion: Completion, completion_id: str, created: int, include_usage: bool
) -> Iterator[Frame]:
    """The SSE chunks of ``completion``: role once per choice, content, tool-call fragments
    (id/type/name only in the first), finish chunk, usage chunk last if asked, ``[DONE]``."""
    head = (
        orjson.dumps(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": completion.model,
                "service_tier": "default",
                "system_fingerprint": SYSTEM_FINGERPRINT,
            }
        )[:-1]
        + b',"choices":['
    )
    tail = b'],"usage":null}\n\n' if include_usage else b"]}\n\n"
    dumps = orjson.dumps

    def chunk(choice: int, delta: dict[str, Any], finish: str | None = None) -> bytes:
        body = dumps({"index": choice, "delta": delta, "logprobs": None, "finish_reason": finish})
        return b"data: " + head + body + tail

    # A text chunk, the most frequent, is its choice's fixed opening, the text as JSON and a
    # fixed closing: the bytes chunk() writes for {"content": text}, without the dicts.
    openings: dict[int, bytes] = {}
    closing = b'},"logprobs":null,"finish_reason":null}' + tail
    choices = completion.choices
    for event in iter_events(completion):
        kind = type(event)
        if kind is TextDelta:
            assert isinstance(event, TextDelta)
            opening = openings.get(event.choice)
            if opening is None:
                opening = b'data: %s{"index":%d,"delta":{"content":' % (head, event.choice)
                openings[event.choice] = opening
            yield event, opening + dumps(event.text) + closing
        elif kind is ChoiceStart:
            this = choices[event.choice]
            text_first = (bool(this.chunks) or not this.tool_calls) and this.refusal is None
            delta = {"role": "assistant", "content": "" if text_first else None, "refusal": None}
            yield event, chunk(event.choice, delta)
        elif kind is RefusalDelta:
            assert isinstance(event, RefusalDelta)
            yield event, chunk(event.choice, {"refusal": event.text})
        elif kind is ToolCallStart:
            assert isinstance(event, ToolCallStart)
            call = {
                "index": event.index,
                "id": event.id,
                "type": "function",
                "function": {"name": event.name, "arguments": ""},
            }
            yield event, chunk(event.choice, {"tool_calls": [call]})
        elif kind is ToolArgumentsDelta:
            assert isinstance(event, ToolArgumentsDelta)
            fragment = {"index": event.index, "function": {"arguments": event.fragment}}
            yield event, chunk(event.choice, {"tool_calls": [fragment]})
        elif kind is ChoiceEnd:
            yield event, chunk(event.choice, {}, FINISH[choices[event.choice].finish_reason])
    if include_usage:
        yield None, b"data: " + head + b'],"usage":' + dumps(usage(completion)) + b"}\n\n"
    yield None, b"data: [DONE]\n\n"


def now() -> int:
    return int(time.time())
