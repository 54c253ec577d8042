"""The app factory: the only place where things are wired together.

``create_app`` builds the registries, the engine and the routes for one app instance;
nothing is created at import time, so tests may build as many apps as they like.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, Router
from starlette.types import Receive, Scope, Send

from .core.limits import Limits
from .core.tokens import Tokenizer
from .engine import Engine
from .plugins import discover_providers
from .providers.base import Provider, ProviderRegistry, RouteSpec
from .rules.store import ConfigStore
from .rules.watcher import watch_config
from .services import Services
from .settings import Settings
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            endpoint = self._exact.get(scope["path"])
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
        await self.router(scope, receive, send)


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _admin_error(status: int, message: str, kind: str) -> Response:
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)


def _admin(
    services: Services, handler: Callable[[Request], Response]
) -> Callable[[Request], Awaitable[Response]]:
    """An admin endpoint under ``/-/``: when ``admin_token`` is set, a request without
    ``Authorization: Bearer <token>`` gets a 401 and changes nothing."""
    token = services.settings.admin_token

    async def endpoint(request: Request) -> Response:
        if token:
            sent = request.headers.get("authorization", "")
            scheme, _, value = sent.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip(), token):
                return _admin_error(
                    401,
                    "mockllm admin API: send 'Authorization: Bearer <MOCKLLM_ADMIN_TOKEN>'.",
                    "authentication_error",
                )
        return handler(request)

    return endpoint


def _admin_routes(services: Services) -> list[BaseRoute]:
    def reset(_request: Request) -> Response:
        return JSONResponse({"reset": services.reset()})

    return [Route("/-/reset", _admin(services, reset), methods=["POST"])]


def _routes(providers: Sequence[Provider], services: Services) -> list[BaseRoute]:
    by_path: dict[str, list[tuple[RouteSpec, Provider]]] = {}
    for provider in providers:
        for spec in provider.routes:
            by_path.setdefault(spec.path, []).append((spec, provider))
    routes: list[BaseRoute] = [Route("/-/health", _health, methods=["GET"])]
    routes += _admin_routes(services)
    for path, candidates in by_path.items():
        routes.append(Route(path, Endpoint(candidates, services)))
    return routes


def create_app(
    settings: Settings | None = None, *, providers: Sequence[Provider] | None = None
) -> MockLLMApp:
    """Build a mockllm ASGI app.

    ``settings`` defaults to :class:`Settings` read from the environment; ``providers``
    defaults to every provider plugin found through entry points. Raises
    :class:`~mockllm.rules.loader.ConfigError` when the config file is invalid.
    """
    settings = settings or Settings()
    if providers is None:
        allow = settings.providers.split(",") if settings.providers else None
        providers = discover_providers(allow)
    registry = ProviderRegistry(tuple(providers))
    limits = Limits.from_settings(settings)
    store = ConfigStore(
        settings.config,
        registry.models(),
        strict_models=settings.strict_models,
        limits=limits,
    )
    tokenizer = Tokenizer()
    engine = Engine(store, tokenizer, {p.name: p.traits for p in registry}, limits=limits)
    services = Services(settings, store, tokenizer, engine, registry, limits)

    @contextlib.asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        tokenizer.preload(("o200k_base",))
        stop = asyncio.Event()
        watcher = None
        if settings.watch and store.path is not None:
            watcher = asyncio.create_task(watch_config(store, stop), name="mockllm-config-watch")
        try:
            yield
        finally:
            stop.set()
            if watcher is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

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
    if url is not None:
        lines.append(f"serving on {url} (OpenAI-style SDKs: base_url {url}/v1)")
    lines.append(
        "own URLs: /-/health, /-/reset"
        + (" (admin token required)" if services.settings.admin_token else "")
    )
    return lines


def app_from_environment() -> MockLLMApp:
    """Factory for ``uvicorn --factory`` and worker processes: settings from ``MOCKLLM_*``."""
    return create_app(Settings())


__all__ = ["MockLLMApp", "create_app", "app_from_environment", "startup_summary", "JsonResult"]
