"""Golden wire fixtures: compare a live byte stream with the recorded one.

Every golden test uses :func:`match_golden`. The fixtures of a dialect live beside its tests,
in ``tests/providers/<dialect>/golden/`` (``tests/providers/openai/responses/golden/`` for the
Responses API). After an intended change of a wire format, regenerate them with
``MOCKLLM_UPDATE_GOLDEN=1 pytest tests/providers`` and review the diff before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

UPDATE_VARIABLE = "MOCKLLM_UPDATE_GOLDEN"


def match_golden(path: Path, live: bytes) -> bytes:
    """Assert that ``live`` equals the fixture at ``path`` byte for byte, and return the
    fixture. With ``MOCKLLM_UPDATE_GOLDEN=1`` the fixture is rewritten from ``live`` first."""
    if os.environ.get(UPDATE_VARIABLE) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(live)
    assert path.exists(), f"missing {path}; regenerate with {UPDATE_VARIABLE}=1"
    expected = path.read_bytes()
    assert live.decode() == expected.decode()  # a readable diff on failure
    assert live == expected
    return expected
