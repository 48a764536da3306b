"""HTTP middleware: a request id on every response, Chalice's own errors in our envelope, and the
per-organization rate limit with its X-RateLimit-* headers."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice import Response
from chalice.app import Request

from chalicelib.api.http import (
    error_envelope,
    new_request_id,
    org_ref_of,
    principal,
    request_context,
    request_id_var,
    source_ip,
)
from chalicelib.wiring import services

if TYPE_CHECKING:  # annotations only: a cold start does not load pydantic models
    from chalicelib.domain.rate_limits import RateScope, RateStatus

_CHALICE_CODES = {
    "UnsupportedMediaType": "UNSUPPORTED_MEDIA_TYPE",
    "MethodNotAllowedError": "METHOD_NOT_ALLOWED",
    "BadRequest": "BAD_REQUEST",
    "BadRequestError": "BAD_REQUEST",
    "NotFoundError": "NOT_FOUND",
    "InternalServerError": "INTERNAL_ERROR",
}


def request_id_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    request_id_var.set(new_request_id(event.headers.get("x-request-id")))
    response = get_response(event)
    body = response.body
    if isinstance(body, dict) and "Code" in body and "Message" in body:
        message = str(body["Message"]) if response.status_code < 500 else "Internal server error"
        response = error_envelope(_CHALICE_CODES.get(body["Code"], "BAD_REQUEST"), message,
                                  response.status_code, headers=_keep_headers(response.headers))
    response.headers["X-Request-ID"] = request_id_var.get()
    return response


def _keep_headers(headers: dict[str, Any]) -> dict[str, str]:
    """What survives re-wrapping Chalice's own error: Allow (405) and the rate headers set inside."""
    return {k: v for k, v in headers.items() if k.lower() == "allow" or k.lower().startswith("x-ratelimit-")}


# Polled by load balancers and scrapers (every few seconds, anonymously): never counted, no rate headers.
# Nor are CORS preflights (OPTIONS): the browser sends one before the request that is counted.
UNCOUNTED = frozenset({("GET", "/health"), ("GET", "/metrics"),
                       # the API's description and its docs page: static, and a page load is 4 requests
                       ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/{asset}"),
                       # the web UI's page and its scripts and styles (its API calls are counted)
                       ("GET", "/ui"), ("GET", "/ui/{asset}")})
UNCOUNTED_METHODS = frozenset({"OPTIONS"})


def rate_limit_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Count the request against its scope before the view runs: over the plan's hourly rate it is a 429
    and the view does not run; otherwise the response carries the X-RateLimit-* headers. When the
    counter store fails, the request is answered without rate headers (fail open, logged)."""
    if event.method in UNCOUNTED_METHODS or (event.method, event.path) in UNCOUNTED:
        return get_response(event)
    status = services().rate_limits.hit(rate_scope(event))
    if status is None:
        return get_response(event)
    headers = rate_headers(status)
    if status.exceeded:
        error = status.exceeded_error()
        return error_envelope(error.code, error.message, 429, error.details,
                              headers={**headers, "Retry-After": str(status.retry_after)})
    response = get_response(event)
    response.headers.update(headers)
    return response


def rate_scope(request: Request) -> RateScope:
    """Whom this request counts against. Resolves the caller and organization the view will reuse;
    an invalid bearer or an organization the caller cannot act in only narrows the scope here (the
    view answers 401 / 404 for them, and that answer is counted too)."""
    from chalicelib.domain.rate_limits import scope_for

    try:
        who = principal(request)
    except Exception:  # noqa: BLE001 - an invalid bearer counts as anonymous
        who = None
    if who is None:
        return scope_for(None, None, source_ip(request))
    ref = who.org_id if who.kind == "api_token" and who.org_id else org_ref_of(request)
    try:
        org = request_context(request, ref).org
    except Exception:  # noqa: BLE001 - not a member (or no such organization): counted per user
        org = None
    return scope_for(who, org, source_ip(request))


def rate_headers(status: RateStatus) -> dict[str, str]:
    return {"X-RateLimit-Limit": str(status.limit), "X-RateLimit-Remaining": str(status.remaining),
            "X-RateLimit-Reset": str(status.window.reset)}
