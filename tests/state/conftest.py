"""Real processes for the shared-state tests: a ``redis-server`` (one for the session, or
one of a test's own that the test stops and starts again) and ``mockllm serve`` processes
naming it with ``--state``, each in a namespace of its own unless told to share one."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

from mockllm.testing import free_port

REDIS_SERVER = shutil.which("redis-server")
START_TIMEOUT = 15.0
"""Seconds a process may take to answer: redis-server its PING, mockllm /-/health."""


def _require_redis() -> str:
    if REDIS_SERVER is None:
        pytest.skip("redis-server not installed (scripts/test installs it)")
    return REDIS_SERVER


def _ping(port: int) -> bool:
    """Whether a Redis answers PING on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A ``redis-server`` on 127.0.0.1, without persistence, working in ``folder``: it
    can be stopped (:meth:`stop`), paused (:meth:`pause`, a Redis that is stuck) and
    started again on the same port (:meth:`start`)."""

    def __init__(self, folder: Path) -> None:
        self.binary = _require_redis()
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not _ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                text = (self.folder / "redis.log").read_text(errors="replace")
                pytest.fail(f"redis-server did not start on port {self.port}:\n{text}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)  # a paused one too
            process.kill()
        process.wait(10)

    def pause(self) -> None:
        """Stop it answering, connections left open (a Redis that is stuck)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a Redis for the whole session (tests keep apart by namespace)."""
    _require_redis()
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis for one test, which the test may stop and start again."""
    _require_redis()
    server = RedisServer(tmp_path_factory.mktemp("own-redis")).start()
    try:
        yield server
    finally:
        server.stop()


class Mockllm:
    """One ``mockllm serve`` process (``python -m mockllm serve``) on 127.0.0.1: its
    stdout and stderr go to files (:meth:`stderr` reads what it wrote so far)."""

    def __init__(
        self,
        folder: Path,
        config: Path,
        *,
        state: str | None,
        namespace: str | None = None,
        args: tuple[str, ...] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.folder = folder
        self.namespace = namespace
        self.name = f"mockllm-{self.port}"
        self._clients: list[openai.OpenAI | anthropic.Anthropic] = []
        command = [sys.executable, "-m", "mockllm", "serve", "--config", str(config)]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--no-watch", "--no-request-log", *args]
        if state is not None:
            command += ["--state", state]
        # The test's settings only: none of the MOCKLLM_* variables of the shell.
        environment = {k: v for k, v in os.environ.items() if not k.startswith("MOCKLLM_")}
        if namespace is not None:
            environment["MOCKLLM_STATE_NAMESPACE"] = namespace
        environment.update(env or {})
        self._out = folder / f"{self.name}.out"
        self._err = folder / f"{self.name}.err"
        with self._out.open("wb") as out, self._err.open("wb") as err:
            self.process = subprocess.Popen(command, stdout=out, stderr=err, env=environment)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stderr(self) -> str:
        return self._err.read_text(errors="replace")

    def wait_healthy(self) -> Mockllm:
        """Wait for ``GET /-/health`` to answer 200; fail with its stderr if it dies or
        takes longer than :data:`START_TIMEOUT`."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                pytest.fail(
                    f"{self.name} exited with {self.process.returncode} before it served:\n"
                    + self.stderr()
                )
            try:
                if httpx.get(self.url + "/-/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"{self.name} did not serve within {START_TIMEOUT} s:\n{self.stderr()}")
            time.sleep(0.05)

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    # --- clients --------------------------------------------------------------------------

    def openai(self, api_key: str = "sk-test", **options: Any) -> openai.OpenAI:
        """An OpenAI client of this process, without retries (closed by :meth:`stop`)."""
        client = openai.OpenAI(
            base_url=self.url + "/v1", api_key=api_key, max_retries=0, timeout=10, **options
        )
        self._clients.append(client)
        return client

    def anthropic(self, api_key: str = "sk-ant-test", **options: Any) -> anthropic.Anthropic:
        """An Anthropic client of this process, without retries (closed by :meth:`stop`)."""
        client = anthropic.Anthropic(
            base_url=self.url, api_key=api_key, max_retries=0, timeout=10, **options
        )
        self._clients.append(client)
        return client

    def admin(self, method: str, path: str, **options: Any) -> httpx.Response:
        """A call of the admin API (``/-/...``)."""
        return httpx.request(method, self.url + path, timeout=10, **options)


class Starter:
    """Starts :class:`Mockllm` processes writing in ``folder``; :meth:`stop_all` stops
    them. Without a ``namespace``, a process with a state gets a new one (a uuid): a state
    of its own, which no other test sees."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[Mockllm] = []

    def __call__(
        self,
        config_text: str,
        *,
        state: str | None,
        namespace: str | None = None,
        args: tuple[str, ...] = (),
        env: Mapping[str, str] | None = None,
        wait: bool = True,
    ) -> Mockllm:
        """A ``mockllm serve`` process on a free port, once ``GET /-/health`` answers
        (at once with ``wait=False``)."""
        config = self.folder / f"config-{uuid.uuid4().hex[:8]}.yml"
        config.write_text(config_text, encoding="utf-8")
        if namespace is None and state is not None:
            namespace = new_namespace()
        process = Mockllm(self.folder, config, state=state, namespace=namespace, args=args, env=env)
        self.started.append(process)
        return process.wait_healthy() if wait else process

    def pair(
        self, config_text: str, *, state: str, env: Mapping[str, str] | None = None
    ) -> tuple[Mockllm, Mockllm]:
        """Two processes, A and B, on different ports, sharing ``state`` in one new
        namespace (started side by side: each takes about a second)."""
        namespace = new_namespace()
        a = self(config_text, state=state, namespace=namespace, env=env, wait=False)
        b = self(config_text, state=state, namespace=namespace, env=env, wait=False)
        return a.wait_healthy(), b.wait_healthy()

    def stop_all(self) -> None:
        for process in self.started:
            process.stop()


def new_namespace() -> str:
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
def start_mockllm(tmp_path: Path) -> Iterator[Starter]:
    """A :class:`Starter` whose processes are stopped at the end of the test."""
    starter = Starter(tmp_path)
    try:
        yield starter
    finally:
        starter.stop_all()


@pytest.fixture(scope="module")
def mockllm_pair(
    request: pytest.FixtureRequest, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Mockllm, Mockllm]]:
    """Two processes, A and B, sharing the session's Redis in a namespace of their own,
    serving the test module's ``PAIR_CONFIG``, for the whole module (a test that needs
    them fresh calls ``POST /-/reset``)."""
    starter = Starter(tmp_path_factory.mktemp("pair"))
    try:
        yield starter.pair(request.module.PAIR_CONFIG, state=redis_url)
    finally:
        starter.stop_all()
