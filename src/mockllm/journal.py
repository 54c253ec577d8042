"""The request journal: what every request asked and what it got, for tests to assert on.

The wire records an entry for each request (every dialect, every path, errors included)
just before the last piece of its answer is written, so an entry is in the journal by the
time the client has the whole answer. An entry keeps what is cheap to keep (the raw body,
the raw headers, the facts the serving path noted) and is turned into JSON only when read
(:meth:`Entry.as_dict`): a test that never reads the journal pays almost nothing for it.

Bounded: the newest ``capacity`` entries are kept (``MOCKLLM_JOURNAL_SIZE``, default
10,000; 0 keeps none). Secrets never leave it: the values of ``authorization``,
``x-api-key``, ``api-key``, ``x-goog-api-key`` (and any header named like a key, token or
secret) and the ``key`` query parameter are redacted when an entry is read.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import re
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

import orjson

from .core.conversation import start_digest

E = TypeVar("E")

REDACTED = "[redacted]"

SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "x-goog-api-key"})
"""Headers whose values are never shown (besides any whose name says key, token, secret)."""
_SECRET_NAME = re.compile(r"(^|[-_])(key|token|secret|password|cookie)($|[-_])")
_SECRET_QUERY = frozenset({"key", "api_key", "api-key", "token", "access_token"})

FILTERS = ("model", "rule", "dialect", "conversation", "path", "status", "stream")
"""The fields ``GET /-/requests`` filters on by equality (``?model=gpt-4o``)."""


def is_secret(name: str) -> bool:
    """Whether a header called ``name`` (lower case) carries a secret."""
    return name in SECRET_HEADERS or _SECRET_NAME.search(name) is not None


def redact_query(query: str) -> str:
    """``query`` with the values of key-like parameters redacted."""
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(k.lower() in _SECRET_QUERY for k, _ in pairs):
        return query
    return urlencode([(k, REDACTED if k.lower() in _SECRET_QUERY else v) for k, v in pairs])


@dataclass(slots=True)
class Entry:
    """One request as recorded. ``time`` is the wall-clock start (seconds since the
    epoch); ``duration_ms`` runs to the last piece of the answer, ``ttfb_ms`` to its
    first body byte; ``usage`` holds ``input_tokens`` / ``output_tokens`` when the engine
    answered; ``faults`` says what was simulated (latency, errors, stream faults)."""

    id: int
    time: float
    dialect: str
    method: str
    path: str
    query: str
    headers: list[tuple[bytes, bytes]]
    body: bytes
    status: int
    stream: bool
    duration_ms: float
    ttfb_ms: float | None
    model: str | None = None
    rule: str | None = None
    reason: str | None = None
    conversation: str | tuple[str, str] | None = None
    """The conversation header's value, or (system prompt, first user message): the key
    is made of them when read (:attr:`conversation_key`)."""
    usage: dict[str, int] | None = None
    faults: list[str] = field(default_factory=list)
    request_id: str = ""

    @property
    def conversation_key(self) -> str | None:
        found = self.conversation
        if isinstance(found, tuple):
            found = self.conversation = "c:" + start_digest(*found)
        return found

    def as_dict(self) -> dict[str, Any]:
        """The entry as ``GET /-/requests`` shows it: the body parsed as JSON (the text
        when it is not JSON), secrets redacted."""
        try:
            request: Any = orjson.loads(self.body) if self.body else None
        except orjson.JSONDecodeError:
            request = self.body.decode("utf-8", "replace")
        headers = {}
        for raw_name, raw_value in self.headers:
            name = raw_name.decode("latin-1").lower()
            headers[name] = REDACTED if is_secret(name) else raw_value.decode("latin-1")
        query = redact_query(self.query)
        moment = _dt.datetime.fromtimestamp(self.time, _dt.UTC)
        return {
            "id": self.id,
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "dialect": self.dialect,
            "method": self.method,
            "path": self.path,
            "query": query,
            "model": self.model,
            "conversation": self.conversation_key,
            "request": request,
            "rule": self.rule,
            "reason": self.reason,
            "status": self.status,
            "stream": self.stream,
            "duration_ms": round(self.duration_ms, 3),
            "ttfb_ms": None if self.ttfb_ms is None else round(self.ttfb_ms, 3),
            "usage": self.usage,
            "faults": list(self.faults),
            "request_id": self.request_id,
            "headers": headers,
        }


def _matches(entry: Any, name: str, wanted: str) -> bool:
    value = entry.conversation_key if name == "conversation" else getattr(entry, name)
    if isinstance(value, bool):
        return wanted.lower() in (("true", "1", "yes") if value else ("false", "0", "no"))
    if name == "rule" and wanted in ("null", "none", "-"):
        return value is None
    return value is not None and str(value) == wanted


class Journal:
    """The newest ``capacity`` entries, oldest first, and the hit count of every rule
    since the last :meth:`clear`. Used on the event loop (and read from it)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = max(0, capacity)
        self._entries: deque[Entry] = deque(maxlen=self.capacity or None)
        self._ids = itertools.count(1)
        self.hits: Counter[str] = Counter()
        self.recorded = 0

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    counting = True
    """Whether entries are recorded even when none is kept (the rules' hit counts and
    the metrics read them)."""

    def next_id(self) -> int:
        return next(self._ids)

    def add(self, entry: Entry) -> None:
        """Keep ``entry`` (the oldest is forgotten past the capacity) and count its rule."""
        if entry.rule is not None:
            self.hits[entry.rule] += 1
        self.recorded += 1
        if self.capacity:
            self._entries.append(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every entry and hit count (ids keep growing: ``since`` stays valid)."""
        self._entries.clear()
        self.hits.clear()

    def entries(
        self,
        filters: Mapping[str, str] | None = None,
        since: str | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        """The entries that pass ``filters`` (field name to value, see :data:`FILTERS`)
        and came after ``since`` (an entry id, or an ISO 8601 time or epoch seconds),
        newest last; with ``limit``, the newest ``limit`` of them. Raises ``ValueError``
        for an unknown filter or a ``since`` that is neither."""
        return select(self._entries, filters, since, limit)

    async def fetch(
        self,
        filters: Mapping[str, str] | None = None,
        since: str | None = None,
        limit: int | None = None,
    ) -> list[Any]:
        """:meth:`entries`, wherever the journal is kept (a shared one is read over the
        network): objects with ``as_dict()``. Raises ``ValueError`` as :meth:`entries`,
        and the 503 :class:`~mockllm.core.errors.MockError` when a shared state is
        unavailable."""
        return self.entries(filters, since, limit)

    async def hit_counts(self) -> Mapping[str, int]:
        """Each rule's hit count since the last clear, wherever the journal is kept."""
        return self.hits

    async def forget(self) -> None:
        """:meth:`clear`, wherever the journal is kept (``DELETE /-/requests``)."""
        self.clear()

    def stats(self) -> dict[str, int]:
        return {"entries": len(self._entries), "recorded": self.recorded}


def select(
    entries: Iterable[E],
    filters: Mapping[str, str] | None = None,
    since: str | None = None,
    limit: int | None = None,
) -> list[E]:
    """The ``entries`` that pass ``filters`` and came after ``since``, the newest
    ``limit`` of them (see :meth:`Journal.entries`)."""
    chosen: Iterable[E] = entries
    for name, wanted in (filters or {}).items():
        if name not in FILTERS:
            raise ValueError(f"unknown filter {name!r}; filters: {', '.join(FILTERS)}")
        chosen = [e for e in chosen if _matches(e, name, wanted)]
    if since:
        chosen = _since(chosen, since)
    found = list(chosen)
    if limit is not None:
        found = found[-limit:] if limit > 0 else []
    return found


def _since(entries: Iterable[E], since: str) -> list[E]:
    text = since.strip()
    if text.isascii() and text.isdigit():
        first = int(text)
        return [e for e in entries if e.id > first]  # type: ignore[attr-defined]
    try:
        moment = float(text)
    except ValueError:
        try:
            parsed = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"since: {since!r} is neither an entry id nor a time (ISO 8601 or epoch seconds)"
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=_dt.UTC)
        moment = parsed.timestamp()
    return [e for e in entries if e.time >= moment]  # type: ignore[attr-defined]


def jsonl(entries: Iterable[Any]) -> bytes:
    """``entries`` as JSON Lines (one object a line, each as :meth:`Entry.as_dict`)."""
    return b"".join(orjson.dumps(e.as_dict()) + b"\n" for e in entries)


__all__ = [
    "FILTERS",
    "REDACTED",
    "Entry",
    "Journal",
    "is_secret",
    "jsonl",
    "redact_query",
    "select",
]
