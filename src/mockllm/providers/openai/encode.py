"""Answers -> OpenAI wire bodies and stream frames (wire-formats.md sections 2 and 4): the
``chat.completion`` object and its chunk stream (:func:`encode`, :func:`stream`), legacy
completions' ``text_completion`` object and chunks, the embeddings list, the moderation
results.

Each endpoint's names say which it is (``encode_completion``, ``completion_chunks``,
``encode_embeddings``, ``encode_moderation``); Chat Completions' are ``encode``,
``stream`` and ``usage``.

**Logprobs** (values from :mod:`mockllm.core.logprobs`: one entry per streamed token
piece, deterministic): asked for (the ``logprobs`` argument, the neutral request's),
Chat Completions' ``choices[i].logprobs`` is ``{"content": [entry...], "refusal": null}``,
``{"content": null, "refusal": [entry...]}`` for a refusal and ``{"content": null,
"refusal": null}`` for an answer that is only tool calls (its ``content`` is null too).
An entry is ``{token, logprob, bytes, top_logprobs}``, ``top_logprobs`` holding exactly
the asked number of ``{token, logprob, bytes}``, the chosen token first. In a stream each
content or refusal chunk carries the entries of its tokens, the role chunk an empty list
for the part that follows (as the live API sends it), the other chunks ``null``. Not
asked for, ``logprobs`` is ``null`` everywhere, as before.

**Legacy completions**: a list of prompts gets ``n`` choices per prompt, in prompt order
(indices ``prompt * n + k``). ``echo`` puts the prompt before the answer. ``logprobs: k``
gives each choice ``{tokens, token_logprobs, top_logprobs, text_offset}``: one token per
streamed piece, ``top_logprobs`` a ``{token: logprob}`` of the ``k`` most likely tokens
(the chosen one first and always there, so one entry for ``k`` of 0), ``text_offset`` the
token's character offset in the choice's ``text``. With ``echo`` the prompt's tokens (its
text re-tokenized) come first, the very first with ``null`` logprob and top logprobs, as
on the live API. A stream chunk carries its own tokens (the echo chunk the prompt's),
offsets still counted from the start of the choice's text; the finish chunk ``null``.
``usage.prompt_tokens`` is the prompts' own token count (a token array counts its
length), with no chat message overheads; ``completion_tokens`` is the engine's (a rule's
``usage`` override of ``completion_tokens`` applies).

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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
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
from ...core.logprobs import TokenLogprob, score_pieces
from ...core.types import Choice, Completion
from ..sse import sse
from .decode import ModerationInput, Text
from .moderation import CATEGORIES, IMAGE_CATEGORIES, flagged_categories, score
from .protocol import CompletionRequest

# --- logprobs: the entries of Chat Completions and the Responses API ----------------------

Scored = list[tuple[TokenLogprob, ...]]
"""The logprob entries of each streamed piece of a text (none for an empty piece)."""


def logprob_entry(item: TokenLogprob) -> dict[str, Any]:
    """The wire entry of one token (``ChatCompletionTokenLogprob``; the Responses API's
    ``LogProb``): ``{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}``."""
    return {
        "token": item.token,
        "logprob": item.logprob,
        "bytes": item.utf8,
        "top_logprobs": [
            {"token": c.token, "logprob": c.logprob, "bytes": c.utf8} for c in item.top
        ],
    }


def logprob_entries(scored: Iterable[tuple[TokenLogprob, ...]]) -> list[dict[str, Any]]:
    """The wire entries of every token of ``scored``, in order."""
    return [logprob_entry(item) for group in scored for item in group]


class Scorer:
    """The scored pieces of texts for ``top`` alternatives per token, each distinct
    sequence of pieces scored once (the ``n`` choices of a request share their text)."""

    __slots__ = ("_memo", "top")

    def __init__(self, top: int) -> None:
        self.top = top
        self._memo: dict[tuple[int, tuple[str, ...]], Scored] = {}

    def __call__(self, pieces: tuple[str, ...], start: int = 0) -> Scored:
        """The scored ``pieces``, the first at position ``start``."""
        key = (start, pieces)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = score_pieces(pieces, self.top, start)
        return found


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
    prompt_pieces: list[tuple[str, ...]] = field(default_factory=list)
    """Each prompt's tokens as text, when the answer reports logprobs of an echoed prompt
    (:func:`~.routes.completions_answer` fills it); empty otherwise."""
    realism: tuple[dict[str, str], Any, Any] | None = None
    """The serving path's rate-limit headers, timing and knobs for the answer (see
    :mod:`mockllm.realism.admission`); None when nothing is simulated."""

    @property
    def n(self) -> int:
        return self.body.n or 1

    @property
    def logprobs(self) -> int | None:
        """The ``logprobs`` asked for: the most likely tokens reported per token."""
        return self.body.logprobs

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


def _text_choice(
    index: int, text: str, finish: str | None, logprobs: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"text": text, "index": index, "logprobs": logprobs, "finish_reason": finish}


Row = tuple[str, float | None, dict[str, float] | None, int]
"""One token of a legacy completion's ``logprobs``: the token, its logprob, its top
logprobs and its offset in the choice's text."""


def _rows(scored: Scored, pieces: Sequence[str], offset: int, null_first: bool) -> list[list[Row]]:
    """The rows of each piece, the first piece starting at character ``offset``; with
    ``null_first`` the very first token has no logprob (the start of an echoed prompt)."""
    out: list[list[Row]] = []
    for piece, group in zip(pieces, scored, strict=True):
        rows: list[Row] = []
        for item in group:
            if null_first:
                rows.append((item.token, None, None, offset))
                null_first = False
            else:
                top = {c.token: c.logprob for c in item.top}
                rows.append((item.token, item.logprob, top, offset))
        out.append(rows)
        offset += len(piece)
    return out


def _legacy_logprobs(rows: Iterable[Row]) -> dict[str, Any]:
    """The ``logprobs`` object of a choice (or a chunk) holding ``rows``."""
    tokens: list[str] = []
    logprobs: list[float | None] = []
    tops: list[dict[str, float] | None] = []
    offsets: list[int] = []
    for token, logprob, top, offset in rows:
        tokens.append(token)
        logprobs.append(logprob)
        tops.append(top)
        offsets.append(offset)
    return {
        "tokens": tokens,
        "token_logprobs": logprobs,
        "top_logprobs": tops,
        "text_offset": offsets,
    }


def _choice_rows(
    answer: CompletionsAnswer, scorer: Scorer, position: int, choice: Choice
) -> tuple[list[list[Row]], list[list[Row]]]:
    """The rows of the echoed prompt's tokens (empty without ``echo``) and of the answer's
    pieces, for ``choice`` of the prompt at ``position``."""
    prompt_rows: list[list[Row]] = []
    start = 0
    if answer.body.echo and answer.prompt_pieces:
        pieces = answer.prompt_pieces[position]
        prompt_rows = _rows(scorer(pieces, -len(pieces)), pieces, 0, True)
        start = sum(len(piece) for piece in pieces)
    answer_pieces = choice.refusal_chunks if choice.refusal is not None else choice.chunks
    return prompt_rows, _rows(scorer(answer_pieces), answer_pieces, start, False)


def encode_completion(answer: CompletionsAnswer) -> dict[str, Any]:
    """The non-streaming ``text_completion`` object."""
    echo = bool(answer.body.echo)
    scorer = Scorer(max(answer.logprobs, 1)) if answer.logprobs is not None else None
    choices = []
    for offset, prompt, completion in answer.answered():
        for choice in completion.choices:
            text = choice.refusal if choice.refusal is not None else choice.text
            logprobs = None
            if scorer is not None:
                prompt_rows, answer_rows = _choice_rows(answer, scorer, offset // answer.n, choice)
                logprobs = _legacy_logprobs(
                    row for rows in (*prompt_rows, *answer_rows) for row in rows
                )
            choices.append(
                _text_choice(
                    offset + choice.index,
                    prompt.text + text if echo else text,
                    COMPLETION_FINISH[choice.finish_reason],
                    logprobs,
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
    scorer = Scorer(max(answer.logprobs, 1)) if answer.logprobs is not None else None
    prompt_rows: list[list[Row]] = []
    answer_rows: list[list[Row]] = []
    piece = 0
    for offset, prompt, completion in answer.answered():
        for event in iter_events(completion):
            kind = type(event)
            if scorer is not None and kind is ChoiceStart:
                position = offset // answer.n
                this = completion.choices[event.choice]
                prompt_rows, answer_rows = _choice_rows(answer, scorer, position, this)
                piece = 0
            if kind is TextDelta or kind is RefusalDelta:
                assert isinstance(event, TextDelta | RefusalDelta)
                logprobs = None
                if scorer is not None:
                    rows = answer_rows[piece] if piece < len(answer_rows) else []
                    logprobs = _legacy_logprobs(rows)
                    piece += 1
                choice = _text_choice(offset + event.choice, event.text, None, logprobs)
            elif kind is ChoiceStart and echo and prompt.text:
                logprobs = None
                if scorer is not None:
                    logprobs = _legacy_logprobs(row for rows in prompt_rows for row in rows)
                choice = _text_choice(offset + event.choice, prompt.text, None, logprobs)
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


def chat_logprobs(choice: Choice, scorer: Scorer) -> dict[str, Any]:
    """A choice's ``logprobs``: its content's tokens, or its refusal's; neither for an
    answer of tool calls only (whose ``content`` is null)."""
    if choice.refusal is not None:
        return {"content": None, "refusal": logprob_entries(scorer(choice.refusal_chunks))}
    if not choice.text and choice.tool_calls:
        return {"content": None, "refusal": None}
    return {"content": logprob_entries(scorer(choice.chunks)), "refusal": None}


def encode(
    completion: Completion, completion_id: str, created: int, logprobs: int | None = None
) -> dict[str, Any]:
    """The non-streaming ``chat.completion`` object; ``logprobs``: the alternatives to
    report per token (None: no logprobs)."""
    scorer = Scorer(logprobs) if logprobs is not None else None
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
                "logprobs": None if scorer is None else chat_logprobs(choice, scorer),
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
    completion: Completion,
    completion_id: str,
    created: int,
    include_usage: bool,
    logprobs: int | None = None,
) -> Iterator[Frame]:
    """The SSE chunks of ``completion``: role once per choice, content, tool-call fragments
    (id/type/name only in the first), finish chunk, usage chunk last if asked, ``[DONE]``;
    ``logprobs``: the alternatives to report per token (None: no logprobs)."""
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

    def chunk(
        choice: int,
        delta: dict[str, Any],
        finish: str | None = None,
        logprobs: dict[str, Any] | None = None,
    ) -> bytes:
        body = dumps(
            {"index": choice, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
        )
        return b"data: " + head + body + tail

    scorer = Scorer(logprobs) if logprobs is not None else None
    scored: Scored = []  # the current choice's pieces, scored (text or refusal)
    piece = 0

    def piece_logprobs(part: str) -> dict[str, Any]:
        """The ``logprobs`` of the current choice's next piece of ``part``."""
        nonlocal piece
        entries = logprob_entries(scored[piece : piece + 1])
        piece += 1
        if part == "content":
            return {"content": entries, "refusal": None}
        return {"content": None, "refusal": entries}

    # A text chunk, the most frequent, is its choice's fixed opening, the text as JSON and a
    # fixed closing: the bytes chunk() writes for {"content": text}, without the dicts.
    openings: dict[int, bytes] = {}
    closing = b'},"logprobs":null,"finish_reason":null}' + tail
    choices = completion.choices
    for event in iter_events(completion):
        kind = type(event)
        if kind is TextDelta:
            assert isinstance(event, TextDelta)
            if scorer is not None:
                content = {"content": event.text}
                yield event, chunk(event.choice, content, None, piece_logprobs("content"))
                continue
            opening = openings.get(event.choice)
            if opening is None:
                opening = b'data: %s{"index":%d,"delta":{"content":' % (head, event.choice)
                openings[event.choice] = opening
            yield event, opening + dumps(event.text) + closing
        elif kind is ChoiceStart:
            this = choices[event.choice]
            text_first = (bool(this.chunks) or not this.tool_calls) and this.refusal is None
            delta = {"role": "assistant", "content": "" if text_first else None, "refusal": None}
            opened: dict[str, Any] | None = None
            if scorer is not None:
                refusing = this.refusal is not None
                scored, piece = scorer(this.refusal_chunks if refusing else this.chunks), 0
                if refusing:
                    opened = {"content": None, "refusal": []}
                elif text_first:
                    opened = {"content": [], "refusal": None}
            yield event, chunk(event.choice, delta, None, opened)
        elif kind is RefusalDelta:
            assert isinstance(event, RefusalDelta)
            refused = piece_logprobs("refusal") if scorer is not None else None
            yield event, chunk(event.choice, {"refusal": event.text}, None, refused)
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
