"""Run a real mockllm server inside a test process.

``MockServer`` serves a :func:`~mockllm.app.create_app` app with uvicorn on a free loopback
port, in a background thread, so that official SDKs talk to it over a real socket::

    with MockServer(config_text="responses: {hi: hello}") as server:
        client = OpenAI(base_url=server.openai_url, api_key="x")
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from .app import MockLLMApp, create_app
from .server import uvicorn_options
from .settings import Settings


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
        """Reset what requests have built up (sequence counters), keeping the config in
        force; the same as ``POST /-/reset``. Returns the names of what was reset."""
        return self.app.services.reset()

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
