"""Replaying cassettes, and what sits on the wire in their place: :class:`Cassettes`,
the interceptor of every provider route (``Services.intercept``) when a cassette folder
is set, which records (``mockllm record``) or replays (``mockllm serve --cassettes``).

Replay: the request is normalised and hashed; the cassettes of its test (the
``x-mockllm-test`` header's folder), then those of the top folder, holding that request
are its answers, in ``index`` order; the n-th identical request of the server's life (or
since ``POST /-/reset``) gets the n-th, and the last once they are used up. A request
with no cassette gets, as ``on_miss`` says, the dialect's 404 naming the nearest
cassettes and how they differ (``error``), the upstream's answer, recorded (``record``),
or the config's rules (``rules``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..core import outcome
from ..core.errors import MockError
from ..journal import REDACTED
from ..wire import JsonResult, Result, StreamResult
from .format import Cassette, CassetteError, scan, write
from .normalize import (
    differences,
    file_name,
    folder_of_test,
    normalise_call,
    request_key,
)
from .recorder import Exchange, Upstreams, forward, secrets_of

if TYPE_CHECKING:
    from ..wire import Handler, HttpCall

log = logging.getLogger("mockllm.cassettes")

TEST_HEADER = "x-mockllm-test"
"""The request header naming the test a request belongs to (its cassettes' folder)."""
CASSETTE_HEADER = "x-mockllm-cassette"
"""The response header naming the cassette a replayed answer comes from."""
NO_CASSETTE = "mockllm_no_cassette"
"""The error code of a request no cassette matches."""
NEAREST = 3

OnMiss = Literal["error", "record", "rules"]


def parse_timing(setting: str) -> float:
    """The factor applied to recorded offsets: ``recorded`` 1, ``fast`` 0, else the
    number given (``0.5``: twice as fast). ValueError for anything else."""
    text = setting.strip().lower()
    if text == "recorded":
        return 1.0
    if text == "fast":
        return 0.0
    factor = float(text)
    if not factor >= 0 or factor == float("inf"):
        raise ValueError(f"replay timing {setting!r}: recorded, fast or a factor >= 0")
    return factor


class Library:
    """The cassettes of a folder, by (test folder, request hash), in index order."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.by_key: dict[tuple[str | None, str], list[Cassette]] = {}
        self._signature: tuple[tuple[str, int, int], ...] = ()

    @property
    def count(self) -> int:
        """How many cassettes are loaded."""
        return sum(len(entries) for entries in self.by_key.values())

    def signature(self) -> tuple[tuple[str, int, int], ...]:
        """Names, sizes and modification times of the folder's files: what changes when
        cassettes are written or edited."""
        if not self.root.is_dir():
            return ()
        out = []
        for path in self.root.rglob("*"):
            try:
                info = path.stat()
            except OSError:
                continue
            out.append((str(path), info.st_size, info.st_mtime_ns))
        return tuple(sorted(out))

    def load(self) -> None:
        """(Re)read the folder; :class:`CassetteError` when a cassette file is invalid
        (files that are not cassettes and duplicates are logged, and skipped)."""
        signature = self.signature()
        found = scan(self.root)
        invalid = [p for p in found.problems if "not a cassette" not in p and "duplicate" not in p]
        if invalid:
            raise CassetteError(
                [*invalid, f"(check the folder with `mockllm cassettes check {self.root}`)"]
            )
        for problem in found.problems:
            log.warning("cassettes: %s", problem)
        self.by_key = {}
        for cassette in found.cassettes:
            self.add(cassette)
        self._signature = signature

    def redacted_fields(self) -> frozenset[str]:
        """The body fields the loaded cassettes show as ``[redacted]``: a replay ignores
        their values whatever its own ``redact_fields`` setting says."""
        found: set[str] = set()
        for entries in self.by_key.values():
            for cassette in entries:
                _redacted_names(cassette.request, found)
        return frozenset(found)

    def reload_if_changed(self) -> None:
        if self.signature() != self._signature:
            try:
                self.load()
            except CassetteError as exc:
                log.error("cassettes not reloaded, the ones loaded stay:\n%s", exc)

    def add(self, cassette: Cassette) -> None:
        """Add (or replace, at the same index) a cassette."""
        entries = self.by_key.setdefault((cassette.scope, cassette.key), [])
        for i, entry in enumerate(entries):
            if entry.index == cassette.index:
                entries[i] = cassette
                return
        entries.append(cassette)
        entries.sort(key=lambda c: c.index)

    def find(self, scope: str | None, key: str) -> list[Cassette] | None:
        """The answers to request ``key`` for the test ``scope``: its folder's, else the
        top folder's."""
        if scope is not None:
            found = self.by_key.get((scope, key))
            if found:
                return found
        return self.by_key.get((None, key))

    def elsewhere(self, key: str) -> list[str]:
        """The test folders holding request ``key``."""
        return sorted(s for s, k in self.by_key if k == key and s is not None)

    def nearest(
        self, request: dict[str, Any], scope: str | None, limit: int = NEAREST
    ) -> list[tuple[Cassette, list[str]]]:
        """The cassettes of the same dialect closest to ``request`` (fewest differences;
        the test's own and the top folder's first), with the differences."""
        scored = []
        for (where, _), entries in self.by_key.items():
            for cassette in entries[:1]:
                if cassette.request.get("dialect") != request.get("dialect"):
                    continue
                diffs = differences(request, cassette.request)
                structural = sum(1 for d in diffs if d.startswith(("method", "path")))
                foreign = where not in (scope, None)
                scored.append((foreign, structural, len(diffs), cassette.name, cassette, diffs))
        scored.sort(key=lambda s: s[:4])
        return [(s[4], s[5]) for s in scored[:limit]]


def _redacted_names(value: Any, out: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if item == REDACTED:
                out.add(key)
            else:
                _redacted_names(item, out)
    elif isinstance(value, list):
        for item in value:
            _redacted_names(item, out)


class Cassettes:
    """The interceptor of every provider route (``Services.intercept``) and its state,
    registered as ``services.states["cassettes"]`` (``POST /-/reset`` clears its counters,
    ``GET /-/stats`` shows ``cassettes.*``).

    ``mode`` ``record``: every request is forwarded to the upstream and recorded (the
    ``mockllm record`` command); the first request of a test (``x-mockllm-test``) in a
    recording session empties that test's folder first. ``replay``: see the module's
    docstring."""

    def __init__(
        self,
        root: Path,
        *,
        mode: Literal["record", "replay"] = "replay",
        on_miss: OnMiss = "error",
        upstreams: Upstreams | None = None,
        timing: float = 1.0,
        redacted: frozenset[str] = frozenset(),
    ) -> None:
        if (mode == "record" or on_miss == "record") and upstreams is None:
            raise CassetteError(["recording needs an upstream (--upstream URL)"])
        self.root = root
        self.mode = mode
        self.on_miss = on_miss
        self.upstreams = upstreams
        self.timing = timing
        self.redacted = redacted
        self.library = Library(root)
        self.counters: dict[tuple[str | None, str], int] = {}
        self.cleared: set[str] = set()
        self.replayed = 0
        self.recorded = 0
        self.missed = 0

    def load(self) -> None:
        """Read the cassette folder; the fields its cassettes redacted are redacted in
        the requests matched against them too."""
        self.library.load()
        self.redacted = self.redacted | self.library.redacted_fields()

    def describe(self) -> str:
        """The start-up line saying what the cassettes do."""
        if self.mode == "record":
            assert self.upstreams is not None
            return (
                f"recording: every request goes to {self.upstreams.describe()}, one cassette "
                f"per interaction in {self.root}"
            )
        line = (
            f"cassettes: {self.library.count} in {self.root}, replayed "
            f"{_timing_words(self.timing)}; a request with none: {self.on_miss}"
        )
        if self.on_miss == "record" and self.upstreams is not None:
            line += f" from {self.upstreams.describe()}"
        return line

    # --- state (POST /-/reset, GET /-/stats) ------------------------------------------------

    def clear(self) -> None:
        """Identical requests are answered from their first cassette again; cassettes
        written or edited since the folder was read are read."""
        self.counters.clear()
        if self.mode == "replay":
            self.library.reload_if_changed()
            self.redacted = self.redacted | self.library.redacted_fields()

    def stats(self) -> dict[str, int]:
        return {
            "files": self.library.count,
            "replayed": self.replayed,
            "recorded": self.recorded,
            "missed": self.missed,
            "counters": len(self.counters),
        }

    # --- the interceptor ---------------------------------------------------------------------

    async def __call__(self, call: HttpCall, handler: Handler) -> Result:
        request = normalise_call(call, self.redacted)
        key = request_key(request)
        test = call.headers.get(TEST_HEADER)
        scope = folder_of_test(test)
        position = self.counters.get((scope, key), 0)
        self.counters[(scope, key)] = position + 1
        model = request.get("model")
        outcome.note(model=model if isinstance(model, str) else None)
        if self.mode == "record":
            return await self._record(call, request, key, test, scope, position, fresh=True)
        found = self.library.find(scope, key)
        if found and (position < len(found) or self.on_miss != "record"):
            return await self._replay(call, found[min(position, len(found) - 1)])
        self.missed += 1
        if self.on_miss == "rules":
            return await handler(call)
        if self.on_miss == "record":
            return await self._record(call, request, key, test, scope, position, fresh=False)
        outcome.note(source="(no cassette)", reason="no cassette matches the request")
        raise MockError("not_found", self.miss_message(request, key, scope), code=NO_CASSETTE)

    def miss_message(self, request: dict[str, Any], key: str, scope: str | None) -> str:
        """The words of a miss: the request, the nearest cassettes and how they differ."""
        what = f"{request['method']} {request['path']}, {request['dialect']}"
        if request.get("model"):
            what += f", model {request['model']}"
        if scope is not None:
            what += f", test {scope}"
        text = (
            f"No cassette matches this request ({what}) in {self.root} "
            f"({self.library.count} cassettes) [{NO_CASSETTE}]."
        )
        others = [s for s in self.library.elsewhere(key) if s != scope]
        if others:
            text += (
                f" It is recorded for test {', '.join(others)}: send that name in the "
                f"{TEST_HEADER} header."
            )
        near = self.library.nearest(request, scope)
        if near:
            text += " Nearest: " + " ".join(
                f"{cassette.name} ({'; '.join(diffs) or 'the same request'})."
                for cassette, diffs in near
            )
        else:
            text += f" No cassette of the {request['dialect']} dialect to compare with."
        return text + (
            " Record it (mockllm record, or serve --on-miss record) or let the rules answer"
            " (--on-miss rules)."
        )

    async def _replay(self, call: HttpCall, cassette: Cassette) -> Result:
        self.replayed += 1
        # The request's log line and journal entry say where the answer came from.
        outcome.note(source=f"(cassette {cassette.name})", reason=f"cassette {cassette.name}")
        headers = dict(cassette.headers)
        media = headers.pop("content-type", "application/json")
        headers[CASSETTE_HEADER] = cassette.name
        factor = self.timing
        loop = asyncio.get_running_loop()
        origin = loop.time() - (time.perf_counter() - call.started)  # the request's start
        pacer = call.services.pacer
        if cassette.events is None:
            if factor > 0 and cassette.at_ms > 0:
                await pacer.sleep_until(origin + cassette.at_ms * factor / 1000)
            return JsonResult(cassette.body or b"", cassette.status, headers, media)
        frames = [(at * factor / 1000, data) for at, data in cassette.events]
        stream = pacer.scheduled(frames, start=origin)
        return StreamResult(
            stream, media, cassette.status, headers, paced=True, cancel=stream.cancel
        )

    async def _record(
        self,
        call: HttpCall,
        request: dict[str, Any],
        key: str,
        test: str | None,
        scope: str | None,
        index: int,
        fresh: bool,
    ) -> Result:
        assert self.upstreams is not None
        dialect = str(request["dialect"])
        base = self.upstreams.url(dialect)
        if base is None:
            raise MockError(
                "server",
                f"mockllm record: no upstream for the {dialect} dialect (--upstream URL or "
                f"--upstream {dialect}=URL)",
                status=502,
            )
        if fresh and scope is not None and scope not in self.cleared:
            self.cleared.add(scope)
            self._empty(scope)
        name = file_name(request, key, index)
        if scope is not None:
            name = f"{scope}/{name}"
        outcome.note(source=f"(upstream, recorded as {name})", reason=f"recorded as {name}")

        def done(exchange: Exchange) -> None:
            cassette = Cassette(
                request=request,
                status=exchange.status,
                headers=exchange.headers,
                body=exchange.body if exchange.events is None else None,
                events=exchange.events,
                at_ms=exchange.at_ms,
                index=index,
                test=test,
                name=name,
                key=key,
            )
            try:
                write(self.root, cassette)
            except (OSError, CassetteError) as exc:
                log.error("cassette %s not written: %s", name, exc)
                return
            self.library.add(cassette)
            self.recorded += 1

        secrets = secrets_of(call, self.redacted)
        return await forward(call, base, done, secrets, self.redacted)

    def _empty(self, scope: str) -> None:
        """Remove the cassettes of test folder ``scope`` (a re-recording replaces them)."""
        folder = self.root / scope
        if not folder.is_dir():
            return
        for path in folder.iterdir():
            if path.is_file() and path.suffix in (".yml", ".yaml"):
                path.unlink()
        self.library.by_key = {k: v for k, v in self.library.by_key.items() if k[0] != scope}


def _timing_words(factor: float) -> str:
    if factor == 1.0:
        return "with their recorded timing"
    if factor == 0.0:
        return "as fast as possible"
    return f"with their recorded timing times {factor:g}"


def build(
    root: Path,
    dialects: Sequence[str],
    *,
    record: bool,
    on_miss: OnMiss,
    upstream: str | None,
    timing: str,
    redact_fields: str | None,
) -> Cassettes:
    """The interceptor for these settings; :class:`CassetteError` when they do not fit
    together (recording with no upstream, an invalid upstream, invalid cassettes)."""
    from .normalize import ALWAYS_REDACTED

    upstreams = Upstreams.parse(upstream, dialects) if upstream else None
    fields = {f.strip() for f in (redact_fields or "").split(",") if f.strip()}
    try:
        factor = parse_timing(timing)
    except ValueError as exc:
        raise CassetteError([str(exc)]) from None
    cassettes = Cassettes(
        root,
        mode="record" if record else "replay",
        on_miss=on_miss,
        upstreams=upstreams,
        timing=factor,
        redacted=ALWAYS_REDACTED | frozenset(fields),
    )
    if not record:
        cassettes.load()
    return cassettes
