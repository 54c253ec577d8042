"""OpenAI wire requests -> what the handlers answer from (wire-formats.md section 4): the
legacy completions body as neutral requests, the embeddings body as texts and a vector
size, the moderations body as the texts to classify.

Each endpoint's names say which it is (``decode_completions``, ``decode_embeddings``,
``decode_moderation``); the Chat Completions decoders live in :mod:`.translate` for now.
As in :mod:`.extras_protocol`, the spec's limits that pydantic would word differently
(array lengths, empty inputs, context lengths) are checked here, in OpenAI's words.

**Text inputs** (the ``prompt`` of completions, the ``input`` of embeddings) are a string,
strings, one token array or token arrays: each becomes a :class:`Text` with its exact token
count in the model's encoding (a token array counts its own length, not that of its
decoded text).

**Legacy completions**: each prompt becomes a neutral
:class:`~mockllm.core.types.ChatRequest` (endpoint ``completions``, one user message
holding the prompt) answered by the engine, so rules, sequences, ``max_tokens`` (default
16, as on the real API), ``stop`` and lag apply as on chat. ``suffix``, ``logprobs``,
``best_of`` and the sampling parameters are accepted and ignored.

**Embeddings** are not scripted by rules. The vector size is the model's native one
(:data:`.models.NATIVE_DIMENSIONS`) unless ``dimensions`` asks for another (not for
``text-embedding-ada-002``, which the real API refuses with a 400).

**Moderations**: a list of strings is one input per string; a list of multimodal parts is
one input for all its parts together, as on the real API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from ...core.errors import MockError
from ...core.models import ModelInfo
from ...core.tokens import Tokenizer
from ...core.types import ChatRequest, Message, TextPart
from .extras_protocol import (
    CompletionRequest,
    EmbeddingRequest,
    ModerationImage,
    ModerationRequest,
    ModerationText,
    TextInput,
)
from .models import DEFAULT_DIMENSIONS, FIXED_DIMENSIONS, NATIVE_DIMENSIONS

# --- text inputs: strings or token arrays -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """One input: its text, and its tokens in the model's encoding (a token array's own
    length, not the count of its decoded text)."""

    text: str
    tokens: int
    from_tokens: bool = False


def texts(value: TextInput, param: str, tokenizer: Tokenizer, encoding: str) -> list[Text]:
    """The inputs of ``value`` in order; ``[]`` for an empty array (callers decide whether
    that is an error). Token ids outside the encoding are a 400 naming ``param``."""
    if isinstance(value, str):
        return [Text(value, tokenizer.count(value, encoding))]
    if value and all(isinstance(item, int) for item in value):
        return [_token_text(cast(list[int], value), param, tokenizer, encoding)]
    out = []
    for position, item in enumerate(value):
        if isinstance(item, str):
            out.append(Text(item, tokenizer.count(item, encoding)))
        else:
            where = f"{param}[{position}]"
            out.append(_token_text(cast(list[int], item), where, tokenizer, encoding))
    return out


def _token_text(tokens: list[int], param: str, tokenizer: Tokenizer, encoding: str) -> Text:
    decoder = tokenizer.encoding(encoding)
    try:
        return Text(decoder.decode(tokens), len(tokens), from_tokens=True)
    except (KeyError, OverflowError, ValueError):
        pass
    bad = tokens[0]
    for token in tokens:  # only on failure: name the first id the encoding lacks
        try:
            decoder.decode_single_token_bytes(token)
        except (KeyError, OverflowError, ValueError):
            bad = token
            break
    raise MockError(
        "invalid_request",
        f"Invalid '{param}': {bad} is not a valid token id.",
        param=param,
        code="invalid_value",
    )


# --- stop and stream_options: Chat Completions and legacy completions -------------------

MAX_STOP = 4


def stop_sequences(
    stop: str | list[str] | None, *, stream: bool | None, stream_options: object | None
) -> tuple[str, ...]:
    """``stop`` as a tuple, after the checks Chat Completions and legacy completions make
    before the model is looked up: at most :data:`MAX_STOP` sequences, and no
    ``stream_options`` unless streaming."""
    if stop is None:
        sequences: tuple[str, ...] = ()
    elif isinstance(stop, str):
        sequences = (stop,)
    elif len(stop) > MAX_STOP:
        raise MockError(
            "invalid_request",
            f"Invalid 'stop': array too long. Expected an array with maximum length {MAX_STOP}, "
            f"but got an array with length {len(stop)} instead.",
            param="stop",
            code="array_above_max_length",
        )
    else:
        sequences = tuple(stop)
    if stream_options is not None and not stream:
        raise MockError(
            "invalid_request",
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
            code="invalid_value",
        )
    return sequences


# --- legacy completions: POST /v1/completions ---------------------------------------------

DEFAULT_MAX_TOKENS = 16
"""The real API's ``max_tokens`` when a completions request gives none."""


def decode_completions(
    body: CompletionRequest,
    stop: tuple[str, ...],
    info: ModelInfo,
    tokenizer: Tokenizer,
    provider: str,
    headers: Mapping[str, str],
) -> tuple[list[Text], list[ChatRequest]]:
    """The prompts of a completions body (its ``stop`` checked by :func:`stop_sequences`)
    and the neutral request of each, for ``info`` (the model, in ``provider``'s
    catalogue); raises :class:`MockError` for an empty prompt array, a token id outside
    the model's encoding, or a prompt that leaves no room for ``max_tokens``."""
    prompt = body.prompt if body.prompt is not None else ""
    prompts = texts(prompt, "prompt", tokenizer, info.tokenizer)
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
    requests = [
        ChatRequest(
            provider=provider,
            endpoint="completions",
            model=body.model,
            messages=(Message("user", (TextPart(item.text),)),),
            max_tokens=max_tokens,
            stop=stop,
            n=body.n or 1,
            stream=bool(body.stream),
            headers=headers,
        )
        for item in prompts
    ]
    return prompts, requests


# --- embeddings: POST /v1/embeddings ------------------------------------------------------

MAX_EMBEDDING_INPUTS = 2048
"""Most inputs in one embeddings request (a flat token array is one input)."""
MAX_EMBEDDING_TOKENS = 300_000
"""Most tokens in one embeddings request, all inputs together."""
MAX_DIMENSIONS = 8192
"""The largest ``dimensions`` accepted for a model of unknown native size."""

INVALID_EMBEDDING_INPUT = (
    "'$.input' is invalid. Please check the API reference: "
    "https://platform.openai.com/docs/api-reference."
)


def decode_embeddings(
    body: EmbeddingRequest, info: ModelInfo, tokenizer: Tokenizer
) -> tuple[list[Text], int]:
    """The texts to embed and the vector size, for ``info`` (the model); raises
    :class:`MockError` for what the real API rejects."""
    inputs = body.input
    if (
        isinstance(inputs, list)
        and len(inputs) > MAX_EMBEDDING_INPUTS
        and not isinstance(inputs[0], int)
    ):
        raise MockError(
            "invalid_request",
            f"Invalid 'input': array too long. Expected an array with maximum length "
            f"{MAX_EMBEDDING_INPUTS}, but got an array with length {len(inputs)} instead.",
            param="input",
            code="array_above_max_length",
        )
    items = texts(inputs, "input", tokenizer, info.tokenizer)
    if not items or any(not item.text and not item.tokens for item in items):
        raise MockError("invalid_request", INVALID_EMBEDDING_INPUT)
    for item in items:
        if item.tokens > info.context_window:
            raise MockError(
                "invalid_request",
                f"This model's maximum context length is {info.context_window} tokens, "
                f"however you requested {item.tokens} tokens ({item.tokens} in your prompt; "
                "0 for the completion). Please reduce your prompt; or completion length.",
                param="input",
                code="context_length_exceeded",
            )
    total = sum(item.tokens for item in items)
    if total > MAX_EMBEDDING_TOKENS:
        raise MockError(
            "invalid_request",
            f"Requested {total} tokens, max {MAX_EMBEDDING_TOKENS} tokens per request",
            param="input",
            code="max_tokens_per_request",
        )
    return items, embedding_dimensions(info.id, body.dimensions)


def embedding_dimensions(model: str, asked: int | None) -> int:
    """The vector size for ``model`` (a catalogue id) when ``asked`` for that many."""
    native = NATIVE_DIMENSIONS.get(model, DEFAULT_DIMENSIONS)
    if asked is None:
        return native
    if model in FIXED_DIMENSIONS:
        raise MockError("invalid_request", "This model does not support specifying dimensions.")
    limit = native if model in NATIVE_DIMENSIONS else MAX_DIMENSIONS
    if asked > limit:
        raise MockError(
            "invalid_request",
            f"Invalid 'dimensions': integer above maximum value. Expected a value <= {limit}, "
            f"but got {asked} instead.",
            param="dimensions",
            code="integer_above_max_value",
        )
    return asked


# --- moderations: POST /v1/moderations ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModerationInput:
    """One input to classify: its text (images aside), and which kinds it holds."""

    text: str
    has_text: bool = True
    has_image: bool = False


def decode_moderation(body: ModerationRequest) -> list[ModerationInput]:
    """The inputs of a moderations body, one result each."""
    if isinstance(body.input, str):
        return [ModerationInput(body.input)]
    if all(isinstance(item, str) for item in body.input):
        return [ModerationInput(item) for item in body.input if isinstance(item, str)]
    parts = [part for part in body.input if isinstance(part, ModerationText | ModerationImage)]
    return [
        ModerationInput(
            "\n".join(part.text for part in parts if isinstance(part, ModerationText)),
            has_text=any(isinstance(part, ModerationText) for part in parts),
            has_image=any(isinstance(part, ModerationImage) for part in parts),
        )
    ]
