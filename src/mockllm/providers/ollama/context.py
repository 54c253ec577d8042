"""``/api/generate``'s ``context``: the conversation so far as token ids, which a client
sends back to continue it (deprecated by Ollama, still used)."""

from __future__ import annotations

from ...core.tokens import Tokenizer
from ...core.types import Message, TextPart


class ContextCodec:
    """``context`` token ids: each turn is the prompt's tokens, ``<|endofprompt|>``, the
    answer's tokens and ``<|endoftext|>``, so a later request can be decoded back into
    user and assistant turns (the real server's ids come from each model's own template
    and vocabulary; these come from the model's tiktoken encoding)."""

    def __init__(self, tokenizer: Tokenizer, encoding: str) -> None:
        self.tokenizer = tokenizer
        self.encoding = tokenizer.encoding(encoding)
        self.end_of_prompt = self.encoding.encode_single_token("<|endofprompt|>")
        self.end_of_text = self.encoding.eot_token

    def encode(self, previous: list[int], prompt: str, answer: str) -> list[int]:
        ordinary = self.encoding.encode_ordinary
        return [
            *previous,
            *ordinary(prompt),
            self.end_of_prompt,
            *ordinary(answer),
            self.end_of_text,
        ]

    def _text(self, ids: list[int]) -> str:
        data = b""
        for token in ids:
            try:
                data += self.encoding.decode_single_token_bytes(token)
            except KeyError:
                continue  # not a token of this vocabulary: skipped
        return data.decode("utf-8", "replace")

    def decode(self, ids: list[int]) -> list[Message]:
        """The turns ``ids`` holds, as user and assistant messages."""
        messages: list[Message] = []
        turn: list[int] = []
        for token in [*ids, self.end_of_text]:
            if token != self.end_of_text:
                turn.append(token)
                continue
            if self.end_of_prompt in turn:
                cut = turn.index(self.end_of_prompt)
                messages.append(Message("user", (TextPart(self._text(turn[:cut])),)))
                answer = self._text(turn[cut + 1 :])
                messages.append(Message("assistant", (TextPart(answer),)))
            elif turn:
                messages.append(Message("user", (TextPart(self._text(turn)),)))
            turn = []
        return messages
