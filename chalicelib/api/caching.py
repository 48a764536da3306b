"""Who may keep a response, decided in one place.

Every response depends on the caller's bearer (an API token acts in its own organization without any
header) and on X-Organization-ID, so every response says `Vary: Authorization, X-Organization-ID`: no
cache may hand it to a request that differs in either. A view that knows its answer may be kept says
so (a file: `public` in the default organization, `private` in a named one); anything else, and every
error whatever the view said, is `no-store`. And no browser may sniff a file's text into HTML
(`X-Content-Type-Options: nosniff`, as API Gateway's own responses say: infra/template.yaml).
"""
from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from chalice import Response
from chalice.app import Request

NOT_STORED = "no-store"
VARY_ON = ("Authorization", "X-Organization-ID")


def header(headers: MutableMapping[str, Any], name: str) -> str | None:
    return next((str(value) for key, value in headers.items() if key.lower() == name.lower()), None)


def add_vary(headers: MutableMapping[str, Any], *names: str) -> None:
    """Merge `names` into the response's Vary (whatever its spelling), each once."""
    key = next((k for k in headers if k.lower() == "vary"), "Vary")
    present = [part.strip() for part in str(headers.get(key) or "").split(",") if part.strip()]
    known = {part.lower() for part in present}
    headers[key] = ", ".join(present + [name for name in names if name.lower() not in known])


def cache_control_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    response = get_response(event)
    headers = response.headers
    if response.status_code >= 400 or header(headers, "Cache-Control") is None:
        for key in [k for k in headers if k.lower() == "cache-control"]:
            del headers[key]
        headers["Cache-Control"] = NOT_STORED
    add_vary(headers, *VARY_ON)
    headers["X-Content-Type-Options"] = "nosniff"
    return response
