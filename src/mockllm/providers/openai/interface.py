"""What other dialects may use of the OpenAI dialect: the protocol's decoders and encoders
as serving-path pieces, and its error rendering.

Azure OpenAI speaks this protocol under its own paths, authentication and deployment
names; it builds on these names only, never on the modules behind them.
"""

from __future__ import annotations

from .encode import CompletionsAnswer as Answer
from .encode import encode_completion
from .errors import render_error, reword, stream_error
from .limits import limit_headers
from .models import MODELS, guess_tokenizer
from .routes import chat_turn, completions_answer
from .routes import deliver_completions as respond
from .routes import embeddings_answer as create_embeddings

__all__ = [
    "MODELS",
    "Answer",
    "chat_turn",
    "completions_answer",
    "create_embeddings",
    "encode_completion",
    "guess_tokenizer",
    "limit_headers",
    "render_error",
    "respond",
    "reword",
    "stream_error",
]
