"""Text inputs given as a string, strings, a token array or token arrays (the ``input`` of
embeddings and the ``prompt`` of legacy completions), decoded into texts with exact token
counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from ...core.errors import MockError
from ...core.tokens import Tokenizer
from .extras_protocol import TextInput


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
        return [_decode(cast(list[int], value), param, tokenizer, encoding)]
    out = []
    for position, item in enumerate(value):
        if isinstance(item, str):
            out.append(Text(item, tokenizer.count(item, encoding)))
        else:
            where = f"{param}[{position}]"
            out.append(_decode(cast(list[int], item), where, tokenizer, encoding))
    return out


def _decode(tokens: list[int], param: str, tokenizer: Tokenizer, encoding: str) -> Text:
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
