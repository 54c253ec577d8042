"""The app factory: the only place where things are wired together.

``create_app`` builds the registries, the engine and the routes for one app instance;
nothing is created at import time, so tests may build as many apps as they like.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import ipaddress
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, Router
from starlette.types import Message, Receive, Scope, Send

from . import admin, gc_pause
from .core.limits import Limits
from .core.tokens import Tokenizer
from .engine import Engine
from .fastlane import FastLane, LaneRoute
from .plugins import discover_providers, load_stages, load_validators
from .plugins import names as plugin_names
from .providers.base import Provider, ProviderRegistry, RouteSpec
from .realism import Realism
from .realism.faults import StreamCut
from .rules.store import ConfigStore
from .rules.watcher import ConfigWatcher
from .services import Services
from .serving import Hooks, Stage, Validator
from .settings import Settings
from .state.shared import Backend
from .wire import Endpoint, JsonResult, NotFound

log = logging.getLogger("mockllm")


class MockLLMApp:
    """The ASGI application. ``services`` exposes the engine, config store and providers."""

    def __init__(self, services: Services, router: Router) -> None:
        self.services = services
        self.router = router
        # Paths without parameters skip the router's regex matching: the hot path.
        self._exact: dict[str, Endpoint] = {
            route.path: route.app
            for route in router.routes
            if isinstance(route, Route)
            and isinstance(route.app, Endpoint)
            and not route.param_convertors
        }
        recipes = {}
        for path, endpoint in self._exact.items():
            chosen = endpoint.route_for("POST")
            if chosen is not None and chosen[0].fixed is not None:
                recipes[path] = (chosen[1], chosen[0].fixed)
        self.lane = FastLane(services, recipes)
        """The fast lane (:mod:`mockllm.fastlane`) of the exact paths whose ``POST`` route
        has a recipe; the HTTP protocol asks it first (:attr:`lanes`)."""
        services.states["fast_lane"] = self.lane  # GET /-/stats shows its figures

    @property
    def lanes(self) -> Mapping[bytes, LaneRoute]:
        """The fast lane's routes by request target (the path, as bytes): what
        :class:`mockllm.server.GuardedHttpToolsProtocol` answers a complete ``POST`` of
        one of them with first (read as a connection is made). Empty when the lane cannot
        apply to this app (:meth:`FastLane.applies`). A request the lane does not answer
        is served here."""
        return self.lane.routes if self.lane.applies() else {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection. An HTTP request carrying an ``Origin`` header (a web
        page's) first passes the CORS policy of ``settings.cors_origins`` (:func:`_cors`):
        a preflight is answered there, a refused origin gets a 403 and is not served, an
        allowed one is served with the CORS response headers. Requests without ``Origin``
        (SDKs, curl) are served as they are."""
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"origin":
                    guarded = await _cors(
                        _cors_policy(self.services.settings.cors_origins), value, scope, send
                    )
                    if guarded is None:  # answered: a preflight or a refusal
                        return
                    send = guarded
                    break
            if not scope.get("root_path"):
                endpoint = self._exact.get(scope["path"])
                if endpoint is not None:
                    await endpoint(scope, receive, send)
                    return
        await self.router(scope, receive, send)


# --- CORS: which web pages may call the server ---------------------------------------------

_CORS_METHODS = b"GET, POST, PUT, DELETE, OPTIONS"
_CORS_MAX_AGE = b"600"
# Response headers a page can read without them being exposed (the CORS-safelisted ones),
# and those that can never be exposed or are CORS's own.
_CORS_NOT_EXPOSED = frozenset(
    {
        b"cache-control",
        b"content-language",
        b"content-length",
        b"content-type",
        b"expires",
        b"last-modified",
        b"pragma",
        b"set-cookie",
        b"vary",
        b"access-control-allow-origin",
        b"access-control-expose-headers",
    }
)
_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_TOKEN_LIST = re.compile(_TOKEN + rb"(?:[ \t]*,[ \t]*" + _TOKEN + rb")*")  # header names


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    """The browser origins allowed to call the server, from ``settings.cors_origins``:
    ``'*'`` (any), a comma-separated list (compared without case and trailing ``/``), or
    None (none). Same-origin requests are allowed whatever the setting (see
    :meth:`allows`)."""

    any_origin: bool
    origins: frozenset[str]

    @classmethod
    def parse(cls, setting: str | None) -> CorsPolicy:
        names = {o.strip().rstrip("/").lower() for o in (setting or "").split(",")}
        names.discard("")
        return cls("*" in names, frozenset(names - {"*"}))

    def allows(self, origin: str, scope: Scope) -> bool:
        """Whether a request from ``origin`` (the Origin header, decoded) may be served:
        the setting allows it, or it is the server's own origin (``<scheme>://<Host>``) with
        a Host that DNS cannot point elsewhere (an IP address or ``localhost``), so that a
        DNS-rebinding page, same-origin in the browser's eyes, is still refused."""
        origin = origin.lower()
        if self.any_origin or origin in self.origins:
            return True
        host = _header(scope, b"host")
        if host is None or f"{scope.get('scheme', 'http')}://{host.lower()}" != origin:
            return False
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.strip("[]").lower()
        if name == "localhost" or name.endswith(".localhost"):
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True


@functools.lru_cache(maxsize=16)
def _cors_policy(setting: str | None) -> CorsPolicy:
    return CorsPolicy.parse(setting)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _cors(policy: CorsPolicy, raw_origin: bytes, scope: Scope, send: Send) -> Send | None:
    """Apply ``policy`` to a request carrying ``Origin: raw_origin``. Returns the ``send``
    to serve it with (adding ``access-control-allow-origin``, ``vary: origin`` and
    ``access-control-expose-headers`` naming the answer's own headers, such as
    ``x-request-id``, ``retry-after`` or the rate-limit ones), or None once it has answered:

    * a preflight (``OPTIONS`` with ``access-control-request-method``): 204 with the allow
      headers when the origin is allowed, else 403 without them (the browser then blocks);
    * any other request from an origin not allowed: 403 with a JSON error naming
      ``--cors-origins`` / ``MOCKLLM_CORS_ORIGINS``; nothing is served, no state changes.
    """
    origin = raw_origin.decode("latin-1").strip()
    allowed = policy.allows(origin, scope)
    preflight = scope["method"] == "OPTIONS" and (
        _header(scope, b"access-control-request-method") is not None
    )
    allow_origin = b"*" if policy.any_origin else origin.encode("latin-1")
    if allowed and preflight:
        headers = [
            (b"access-control-allow-origin", allow_origin),
            (b"access-control-allow-methods", _CORS_METHODS),
            (b"access-control-max-age", _CORS_MAX_AGE),
            (b"vary", b"origin, access-control-request-method, access-control-request-headers"),
        ]
        requested = _header(scope, b"access-control-request-headers")
        if requested and _TOKEN_LIST.fullmatch(requested.strip().encode("latin-1")):
            headers.append((b"access-control-allow-headers", requested.strip().encode("latin-1")))
        if _header(scope, b"access-control-request-private-network") == "true":
            # Chrome's Private Network Access: a public page calling a local server.
            headers.append((b"access-control-allow-private-network", b"true"))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return None
    if not allowed:
        log.warning(
            "403: refused a request from the web page origin %r (%s %s); allow it with "
            "--cors-origins or MOCKLLM_CORS_ORIGINS",
            origin,
            scope["method"],
            scope["path"],
        )
        message = (
            f"mockllm: requests from the web page origin '{origin}' are not allowed (a "
            "browser sent this request: it carries an Origin header). Allow the origin with "
            f"`mockllm serve --cors-origins {origin}` or MOCKLLM_CORS_ORIGINS={origin} "
            "(a comma-separated list, or '*' for any origin)."
        )
        await JSONResponse(
            {"error": {"message": message, "type": "permission_error", "code": "cors_origin"}},
            status_code=403,
            headers={"vary": "origin"},
        )(scope, _no_body, send)
        return None

    async def send_with_cors(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            exposed = sorted({k.lower() for k, _ in headers} - _CORS_NOT_EXPOSED)
            headers.append((b"access-control-allow-origin", allow_origin))
            headers.append((b"vary", b"origin"))
            if exposed:
                headers.append((b"access-control-expose-headers", b", ".join(exposed)))
            message = {**message, "headers": headers}
        await send(message)

    return send_with_cors


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _segment_rank(segment: str) -> int:
    """How broadly one path segment matches: a literal (``compact``) 0, a literal with a
    capture in it (``{model}:generateContent``) 1, a capture (``{response_id}``) 2, a
    capture of the rest of the path (``{model:path}``) 3."""
    if "{" not in segment:
        return 0
    if ":path}" in segment:
        return 3
    return 2 if segment.startswith("{") and segment.endswith("}") else 1


def _specificity(path: str) -> tuple[int, ...]:
    """The sort key of a route path: at the first segment where two paths differ in kind,
    the more literal one comes first (``/v1/responses/compact`` before
    ``/v1/responses/{response_id}``, ``/v1/models/{id}/x`` before ``/v1/models/{id:path}``)."""
    return tuple(_segment_rank(segment) for segment in path.strip("/").split("/"))


def _routes(providers: Sequence[Provider], services: Services) -> list[BaseRoute]:
    """The router's routes: mockllm's own, then one :class:`Endpoint` per provider path.

    Starlette tries routes in order and the first whose path matches wins, so provider
    paths are sorted by :func:`_specificity` (a literal segment before a capture; a
    stable sort, so declaration order otherwise): a literal path such as
    ``/v1/responses/compact`` is never shadowed by ``/v1/responses/{response_id}``,
    whatever order the providers declare them in."""
    by_path: dict[str, list[tuple[RouteSpec, Provider]]] = {}
    for provider in providers:
        for spec in provider.routes:
            by_path.setdefault(spec.path, []).append((spec, provider))
    routes: list[BaseRoute] = admin.routes(services)
    for path in sorted(by_path, key=_specificity):
        routes.append(Route(path, Endpoint(by_path[path], services)))
    return routes


_SETTLE_DELAY_S = 1.0
"""Seconds after the lifespan starts (and the tokenizer is ready) before the settling
collection: kept out of the way of the first requests, which a test run sends at once."""


def _settle_after(loading: threading.Thread) -> None:
    """Once start-up objects are loaded (the tokenizer) and the first requests are served,
    collect once and move everything alive to the garbage collector's permanent generation:
    full collections then scan only what requests create, which keeps long GC pauses out of
    the latency tail. The collector, if the command line paused it
    (:func:`mockllm.gc_pause.pause`), is turned back on."""

    def settle() -> None:
        loading.join()
        time.sleep(_SETTLE_DELAY_S)
        gc.collect()
        gc.freeze()
        gc_pause.resume()

    threading.Thread(target=settle, name="mockllm-gc-settle", daemon=True).start()


def _not_a_stream_cut(record: logging.LogRecord) -> bool:
    """False for the server's report of a stream cut on purpose (``x-mockllm-stream-cut-
    after``): the app raises :class:`~mockllm.realism.faults.StreamCut` so that the server
    drops the connection mid-body, which is the fault, not an error."""
    info = record.exc_info
    return not (info and isinstance(info[1], StreamCut))


def _quiet_stream_cuts() -> None:
    """Keep the servers' error logs free of deliberate stream cuts (idempotent)."""
    for name in ("uvicorn.error", "uvicorn", "granian"):
        logger = logging.getLogger(name)
        if _not_a_stream_cut not in logger.filters:
            logger.addFilter(_not_a_stream_cut)


def state_backend(settings: Settings) -> Backend:
    """The state back-end ``settings.state`` names: memory, or a Redis (its client is
    imported only then)."""
    if settings.state == "memory":
        return Backend()
    from .state.redis_backend import RedisBackend

    return RedisBackend(settings.state, settings.state_namespace, settings.state_timeout)


def share_states(services: Services) -> None:
    """Swap every provider state that can be shared (it has ``shared(backend)``, returning
    its shared counterpart) for its shared counterpart; warn of those that cannot."""
    for name, value in list(services.states.items()):
        share = getattr(value, "shared", None)
        if callable(share):
            services.states[name] = share(services.backend)
        elif name != "cassettes":
            log.info("state %s is kept by each worker: it cannot be shared", name)


def create_app(
    settings: Settings | None = None,
    *,
    providers: Sequence[Provider] | None = None,
    validators: Sequence[Validator] | None = None,
    stages: Sequence[Stage] | None = None,
) -> MockLLMApp:
    """Build a mockllm ASGI app.

    ``settings`` defaults to :class:`Settings` read from the environment; ``providers``
    defaults to every provider plugin found through entry points; ``validators`` and
    ``stages`` default to the plugins named in ``settings.validators`` and
    ``settings.stages``. Raises :class:`~mockllm.rules.loader.ConfigError` when the config
    file is invalid, :class:`~mockllm.plugins.PluginError` when a named plugin is not
    installed and :class:`~mockllm.cassettes.CassetteError` when the cassette settings
    (``cassettes``, ``record``, ``upstream``...) do not fit together or a cassette is
    invalid.
    """
    settings = settings or Settings()
    if providers is None:
        allow = settings.providers.split(",") if settings.providers else None
        providers = discover_providers(allow)
    if validators is None:
        validators = load_validators(plugin_names(settings.validators))
    if stages is None:
        stages = load_stages(plugin_names(settings.stages))
    registry = ProviderRegistry(tuple(providers))
    limits = Limits.from_settings(settings)
    store = ConfigStore(
        settings.config,
        registry.models(),
        strict_models=settings.strict_models,
        limits=limits,
        model_owners=registry.model_owners(),
    )
    tokenizer = Tokenizer()
    backend = state_backend(settings)
    counters = backend.counters(
        "seq", limits.counters_max, limits.counters_ttl_seconds, lambda: store.digest
    )
    engine = Engine(store, tokenizer, {p.name: p.traits for p in registry}, counters, limits=limits)
    _quiet_stream_cuts()
    intercept = None
    if settings.cassettes is not None or settings.record:
        # Record and replay (loaded only when asked for): raises CassetteError.
        from .cassettes import from_settings

        intercept = from_settings(settings, registry.names)
    services = Services(
        settings,
        store,
        tokenizer,
        engine,
        registry,
        limits,
        Services.build_states(registry, limits),
        Hooks(tuple(validators), tuple(stages)),
        intercept=intercept,
        journal=backend.journal(settings.journal_size),
        realism=Realism(backend),
        backend=backend,
    )
    if backend.shared:
        share_states(services)
    if intercept is not None:
        services.states["cassettes"] = intercept  # reset clears it, stats show it

    @contextlib.asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        _settle_after(tokenizer.preload(("o200k_base",)))
        watcher = None
        if settings.watch and store.path is not None:
            watcher = ConfigWatcher(store)
            watcher.start()
        await backend.start(services)
        try:
            yield
        finally:
            await backend.stop()
            if watcher is not None:
                await asyncio.to_thread(watcher.stop)

    router = Router(
        routes=_routes(registry.providers, services),
        default=NotFound(list(registry), services),
        lifespan=lifespan,
    )
    return MockLLMApp(services, router)


def startup_summary(app: MockLLMApp, url: str | None = None) -> list[str]:
    """What a user needs to know when the server starts, one line each: the config and
    its rules, the dialects with their URL prefixes, the address (when ``url`` is given)
    and mockllm's own URLs."""
    services = app.services
    config = services.store.current.config
    rules = config.rules
    where = str(services.store.path) if services.store.path else "embedded default config"
    watched = ", watched for changes" if services.settings.watch and services.store.path else ""
    dialects = []
    for provider in services.providers:
        paths = provider.prefixes or tuple(sorted({r.path for r in provider.routes}))
        dialects.append(f"{provider.name} ({', '.join(paths)})")
    lines = [
        f"config: {where} ({len(rules.responses)} responses, {len(rules.rules)} rules{watched})",
        f"dialects: {', '.join(dialects) or 'none'}",
    ]
    settings = services.settings
    if settings.validators or settings.stages:
        lines.append(
            f"validators: {settings.validators or 'none'}; stages: {settings.stages or 'none'}"
        )
    if url is not None:
        first = next(iter(services.providers), None)
        hint = ""
        if first is not None and first.prefixes:
            prefix = first.prefixes[0].rstrip("/")
            hint = f" ({first.name}-style SDKs: base_url {url}{prefix})"
        lines.append(f"serving on {url}{hint}")
    lines.append(
        "own URLs: /-/requests, /-/rules, /-/reset, /-/health, /-/stats"
        + (" (admin token required)" if services.settings.admin_token else "")
    )
    return lines


def app_from_environment() -> MockLLMApp:
    """Factory for ``uvicorn --factory`` and worker processes: settings from ``MOCKLLM_*``."""
    return create_app(Settings())


__all__ = ["MockLLMApp", "create_app", "app_from_environment", "startup_summary", "JsonResult"]
