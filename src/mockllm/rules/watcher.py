"""Reload the config file when it changes on disk (watchfiles, as uvicorn's reloader does)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from watchfiles import Change, watch

from .store import ConfigStore

log = logging.getLogger("mockllm.config")

DEBOUNCE_MS = 50
"""Changes are grouped for this long, so a change is served well within a second."""


class ConfigWatcher:
    """Reloads ``store`` after each change to its file, from :meth:`start` until
    :meth:`stop`.

    The parent directory is watched, not the file, so editors that save by writing a new
    file and renaming it over the old one are seen too. Watching, reading and parsing run
    in a thread of their own (``store.reload`` is thread-safe), so requests are served
    meanwhile; a reload that fails in any way is logged and watching goes on.

    The thread waits in watchfiles' own (Rust) loop: no event loop task and no anyio
    worker thread, so starting to watch costs the server's start-up about a millisecond
    (``awatch`` first loads anyio's asyncio back-end, some 15 ms before the socket
    listens).
    """

    def __init__(self, store: ConfigStore) -> None:
        if store.path is None:
            raise ValueError("the embedded config has no file to watch")
        self.store = store
        self.target = store.path.resolve()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mockllm-config-watch", daemon=True)

    def start(self) -> None:
        log.info("watching %s for changes", self.target)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop watching; returns once the thread has ended (watchfiles looks at the stop
        event every :data:`DEBOUNCE_MS`), or after ``timeout`` seconds."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        target = self.target

        def relevant(_change: Change, path: str) -> bool:
            return Path(path).resolve() == target

        try:
            for _changes in watch(
                target.parent,
                watch_filter=relevant,
                debounce=DEBOUNCE_MS,
                step=DEBOUNCE_MS,
                stop_event=self._stop,
                recursive=False,
                raise_interrupt=False,
            ):
                if not target.exists():
                    continue
                try:
                    self.store.reload()
                except Exception:  # the watcher outlives any reload
                    log.exception("config %s: reload failed; the rules in force stay", target)
        except Exception:
            log.exception("config %s: cannot watch for changes; no hot reload", target)
