"""CORS for the browser origins the deployment allows (SPOKE_CORS_ALLOWED_ORIGINS).

An allowed Origin gets `Access-Control-Allow-Origin: <that origin>` (or `*` when the deployment allows
any: safe here because the API authenticates with bearer tokens, never cookies, so no credentials mode
is offered) and the headers a client reads exposed; any other origin gets no CORS header and the
browser blocks the response. Preflights (`OPTIONS`) are answered on every route by a route of its own
(`register_preflights`), since neither API Gateway nor `chalice local` reaches the app for a method
that has no route; they are not rate-counted (api/middleware.py).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response
from chalice.app import Request

from chalicelib.api.caching import add_vary, header
from chalicelib.wiring import services

ALLOWED_HEADERS = "Authorization, Content-Type, X-Organization-ID, X-Request-ID, If-None-Match"
EXPOSED_HEADERS = ("X-Request-ID, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, "
                   "ETag, X-Checksum-SHA256, X-Spoke-Version, Location, Content-Length")


def allowed_origin(origin: str | None, allowed: tuple[str, ...]) -> str | None:
    """What Access-Control-Allow-Origin says to `origin`, or None (no CORS headers)."""
    if not origin or not allowed:
        return None
    if allowed == ("*",):
        return "*"
    return origin if origin.lower() in allowed else None


def cors_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    response = get_response(event)
    settings = services().settings
    if not settings.cors_allowed_origins:
        return response
    headers = response.headers
    add_vary(headers, "Origin")  # an answer to one origin is not another's
    origin = allowed_origin(event.headers.get("origin"), settings.cors_allowed_origins)
    if origin is None:
        return response
    headers["Access-Control-Allow-Origin"] = origin
    if event.method == "OPTIONS" and event.headers.get("access-control-request-method"):
        headers["Access-Control-Allow-Methods"] = header(headers, "Allow") or ""
        headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        headers["Access-Control-Max-Age"] = str(settings.cors_max_age_seconds)
    else:
        headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


def _preflight(methods: str) -> Callable[..., Response]:
    def preflight(**_: Any) -> Response:
        """204 with the route's methods in Allow; cors_middleware adds the CORS headers."""
        return Response(body="", status_code=204, headers={"Allow": methods})

    return preflight


def register_preflights(app: Chalice) -> None:
    """An OPTIONS route on every path that has none, answering with that path's methods (call it after
    every blueprint is registered)."""
    for path, routes in list(app.routes.items()):
        if "OPTIONS" in routes:
            continue
        methods = ", ".join(sorted({*routes, "OPTIONS"}))
        name = "preflight_" + (re.sub(r"\W+", "_", path).strip("_") or "root")
        app.route(path, methods=["OPTIONS"], name=name)(_preflight(methods))
