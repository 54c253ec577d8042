"""What a provider plugin declares: routes, models and capabilities, as data.

A plugin is an entry point in the ``mockllm.providers`` group whose object is a factory
``() -> Provider``. The core reads everything it needs from the returned :class:`Provider`:
which paths to route to which handler, which models to list, how errors look.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from ..core.errors import MockError
from ..core.limits import Limits
from ..core.models import ModelInfo
from ..core.traits import Traits
from ..realism.admission import GENERATING
from ..realism.quotas import QuotaView
from ..wire import Handler, HttpCall, JsonResult, Result

if TYPE_CHECKING:
    from ..fastlane import Recipe


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """One route: a Starlette-style ``path`` (``/v1/models/{model_id:path}``), the HTTP
    ``methods`` it answers and its ``handler``. Two providers can share one path: with
    ``when_header`` set, the route serves only requests carrying that header; with ``when``
    set, only requests for which ``when(path, headers)`` is true. A route with a condition
    is tried before the plain routes of the same path. ``fixed``, for a ``POST`` route on
    the serving path, is the dialect's part of the fast lane (:mod:`mockllm.fastlane`):
    with it, a request seen before whose answer the config fixes is answered from bytes
    made once."""

    path: str
    methods: tuple[str, ...]
    handler: Handler
    name: str = ""
    when_header: str | None = None
    when: Callable[[str, Mapping[str, str]], bool] | None = None
    fixed: Recipe | None = None

    @property
    def conditional(self) -> bool:
        return self.when_header is not None or self.when is not None

    def accepts(self, path: str, headers: Mapping[str, str]) -> bool:
        """Whether this route's conditions let it serve a request for ``path``."""
        if self.when_header is not None and self.when_header not in headers:
            return False
        return self.when is None or self.when(path, headers)


DEFERRED = "__mockllm_deferred__"
"""The attribute of a :func:`deferred` handler that names what it stands for:
``(module, name)``."""


def deferred(module: str, name: str, *, generating: bool = False) -> Handler:
    """The handler ``name`` of ``module``, imported when it first serves a request.

    A dialect's handlers import its request models (pydantic classes) and its codecs:
    some milliseconds of the server's start per dialect. With its routes' handlers
    deferred, a dialect costs the start nothing, and its first request pays the import
    once (a few milliseconds). ``generating`` must be the handler's own
    :data:`~mockllm.realism.admission.GENERATING` flag, which the wire reads before the
    first call (a test compares the two for every deferred handler)."""
    found: Handler | None = None

    async def handler(call: HttpCall) -> Result:
        nonlocal found
        target = found
        if target is None:
            target = found = cast(Handler, getattr(importlib.import_module(module), name))
        return await target(call)

    handler.__name__ = handler.__qualname__ = name
    setattr(handler, DEFERRED, (module, name))
    if generating:
        setattr(handler, GENERATING, True)
    return handler


def _no_headers(call: HttpCall) -> dict[str, str]:
    return {}


def _same(error: MockError) -> MockError:
    return error


def bearer_key(call: HttpCall) -> str | None:
    """The API key of ``Authorization: Bearer <key>`` (None without one)."""
    headers = call.headers
    raw = getattr(headers, "raw", None)
    if raw is not None:  # wire.RawHeaders: no need to decode every header
        found = raw(b"authorization")
        value = found.decode("latin-1") if found is not None else None
    else:
        value = headers.get("authorization")
    if value and value[:7].lower() == "bearer ":
        return value[7:].strip() or None
    return None


@dataclass(frozen=True)
class Provider:
    """A dialect, described as data.

    * ``render_error`` turns a :class:`MockError` into the provider's error response;
    * ``reword`` gives the provider's own words (message, param, code) to the structured
      errors of the neutral core (:data:`mockllm.core.errors.DETAILS`) before rendering;
    * ``stream_error`` renders the same error as an in-stream event (bytes);
    * ``response_headers`` gives the headers the provider adds to every answer;
    * ``api_key`` reads the client's API key from a request (checked against the config's
      ``settings.api_keys``; rate-limit buckets are per key), and ``limit_headers`` words
      the rate-limit buckets of an answered request as the provider's headers (None: the
      service sends none);
    * ``prefixes`` are URL prefixes whose unknown paths get this provider's 404, and
      ``claim_header`` a header that marks a request as this provider's on shared prefixes;
    * ``traits`` tells the engine how the provider counts tokens and names tool calls;
    * ``state`` declares the per-app state the provider's handlers keep across requests
      (stored responses, loaded models...): a name, unique across providers (prefix it with
      the provider's name), and a factory ``(Limits) -> object`` that the app factory calls
      once per app. Handlers reach it with ``call.services.state(name)``. An object with a
      ``clear()`` method is cleared by ``POST /-/reset``; one with a
      ``stats() -> dict[str, int]`` method reports what it keeps (``entries`` and
      ``bytes`` by convention: :class:`~mockllm.state.bounded.BoundedStore`'s), which
      ``GET /-/stats`` shows as ``<name>.<figure>``.
    """

    name: str
    routes: tuple[RouteSpec, ...]
    render_error: Callable[[MockError, HttpCall], JsonResult]
    stream_error: Callable[[MockError, HttpCall], bytes]
    models: tuple[ModelInfo, ...] = ()
    capabilities: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    claim_header: str | None = None
    response_headers: Callable[[HttpCall], dict[str, str]] = _no_headers
    reword: Callable[[MockError], MockError] = _same
    rank: int = 100
    """Routing priority, lowest first: on a shared path prefix the first provider owns
    404s, and a config ``models:`` entry that names no provider and matches no dialect's
    ``traits.model_prefixes`` belongs to the first provider."""
    traits: Traits = field(default_factory=Traits)
    state: Mapping[str, Callable[[Limits], object]] = field(default_factory=dict)
    api_key: Callable[[HttpCall], str | None] = bearer_key
    limit_headers: Callable[[QuotaView], dict[str, str]] | None = None


@dataclass(frozen=True)
class ProviderRegistry:
    """The providers of one app, in routing priority order. Built by the app factory."""

    providers: tuple[Provider, ...]

    def __iter__(self) -> Iterator[Provider]:
        return iter(self.providers)

    def __len__(self) -> int:
        return len(self.providers)

    def get(self, name: str) -> Provider | None:
        """The provider called ``name``, if loaded."""
        return next((p for p in self.providers if p.name == name), None)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.providers]

    def models(self) -> list[ModelInfo]:
        """Every provider's built-in models."""
        return [m for p in self.providers for m in p.models]

    def model_owners(self) -> list[tuple[str, str]]:
        """``(prefix, provider)`` for each declared model id prefix, in priority order,
        then ``("", first provider)``: who owns a config model that names no provider."""
        owners = [(x, p.name) for p in self.providers for x in p.traits.model_prefixes]
        if self.providers:
            owners.append(("", self.providers[0].name))
        return owners
