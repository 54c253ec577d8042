"""What an Ollama server holds at run time: which model a name means, and which models
are loaded (``/api/ps``), each until its ``keep_alive`` runs out.

Unknown model names follow mockllm's ``strict_models`` setting: accepted by default (a test
need not list its models), a 404 in Ollama's words when it is on. A real Ollama server
answers 404 for any model that was not pulled.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ...core.errors import MockError
from ...core.models import ModelInfo
from ...wire import HttpCall
from .models import DEFAULT_NUM_CTX, LocalModel, canonical_name, local_model
from .params import FOREVER_NS

DEFAULT_KEEP_ALIVE_NS = 5 * 60 * 10**9


@dataclass(frozen=True, slots=True)
class Resolved:
    """A requested model: ``name`` as the client wrote it (echoed in answers), ``id`` as
    the catalogue (and so the rules engine) knows it, and its details."""

    name: str
    id: str
    info: ModelInfo
    local: LocalModel


def resolve(call: HttpCall, name: str, not_found: Callable[[str], MockError]) -> Resolved:
    """The model ``name`` means: an id or alias of the catalogue, the same after Ollama's
    normalization (case, ``:latest``, ``library/``), else an unknown model, accepted
    unless ``strict_models`` is on (then ``not_found(name)`` is raised)."""
    registry = call.services.models
    info = registry.get("ollama", name)
    request_id = name
    if info is None:
        info = registry.get("ollama", canonical_name(name))
        if info is not None:
            request_id = info.id
    if info is None:
        try:
            info = call.services.engine.resolve_model("ollama", name)
        except MockError as exc:
            if exc.kind == "not_found":
                raise not_found(name) from None
            raise
    return Resolved(name, request_id, info, local_model(info))


@dataclass(slots=True)
class _Loaded:
    local: LocalModel
    expires_ns: int
    num_ctx: int


class LoadedModels:
    """The models a server has "in memory": touched by every inference request, each kept
    for its ``keep_alive`` (default five minutes; ``0`` unloads, a negative value keeps
    it for ever)."""

    def __init__(self, clock: Callable[[], int] = time.time_ns) -> None:
        self._clock = clock
        self._models: dict[str, _Loaded] = {}

    def touch(self, local: LocalModel, keep_alive_ns: int | None, num_ctx: int | None) -> None:
        """``local`` served a request."""
        if keep_alive_ns == 0:
            self.unload(local.id)
            return
        keep = DEFAULT_KEEP_ALIVE_NS if keep_alive_ns is None else keep_alive_ns
        expires = min(self._clock() + keep, FOREVER_NS) if keep != FOREVER_NS else FOREVER_NS
        context = min(num_ctx or DEFAULT_NUM_CTX, local.context_length)
        self._models[local.id] = _Loaded(local, expires, context)

    def unload(self, model_id: str) -> None:
        self._models.pop(model_id, None)

    def running(self) -> list[tuple[LocalModel, int, int]]:
        """``(model, expires_at ns, context length)`` of each loaded model, the longest
        remaining first; expired ones are dropped."""
        now = self._clock()
        for model_id in [k for k, v in self._models.items() if v.expires_ns <= now]:
            del self._models[model_id]
        ordered = sorted(self._models.values(), key=lambda v: -v.expires_ns)
        return [(v.local, v.expires_ns, v.num_ctx) for v in ordered]


def loaded_models(call: HttpCall) -> LoadedModels:
    """The app's loaded models (per-app state ``ollama.loaded``)."""
    return call.services.state("ollama.loaded", LoadedModels)
