"""Deterministic, plausible log probabilities for the tokens of an answer.

A mock has no model to ask how likely a token was, so the numbers are made up, under a
contract that lets tests rely on them:

* **Deterministic**: a token's numbers depend only on its text, its position in the
  answer and how many alternatives are asked for: the same request answered with the same
  text gets the same numbers, in every process, at any time (no randomness, no
  ``hash()``, which varies per process).
* **Plausible**: the chosen token's logprob lies in [-2.9001, -0.0001], most of them
  close to 0 (the median is about -0.05). Its alternatives come after it, each strictly
  less likely than the one before, and the probabilities of the chosen token and its
  alternatives add up to less than 1.
* **Alternatives** are other tokens a model might have written there: variants of the
  chosen token first (with or without its leading space, another case, without its last
  character), then common short tokens (punctuation, `` the``, a newline...). They are
  distinct from each other and from the chosen token.
* **Tokens are the pieces** the answer is streamed in (one token each, as the engine
  splits text with the model's tokenizer; a rule's own ``chunks`` are taken as tokens
  too). An empty piece has no entry.

Values are rounded to 8 decimals, alternatives towards minus infinity, so the ordering and
the sum bound survive the rounding.

What a dialect puts on the wire (token bytes, the field names, how many alternatives) is
its business: this module only says which tokens and which numbers.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

MAX_LOGPROB = -0.0001
"""The chosen token's highest logprob (a probability just under 1)."""
MIN_LOGPROB = -2.9001
"""The chosen token's lowest logprob."""

_MASK = (1 << 64) - 1
_DECIMALS = 10**8

COMMON_TOKENS = (
    ",",
    ".",
    " the",
    "\n",
    " and",
    " a",
    " to",
    " of",
    " is",
    "!",
    " in",
    " I",
    "?",
    " it",
    ":",
    " that",
    "\n\n",
    " The",
    " for",
    " with",
    " on",
    " this",
    "'s",
    " as",
    " be",
    "-",
    " you",
    ")",
    ";",
    " not",
)
"""Frequent short tokens, the alternatives after the chosen token's own variants."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A token a model could have written at a position, and its log probability."""

    token: str
    logprob: float

    @property
    def utf8(self) -> list[int]:
        """The token's UTF-8 bytes, as integers."""
        return list(self.token.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """One token of an answer: the token written, its logprob, and the ``top`` most likely
    tokens at its position, the written one first, each less likely than the one before."""

    token: str
    logprob: float
    top: tuple[Candidate, ...]

    @property
    def utf8(self) -> list[int]:
        """The token's UTF-8 bytes, as integers."""
        return list(self.token.encode("utf-8"))


def _uniforms(token: str, position: int) -> Iterator[float]:
    """An endless sequence of numbers in [0, 1), fixed by ``token`` and ``position``
    (splitmix64 seeded by a CRC-32 of both: stable across processes)."""
    seed = zlib.crc32(token.encode("utf-8", "surrogatepass"))
    state = (seed << 32 ^ (position * 0x9E3779B97F4A7C15)) & _MASK
    while True:
        state = (state + 0x9E3779B97F4A7C15) & _MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        yield ((z ^ (z >> 31)) >> 11) / float(1 << 53)


def alternatives(token: str, position: int = 0) -> Iterator[str]:
    """Other tokens for ``token``'s place, most plausible first, distinct, never
    ``token`` itself or empty: its variants, then :data:`COMMON_TOKENS` (rotated by
    ``position`` and the token, so that not every token has the same ones)."""
    seen = {token, ""}
    core = token.strip()
    lead = token[: len(token) - len(token.lstrip())]
    variants = [
        token[1:] if token.startswith(" ") else " " + token,
        lead + core.lower(),
        lead + core.capitalize(),
        lead + core.upper(),
        (" " if not lead else "") + core.capitalize(),
        lead + core[:-1] if len(core) > 2 else "",
        "\n" + core if core else "",
    ]
    for candidate in variants:
        if candidate not in seen:
            seen.add(candidate)
            yield candidate
    start = (zlib.crc32(token.encode("utf-8", "surrogatepass")) + position) % len(COMMON_TOKENS)
    for offset in range(len(COMMON_TOKENS)):
        candidate = COMMON_TOKENS[(start + offset) % len(COMMON_TOKENS)]
        if candidate not in seen:
            seen.add(candidate)
            yield candidate


def _down(value: float) -> float:
    """``value`` rounded to 8 decimals towards minus infinity."""
    return math.floor(value * _DECIMALS) / _DECIMALS


def score(token: str, position: int, top: int) -> TokenLogprob:
    """The logprob of ``token`` written at ``position`` (0 for the answer's first token;
    other counts, negative ones included, are just other positions) and the ``top`` most
    likely tokens there (``top`` of 0: none; at most ``1 + len(COMMON_TOKENS)``)."""
    draw = _uniforms(token, position)
    logprob = round(MAX_LOGPROB - (MAX_LOGPROB - MIN_LOGPROB) * next(draw) ** 6, 8)
    logprob = min(max(logprob, MIN_LOGPROB), MAX_LOGPROB)
    if top <= 0:
        return TokenLogprob(token, logprob, ())
    candidates = [Candidate(token, logprob)]
    chosen = math.exp(logprob)
    remaining = 1.0 - chosen  # what the alternatives share, never all of it
    previous = chosen
    for other in alternatives(token, position):
        if len(candidates) >= top:
            break
        share = remaining * (0.25 + 0.35 * next(draw))
        probability = min(share, previous * 0.9)
        remaining -= probability
        previous = probability
        candidates.append(Candidate(other, _down(math.log(probability))))
    return TokenLogprob(token, logprob, tuple(candidates))


def score_pieces(pieces: Sequence[str], top: int, start: int = 0) -> list[tuple[TokenLogprob, ...]]:
    """The entries of each piece of streamed text, in order: one :class:`TokenLogprob`
    per non-empty piece (its position ``start`` plus the piece's index), none for an empty
    one. Joined, they are the entries of the whole text, so a stream and a whole answer
    report the same numbers."""
    return [(score(piece, start + i, top),) if piece else () for i, piece in enumerate(pieces)]
