"""Deterministic text embeddings for testing retrieval code.

Each word of a text (lower-cased ``\\w+`` runs) is hashed into a few signed dimensions of
the vector (feature hashing, 8 dimensions a word), with a weaker contribution from its
character trigrams; the sum is normalised to unit length. So:

* the same text always gives the same vector, in every process;
* texts that share words have a clearly positive cosine similarity, texts that share none
  are close to orthogonal (a shared trigram adds a little);
* every vector has length 1, whatever ``dimensions`` is (an empty text too).
"""

from __future__ import annotations

import hashlib
import math
import re

_WORD = re.compile(r"\w+", re.UNICODE)
SLOTS_PER_WORD = 8
TRIGRAM_WEIGHT = 0.25


def _slots(feature: str, dimensions: int, count: int) -> list[tuple[int, float]]:
    digest = hashlib.blake2b(feature.encode(), digest_size=4 * count).digest()
    out = []
    for i in range(count):
        value = int.from_bytes(digest[4 * i : 4 * i + 4], "little")
        out.append((value % dimensions, 1.0 if value & 0x80000000 else -1.0))
    return out


def embed(text: str, dimensions: int) -> list[float]:
    """A unit-length vector of ``dimensions`` floats for ``text`` (see module docstring)."""
    if dimensions < 1:
        raise ValueError("dimensions must be at least 1")
    vector = [0.0] * dimensions
    words = _WORD.findall(text.lower())
    for word in words:
        for index, sign in _slots("w:" + word, dimensions, SLOTS_PER_WORD):
            vector[index] += sign
        padded = f" {word} "
        for start in range(len(padded) - 2):
            for index, sign in _slots("t:" + padded[start : start + 3], dimensions, 1):
                vector[index] += sign * TRIGRAM_WEIGHT
    if not words:  # empty or punctuation-only text: a fixed direction of its own
        for index, sign in _slots("empty:" + text, dimensions, SLOTS_PER_WORD):
            vector[index] += sign
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:  # every contribution cancelled out: fall back to one axis
        vector[0], norm = 1.0, 1.0
    return [v / norm for v in vector]
