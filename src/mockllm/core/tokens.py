"""Token counting, offline.

OpenAI encodings (``o200k_base``, ``cl100k_base``) are exact: tiktoken does the work, and its
vocabulary files ship inside this package (``mockllm/core/vocab/``, OpenAI's files
gzip-compressed; their sha256 is checked here and again by tiktoken), seeded into tiktoken's
cache so that nothing is ever fetched from the network.

Claude has no public offline tokenizer; for Anthropic models mockllm counts with
``o200k_base`` and adds the per-message overheads below. That is a stated approximation,
deterministic, and not the count the real service would give.

Prompt counts follow the providers' accounting of a whole conversation:

* OpenAI chat: 3 tokens per message + role + content (+1 + name when ``name`` is set),
  each tool call's name and arguments, 85 tokens per image at ``detail: low`` and 765
  otherwise (a 1024x1024 image at high detail), the tool definitions as compact JSON, and 3
  tokens priming the reply.
* Anthropic: the same per-message accounting plus 4 tokens for the system prompt when it
  is set.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.resources
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import orjson

from .types import ImagePart, Message, TextPart, ToolSpec

if TYPE_CHECKING:
    import tiktoken

_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
ENCODINGS = tuple(_SHA256)

PER_MESSAGE = 3
PER_NAME = 1
REPLY_PRIMING = 3
IMAGE_LOW = 85
IMAGE_HIGH = 765
ANTHROPIC_SYSTEM = 4
CACHED_TEXT_CHARS = 2048
CACHED_TEXTS = 4096
LONG_TEXT_CHARS = 64 * 1024
"""Texts longer than this are counted piece by piece when the count is bounded."""


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
    return os.path.join(tempfile.gettempdir(), f"mockllm-tiktoken-{os.getuid()}")


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
    packed = importlib.resources.files("mockllm.core") / "vocab" / f"{name}.tiktoken.gz"
    data = gzip.decompress(packed.read_bytes())
    if hashlib.sha256(data).hexdigest() != _SHA256[name]:
        raise RuntimeError(f"vocabulary {name} shipped with mockllm has an unexpected hash")
    os.makedirs(cache, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def load_encoding(name: str) -> tiktoken.Encoding:
    """The tiktoken encoding ``name``, loaded offline.

    The vocabulary is seeded where tiktoken looks for it. When tiktoken's caching is
    disabled or its cache directory cannot be written, a private directory is seeded
    instead and named to tiktoken (through ``TIKTOKEN_CACHE_DIR``) for the duration of
    the load only, so tiktoken never falls back to a download.
    """
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


class Tokenizer:
    """Counts and splits text with the named encodings, loading each once, thread-safely."""

    def __init__(self) -> None:
        self._encodings: dict[str, tiktoken.Encoding] = {}
        self._lock = threading.Lock()
        # Conversations repeat their text turn after turn (system prompts, roles, history):
        # counts of short texts are remembered, bounded.
        self._counts: dict[tuple[str, str], int] = {}

    def preload(self, names: Iterable[str] = ("o200k_base",)) -> threading.Thread:
        """Load encodings in a background thread (startup must not wait for them)."""
        thread = threading.Thread(
            target=lambda: [self.encoding(n) for n in names], name="mockllm-tokenizer-preload"
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
                self._encodings[name] = load_encoding(name)
        return self._encodings[name]

    def count(self, text: str, encoding: str) -> int:
        """Exact number of tokens of ``text`` (special tokens counted as plain text)."""
        if not text:
            return 0
        return len(self.encoding(encoding).encode_ordinary(text))

    def encode(self, text: str, encoding: str) -> list[int]:
        return self.encoding(encoding).encode_ordinary(text)

    def pieces(self, tokens: list[int], encoding: str, *, partial: bool = True) -> list[str]:
        """Text of each token, merging tokens that split a UTF-8 character.

        ``"".join(pieces(encode(t)))`` equals ``t``. Trailing bytes that do not form a whole
        character (only possible after truncation) are kept as U+FFFD when ``partial`` is
        true, dropped otherwise.
        """
        out: list[str] = []
        pending = b""
        for raw in self.encoding(encoding).decode_tokens_bytes(tokens):
            pending += raw
            try:
                out.append(pending.decode("utf-8"))
            except UnicodeDecodeError:
                continue
            pending = b""
        if pending and partial:
            out.append(pending.decode("utf-8", "replace"))
        return out

    def _counter(self, encoding: str) -> Callable[[str], int]:
        """A counting function for ``encoding`` that remembers the counts of short texts."""
        encode = self.encoding(encoding).encode_ordinary
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

        return count

    def count_messages(
        self,
        messages: Iterable[Message],
        tools: Iterable[ToolSpec],
        encoding: str,
        *,
        anthropic: bool = False,
        stop_above: int | None = None,
    ) -> int:
        """Prompt tokens of a whole conversation, as documented at the top of this module.

        With ``stop_above`` (a context window) the work is bounded by it: once more than
        ``stop_above`` tokens are counted, counting stops and the total is estimated from
        the share of the text counted so far, so a 16 MB prompt costs what a window's worth
        of text costs. Totals up to ``stop_above`` are exact.
        """
        messages = tuple(messages)
        tools = tuple(tools)
        small = self._counter(encoding)
        encode = self.encoding(encoding).encode_ordinary
        total = 0 if anthropic else REPLY_PRIMING
        counted_chars = 0

        def n(text: str) -> int:
            nonlocal counted_chars
            if stop_above is None or len(text) <= LONG_TEXT_CHARS:
                counted_chars += len(text)
                return small(text)
            got = 0
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
                if anthropic and message.role in ("system", "developer"):
                    total += ANTHROPIC_SYSTEM + n(message.text)
                    continue
                total += PER_MESSAGE + n(message.role)
                for part in message.parts:
                    if type(part) is TextPart:
                        total += n(part.text)
                    elif isinstance(part, ImagePart):
                        total += IMAGE_LOW if part.detail == "low" else IMAGE_HIGH
                    else:
                        total += n(part.text)
                if message.name:
                    total += PER_NAME + n(message.name)
                for call in message.tool_calls:
                    total += PER_MESSAGE + n(call.name) + n(call.arguments)
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
