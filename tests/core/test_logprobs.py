"""The made-up logprobs of :mod:`mockllm.core.logprobs`: deterministic (across processes
too), within the promised ranges, alternatives plausible, distinct and ordered."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

import pytest

from mockllm.core.logprobs import (
    COMMON_TOKENS,
    MAX_LOGPROB,
    MIN_LOGPROB,
    TokenLogprob,
    alternatives,
    score,
    score_pieces,
)
from mockllm.core.tokens import Tokenizer

TOKENIZER = Tokenizer()
TEXTS = [
    "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering.",
    "Grüße 👋 — 日本語のテキスト.",
    '{"city": "Paris", "degrees": 22}\n\n  - item\n',
    "I can't help with that.",
]


def pieces(text: str) -> list[str]:
    tokens = TOKENIZER.encode(text, "o200k_base")
    return TOKENIZER.pieces(tokens, "o200k_base")


def every_piece() -> list[str]:
    return [piece for text in TEXTS for piece in pieces(text)]


def check(entry: TokenLogprob, top: int) -> None:
    """The contract of one entry for ``top`` alternatives."""
    assert MIN_LOGPROB <= entry.logprob <= MAX_LOGPROB
    assert len(entry.top) == top
    if not top:
        return
    assert (entry.top[0].token, entry.top[0].logprob) == (entry.token, entry.logprob)
    values = [c.logprob for c in entry.top]
    assert all(a > b for a, b in zip(values, values[1:], strict=False)), values
    assert sum(math.exp(v) for v in values) <= 1.0
    tokens = [c.token for c in entry.top]
    assert len(set(tokens)) == len(tokens) and "" not in tokens
    assert entry.utf8 == list(entry.token.encode())
    for candidate in entry.top:
        assert bytes(candidate.utf8).decode() == candidate.token


@pytest.mark.parametrize("top", [0, 1, 2, 3, 5, 20])
def test_every_entry_keeps_the_contract(top: int) -> None:
    for position, piece in enumerate(every_piece()):
        check(score(piece, position, top), top)


def test_most_chosen_tokens_are_likely() -> None:
    values = sorted(score(p, i, 0).logprob for i, p in enumerate(every_piece() * 5))
    assert values[len(values) // 2] > -0.3  # the median is close to 0
    assert values[0] < -0.5  # not all of them are
    assert len(set(values)) > len(values) // 2  # not a constant


def test_same_token_and_position_same_numbers() -> None:
    assert score(" sky", 3, 5) == score(" sky", 3, 5)
    assert score(" sky", 3, 5).logprob != score(" sky", 4, 5).logprob
    assert score(" sky", 3, 5).logprob != score(" Sky", 3, 5).logprob
    # Fewer alternatives are a prefix of more: the numbers do not depend on the count.
    assert score(" sky", 3, 20).top[:5] == score(" sky", 3, 5).top


def test_numbers_do_not_depend_on_the_process() -> None:
    code = textwrap.dedent(
        """
        from mockllm.core.logprobs import score
        print(repr(score(" Rayleigh", 7, 4)))
        """
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert outputs == {repr(score(" Rayleigh", 7, 4)) + "\n"}


def test_alternatives_are_variants_first() -> None:
    found = list(alternatives(" Hello"))
    assert found[:3] == ["Hello", " hello", " HELLO"]
    assert found.count(" Hello") == 0 and len(found) == len(set(found))
    assert set(found) >= set(COMMON_TOKENS) - {" Hello"}
    assert "" not in list(alternatives(" ")) and " " not in list(alternatives(" "))


def test_there_are_always_twenty_alternatives() -> None:
    for piece in [*every_piece(), " the", ",", "\n", "\n\n", " ", "x"]:
        assert len(list(alternatives(piece))) >= 20


def test_confident_tokens_leave_little_to_the_rest() -> None:
    for position, piece in enumerate(every_piece()):
        entry = score(piece, position, 3)
        if entry.logprob > -0.001:
            assert entry.top[1].logprob < -6  # about 0.1% left for the alternatives


def test_score_pieces_one_entry_per_piece() -> None:
    parts = pieces(TEXTS[0])
    scored = score_pieces(parts, 2)
    assert [group[0].token for group in scored] == parts
    assert scored == [(score(p, i, 2),) for i, p in enumerate(parts)]
    assert score_pieces(["a", "", "b"], 1) == [(score("a", 0, 1),), (), (score("b", 2, 1),)]
    assert score_pieces(["a", "b"], 1, start=-2) == [(score("a", -2, 1),), (score("b", -1, 1),)]
    assert score_pieces([], 3) == []


def test_values_are_rounded() -> None:
    for position, piece in enumerate(every_piece()):
        for candidate in score(piece, position, 5).top:
            assert round(candidate.logprob, 8) == candidate.logprob
