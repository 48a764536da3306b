"""GET /organizations/{org_id}/audit: an organization's audit trail, for its admins and owners."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.http import api_view, envelope, query_param, request_context
from chalicelib.domain.audit import AuditRecord
from chalicelib.wiring import services

bp = Blueprint(__name__)
view = api_view(lambda: bp.current_request)


def audit_json(record: AuditRecord) -> dict[str, Any]:
    return {"at": record.at, "request_id": record.request_id, "action": record.action, "path": record.path,
            "resource": record.resource, "status": record.status, "organization": record.organization,
            "actor": {"user_id": record.actor, "api_token_id": record.api_token_id}}


@bp.route("/organizations/{org_id}/audit", methods=["GET"])
@view
def list_audit(org_id: str) -> Response:
    request = bp.current_request
    found, next_cursor, limit = services().audit.list(
        request_context(request, org_id), query_param(request, "actor"), query_param(request, "action"),
        query_param(request, "limit"), query_param(request, "cursor"))
    return envelope({"records": [audit_json(r) for r in found],
                     "pagination": {"limit": limit, "has_more": next_cursor is not None,
                                    "next_cursor": next_cursor}})
