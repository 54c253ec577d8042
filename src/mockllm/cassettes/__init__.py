"""Record and replay: cassettes of real exchanges with an upstream LLM service.

* ``mockllm record --upstream URL --cassettes DIR``: a proxy that forwards each request to
  the upstream and writes one cassette (readable YAML) per interaction;
* ``mockllm serve --cassettes DIR [--on-miss error|record|rules]``: answers from the
  cassettes, byte for byte, with their recorded timing (or scaled, or at once);
* ``mockllm cassettes check DIR``: validates a cassette folder.

The modules: ``normalize.py`` (what a request is matched on, file names, why two requests
differ), ``format.py`` (the file: schema, YAML, the folder scan), ``recorder.py`` (the
proxy), ``replayer.py`` (the interceptor on the wire: replay, misses, recording state),
``check.py`` (the command). docs/cassettes.md is the guide.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .format import Cassette, CassetteError
from .normalize import folder_of_test, normalise, request_key
from .replayer import CASSETTE_HEADER, NO_CASSETTE, TEST_HEADER, Cassettes, build

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..settings import Settings

__all__ = [
    "CASSETTE_HEADER",
    "NO_CASSETTE",
    "TEST_HEADER",
    "Cassette",
    "CassetteError",
    "Cassettes",
    "build",
    "folder_of_test",
    "from_settings",
    "normalise",
    "request_key",
]


def from_settings(settings: Settings, dialects: Sequence[str]) -> Cassettes | None:
    """The interceptor the settings ask for (None: no cassettes); :class:`CassetteError`
    when they do not fit together."""
    if settings.cassettes is None:
        if settings.record:
            raise CassetteError(["recording needs a cassette folder (--cassettes DIR)"])
        return None
    folder = settings.cassettes
    if not settings.record and settings.on_miss != "record" and not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise CassetteError(
            [f"{folder} {what}: nothing to replay (mockllm record --cassettes {folder} records)"]
        )
    return build(
        settings.cassettes,
        dialects,
        record=settings.record,
        on_miss=settings.on_miss,
        upstream=settings.upstream,
        timing=settings.replay_timing,
        redact_fields=settings.redact_fields,
    )
