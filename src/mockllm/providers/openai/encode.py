"""Answers -> OpenAI wire bodies and stream frames (wire-formats.md section 4): legacy
completions' ``text_completion`` object and chunks, the embeddings list, the moderation
results.

Each endpoint's names say which it is (``encode_completion``, ``completion_chunks``,
``encode_embeddings``, ``encode_moderation``); the Chat Completions encoders live in
:mod:`.translate` for now.

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ...core.embeddings import embed
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
from ...core.types import Completion
from ..sse import sse
from .decode import ModerationInput, Text
from .extras_protocol import CompletionRequest
from .moderation import CATEGORIES, IMAGE_CATEGORIES, flagged_categories, score
from .translate import SYSTEM_FINGERPRINT

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
