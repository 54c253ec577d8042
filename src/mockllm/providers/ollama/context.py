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
        """The text of ``ids``; ids that are not tokens of this vocabulary are skipped.
        Linear in ``len(ids)`` (the bytes are joined once)."""
        token_bytes = self.encoding.decode_single_token_bytes
        pieces: list[bytes] = []
        for token in ids:
            try:
                pieces.append(token_bytes(token))
            except (KeyError, ValueError, OverflowError, TypeError):
                continue  # not a token of this vocabulary: skipped
        return b"".join(pieces).decode("utf-8", "replace")

    def decode(self, ids: list[int]) -> list[Message]:
        """The turns ``ids`` holds, as user and assistant messages."""
        messages: list[Message] = []
        turn: list[int] = []
        cut = -1
        for token in [*ids, self.end_of_text]:
            if token != self.end_of_text:
                if token == self.end_of_prompt and cut < 0:
                    cut = len(turn)
                turn.append(token)
                continue
            if cut >= 0:
                messages.append(Message("user", (TextPart(self._text(turn[:cut])),)))
                answer = self._text(turn[cut + 1 :])
                messages.append(Message("assistant", (TextPart(answer),)))
            elif turn:
                messages.append(Message("user", (TextPart(self._text(turn)),)))
            turn, cut = [], -1
        return messages
