"""Reload the config file when it changes on disk (watchfiles, as uvicorn's reloader does)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from watchfiles import Change, awatch

from .store import ConfigStore

log = logging.getLogger("mockllm.config")

DEBOUNCE_MS = 50
"""Changes are grouped for this long, so a change is served well within a second."""


async def watch_config(store: ConfigStore, stop: asyncio.Event) -> None:
    """Reload ``store`` after each change to its file until ``stop`` is set.

    The parent directory is watched, not the file, so editors that save by writing a new
    file and renaming it over the old one are seen too. The file is read and parsed in a
    worker thread (``asyncio.to_thread``; ``store.reload`` is thread-safe), so requests are
    served meanwhile; a reload that fails in any way is logged and watching goes on.
    """
    if store.path is None:
        return
    target = store.path.resolve()

    def relevant(_change: Change, path: str) -> bool:
        return Path(path).resolve() == target

    log.info("watching %s for changes", target)
    async for _changes in awatch(
        target.parent,
        watch_filter=relevant,
        debounce=DEBOUNCE_MS,
        step=DEBOUNCE_MS,
        stop_event=stop,
        recursive=False,
    ):
        if not target.exists():
            continue
        try:
            await asyncio.to_thread(store.reload)
        except Exception:  # the watcher outlives any reload
            log.exception("config %s: reload failed; the rules in force stay", target)
