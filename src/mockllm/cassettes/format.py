"""The cassette file: one recorded interaction as readable YAML, its schema, reading and
writing, and the scan of a cassette folder.

A cassette (docs/cassettes.md)::

    version: 1
    test: tests/test_chat.py::test_weather     # the x-mockllm-test header, when sent
    index: 0                                   # the 1st answer to this request (0-based)
    request:                                   # normalised (mockllm.cassettes.normalize)
      dialect: openai
      method: POST
      path: /v1/chat/completions
      model: gpt-4o
      messages: [{role: user, content: hi}]
      params: {stream: true}
    response:
      status: 200
      headers: {content-type: text/event-stream; charset=utf-8, x-request-id: req_1}
      events:                                  # a stream: each event, ms after the request
        - at_ms: 12.3
          data: |+
            data: {"id":"chatcmpl-1",...}

A whole (not streamed) answer has ``at_ms`` (when its body had arrived) and one of ``json``
(the body parsed, when re-serializing it compactly gives the same bytes), ``body`` (the
body as text) or ``body_base64``; an event that is not UTF-8 text is ``data_base64``.
What is written is read back before the file is kept: replayed bytes are the recorded
bytes.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .normalize import canonical, folder_of_test, request_key

VERSION = 1
SUFFIXES = (".yml", ".yaml")
HEADER_COMMENT = "# mockllm cassette: one recorded interaction (docs/cassettes.md)\n"

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CassetteError(ValueError):
    """Cassettes that cannot be used: each problem as ``file: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(slots=True)
class Cassette:
    """One recorded interaction. ``request`` is the normalised request; a stream has
    ``events`` (``(at_ms, bytes)`` each), a whole answer ``body`` and ``at_ms``."""

    request: dict[str, Any]
    status: int
    headers: dict[str, str]
    body: bytes | None = None
    events: list[tuple[float, bytes]] | None = None
    at_ms: float = 0.0
    index: int = 0
    test: str | None = None
    name: str = ""
    """The file, relative to the cassette folder (``TEST/name.yml`` or ``name.yml``)."""
    key: str = field(default="")

    def __post_init__(self) -> None:
        self.request = canonical(self.request)
        if not self.key:
            self.key = request_key(self.request)

    @property
    def scope(self) -> str | None:
        """The test folder the cassette lives in (None: the top folder)."""
        return self.name.split("/", 1)[0] if "/" in self.name else None

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "application/octet-stream")


# --- schema ------------------------------------------------------------------------------


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at_ms: float = Field(ge=0)
    data: str | None = None
    data_base64: str | None = None

    @model_validator(mode="after")
    def _one(self) -> _Event:
        if (self.data is None) == (self.data_base64 is None):
            raise ValueError("an event has either data or data_base64")
        return self


class _Response(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    status: int = Field(ge=100, le=599)
    headers: dict[str, str] = Field(default_factory=dict)
    at_ms: float = Field(0.0, ge=0)
    body: str | None = None
    json_: Any = Field(None, alias="json")
    body_base64: str | None = None
    events: list[_Event] | None = None

    @model_validator(mode="after")
    def _one(self) -> _Response:
        given = [
            n for n in ("body", "json_", "body_base64", "events") if n in self.model_fields_set
        ]
        if len(given) != 1:
            raise ValueError(
                "a response has exactly one of body, json, body_base64 or events "
                f"(found {len(given)})"
            )
        return self


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dialect: str = Field(min_length=1)
    method: str = Field(min_length=1)
    path: str = Field(pattern=r"^/")
    query: dict[str, str] = Field(default_factory=dict)
    model: str | None = None
    messages: Any = None
    tools: Any = None
    params: dict[str, Any] = Field(default_factory=dict)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: Literal[1]
    test: str | None = None
    index: int = Field(0, ge=0)
    request: _Request
    response: _Response


def _problems(error: ValidationError) -> list[str]:
    out = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top)"
        out.append(f"{where}: {item['msg']}")
    return out


# --- YAML --------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks (``|``): a stream's events read as they were
    sent. PyYAML falls back to a quoted style for a string a block cannot hold."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(value: Any) -> str:
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1_000_000)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


def _round_trips(value: Any) -> bool:
    try:
        return bool(load_yaml(dump_yaml(value)) == value)
    except yaml.YAMLError:
        return False


def _text_or_base64(raw: bytes, text_key: str, base64_key: str) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and _round_trips(text):
        return {text_key: text}
    return {base64_key: base64.b64encode(raw).decode("ascii")}


def _body_fields(raw: bytes, media_type: str) -> dict[str, Any]:
    if "json" in media_type.lower() and raw:
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            value = None
        else:
            try:
                again = orjson.dumps(load_yaml(dump_yaml(value)))
            except (yaml.YAMLError, TypeError, orjson.JSONEncodeError):
                again = b""
            if again == raw:
                return {"json": value}
    return _text_or_base64(raw, "body", "body_base64")


def to_document(cassette: Cassette) -> dict[str, Any]:
    """The YAML document of ``cassette``."""
    response: dict[str, Any] = {"status": cassette.status, "headers": cassette.headers}
    if cassette.events is not None:
        response["events"] = [
            {"at_ms": round(at, 1), **_text_or_base64(data, "data", "data_base64")}
            for at, data in cassette.events
        ]
    else:
        response["at_ms"] = round(cassette.at_ms, 1)
        response.update(_body_fields(cassette.body or b"", cassette.media_type))
    document: dict[str, Any] = {"version": VERSION}
    if cassette.test is not None:
        document["test"] = cassette.test
    document["index"] = cassette.index
    document["request"] = canonical(cassette.request)
    document["response"] = response
    return document


def dumps(cassette: Cassette) -> str:
    """The file's text. Raises :class:`CassetteError` if reading it back would not give
    the same request and bytes (which would be a bug)."""
    text = HEADER_COMMENT + dump_yaml(to_document(cassette))
    again = parse(text, cassette.name or "(new cassette)")
    events = None
    if cassette.events is not None:
        events = [(round(at, 1), data) for at, data in cassette.events]
    if again.key != cassette.key or again.body != cassette.body or again.events != events:
        raise CassetteError([f"{cassette.name}: the cassette does not read back as written"])
    return text


def parse(text: str, name: str) -> Cassette:
    """The cassette in ``text`` (the file ``name``, relative to its folder); raises
    :class:`CassetteError` listing what is wrong."""
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise CassetteError([f"{name}: not valid YAML: {' '.join(str(exc).split())}"]) from None
    if not isinstance(data, dict):
        raise CassetteError([f"{name}: not a cassette (no mapping with version and request)"])
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        raise CassetteError([f"{name}: {p}" for p in _problems(exc)]) from None
    response = parsed.response
    body: bytes | None = None
    events: list[tuple[float, bytes]] | None = None
    try:
        if response.events is not None:
            events = [
                (
                    e.at_ms,
                    e.data.encode("utf-8")
                    if e.data is not None
                    else base64.b64decode(e.data_base64 or "", validate=True),
                )
                for e in response.events
            ]
        elif "json_" in response.model_fields_set:
            body = orjson.dumps(response.json_)
        elif response.body is not None:
            body = response.body.encode("utf-8")
        else:
            body = base64.b64decode(response.body_base64 or "", validate=True)
    except (ValueError, TypeError, orjson.JSONEncodeError) as exc:
        raise CassetteError([f"{name}: response: {exc}"]) from None
    return Cassette(
        request=dict(data["request"]),
        status=response.status,
        headers={k.lower(): v for k, v in response.headers.items()},
        body=body,
        events=events,
        at_ms=response.at_ms,
        index=parsed.index,
        test=parsed.test,
        name=name,
    )


def write(folder: Path, cassette: Cassette) -> Path:
    """Write ``cassette`` under ``folder`` at its ``name`` (atomically); its path."""
    path = folder / cassette.name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dumps(cassette)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


# --- streams -----------------------------------------------------------------------------


def split_events(
    pieces: Iterable[tuple[float, bytes]], media_type: str
) -> list[tuple[float, bytes]]:
    """The events of a stream received as ``pieces`` (``(at_ms, bytes)`` as they came off
    the network): SSE events (ending with a blank line) or NDJSON lines, each stamped with
    the time of the piece that completed it; what follows the last delimiter is a last
    event. Joined, the events are the pieces' bytes."""
    delimiter = b"\n" if "ndjson" in media_type or "jsonl" in media_type else b"\n\n"
    events: list[tuple[float, bytes]] = []
    pending = b""
    at = 0.0
    for at, piece in pieces:
        pending += piece
        while True:
            end = pending.find(delimiter)
            if end < 0:
                break
            end += len(delimiter)
            events.append((at, pending[:end]))
            pending = pending[end:]
    if pending:
        events.append((at, pending))
    return events


# --- a folder ----------------------------------------------------------------------------


@dataclass(slots=True)
class Scan:
    """What a cassette folder holds: the cassettes read, and the problems found (files
    that do not parse, files that are not cassettes, duplicates)."""

    cassettes: list[Cassette] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def scan(root: Path) -> Scan:
    """Read every cassette of ``root``: ``root/*.yml`` and ``root/TEST/*.yml``
    (``.yaml`` too). Files whose name starts with ``.`` are skipped; any other file, and
    anything deeper, is reported as not a cassette; so are two files holding the same
    request and index in one folder."""
    found = Scan()
    if not root.is_dir():
        return found
    seen: dict[tuple[str | None, str, int], str] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or path.is_dir():
            continue
        name = relative.as_posix()
        if path.suffix not in SUFFIXES:
            found.problems.append(f"{name}: not a cassette (cassettes end with .yml)")
            continue
        if len(relative.parts) > 2:
            found.problems.append(
                f"{name}: not where a cassette is read (the folder itself, or one folder per test)"
            )
            continue
        try:
            cassette = parse(path.read_text(encoding="utf-8"), name)
        except CassetteError as exc:
            found.problems.extend(exc.problems)
            continue
        except (OSError, UnicodeDecodeError) as exc:
            found.problems.append(f"{name}: cannot be read: {exc}")
            continue
        scope = cassette.scope
        if (
            cassette.test is not None
            and scope is not None
            and folder_of_test(cassette.test) != scope
        ):
            found.problems.append(
                f"{name}: recorded for test {cassette.test!r}, whose folder is "
                f"{folder_of_test(cassette.test)}/"
            )
        slot = (scope, cassette.key, cassette.index)
        if slot in seen:
            found.problems.append(
                f"{name}: duplicate of {seen[slot]} (the same request, index {cassette.index})"
            )
            continue
        seen[slot] = name
        found.cassettes.append(cassette)
    return found
