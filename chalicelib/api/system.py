"""/health and /metrics: their detail is for operators (services/system.py says who they are)."""
from __future__ import annotations

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api.http import api_view, envelope, source_ip
from chalicelib.wiring import services

bp = Blueprint(__name__)
view = api_view(lambda: bp.current_request)


def _bearer(request: Request) -> str | None:
    """`Authorization: Bearer <token>`'s token, or None (any other header is no operator's)."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


@bp.route("/health", methods=["GET"])
@view
def health() -> Response:
    request = bp.current_request
    report = services().system.health(_bearer(request), source_ip(request))
    return envelope(report, 200 if report["status"] == "ok" else 503)


@bp.route("/metrics", methods=["GET"])
@view
def metrics() -> Response:
    request = bp.current_request
    return Response(body=services().system.metrics(_bearer(request), source_ip(request)), status_code=200,
                    headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
