"""/health and /metrics."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import api_view, envelope
from chalicelib.wiring import services

bp = Blueprint(__name__)
view = api_view(lambda: bp.current_request)


@bp.route("/health", methods=["GET"])
@view
def health() -> Response:
    report = services().system.health()
    return envelope(report, 200 if report["status"] == "ok" else 503)


@bp.route("/metrics", methods=["GET"])
@view
def metrics() -> Response:
    return Response(body=services().system.metrics(), status_code=200,
                    headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
