"""The cyclic garbage collector, paused while the server starts.

Start-up allocates some 300,000 objects (schemas, rules, the catalogue) that all stay
alive; the collections they trigger cost about 50 ms for nothing. The command line pauses
the collector before its imports (:func:`pause`, first thing in ``cli.main``: building the
argument parser already imports pydantic); the app's lifespan resumes it once the start-up
objects are frozen (:func:`resume`, from ``app._settle_after``). Importing this module costs
nothing, so the pause comes before the heavy imports.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Turn the collector off until :func:`resume`; nothing when it is already off."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Turn the collector back on if :func:`pause` turned it off."""
    global _paused
    if _paused:
        _paused = False
        gc.enable()
