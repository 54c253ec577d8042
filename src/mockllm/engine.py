"""The vendor-neutral engine: request in, complete decision out.

``Engine.complete`` resolves the model, asks the rules what to answer, applies the
request's limits (``max_tokens``, stop sequences), counts tokens and splits the answer into
stream chunks. Dialects only translate; they never decide what to say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .core.errors import MockError
from .core.models import ModelInfo
from .core.tokens import Tokenizer
from .core.types import ChatRequest, Choice, Completion, FinishReason, Usage
from .rules.store import ConfigStore

_CACHE_SIZE = 2048


@dataclass(frozen=True, slots=True)
class TokenAccounting:
    """How a provider counts prompt tokens (see :mod:`mockllm.core.tokens`)."""

    anthropic_style: bool = False


def guess_tokenizer(model: str) -> str:
    """The OpenAI encoding for a model name that is not in the catalogue."""
    import tiktoken.model

    try:
        name = tiktoken.model.encoding_name_for_model(model)
    except KeyError:
        return "o200k_base"
    return name if name in ("o200k_base", "cl100k_base") else "o200k_base"


class Engine:
    """Decides and measures answers. One per app; reads the config store on every call."""

    def __init__(
        self,
        store: ConfigStore,
        tokenizer: Tokenizer,
        accounting: Mapping[str, TokenAccounting] | None = None,
    ) -> None:
        self.store = store
        self.tokenizer = tokenizer
        self.accounting = dict(accounting or {})
        self._pieces: dict[tuple[str, str], tuple[list[int], list[str]]] = {}

    def resolve_model(self, provider: str, name: str) -> ModelInfo:
        """The catalogue entry for ``name``; unknown names get a default entry unless
        ``strict_models`` is on, in which case a ``model_not_found`` 404 is raised."""
        snapshot = self.store.current
        info = snapshot.models.get(provider, name)
        if info is not None:
            return info
        if snapshot.strict_models:
            raise MockError(
                "not_found",
                f"The model `{name}` does not exist or you do not have access to it.",
                param="model",
                code="model_not_found",
            )
        tokenizer = "o200k_base" if provider != "openai" else guess_tokenizer(name)
        info = ModelInfo(id=name, provider=provider, tokenizer=tokenizer, owned_by=provider)
        return info

    def _split(self, text: str, encoding: str) -> tuple[list[int], list[str]]:
        key = (text, encoding)
        found = self._pieces.get(key)
        if found is None:
            tokens = self.tokenizer.encode(text, encoding)
            found = (tokens, self.tokenizer.pieces(tokens, encoding))
            if len(self._pieces) >= _CACHE_SIZE:
                self._pieces.clear()
            self._pieces[key] = found
        return found

    def prompt_tokens(self, request: ChatRequest, model: ModelInfo) -> int:
        """Prompt tokens of ``request`` as its provider counts them."""
        style = self.accounting.get(request.provider, TokenAccounting())
        return self.tokenizer.count_messages(
            request.messages, request.tools, model.tokenizer, anthropic=style.anthropic_style
        )

    def complete(self, request: ChatRequest) -> Completion:
        """Everything the dialect needs to answer ``request``; raises :class:`MockError`."""
        model = self.resolve_model(request.provider, request.model)
        snapshot = self.store.current
        prompt_tokens = self.prompt_tokens(request, model)
        if prompt_tokens > model.context_window:
            raise MockError(
                "invalid_request",
                f"This model's maximum context length is {model.context_window} tokens. "
                f"However, your messages resulted in {prompt_tokens} tokens. "
                "Please reduce the length of the messages.",
                param="messages",
                code="context_length_exceeded",
            )
        answer = snapshot.config.rules.answer(request)
        text = answer.text
        finish: FinishReason = "stop"
        stop_sequence = None
        if request.stop:
            cut = len(text)
            for candidate in request.stop:
                at = text.find(candidate) if candidate else -1
                if 0 <= at < cut:
                    cut, stop_sequence = at, candidate
            if stop_sequence is not None:
                text, finish = text[:cut], "stop_sequence"
        tokens, pieces = self._split(text, model.tokenizer)
        limit = request.max_tokens if request.max_tokens is not None else model.max_output_tokens
        if len(tokens) > limit:
            pieces = self.tokenizer.pieces(tokens[:limit], model.tokenizer, partial=False)
            text, finish, stop_sequence = "".join(pieces), "length", None
            completion_tokens = limit
        else:
            completion_tokens = len(tokens)
        chunks = tuple(pieces)
        choices = tuple(
            Choice(i, text, chunks, (), finish, stop_sequence, completion_tokens)
            for i in range(request.n)
        )
        settings = snapshot.config.settings
        per_char = 1.0 / (10.0 * settings.lag_factor) if settings.lag_enabled else 0.0
        usage = Usage(prompt_tokens, completion_tokens * request.n)
        return Completion(request.model, choices, usage, per_char, answer.rule)
