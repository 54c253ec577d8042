"""The compact vocabulary table counts exactly as tiktoken does.

Counting uses the memory-mapped compact table (``core/tokens.py`` ``_Vocab``) until tiktoken
is loaded; both must give the same tokens for every text the table is used for (texts whose
characters both regex engines classify alike: ``_portable``). Random texts from an alphabet
of the tricky cases (contractions, digits, whitespace runs, combining marks, emoji, scripts
without spaces, special-token text, lone surrogates), and a sample of every plane's code
points, are encoded both ways.
"""

from __future__ import annotations

import functools
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockllm.core import tokens as T

ALPHABET = [
    *"aAbBsStTdDmMlLvVeErR'’ \t\r\n0123456789.,;:!?-_/\\()[]{}<>|\"#$%^&*+=~`@",
    *["é", "ß", "Ü", "ñ", "ç", "日", "本", "語", "😀", "👋", "\u200d", "🇫", "🇷", "\u0301"],
    *["\u00a0", "\u2028", "\u3000", "ǅ", "Ⅻ", "²", "٣", "ـ", "\ufeff", "\x00", "\x0b", "\x85"],
    *["\ud800", "<|endoftext|>", "'s", "'ll", "'VE", "  ", "\n\n", "123456", "\r\n", "ﬁ"],
]


@functools.cache
def both(name: str) -> tuple[T._Vocab, object]:
    return T._Vocab(name, T.load_table(name)), T.Tokenizer().encoding(name)


def check(name: str, text: str) -> None:
    table, tiktoken = both(name)
    if T._portable(text):
        assert table.encode_ordinary(text) == tiktoken.encode_ordinary(text), repr(text)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", T.ENCODINGS)
@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join))
def test_random_texts_count_as_tiktoken_counts(name: str, text: str) -> None:
    check(name, text)


@pytest.mark.parametrize("name", T.ENCODINGS)
def test_code_points_of_every_plane_count_as_tiktoken_counts(name: str) -> None:
    checked = 0
    for cp in range(0, 0x30000, 37):
        if 0xD800 <= cp < 0xE000 or unicodedata.category(chr(cp)) == "Cn":
            continue
        ch = chr(cp)
        check(name, f"a{ch}A{ch}1{ch} {ch}{ch}'s\n{ch} {ch}{ch}b{ch}\r\n {ch}  {ch}\t{ch}'LL{ch}")
        checked += 1
    assert checked > 3000


@pytest.mark.parametrize("name", T.ENCODINGS)
def test_prose_and_code_count_as_tiktoken_counts(name: str) -> None:
    root = T.__file__.rsplit("/", 1)[0]
    with open(root + "/tokens.py", encoding="utf-8") as source:
        text = source.read()
    for start in range(0, len(text), 4096):
        check(name, text[start : start + 4096])
