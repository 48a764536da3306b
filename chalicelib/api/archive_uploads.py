"""/modules/{name}/uploads: where a module too large for a request body is sent, straight to S3."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import api_view, envelope, json_object, request_context
from chalicelib.wiring import services

bp = Blueprint(__name__)
view = api_view(lambda: bp.current_request)


@bp.route("/modules/{name}/uploads", methods=["POST"], content_types=["application/json"])
@view
def create_upload(name: str) -> Response:
    """201 with a presigned POST (url, fields) for one .zip or .tar.gz; publish it with {"upload_id"}."""
    request = bp.current_request
    if (request.raw_body or b"").strip():
        json_object(request)  # an empty object, or none: nothing to choose yet
    return envelope(services().uploads.grant(request_context(request), name), 201)
