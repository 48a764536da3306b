"""One access line and the request metrics for every HTTP request, and the fields of its other lines.

`access_log_middleware` is registered first in app.py (outermost): it sees every answer, 429s and
Chalice's own errors included, and an exception no inner layer caught (logged with both request ids
and its stack, answered with the 500 envelope). At the end of the request it writes one JSON line
(logger `spoke.access`) and the request's metrics, then flushes every metric the request counted.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from chalice import Response
from chalice.app import Request

from chalicelib.adapters import telemetry
from chalicelib.api.http import (
    begin_request,
    context_var,
    error_envelope,
    principal_var,
    raw_path,
    request_id_var,
    route_of,
)
from chalicelib.wiring import services

logger = logging.getLogger("spoke.access")


def request_fields() -> dict[str, Any]:
    """What every log line of the current request says of it: Spoke's request id, organization, caller."""
    ctx, who = context_var.get(), principal_var.get()
    who = ctx.principal if ctx is not None and ctx.principal is not None else who
    return {"request_id": request_id_var.get() or None,
            "organization": ctx.org.id if ctx is not None else None,
            "principal": who.user_id if who is not None else None}


telemetry.add_fields_provider(request_fields)


def access_log_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    started = time.perf_counter()
    settings = services().settings
    telemetry.configure_logging(settings.log_level)
    tracer = telemetry.configure_tracing(settings.tracing)
    request_id_var.set("")  # a container serves many requests: nothing of the previous one
    begin_request(event)
    route = route_of(event)
    telemetry.begin_invocation(getattr(event, "lambda_context", None), method=event.method, route=route)
    try:
        if tracer is not None:
            with tracer.provider.in_subsegment(f"## {event.method} {route}") as subsegment:
                subsegment.put_annotation("route", route)
                response = get_response(event)
        else:
            response = get_response(event)
    except Exception:
        logger.exception("unhandled error on %s %s", event.method, raw_path(event))
        response = error_envelope("INTERNAL_ERROR", "Internal server error: the request was not completed; "
                                  "retry later or report the request id", 500)
        if request_id_var.get():
            response.headers["X-Request-ID"] = request_id_var.get()
    finish(event, route, response.status_code, started, str(response.headers.get("X-Request-ID") or "") or None)
    return response


def finish(event: Request, route: str, status: int, started: float, request_id: str | None) -> None:
    """The access line and the request's metrics, then every metric of this request written out."""
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    logger.info("%s %s %s", event.method, route, status,
                extra={"status": status, "latency_ms": latency_ms, "path": raw_path(event),
                       **({"request_id": request_id} if request_id else {})})
    metrics = services().metrics
    dimensions = {"route": f"{event.method} {route}"}
    metrics.count("Requests", 1, dimensions)
    if status >= 500:
        metrics.count("Errors", 1, dimensions)
    elif status >= 400:
        metrics.count("ClientErrors", 1, dimensions)
    metrics.milliseconds("Latency", latency_ms, dimensions)
    metrics.flush()
