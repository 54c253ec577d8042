"""Run a real mockllm server inside a test process.

``MockServer`` serves a :func:`~mockllm.app.create_app` app with uvicorn on a free loopback
port, in a background thread, so that official SDKs talk to it over a real socket::

    with MockServer(config_text="responses: {hi: hello}") as server:
        client = OpenAI(base_url=server.openai_url, api_key="x")
        server.add_rules({"responses": {"ping": "pong"}})  # POST /-/rules
        ...
        server.assert_called(model="gpt-4o", times=1)     # GET /-/requests

Its admin methods (:meth:`~MockServer.add_rules`, :meth:`~MockServer.requests`,
:meth:`~MockServer.reset`, :meth:`~MockServer.assert_called`) call the server's admin API
under ``/-/`` (:mod:`mockllm.admin`) over the socket, as any other client would. The pytest
plugin's ``mockllm`` fixture (:mod:`mockllm.pytest_plugin`) is one of these servers.
"""

from __future__ import annotations

import datetime as _dt
import http.client
import json
import os
import re
import socket
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import uvicorn

from .app import MockLLMApp, create_app
from .rules.loader import ConfigError, Problem
from .rules.ruleset import Location
from .server import uvicorn_options
from .settings import Settings

Since = int | float | str | _dt.datetime
"""An entry id (``entry["id"]``: the entries after it), or a time (``datetime``, epoch
seconds, ISO 8601 text: the entries from then on)."""

SHOWN = 50
"""The newest entries an :meth:`MockServer.assert_called` failure lists."""

_PROBLEM = re.compile(r"(?P<file>.*?):(?P<line>\d+):(?P<column>\d+): (?P<message>.*)", re.S)


class AdminError(RuntimeError):
    """A call of the admin API failed other than by an invalid config: ``status`` and the
    server's error ``message``."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"{method} {path}: {status} {message}")
        self.status = status
        self.message = message


def describe(entry: Mapping[str, Any]) -> str:
    """One journal entry on one line: ``#3 POST /v1/messages model=claude-sonnet-4-6
    rule=greeting status=200``; without a rule, why none answered."""
    rule = entry.get("rule")
    if rule is None:
        reason = entry.get("reason")
        rule = f"None ({reason})" if reason else "None"
    stream = " stream" if entry.get("stream") else ""
    return (
        f"#{entry.get('id')} {entry.get('method')} {entry.get('path')} "
        f"model={entry.get('model')} rule={rule} status={entry.get('status')}{stream}"
    )


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    return str(value)


def _message(body: Any) -> str:
    """The ``error.message`` of an admin API answer (the answer itself when it has none)."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message", body))
    return str(body)


def _problem(text: str) -> Problem:
    """A problem as the admin API words it (``file:line:column: message``), parsed back."""
    found = _PROBLEM.fullmatch(text)
    if found is None:
        return Problem(Location("POST /-/rules", 1, 1), text)
    where = Location(found["file"], int(found["line"]), int(found["column"]))
    return Problem(where, found["message"])


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MockServer:
    """A mockllm server on ``127.0.0.1:<free port>`` for the life of a ``with`` block.

    Give ``config`` (a path) or ``config_text`` (YAML written to a temporary file, which
    :meth:`write_config` may rewrite to exercise hot reload); other keyword arguments are
    :class:`~mockllm.settings.Settings` fields (``limit_header_timeout_seconds=1``,
    ``cors_origins="http://localhost:3000"``...). It is served with the uvicorn options of
    ``mockllm serve`` (:func:`mockllm.server.uvicorn_options`).

    While it runs, :meth:`add_rules`, :meth:`requests`, :meth:`assert_called` and
    :meth:`reset` script it and read what it received through its admin API; the pytest
    fixture ``mockllm`` is one of these servers (docs/testing.md).
    """

    def __init__(
        self, config: str | Path | None = None, *, config_text: str | None = None, **settings: Any
    ) -> None:
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        if config_text is not None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="mockllm-")
            config = Path(self._tmpdir.name) / "config.yml"
            config.write_text(config_text, encoding="utf-8")
        self.config_path = Path(config) if config is not None else None
        self.port = free_port()
        try:
            self.settings = Settings(config=self.config_path, port=self.port, **settings)
            self.app: MockLLMApp = create_app(self.settings)
        except BaseException:  # e.g. ConfigError: leave no temporary directory behind
            if self._tmpdir is not None:
                self._tmpdir.cleanup()
            raise
        # The options `mockllm serve` uses (guarded HTTP protocol, connection limits), on
        # loopback and quieter.
        options = uvicorn_options(self.settings)
        options.update(host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(uvicorn.Config(self.app, **options))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: the Anthropic SDK's ``base_url``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``: the OpenAI SDK's ``base_url``."""
        return self.url + "/v1"

    @property
    def anthropic_url(self) -> str:
        """``http://127.0.0.1:<port>``: the Anthropic SDK's ``base_url`` (no ``/v1``)."""
        return self.url

    @property
    def gemini_url(self) -> str:
        """``http://127.0.0.1:<port>``: google-genai's ``HttpOptions(base_url=...)`` (with
        ``api_version="v1beta"``)."""
        return self.url

    @property
    def ollama_url(self) -> str:
        """``http://127.0.0.1:<port>``: ollama-python's ``Client(host=...)``."""
        return self.url

    @property
    def running(self) -> bool:
        """Whether the server is up (between :meth:`start` and :meth:`stop`)."""
        return (
            self._thread is not None
            and self._thread.is_alive()
            and self._server.started
            and not self._server.should_exit
        )

    def write_config(self, text: str) -> None:
        """Replace the config file's content (atomically, as editors do) and return once
        the new rules are in force: the next request is answered by them.

        Raises :class:`~mockllm.rules.loader.ConfigError` (with ``file:line`` problems) when
        ``text`` is not a valid config; the rules in force then stay, as with any broken
        edit of a watched file. Sequence counters start over with new rules.
        """
        if self.config_path is None:
            raise RuntimeError("this server runs on the embedded config; give config_text")
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.config_path)
        store = self.app.services.store
        # Load it now rather than wait for the file watcher (which then finds the content
        # already in force and changes nothing).
        if not store.reload():
            assert store.last_error is not None
            raise store.last_error

    def reset(self) -> list[str]:
        """Reset what requests have built up, keeping the config in force: ``POST
        /-/reset`` (the journal, sequence counters, fault counters, rate-limit buckets,
        rules added with :meth:`add_rules`, stored responses start over). Returns the names
        of what was reset. A config put in force with ``PUT /-/rules`` or
        :meth:`write_config` stays."""
        if not self.running:  # not served (yet): the same reset, in this thread
            return self.app.services.reset()
        reset: list[str] = self._admin("POST", "/-/reset")["reset"]
        return reset

    def add_rules(self, config: str | Mapping[str, Any]) -> dict[str, Any]:
        """Add the ``rules:`` and ``responses:`` of ``config`` in front of those in force,
        until :meth:`reset` (``POST /-/rules``). ``config`` is the config file's format:
        YAML (or JSON) text, or a mapping such as ``{"responses": {"hi": "hello"}}`` or
        ``{"rules": [{"match": {"prompt": "hi"}, "reply": "hello"}]}``.

        Returns the server's summary (``{"rules": 1, "responses": 0, "warnings": []}``).
        Raises :class:`~mockllm.rules.loader.ConfigError` listing every problem
        (``POST /-/rules:LINE:COLUMN: ...``) when ``config`` is invalid; nothing changes
        then.
        """
        if isinstance(config, str):
            text = config
        elif isinstance(config, Mapping):
            # JSON is YAML, and indented it keeps a line per field for the problems' lines.
            text = json.dumps(config, indent=2, ensure_ascii=False)
        else:
            raise TypeError(f"add_rules takes YAML text or a mapping, not {type(config).__name__}")
        status, body = self._call("POST", "/-/rules", text.encode("utf-8"))
        if status == 400 and isinstance(body, dict) and "problems" in body.get("error", {}):
            raise ConfigError([_problem(p) for p in body["error"]["problems"]])
        summary: dict[str, Any] = self._checked("POST", "/-/rules", status, body)
        return summary

    def requests(
        self,
        *,
        model: str | None = None,
        rule: str | None = None,
        dialect: str | None = None,
        conversation: str | None = None,
        path: str | None = None,
        status: int | str | None = None,
        stream: bool | None = None,
        since: Since | None = None,
        limit: int | None = None,
        **filters: str | int | bool,
    ) -> list[dict[str, Any]]:
        """The journal's entries, oldest first, each a dict as ``GET /-/requests`` gives
        it (``method``, ``path``, ``model``, ``rule``, ``status``, ``request`` (the body
        sent), ``headers`` (secrets redacted), ``usage``...; see
        :meth:`mockllm.journal.Entry.as_dict`).

        The filters are the endpoint's, all optional: the entries whose field equals
        the value (``rule="null"``: the requests no rule answered); ``since`` (an entry
        id, or a time) keeps the later ones; ``limit`` the newest ``limit``. Raises
        ``ValueError`` for a filter the server does not know.
        """
        given: dict[str, Any] = {
            "model": model,
            "rule": rule,
            "dialect": dialect,
            "conversation": conversation,
            "path": path,
            "status": status,
            "stream": stream,
            **filters,
            "since": since,
            "limit": limit,
        }
        query = urlencode({k: _query_value(v) for k, v in given.items() if v is not None})
        target = "/-/requests" + (f"?{query}" if query else "")
        code, body = self._call("GET", target)
        if code == 400:
            raise ValueError(f"GET {target}: {_message(body)}")
        entries: list[dict[str, Any]] = self._checked("GET", target, code, body)["data"]
        return entries

    def assert_called(
        self,
        *,
        times: int | None = None,
        model: str | None = None,
        rule: str | None = None,
        dialect: str | None = None,
        conversation: str | None = None,
        path: str | None = None,
        status: int | str | None = None,
        stream: bool | None = None,
        since: Since | None = None,
        **filters: str | int | bool,
    ) -> list[dict[str, Any]]:
        """Assert that the server received ``times`` requests passing the filters (those of
        :meth:`requests`); ``times=None``: at least one. Returns those requests.

        Raises ``AssertionError`` when the count differs, with a message that lists what
        was recorded: method, path, model, rule (or why none answered) and status of each
        entry, those that pass the filters marked ``*`` (or "no request recorded").
        """
        __tracebackhide__ = True
        wanted: dict[str, Any] = {
            "model": model,
            "rule": rule,
            "dialect": dialect,
            "conversation": conversation,
            "path": path,
            "status": status,
            "stream": stream,
            **filters,
            "since": since,
        }
        wanted = {k: v for k, v in wanted.items() if v is not None}
        found = self.requests(**wanted)
        if (len(found) >= 1) if times is None else (len(found) == times):
            return found
        which = " with " + ", ".join(f"{k}={v!r}" for k, v in wanted.items()) if wanted else ""
        if times is None:
            expected = "at least 1 request"
        else:
            expected = f"{times} request{'' if times == 1 else 's'}"
        lines = [f"mockllm: expected {expected}{which}, got {len(found)}."]
        lines += self._recorded({e["id"] for e in found} if wanted else set())
        raise AssertionError("\n".join(lines))

    def _recorded(self, marked: set[int]) -> list[str]:
        """The lines that describe the journal, for an assertion's message."""
        everything = self.requests()
        if not everything:
            why = (
                " (the journal keeps none: journal_size=0)"
                if not self.settings.journal_size
                else ""
            )
            return [f"no request recorded{why}."]
        lines = [
            f"recorded ({len(everything)} request{'' if len(everything) == 1 else 's'}, "
            f"oldest first{'; * passes the filters' if marked else ''}):"
        ]
        if len(everything) > SHOWN:
            lines.append(f"  ... {len(everything) - SHOWN} earlier ones not shown")
        for entry in everything[-SHOWN:]:
            lines.append(("* " if entry["id"] in marked else "  ") + describe(entry))
        return lines

    def _call(self, method: str, target: str, body: bytes | None = None) -> tuple[int, Any]:
        """``method target`` on the admin API: the status and the JSON answer."""
        if not self.running:
            raise RuntimeError(
                "the mockllm server is not running: use `with MockServer(...) as server:` "
                "or call start() first"
            )
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/yaml"
        token = self.settings.admin_token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # http.client rather than urllib: no proxy from the environment on loopback.
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        try:
            payload = json.loads(data) if data else None
        except ValueError:
            payload = data.decode("utf-8", "replace")
        return response.status, payload

    @staticmethod
    def _checked(method: str, target: str, status: int, body: Any) -> Any:
        if status != 200:
            raise AdminError(method, target, status, _message(body))
        return body

    def _admin(self, method: str, target: str) -> Any:
        return self._checked(method, target, *self._call(method, target))

    def start(self) -> MockServer:
        self._thread = threading.Thread(target=self._server.run, name="mockllm-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("mockllm test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._tmpdir is not None:
            self._tmpdir.cleanup()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
