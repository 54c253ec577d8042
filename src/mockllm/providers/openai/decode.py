"""OpenAI wire requests -> what the handlers answer from (wire-formats.md sections 2 and 4):
the Chat Completions body as a neutral request (:func:`decode`, and :func:`decode_plain`
for the common plain body without the schema's models), the legacy completions body as
neutral requests, the embeddings body as texts and a vector
size, the moderations body as the texts to classify.

Each endpoint's names say which it is (``decode_completions``, ``decode_embeddings``,
``decode_moderation``); Chat Completions' are ``decode`` and ``decode_plain``. Chat
Completions' ``logprobs: true`` (with ``top_logprobs``) becomes the neutral request's
``logprobs`` (:func:`chat_logprobs`), on both paths.
As in :mod:`.protocol`, the spec's limits that pydantic would word differently
(array lengths, empty inputs, context lengths) are checked here, in OpenAI's words.

**Text inputs** (the ``prompt`` of completions, the ``input`` of embeddings) are a string,
strings, one token array or token arrays: each becomes a :class:`Text` with its exact token
count in the model's encoding (a token array counts its own length, not that of its
decoded text).

**Legacy completions**: each prompt becomes a neutral
:class:`~mockllm.core.types.ChatRequest` (endpoint ``completions``, one user message
holding the prompt) answered by the engine, so rules, sequences, ``max_tokens`` (default
16, as on the real API), ``stop`` and lag apply as on chat. ``logprobs`` becomes the
request's :attr:`~mockllm.core.types.ChatRequest.logprobs` (the encoder reports them);
``suffix``, ``best_of`` and the sampling parameters are accepted and ignored.

**Embeddings** are not scripted by rules. The vector size is the model's native one
(:data:`.models.NATIVE_DIMENSIONS`) unless ``dimensions`` asks for another (not for
``text-embedding-ada-002``, which the real API refuses with a 400).

**Moderations**: a list of strings is one input per string; a list of multimodal parts is
one input for all its parts together, as on the real API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import orjson

from ...core.errors import MockError
from ...core.models import ModelInfo
from ...core.tokens import Tokenizer
from ...core.types import (
    ChatRequest,
    ImagePart,
    Message,
    OtherPart,
    Part,
    Role,
    TextPart,
    ToolCall,
    ToolChoice,
    ToolSpec,
)
from ..validation import INT32_MAX, INT64_MAX, INT64_MIN
from . import protocol as p
from .models import DEFAULT_DIMENSIONS, FIXED_DIMENSIONS, NATIVE_DIMENSIONS
from .protocol import (
    CompletionRequest,
    EmbeddingRequest,
    ModerationImage,
    ModerationRequest,
    ModerationText,
    TextInput,
)

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
            logprobs=body.logprobs,
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


# --- Chat Completions ----------------------------------------------------------------


def _parts(content: str | list[Any] | None) -> tuple[Part, ...]:
    if content is None:
        return ()
    if isinstance(content, str):
        return (TextPart(content),)
    out: list[Part] = []
    for part in content:
        if isinstance(part, p.TextPart):
            out.append(TextPart(part.text))
        elif isinstance(part, p.ImagePart):
            out.append(ImagePart(url=part.image_url.url, detail=part.image_url.detail))
        elif isinstance(part, p.RefusalPart):
            out.append(OtherPart("refusal", part.refusal))
        else:
            out.append(OtherPart(part.type))
    return tuple(out)


_PLAIN = frozenset({p.UserMessage, p.SystemMessage, p.DeveloperMessage})
"""Message types decoded as their role, content and name (most messages)."""


def _message(message: Any) -> Message:
    if type(message) in _PLAIN:
        content = message.content
        parts = (TextPart(content),) if type(content) is str else _parts(content)
        return Message(message.role, parts, (), None, message.name)
    if isinstance(message, p.AssistantMessage):
        calls = tuple(
            ToolCall(c.id, c.function.name, c.function.arguments)
            if isinstance(c, p.FunctionToolCall)
            else ToolCall(c.id, c.custom.name, c.custom.input)
            for c in message.tool_calls or ()
        )
        if message.function_call is not None:
            fc = message.function_call
            calls += (ToolCall("", fc.name, fc.arguments),)
        return Message("assistant", _parts(message.content), calls, name=message.name)
    if isinstance(message, p.ToolMessage):
        return Message("tool", _parts(message.content), tool_call_id=message.tool_call_id)
    if isinstance(message, p.FunctionMessage):
        return Message("tool", _parts(message.content), name=message.name)
    return Message(message.role, _parts(message.content), name=message.name)


_MODES = {mode: ToolChoice(mode) for mode in ("auto", "none", "required")}
"""The tool choices that name no tool (immutable, so shared by all requests)."""


def _tool_choice(choice: Any) -> ToolChoice:
    if choice is None:
        return _MODES["auto"]
    if type(choice) is str:  # a literal mode (validated)
        return _MODES[choice]
    if isinstance(choice, p.NamedToolChoice):
        return ToolChoice("named", choice.function.name)
    if isinstance(choice, p.NamedCustomChoice):
        return ToolChoice("named", choice.custom.name)
    mode = choice.allowed_tools.get("mode", "auto")
    return _MODES["required" if mode == "required" else "auto"]


def decode(body: p.ChatCompletionRequest, headers: Mapping[str, str]) -> ChatRequest:
    """The neutral request for a validated Chat Completions body; raises
    :class:`MockError` for combinations the real API rejects."""
    stop: tuple[str, ...] = ()
    if body.stop is None:
        pass
    elif isinstance(body.stop, str):
        stop = (body.stop,)
    elif body.stop:
        if len(body.stop) > 4:
            raise MockError(
                "invalid_request",
                "Invalid 'stop': array too long. Expected an array with maximum length 4, "
                f"but got an array with length {len(body.stop)} instead.",
                param="stop",
                code="array_above_max_length",
            )
        stop = tuple(body.stop)
    if body.stream_options is not None and not body.stream:
        raise MockError(
            "invalid_request",
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
            code="invalid_value",
        )
    tools: tuple[ToolSpec, ...] = ()
    if body.tools:
        tools = tuple(
            ToolSpec(t.function.name, t.function.description or "", t.function.parameters or {})
            if isinstance(t, p.FunctionTool)
            else ToolSpec(str(t.custom.get("name", "")), str(t.custom.get("description", "")))
            for t in body.tools
        )
    response_format = None
    if body.response_format is not None:
        response_format = body.response_format.model_dump(by_alias=True, exclude_none=True)
    return ChatRequest(
        "openai",
        "chat.completions",
        body.model,
        tuple([_message(m) for m in body.messages]),
        tools,
        _tool_choice(body.tool_choice),
        body.max_completion_tokens or body.max_tokens,
        stop,
        body.n or 1,
        bool(body.stream),
        response_format,
        headers,
        body.metadata or {},
        "reasoning_effort" if body.reasoning_effort is not None else None,
        chat_logprobs(body.logprobs, body.top_logprobs),
    )


def chat_logprobs(logprobs: object, top_logprobs: object) -> int | None:
    """The neutral ``logprobs`` of a Chat Completions body: ``top_logprobs`` (0 when not
    given) when ``logprobs`` is true, else None (``top_logprobs`` alone asks for nothing)."""
    if logprobs is not True:
        return None
    return top_logprobs if type(top_logprobs) is int else 0


def _is_int(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _is_number(value: Any, low: float, high: float) -> bool:
    return (type(value) is float or type(value) is int) and low <= value <= high


_PLAIN_FIELDS: dict[str, Callable[[Any], bool]] = {
    "model": lambda v: type(v) is str,
    "stream": lambda v: v is None or type(v) is bool,
    "n": lambda v: v is None or _is_int(v, 1, 128),
    "max_tokens": lambda v: v is None or _is_int(v, 1, INT32_MAX),
    "max_completion_tokens": lambda v: v is None or _is_int(v, 1, INT32_MAX),
    "temperature": lambda v: v is None or _is_number(v, 0, 2),
    "top_p": lambda v: v is None or _is_number(v, 0, 1),
    "presence_penalty": lambda v: v is None or _is_number(v, -2, 2),
    "frequency_penalty": lambda v: v is None or _is_number(v, -2, 2),
    "seed": lambda v: v is None or _is_int(v, INT64_MIN, INT64_MAX),
    "logprobs": lambda v: v is None or type(v) is bool,
    "top_logprobs": lambda v: v is None or _is_int(v, 0, 20),
    "parallel_tool_calls": lambda v: v is None or type(v) is bool,
    "user": lambda v: v is None or type(v) is str,
    "store": lambda v: v is None or v is False,
    "reasoning_effort": lambda v: v is None or type(v) is str,
    "metadata": lambda v: (
        v is None or (type(v) is dict and all(type(x) is str for x in v.values()))
    ),
    "stop": lambda v: (
        v is None
        or type(v) is str
        or (type(v) is list and len(v) <= 4 and all(type(x) is str for x in v))
    ),
    "messages": lambda v: type(v) is list and len(v) > 0,
}
"""The request fields a plain body may have, each with the check of its schema
(:class:`~.protocol.ChatCompletionRequest`: strict types, the same bounds)."""
_PLAIN_ROLES = frozenset({"system", "developer", "user", "assistant"})
_PLAIN_MESSAGE_KEYS = frozenset({"role", "content", "name"})


def decode_plain(body: bytes, headers: Mapping[str, str]) -> tuple[ChatRequest, str] | None:
    """The neutral request of a *plain* Chat Completions body, decoded without the schema's
    models (about a third of the cost of :func:`~..validation.parse_body` and
    :func:`decode`), and the name of the field its ``max_tokens`` came from; None when the
    body is not plain, and then the schema decides (and words the 400s).

    Plain: a JSON object with ``model`` and ``messages`` and no field outside
    :data:`_PLAIN_FIELDS` (sampling settings, ``n``, ``stop`` of up to 4, ``metadata``,
    ``store`` not true...), every one valid as the schema checks it, and messages of role
    ``system``, ``developer``, ``user`` or ``assistant`` with text content and an optional
    ``name``. For such a body the result equals what :func:`decode` makes of the validated
    body. Anything orjson refuses (NaN, huge numbers, invalid UTF-8) is not plain either."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict or "model" not in data or "messages" not in data:
        return None
    for key, value in data.items():
        check = _PLAIN_FIELDS.get(key)
        if check is None or not check(value):
            return None
    messages = []
    for item in data["messages"]:
        if type(item) is not dict or not item.keys() <= _PLAIN_MESSAGE_KEYS:
            return None
        role = item.get("role")
        content = item.get("content")
        name = item.get("name")
        if type(role) is not str or role not in _PLAIN_ROLES or type(content) is not str:
            return None
        if name is not None and type(name) is not str:
            return None
        messages.append(Message(cast(Role, role), (TextPart(content),), (), None, name))
    if len(data) == 2:  # model and messages only, the most common body: the rest defaults
        request = ChatRequest(
            "openai",
            "chat.completions",
            data["model"],
            tuple(messages),
            tool_choice=_MODES["auto"],
            headers=headers,
        )
        return request, "max_tokens"
    stop = data.get("stop")
    completion_tokens = data.get("max_completion_tokens")
    request = ChatRequest(
        "openai",
        "chat.completions",
        data["model"],
        tuple(messages),
        (),
        _MODES["auto"],
        completion_tokens or data.get("max_tokens"),
        () if stop is None else (stop,) if type(stop) is str else tuple(stop),
        data.get("n") or 1,
        bool(data.get("stream")),
        None,
        headers,
        data.get("metadata") or {},
        "reasoning_effort" if data.get("reasoning_effort") is not None else None,
        (data.get("top_logprobs") or 0) if data.get("logprobs") is True else None,
    )
    return request, "max_completion_tokens" if completion_tokens else "max_tokens"
