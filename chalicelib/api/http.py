"""Request parsing and the response envelope shared by every view.

`api_view` is the single wrapper every route uses: it maps domain errors to their HTTP status,
hides unexpected failures behind a plain 500, and hands each successful mutation to the audit log.

The caller and organization of a request are resolved once: the rate-limit middleware resolves them
before the view (to know whom the request counts against), and `principal()` / `request_context()`
in the view answer from that resolution, failures included, so authentication and membership are
never read twice in one request.
"""
from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalice import Response
from chalice.app import Request

from chalicelib.api.errors import status_for
from chalicelib.domain.audit import AuditRecord
from chalicelib.domain.errors import DomainError, InvalidJson, PayloadTooLarge, Unauthorized, ValidationFailed
from chalicelib.domain.json_text import parse_json
from chalicelib.services.common import utc_now
from chalicelib.wiring import services

if TYPE_CHECKING:  # annotations only: a cold start does not load pydantic models
    from chalicelib.domain.models import Principal, RequestContext

logger = logging.getLogger("spoke.api")
request_id_var: ContextVar[str] = ContextVar("request_id", default="")
context_var: ContextVar[RequestContext | None] = ContextVar("request_context", default=None)
principal_var: ContextVar[Principal | None] = ContextVar("principal", default=None)


@dataclass
class _Resolution:
    """What one request's bearer and organization references resolved to (a result or the error)."""

    request: Request
    principal_known: bool = False
    principal: Principal | None = None
    principal_error: Exception | None = None
    contexts: dict[str, RequestContext | Exception] = field(default_factory=dict)


_resolution_var: ContextVar[_Resolution | None] = ContextVar("resolution", default=None)

_MUTATIONS = {"POST", "PUT", "PATCH", "DELETE"}


def new_request_id(incoming: str | None) -> str:
    if incoming and 8 <= len(incoming) <= 128 and all(c.isascii() and (c.isalnum() or c in "-_.") for c in incoming):
        return incoming
    return f"req-{uuid.uuid4().hex}"


def meta() -> dict[str, str]:
    return {"request_id": request_id_var.get(),
            "timestamp": utc_now()}


def envelope(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body={"data": data, "error": None, "meta": meta()}, status_code=status,
                    headers={"Content-Type": "application/json", **(headers or {})})


def error_envelope(code: str, message: str, status: int, details: dict | None = None,
                   validation_errors: list | None = None, headers: dict[str, str] | None = None) -> Response:
    error = {"code": code, "message": message, "details": details or {},
             "validation_errors": validation_errors or []}
    return Response(body={"data": None, "error": error, "meta": meta()}, status_code=status,
                    headers={"Content-Type": "application/json", **(headers or {})})


def api_view(request_of: Callable[[], Request]) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> Response:
            request = request_of()  # the per-request state was reset by the middleware (begin_request)
            try:
                response = view(**kwargs)
            except DomainError as error:
                retry_after = getattr(error, "retry_after", None)
                response = error_envelope(error.code, error.message, status_for(error), error.details,
                                          error.validation_errors,
                                          headers=({"Retry-After": str(retry_after)}
                                                   if retry_after is not None else None))
            except Exception:  # noqa: BLE001 - never leak a stack trace or AWS text
                # JSON with Spoke's request id, Lambda's and the stack (adapters/telemetry.py)
                logger.exception("unhandled error on %s %s (request %s)", request.method, request.path,
                                 request_id_var.get(), extra={"route": route_of(request)})
                response = error_envelope("INTERNAL_ERROR", "Internal server error: the request was not "
                                          "completed; retry later or report the request id", 500)
            if request.method in _MUTATIONS and response.status_code < 400:
                record = audit_record(request, response.status_code)
                try:
                    services().audit.record(record)
                except Exception:  # noqa: BLE001 - the mutation succeeded; its record stays in the log
                    logger.exception("audit trail unavailable", extra={"audit": record.as_dict()})
            return response
        return wrapper
    return decorate


def route_of(request: Request) -> str:
    """The route pattern API Gateway matched (`/modules/{name}`; Chalice's `request.path`)."""
    return request.path


def raw_path(request: Request) -> str:
    """The path the caller sent (`/modules/user`): API Gateway's `path`, chalice local's requestContext's."""
    event = request.to_original_event()
    return str(event.get("path") or (event.get("requestContext") or {}).get("path") or request.path)


def audit_record(request: Request, status: int) -> AuditRecord:
    """Who did what to which resource, from this request's resolved caller and organization."""
    ctx, who = context_var.get(), principal_var.get()
    who = ctx.principal if ctx is not None and ctx.principal is not None else who
    org = ctx.org if ctx is not None else None
    lambda_context = getattr(request, "lambda_context", None)
    return AuditRecord(request_id=request_id_var.get(), action=f"{request.method} {route_of(request)}",
                       path=raw_path(request), status=status,
                       organization=org.id if org is not None else None,
                       actor=who.user_id if who is not None else None,
                       api_token_id=who.token_id if who is not None and who.kind == "api_token" else None,
                       resource={k: str(v) for k, v in (request.uri_params or {}).items()},
                       lambda_request_id=getattr(lambda_context, "aws_request_id", None))


def body_bytes(request: Request) -> bytes:
    raw = request.raw_body or b""
    if isinstance(raw, str):  # chalice declares str | bytes; it hands over bytes
        raw = raw.encode()
    limit = services().settings.max_body_bytes
    if len(raw) > limit:
        raise PayloadTooLarge(f"Request body is {len(raw)} bytes; the limit is {limit} bytes",
                              details={"limit_bytes": limit, "size_bytes": len(raw)})
    return raw


def json_object(request: Request) -> dict[str, Any]:
    raw = body_bytes(request)
    if not raw.strip():
        raise InvalidJson("Request body is empty: send a JSON object")
    value = parse_json(raw)
    if not isinstance(value, dict):
        raise InvalidJson("Request body must be a JSON object")
    return value


def required_text(body: dict[str, Any], *fields: str) -> None:
    missing = [f for f in fields if not isinstance(body.get(f), str) or not body.get(f)]
    if missing:
        raise ValidationFailed(f"Missing or invalid field(s): {', '.join(missing)}", validation_errors=[
            {"field": f, "code": "REQUIRED" if f not in body else "INVALID_TYPE",
             "message": "is required" if f not in body else "must be a non-empty string"} for f in missing])


def begin_request(request: Request) -> None:
    """Forget the previous request's caller, context and resolution (a Lambda container serves many)."""
    _resolution_var.set(_Resolution(request))
    context_var.set(None)
    principal_var.set(None)


def _resolution(request: Request) -> _Resolution:
    state = _resolution_var.get()
    if state is None or state.request is not request:  # a request the middleware did not begin
        state = _Resolution(request)
        _resolution_var.set(state)
    return state


def _authenticate(request: Request) -> Principal | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    return services().accounts.authenticate(token.strip())


def principal(request: Request) -> Principal | None:
    """The caller from `Authorization: Bearer` (a session or an API token), or None when the header is
    absent; an invalid one raises Unauthorized. Authenticated once per request, however often asked."""
    state = _resolution(request)
    if not state.principal_known:
        try:
            state.principal = _authenticate(request)
        except Exception as error:  # noqa: BLE001 - kept, and raised to whoever asks
            state.principal_error = error
        state.principal_known = True
    if state.principal_error is not None:
        raise state.principal_error
    principal_var.set(state.principal)
    return state.principal


def request_context(request: Request, org_ref: str | None = None) -> RequestContext:
    """Caller and organization of this request (X-Organization-ID unless the path names one), resolved
    once per request and organization reference."""
    ref = org_ref if org_ref is not None else request.headers.get("x-organization-id")
    state = _resolution(request)
    known = state.contexts.get(ref or "")
    if known is None:
        try:
            known = services().organizations.context_for(request_id_var.get(), principal(request), ref)
        except Exception as error:  # noqa: BLE001 - kept, and raised to whoever asks
            known = error
        state.contexts[ref or ""] = known
    if isinstance(known, Exception):
        raise known
    context_var.set(known)
    return known


def org_ref_of(request: Request) -> str | None:
    """The organization a request names, as its view will: the path's `{org_id}`, GET /modules's `?org=`,
    else the X-Organization-ID header (None: the default organization)."""
    path_ref = (request.uri_params or {}).get("org_id")
    if path_ref is not None:
        return path_ref
    if request.method == "GET" and request.path == "/modules" and query_param(request, "org"):
        return query_param(request, "org")
    return request.headers.get("x-organization-id")


def query_param(request: Request, name: str) -> str | None:
    params = request.query_params
    return params.get(name) if params else None


def source_ip(request: Request) -> str:
    """The caller's address as API Gateway saw it (`requestContext.identity.sourceIp`), never a header
    the caller could forge (X-Forwarded-For)."""
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")
