"""The dashboard at ``/-/``: a page that shows the request journal live, each request's
conversation and timing, the rules in force with their hit counts, and config errors.

Plain static files (``static/``: ``index.html``, ``app.js``, ``style.css``), no build step
and nothing fetched from elsewhere: the page works offline. It reads the admin API
(``GET /-/requests``, ``GET /-/rules``) from the browser, so it holds no data itself and is
served without the admin token; when ``MOCKLLM_ADMIN_TOKEN`` is set, the page sends it on
its API calls (taken from the URL fragment, ``/-/#token=...``, or typed into the page).

* ``GET /-/``: the page;
* ``GET /-/static/{name}``: a file of ``static/`` (only those: a name is looked up among
  the files shipped there, never joined to a path).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from ..services import Services

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
"""The content type of each kind of file ``static/`` may hold (others are not served)."""

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""The page's Content-Security-Policy: its own script and style only, no inline code, no
request to anywhere but this server (request content it shows can never run)."""

HEADERS = {
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "content-security-policy": CSP,
}


@functools.cache
def static_files() -> dict[str, tuple[bytes, str]]:
    """The files of ``static/`` by name: their content and content type (read once)."""
    folder = resources.files(__name__).joinpath("static")
    files: dict[str, tuple[bytes, str]] = {}
    for item in folder.iterdir():
        name = item.name
        suffix = name[name.rfind(".") :] if "." in name else ""
        if name.startswith(".") or suffix not in MEDIA_TYPES or not item.is_file():
            continue
        files[name] = (item.read_bytes(), MEDIA_TYPES[suffix])
    return files


def _file(name: str) -> Response:
    found = static_files().get(name)
    if found is None:
        return JSONResponse(
            {"error": {"message": f"no dashboard file {name!r}", "type": "not_found_error"}},
            status_code=404,
        )
    content, media_type = found
    return Response(content, media_type=media_type, headers=HEADERS)


def routes(services: Services) -> list[BaseRoute]:
    """The dashboard's routes: the page and its static files (both public: the data comes
    from the admin API, which the admin token guards)."""

    async def page(_request: Request) -> Response:
        return _file("index.html")

    async def static(request: Request) -> Response:
        return _file(str(request.path_params["name"]))

    return [
        Route("/-/", page, methods=["GET"]),
        Route("/-/static/{name}", static, methods=["GET"]),
    ]


__all__ = ["CSP", "MEDIA_TYPES", "routes", "static_files"]
