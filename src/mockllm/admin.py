"""mockllm's own HTTP API under ``/-/`` (a public contract: tests outside this repo use
these paths).

* ``GET /-/requests``: the journal, newest last, ``{"data": [entry...]}``; filters
  ``?model=``, ``?rule=``, ``?dialect=``, ``?conversation=``, ``?path=``, ``?status=``,
  ``?stream=``, ``?since=`` (an entry id, or a time); ``?limit=``; ``?format=jsonl``;
* ``DELETE /-/requests``: clears the journal;
* ``GET /-/rules``: the rules in force, with per-rule hit counts;
* ``PUT /-/rules``: replaces the config in force (YAML or JSON, the file's format),
  validated like the file: an invalid body is a 400 listing the problems, nothing changes;
* ``POST /-/rules``: adds rules (``rules:`` and/or ``responses:``) in front of the others,
  until reset or a file reload;
* ``POST /-/reset``: journal, sequence counters, fault counters, rate buckets, runtime
  rules and stores start over;
* ``GET /-/health``, ``GET /-/ready``: liveness; readiness (config loaded, and the shared
  state reachable: else a 503 saying why);
* ``GET /-/stats``: sizes of what the server keeps.

When ``MOCKLLM_ADMIN_TOKEN`` is set, every call but ``/-/health`` needs
``Authorization: Bearer <token>`` (else a 401 that changes nothing). Errors are
``{"error": {"message", "type"[, "problems"]}}``.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from . import dashboard, metrics
from .core.errors import MockError
from .journal import FILTERS, jsonl
from .rules.loader import ConfigError, LoadedConfig, parse_config

if TYPE_CHECKING:
    from .services import Services

Handler = Callable[[Request], Awaitable[Response]]

MAX_RULES_BODY = 4 * 1024 * 1024
"""The largest config a ``PUT`` / ``POST /-/rules`` accepts (bytes)."""


def error(status: int, message: str, kind: str, **extra: Any) -> Response:
    return JSONResponse({"error": {"message": message, "type": kind, **extra}}, status_code=status)


def guarded(services: Services, handler: Handler) -> Handler:
    """``handler`` behind the admin token: when ``admin_token`` is set, a request without
    ``Authorization: Bearer <token>`` gets a 401 and changes nothing."""
    token = services.settings.admin_token

    async def endpoint(request: Request) -> Response:
        if token:
            sent = request.headers.get("authorization", "")
            scheme, _, value = sent.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip(), token):
                return error(
                    401,
                    "mockllm admin API: send 'Authorization: Bearer <MOCKLLM_ADMIN_TOKEN>'.",
                    "authentication_error",
                )
        try:
            return await handler(request)
        except MockError as exc:  # the shared state is unavailable
            return error(exc.status, exc.message, "unavailable", code=exc.code)

    return endpoint


async def health(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _rules_view(services: Services, hits: Mapping[str, int]) -> dict[str, Any]:
    store = services.store
    config = store.current.config
    ruleset = config.rules
    rules = [
        {
            "name": rule.name,
            "priority": rule.priority,
            "location": str(rule.location) if rule.location else None,
            "conditions": [c.description for c in rule.conditions],
            "replies": len(rule.replies),
            "after_sequence": rule.after_sequence,
            "hits": hits.get(rule.name, 0),
        }
        for rule in ruleset.rules
    ]
    return {
        "source": config.source,
        "responses": dict(ruleset.responses),
        "responses_hits": hits.get("responses", 0),
        "rules": rules,
        "added": store.added,
        "reloads": store.reloads,
        "last_error": str(store.last_error) if store.last_error else None,
    }


def _problems(exc: ConfigError) -> Response:
    problems = [str(p) for p in exc.problems]
    return error(
        400,
        f"invalid config: {len(problems)} problem(s); nothing was changed",
        "invalid_request_error",
        problems=problems,
    )


async def _config_text(request: Request) -> str | Response:
    body = await request.body()
    if len(body) > MAX_RULES_BODY:
        return error(413, f"the config is over {MAX_RULES_BODY} bytes", "invalid_request_error")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return error(400, "the config is not UTF-8 text", "invalid_request_error")


def _summary(config: LoadedConfig) -> dict[str, Any]:
    return {
        "rules": len(config.rules.rules),
        "responses": len(config.rules.responses),
        "warnings": [str(w) for w in config.warnings],
    }


def routes(services: Services) -> list[BaseRoute]:
    """The ``/-/`` routes of one app (see the module docstring)."""
    journal = services.journal
    store = services.store
    backend = services.backend

    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            await journal.forget()
            return JSONResponse({"cleared": True})
        params = dict(request.query_params)
        fmt = params.pop("format", "json")
        since = params.pop("since", None)
        limit_text = params.pop("limit", None)
        limit = None
        if limit_text is not None:
            if not (limit_text.isascii() and limit_text.isdigit()) or len(limit_text) > 9:
                return error(
                    400,
                    f"limit: a whole number from 0 to 999999999, got {limit_text[:40]!r}",
                    "invalid_request_error",
                )
            limit = int(limit_text)
        try:
            entries = await journal.fetch(params, since, limit)
        except ValueError as exc:
            return error(400, str(exc), "invalid_request_error", filters=list(FILTERS))
        if fmt == "jsonl":
            return Response(jsonl(entries), media_type="application/x-ndjson")
        if fmt != "json":
            return error(400, f"format: json or jsonl, got {fmt!r}", "invalid_request_error")
        return JSONResponse({"data": [e.as_dict() for e in entries]})

    async def rules(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(_rules_view(services, await journal.hit_counts()))
        text = await _config_text(request)
        if isinstance(text, Response):
            return text
        kind, source = (
            ("replace", "PUT /-/rules") if request.method == "PUT" else ("add", "POST /-/rules")
        )
        try:  # parsed in a thread: a big config does not stop the traffic
            if backend.shared:  # checked, then shared (a 503 changes nothing), then applied
                await asyncio.to_thread(parse_config, text, source, store.limits)
                await backend.rules_changed(kind, text)
            apply = store.replace if kind == "replace" else store.add
            config = await asyncio.to_thread(apply, text, source)
        except ConfigError as exc:
            return _problems(exc)
        return JSONResponse(_summary(config))

    async def reset(_request: Request) -> Response:
        await backend.reset()
        return JSONResponse({"reset": services.reset()})

    async def stats(_request: Request) -> Response:
        return JSONResponse({**services.stats(), **backend.describe()})

    async def ready(_request: Request) -> Response:
        config = store.current.config
        problem = await backend.ready()
        return JSONResponse(
            {
                "status": "ready" if problem is None else "unavailable",
                "config": config.source,
                "state": backend.url,
                "reason": problem,
                "last_error": str(store.last_error) if store.last_error else None,
            },
            status_code=200 if problem is None else 503,
        )

    return [
        *(
            Route(route.path, only(route.methods or set(), route.endpoint), methods=ANY_METHOD)
            for route in (
                Route("/-/health", health, methods=["GET"]),
                Route("/-/ready", guarded(services, ready), methods=["GET"]),
                Route("/-/requests", guarded(services, requests), methods=["GET", "DELETE"]),
                Route("/-/rules", guarded(services, rules), methods=["GET", "PUT", "POST"]),
                Route("/-/reset", guarded(services, reset), methods=["POST"]),
                Route("/-/stats", guarded(services, stats), methods=["GET"]),
                *metrics.routes(services),
                *dashboard.routes(services),
            )
            if isinstance(route, Route)
        )
    ]


ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
"""What a ``/-/`` route takes in, to answer a method it does not serve with a JSON 405."""


def only(methods: set[str], handler: Handler) -> Handler:
    """``handler`` for ``methods`` (HEAD with GET); another method gets a JSON 405 with
    ``Allow`` (mockllm's own error shape, not a plain-text page)."""
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    async def endpoint(request: Request) -> Response:
        if request.method not in allowed:
            response = error(
                405,
                f"Method {request.method} not allowed for {request.url.path}; "
                f"allowed: {', '.join(sorted(allowed))}.",
                "method_not_allowed",
            )
            response.headers["allow"] = ", ".join(sorted(allowed))
            return response
        return await handler(request)

    return endpoint


__all__ = ["MAX_RULES_BODY", "guarded", "health", "only", "routes"]
