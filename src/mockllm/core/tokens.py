"""Token counting, offline.

OpenAI encodings (``o200k_base``, ``cl100k_base``) are exact. Their vocabulary files ship
inside this package (``mockllm/core/vocab/``, OpenAI's files gzip-compressed; their sha256 is
checked here and again by tiktoken), so nothing is ever fetched from the network. Two
engines give the same tokens:

* **tiktoken** (Rust): fast, but an encoding costs about 250 ms and 75 MB to load (its rank
  table in Rust, three times over, plus tiktoken's Python dict of it, dropped here once the
  encoding is built). Its vocabularies are seeded into tiktoken's cache from the shipped
  copies.
* **the compact table** (:class:`_Vocab`, this module): the same byte-pair encoding in
  Python over a table of the vocabulary built once from the shipped file, stored beside
  tiktoken's cache (``mockllm-<encoding>-<hash>.bpe<format>``, about 4 MB for
  ``o200k_base``) and memory-mapped, so opening it costs about a millisecond and only the
  pages that lookups touch become resident. Pre-tokenization uses the encoding's own
  pattern with the ``regex`` module.

Counting uses tiktoken once it is loaded for that encoding; until then texts of up to
:data:`COMPACT_MAX_CHARS` characters whose characters both regex engines classify alike
(:func:`_portable`) use the compact table, and anything else loads tiktoken. After
:data:`COMPACT_BUDGET_CHARS` characters counted the slow way, tiktoken is loaded in the
background. A light user (a test suite sending a few requests) therefore never pays for
tiktoken; a heavy one gets it after a few seconds' worth of Python counting.

Prompt counts follow each service's accounting of a whole conversation, which its dialect
declares as data (:class:`~mockllm.core.traits.TokenCosts`): by default OpenAI chat's, 3
tokens per message + role + content (+1 + name when ``name`` is set), each tool call's name
and arguments, 85 tokens per image at ``detail: low`` and 765 otherwise (a 1024x1024 image
at high detail), the tool definitions as compact JSON, and 3 tokens priming the reply.
Services without a public offline tokenizer (Claude) are counted with ``o200k_base`` and
their own declared costs: a stated approximation, deterministic, not the service's count.
"""

from __future__ import annotations

import binascii
import gzip
import hashlib
import importlib.resources
import io
import logging
import mmap
import os
import struct
import sys
import tempfile
import threading
import unicodedata
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

import orjson

from .traits import TokenCosts
from .types import ImagePart, Message, TextPart, ToolSpec

if TYPE_CHECKING:
    import regex
    import tiktoken

log = logging.getLogger("mockllm.tokens")

_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
ENCODINGS = tuple(_SHA256)
# The pre-tokenizer patterns, exactly as tiktoken_ext.openai_public defines them (checked
# against tiktoken's whenever tiktoken loads an encoding: see Tokenizer.encoding).
_PATTERNS = {
    "o200k_base": "|".join(
        [
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",  # noqa: E501
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",  # noqa: E501
            r"""\p{N}{1,3}""",
            r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
            r"""\s*[\r\n]+""",
            r"""\s+(?!\S)""",
            r"""\s+""",
        ]
    ),
    "cl100k_base": r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",  # noqa: E501
}

DEFAULT_COSTS = TokenCosts()
"""The default accounting (see :class:`~mockllm.core.traits.TokenCosts`)."""
CACHED_TEXT_CHARS = 2048
CACHED_TEXTS = 4096
LONG_TEXT_CHARS = 64 * 1024
"""Texts longer than this are counted piece by piece when the count is bounded."""
COMPACT_MAX_CHARS = 16 * 1024
"""Longer texts are counted by tiktoken (loaded then if need be): about 6 ms in Python."""
COMPACT_BUDGET_CHARS = 4 * 1024 * 1024
"""Characters counted with the compact table, in all, after which tiktoken is loaded in the
background (and used once loaded): about 1.5 s of counting in Python."""
PIECE_CACHE = 4096
"""Pre-tokenized pieces whose tokens are remembered (per encoding; the cache is emptied
when full). Conversations repeat words: a remembered piece costs a dict lookup."""
PIECE_CACHE_CHARS = 32
_UNICODE_MAX = (16, 0)
"""The Unicode version of the ``regex`` crate in tiktoken (>= 0.13): characters assigned by
a newer version could be classified differently by the two engines (see _portable)."""


def _tiktoken_cache_dir() -> str | None:
    """The directory tiktoken reads its cache from, by the same rules as ``tiktoken.load``;
    None when caching is disabled (the variable set to an empty string)."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        cache = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        cache = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        cache = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    return cache or None


def _private_cache_dir() -> str:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return os.path.join(tempfile.gettempdir(), f"mockllm-tiktoken-{uid}")


def _shipped_vocabulary(name: str) -> bytes:
    """The vocabulary file ``name`` (tiktoken's format) from the copy shipped in this
    package, its sha256 checked."""
    packed = importlib.resources.files("mockllm.core") / "vocab" / f"{name}.tiktoken.gz"
    data = gzip.decompress(packed.read_bytes())
    if hashlib.sha256(data).hexdigest() != _SHA256[name]:
        raise RuntimeError(f"vocabulary {name} shipped with mockllm has an unexpected hash")
    return data


def _write_atomically(path: str, data: bytes) -> None:
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def seed_tiktoken_cache(name: str, cache: str) -> None:
    """Put the vocabulary ``name`` into tiktoken's cache directory ``cache``, from the copy
    shipped in this package. Idempotent: a file already in place with the right hash is kept.
    Raises ``OSError`` when the directory cannot be written.
    """
    path = os.path.join(cache, hashlib.sha1(_URL.format(name=name).encode()).hexdigest())
    if os.path.exists(path):
        with open(path, "rb") as handle:
            if hashlib.sha256(handle.read()).hexdigest() == _SHA256[name]:
                return
    data = _shipped_vocabulary(name)
    os.makedirs(cache, exist_ok=True)
    _write_atomically(path, data)


def load_encoding(name: str) -> tiktoken.Encoding:
    """The tiktoken encoding ``name``, loaded offline.

    The vocabulary is seeded where tiktoken looks for it. When tiktoken's caching is
    disabled or its cache directory cannot be written, a private directory is seeded
    instead and named to tiktoken (through ``TIKTOKEN_CACHE_DIR``) for the duration of
    the load only, so tiktoken never falls back to a download.

    tiktoken's ``Encoding`` keeps the Python dict it was built from (about 28 MB for
    ``o200k_base``) only to pickle unregistered encodings; the encodings loaded here are
    registered (pickled by name), so the dict is dropped.
    """
    encoding = _get_encoding_offline(name)
    encoding._mergeable_ranks = {}
    return encoding


def _get_encoding_offline(name: str) -> tiktoken.Encoding:
    import tiktoken

    cache = _tiktoken_cache_dir()
    if cache is not None:
        try:
            seed_tiktoken_cache(name, cache)
            return tiktoken.get_encoding(name)
        except OSError:
            pass
    private = _private_cache_dir()
    seed_tiktoken_cache(name, private)
    saved = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = private
    try:
        return tiktoken.get_encoding(name)
    finally:
        if saved is None:
            del os.environ["TIKTOKEN_CACHE_DIR"]
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = saved


# --- the compact table ---------------------------------------------------------------------
#
# One file per encoding: a header, then four arrays in the machine's byte order.
#
#   bytes    uint32[256]      the rank of each single byte (every byte is a token)
#   offsets  uint32[top + 2]  token r is blob[offsets[r]:offsets[r + 1]] (empty: no token r)
#   slots    uint32[2**k]     open addressing by zlib.crc32 of the token's bytes, linear
#                             probing: rank + 1, 0 for an empty slot (load factor < 0.4)
#   blob     the tokens' bytes, by rank

_FORMAT = 2
_MAGIC = b"mockbpe" + (b"l" if sys.byteorder == "little" else b"b")
_HEADER = struct.Struct("<8sIIII32s")  # magic, format, len(offsets), len(slots), blob bytes,
#                                         sha256 of the vocabulary file it was built from
_NO_RANK = 1 << 32  # greater than any rank: "no such token"


def _table_file_name(name: str) -> str:
    return f"mockllm-{name}-{_SHA256[name][:16]}.bpe{_FORMAT}"


def build_table(name: str) -> bytes:
    """The compact table of encoding ``name`` (the file's whole content), from the
    vocabulary shipped in this package. About 0.2 s for ``o200k_base``; the vocabulary is
    read line by line (its ranks increase), so little garbage is left behind."""
    data = _shipped_vocabulary(name)
    size = 1 << max(4, (data.count(b"\n") * 5 // 2).bit_length())
    mask = size - 1
    slots = array("I", bytes(4 * size))
    offsets = array("I")
    single = array("I", [_NO_RANK - 1]) * 256
    blob = bytearray()
    decode, crc32 = binascii.a2b_base64, zlib.crc32
    for line in io.BytesIO(data):
        if not line.strip():
            continue
        encoded, number = line.split()
        rank = int(number)
        if rank < len(offsets):
            raise ValueError(f"the ranks of vocabulary {name} do not increase")
        while len(offsets) <= rank:  # a rank without a token gets an empty entry
            offsets.append(len(blob))
        token = decode(encoded)
        blob += token
        if len(token) == 1:
            single[token[0]] = rank
        slot = crc32(token) & mask
        while slots[slot]:
            slot = (slot + 1) & mask
        slots[slot] = rank + 1
    offsets.append(len(blob))
    header = _HEADER.pack(
        _MAGIC, _FORMAT, len(offsets), size, len(blob), bytes.fromhex(_SHA256[name])
    )
    return b"".join((header, single.tobytes(), offsets.tobytes(), slots.tobytes(), blob))


def _check_table(table: mmap.mmap | bytes, name: str) -> bool:
    """Whether ``table`` is a well-formed compact table of ``name``, of this format."""
    if len(table) < _HEADER.size:
        return False
    magic, version, n_offsets, n_slots, blob, sha = _HEADER.unpack_from(table, 0)
    return bool(
        magic == _MAGIC
        and version == _FORMAT
        and sha == bytes.fromhex(_SHA256[name])
        and n_offsets >= 2
        and n_slots > 0
        and n_slots & (n_slots - 1) == 0
        and len(table) == _HEADER.size + 4 * (256 + n_offsets + n_slots) + blob
    )


def _map_table(path: str, name: str) -> mmap.mmap | None:
    """The compact table at ``path``, memory-mapped read-only; None when there is none, or
    it is not a well-formed table of ``name`` written by this user."""
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return None
    with handle:
        stat = os.fstat(handle.fileno())
        if hasattr(os, "getuid") and stat.st_uid != os.getuid():
            return None
        if stat.st_size < _HEADER.size:
            return None
        table = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    if not _check_table(table, name):
        table.close()
        return None
    return table


def load_table(name: str) -> mmap.mmap | bytes:
    """The compact table of ``name``: mapped from beside tiktoken's cache (or from the
    private cache directory when that one is disabled or cannot be written), built and
    stored there first when missing or damaged; built in memory when no directory can be
    written."""
    folders = [_tiktoken_cache_dir(), _private_cache_dir()]
    built: bytes | None = None
    for folder in folders:
        if folder is None:
            continue
        path = os.path.join(folder, _table_file_name(name))
        try:
            found = _map_table(path, name)
            if found is not None:
                return found
            built = built or build_table(name)
            if folder == folders[-1] and not os.path.isdir(folder):
                os.makedirs(folder, mode=0o700, exist_ok=True)
            else:
                os.makedirs(folder, exist_ok=True)
            _write_atomically(path, built)
            found = _map_table(path, name)
            if found is not None:
                return found
        except OSError:
            continue
    return built or build_table(name)


class _Vocab:
    """Byte-pair encoding over a compact table (see the module docstring): the same tokens
    as tiktoken's ``encode_ordinary``, in Python, with a few MB of memory."""

    def __init__(self, name: str, table: mmap.mmap | bytes) -> None:
        import regex

        if not _check_table(table, name):
            raise ValueError(f"not a compact table of {name}")
        _, _, n_offsets, n_slots, _, _ = _HEADER.unpack_from(table, 0)
        view = memoryview(table)
        at = _HEADER.size
        byte_ranks = view[at : at + 4 * 256].cast("I").tolist()
        at += 4 * 256
        offsets = view[at : at + 4 * n_offsets].cast("I")
        at += 4 * n_offsets
        slots = view[at : at + 4 * n_slots].cast("I")
        at += 4 * n_slots
        self.name = name
        self._table = table
        self._offsets = offsets
        self._blob_at = at
        self._top = n_offsets - 1  # ranks are below this
        self._pieces: dict[str, tuple[int, ...]] = {}
        self._pattern: regex.Pattern[str] = regex.compile(
            _PATTERNS[name].replace("$", r"\Z")  # Rust's $ is the end of the text only
        )
        self.rank = _rank_function(table, offsets, slots, at)
        if max(byte_ranks) >= self._top:
            raise ValueError(f"the compact table of {name} lacks single bytes")
        self._byte_ranks = byte_ranks

    def encode_ordinary(self, text: str) -> list[int]:
        """tiktoken's ``Encoding.encode_ordinary``: special tokens are plain text, lone
        surrogates are encoded as U+FFFD."""
        try:
            return self._encode(text)
        except UnicodeEncodeError:
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
            return self._encode(text)

    def _encode(self, text: str) -> list[int]:
        out: list[int] = []
        known = self._pieces
        for piece in self._pattern.findall(text):
            tokens = known.get(piece)
            if tokens is None:
                tokens = self._piece(piece)
            out += tokens
        return out

    def _piece(self, piece: str) -> tuple[int, ...]:
        data = piece.encode("utf-8")
        rank = self.rank(data, _NO_RANK)
        tokens = (rank,) if rank != _NO_RANK else tuple(self._merge(data))
        if len(piece) <= PIECE_CACHE_CHARS:
            if len(self._pieces) >= PIECE_CACHE:
                self._pieces.clear()
            self._pieces[piece] = tokens
        return tokens

    def _merge(self, piece: bytes) -> list[int]:
        """tiktoken's ``byte_pair_encode`` of a piece that is not a token itself: merge the
        adjacent pair of lowest rank (the leftmost of equals) until no pair is a token."""
        rank = self.rank
        starts = list(range(len(piece) + 1))
        tokens = [self._byte_ranks[byte] for byte in piece]
        # ranks[i]: the rank of parts i and i + 1 joined (_NO_RANK for the last two).
        ranks = [rank(piece[i : i + 2], _NO_RANK) for i in range(len(piece) - 1)]
        ranks += (_NO_RANK, _NO_RANK)
        while True:
            lowest = min(ranks)
            if lowest == _NO_RANK:
                return tokens
            i = ranks.index(lowest)
            parts = len(starts)
            if i > 0:
                ranks[i - 1] = (
                    rank(piece[starts[i - 1] : starts[i + 2]], _NO_RANK)
                    if i + 2 < parts
                    else _NO_RANK
                )
            ranks[i] = (
                rank(piece[starts[i] : starts[i + 3]], _NO_RANK) if i + 3 < parts else _NO_RANK
            )
            tokens[i] = lowest
            del starts[i + 1], ranks[i + 1], tokens[i + 1]

    def token_bytes(self, tokens: Iterable[int]) -> list[bytes] | None:
        """The bytes of each token; None when one is not in the table (a special token)."""
        offsets, table, at, top = self._offsets, self._table, self._blob_at, self._top
        out = []
        for token in tokens:
            if not 0 <= token < top:
                return None
            start, end = offsets[token], offsets[token + 1]
            if start == end:
                return None
            out.append(table[at + start : at + end])
        return out


def _rank_function(
    table: mmap.mmap | bytes, offsets: memoryview, slots: memoryview, blob_at: int
) -> Callable[[bytes, int], int]:
    """``rank(token_bytes, default)``: the rank of a token, ``default`` when there is none."""
    mask = len(slots) - 1
    crc32 = zlib.crc32

    def rank(data: bytes, default: int) -> int:
        slot = crc32(data) & mask
        size = len(data)
        while True:
            found = slots[slot]
            if not found:
                return default
            start = offsets[found - 1]
            if (
                offsets[found] - start == size
                and table[blob_at + start : blob_at + start + size] == data
            ):
                return int(found - 1)
            slot = (slot + 1) & mask

    return rank


_UNICODE_OK = tuple(int(p) for p in unicodedata.unidata_version.split(".")[:2]) <= _UNICODE_MAX
_unassigned: regex.Pattern[str] | None = None


def _portable(text: str) -> bool:
    """Whether tiktoken's Rust regex and the ``regex`` module split ``text`` alike: it is
    ASCII, or every character in it is assigned both in Python's Unicode database and in the
    ``regex`` module's (which can be newer than the Rust crate's: a character it knows and
    Rust does not is a letter to one and unassigned to the other)."""
    if text.isascii():
        return True
    global _unassigned
    if not _UNICODE_OK:
        return False
    if _unassigned is None:
        import regex

        _unassigned = regex.compile(r"\p{Cn}")
    if _unassigned.search(text):
        return False
    category = unicodedata.category
    return all(category(char) != "Cn" for char in set(text))


class _Encoder(Protocol):
    def encode_ordinary(self, text: str) -> list[int]: ...


class Tokenizer:
    """Counts and splits text with the named encodings, loading each once, thread-safely:
    with tiktoken once loaded, else with the compact table (see the module docstring)."""

    def __init__(self) -> None:
        self._encodings: dict[str, tiktoken.Encoding] = {}
        self._lock = threading.Lock()
        self._vocabs: dict[str, _Vocab | None] = {}
        self._vocab_lock = threading.Lock()
        self._compact_chars = 0
        self._background: set[str] = set()
        # Conversations repeat their text turn after turn (system prompts, roles, history):
        # counts of short texts are remembered, bounded.
        self._counts: dict[tuple[str, str], int] = {}
        # The counting function of each encoding (made once: every request counts; made
        # anew once tiktoken has loaded the encoding).
        self._counters: dict[str, Callable[[str], int]] = {}

    def preload(self, names: Iterable[str] = ("o200k_base",)) -> threading.Thread:
        """Make counting with ``names`` ready in a background thread (startup must not wait):
        their compact tables, a few milliseconds each once stored on disk (about 0.2 s the
        first time, to build them). tiktoken is loaded later, only when needed."""
        thread = threading.Thread(
            target=lambda: [self._vocab(n) for n in names], name="mockllm-tokenizer-preload"
        )
        thread.daemon = True
        thread.start()
        return thread

    def encoding(self, name: str) -> tiktoken.Encoding:
        """The tiktoken encoding ``name``; unknown names fall back to ``o200k_base``."""
        found = self._encodings.get(name)
        if found is not None:
            return found
        if name not in _SHA256:
            return self.encoding("o200k_base")
        with self._lock:
            if name not in self._encodings:
                encoding = load_encoding(name)
                if encoding._pat_str != _PATTERNS[name]:  # a tiktoken that changed it
                    log.warning("tiktoken's %s pattern differs: counting with tiktoken", name)
                    self._vocabs[name] = None
                self._encodings[name] = encoding
                self._counters.clear()  # counting functions made before use it directly now
        return self._encodings[name]

    def _vocab(self, name: str) -> _Vocab | None:
        """The compact table of ``name``; None when it cannot be used."""
        try:
            return self._vocabs[name]
        except KeyError:
            pass
        with self._vocab_lock:
            if name not in self._vocabs:
                try:
                    self._vocabs[name] = _Vocab(name, load_table(name))
                except (OSError, ValueError) as exc:
                    log.warning("counting %s with tiktoken only: %s", name, exc)
                    self._vocabs[name] = None
        return self._vocabs[name]

    def _encoder(self, name: str, text: str) -> _Encoder:
        """What encodes ``text`` with encoding ``name`` (a known one): tiktoken when it is
        loaded, else the compact table when ``text`` is short and portable, else tiktoken
        (loaded now)."""
        found = self._encodings.get(name)
        if found is not None:
            return found
        if len(text) <= COMPACT_MAX_CHARS and _portable(text):
            vocab = self._vocab(name)
            if vocab is not None:
                self._compact_chars += len(text)
                if self._compact_chars > COMPACT_BUDGET_CHARS and name not in self._background:
                    self._background.add(name)
                    threading.Thread(
                        target=self.encoding,
                        args=(name,),
                        name="mockllm-tiktoken-load",
                        daemon=True,
                    ).start()
                return vocab
        return self.encoding(name)

    def count(self, text: str, encoding: str) -> int:
        """Exact number of tokens of ``text`` (special tokens counted as plain text)."""
        if not text:
            return 0
        name = encoding if encoding in _SHA256 else "o200k_base"
        return len(self._encoder(name, text).encode_ordinary(text))

    def encode(self, text: str, encoding: str) -> list[int]:
        name = encoding if encoding in _SHA256 else "o200k_base"
        return self._encoder(name, text).encode_ordinary(text)

    def _encode_function(self, encoding: str) -> Callable[[str], list[int]]:
        name = encoding if encoding in _SHA256 else "o200k_base"
        found = self._encodings.get(name)
        if found is not None:
            return found.encode_ordinary
        encoder = self._encoder
        return lambda text: encoder(name, text).encode_ordinary(text)

    def pieces(self, tokens: list[int], encoding: str, *, partial: bool = True) -> list[str]:
        """Text of each token, merging tokens that split a UTF-8 character.

        ``"".join(pieces(encode(t)))`` equals ``t``. Trailing bytes that do not form a whole
        character (only possible after truncation) are kept as U+FFFD when ``partial`` is
        true, dropped otherwise.
        """
        name = encoding if encoding in _SHA256 else "o200k_base"
        raw: list[bytes] | None = None
        if name not in self._encodings:
            vocab = self._vocab(name)
            if vocab is not None:
                raw = vocab.token_bytes(tokens)
        if raw is None:
            raw = self.encoding(name).decode_tokens_bytes(tokens)
        out: list[str] = []
        pending = b""
        for chunk in raw:
            pending += chunk
            try:
                out.append(pending.decode("utf-8"))
            except UnicodeDecodeError:
                continue
            pending = b""
        if pending and partial:
            out.append(pending.decode("utf-8", "replace"))
        return out

    def _counter(self, encoding: str) -> Callable[[str], int]:
        """A counting function for ``encoding`` that remembers the counts of short texts
        (the same function each time once the encoding is loaded)."""
        made = self._counters.get(encoding)
        if made is not None:
            return made
        encode = self._encode_function(encoding)
        counts = self._counts

        def count(text: str) -> int:
            if not text:
                return 0
            if len(text) > CACHED_TEXT_CHARS:
                return len(encode(text))
            key = (text, encoding)
            found = counts.get(key)
            if found is None:
                if len(counts) >= CACHED_TEXTS:
                    counts.clear()
                found = counts[key] = len(encode(text))
            return found

        if len(self._counters) < 64:  # encodings are few; names that are not fall back
            self._counters[encoding] = count
        return count

    def count_messages(
        self,
        messages: Iterable[Message],
        tools: Iterable[ToolSpec],
        encoding: str,
        *,
        costs: TokenCosts = DEFAULT_COSTS,
        stop_above: int | None = None,
    ) -> int:
        """Prompt tokens of a whole conversation with the fixed ``costs`` of its service,
        as documented at the top of this module.

        With ``stop_above`` (a context window) the work is bounded by it: once more than
        ``stop_above`` tokens are counted, counting stops and the total is estimated from
        the share of the text counted so far, so a 16 MB prompt costs what a window's worth
        of text costs. Totals up to ``stop_above`` are exact.
        """
        messages = tuple(messages)
        tools = tuple(tools)
        small = self._counter(encoding)
        total = costs.reply_priming
        counted_chars = 0

        def n(text: str) -> int:
            nonlocal counted_chars
            if stop_above is None or len(text) <= LONG_TEXT_CHARS:
                counted_chars += len(text)
                return small(text)
            got = 0
            encode = self._encode_function(encoding)
            for start, piece in _chunks(text, LONG_TEXT_CHARS):
                got += len(encode(piece))
                if total + got > stop_above:
                    raise _Overflow(total + got, counted_chars + start + len(piece))
            counted_chars += len(text)
            return len(encode(text))  # it fits: the exact count of the whole text

        try:
            for message in messages:
                if stop_above is not None and total > stop_above:
                    raise _Overflow(total, counted_chars)
                if costs.system is not None and message.role in ("system", "developer"):
                    total += costs.system + n(message.text)
                    continue
                total += costs.per_message + n(message.role)
                for part in message.parts:
                    if type(part) is TextPart:
                        total += n(part.text)
                    elif isinstance(part, ImagePart):
                        total += costs.image_low if part.detail == "low" else costs.image_high
                    else:
                        total += n(part.text)
                if message.name:
                    total += costs.per_name + n(message.name)
                for call in message.tool_calls:
                    total += costs.per_message + n(call.name) + n(call.arguments)
            for tool in tools:
                spec = {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                }
                total += n(orjson.dumps(spec).decode())
        except _Overflow as over:
            everything = _characters(messages, tools)
            return max(over.tokens, round(over.tokens * everything / max(over.chars, 1)))
        return total


class _Overflow(Exception):
    """Counting went past its bound: ``tokens`` counted in the first ``chars`` characters."""

    def __init__(self, tokens: int, chars: int) -> None:
        super().__init__(tokens, chars)
        self.tokens = tokens
        self.chars = chars


def _chunks(text: str, size: int) -> Iterator[tuple[int, str]]:
    """``text`` in pieces of about ``size`` characters, cut before a space where there is
    one (where tiktoken's pre-tokenizer cuts too, so the pieces' counts add up), with the
    offset of each piece."""
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            space = text.rfind(" ", start + size // 2, end)
            if space > start:
                end = space
        yield start, text[start:end]
        start = end


def _characters(messages: Iterable[Message], tools: Iterable[ToolSpec]) -> int:
    """Characters of every text :meth:`Tokenizer.count_messages` counts (roughly)."""
    total = 0
    for message in messages:
        total += len(message.role) + len(message.name or "")
        total += sum(len(p.text) for p in message.parts if not isinstance(p, ImagePart))
        total += sum(len(c.name) + len(c.arguments) for c in message.tool_calls)
    for tool in tools:
        total += len(tool.name) + len(tool.description) + len(orjson.dumps(tool.parameters))
    return total
