"""GET /ui (the single page) and GET /ui/{asset} (its scripts and styles).

Not API routes: no envelope, not rate-counted (api/middleware.py), revalidated by ETag. The page may
run only its own scripts and talk only to its own origin (Content-Security-Policy), so even a value
that slipped past the pages' escaping could neither run nor send data elsewhere.
"""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import error_envelope
from chalicelib.ui.assets import INDEX, Asset, assets, index

bp = Blueprint(__name__)

CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
UI_HEADERS = {"Cache-Control": "no-cache", "Content-Security-Policy": CONTENT_SECURITY_POLICY,
              "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


def _serve(asset: Asset) -> Response:
    headers: dict[str, str | list[str]] = {**UI_HEADERS, "ETag": asset.etag}
    held = bp.current_request.headers.get("if-none-match") or ""
    if asset.etag in [tag.strip().removeprefix("W/") for tag in held.split(",")]:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=asset.body, status_code=200, headers={**headers, "Content-Type": asset.content_type})


def _request_path() -> str | None:
    context = bp.current_request.context or {}
    return context.get("path")


@bp.route("/ui", methods=["GET"])
def ui_page() -> Response:
    return _serve(index(_request_path()))


@bp.route("/ui/{asset}", methods=["GET"])
def ui_asset(asset: str) -> Response:
    if asset == INDEX:
        return _serve(index(_request_path()))
    found = assets().get(asset)
    if found is None:
        return error_envelope("NOT_FOUND", "No such file in the web UI", 404)
    return _serve(found)

