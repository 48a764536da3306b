"""GET /openapi.json (the API's description, built from the code on first request) and GET /docs (Swagger UI,
served from the swagger-ui-bundle package's files: no CDN, so it works offline and under a strict CSP)."""
from __future__ import annotations

import functools
import json

from chalice import Blueprint, Response

from chalicelib.api.http import api_view, raw_path
from chalicelib.domain.errors import NotFound

bp = Blueprint(__name__)
view = api_view(lambda: bp.current_request)

DOCUMENT_PATH = "/openapi.json"
# The page's own script (no inline script: the CSP below forbids it) and Swagger UI's two files.
INITIALIZER = "spoke-docs.js"
ASSETS = {"swagger-ui-bundle.js": "application/javascript; charset=utf-8",
          "swagger-ui.css": "text/css; charset=utf-8",
          INITIALIZER: "application/javascript; charset=utf-8"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Spoke API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script src="docs/spoke-docs.js"></script>
</body>
</html>
"""
INITIALIZER_SCRIPT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true,
                               presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout"});
});
"""


@functools.cache
def _document(server_url: str) -> str:
    from chalicelib.openapi.document import build  # pydantic and the models: only when asked for

    return json.dumps(build(server_url), separators=(",", ":"))


def _mount_point() -> str:
    """Where the API is mounted: `/` locally, `/<stage>` under API Gateway's default domain (its
    requestContext.path holds the stage, or a custom domain's base path; the event's `path` does not)."""
    request = bp.current_request
    path = str((request.to_original_event().get("requestContext") or {}).get("path") or raw_path(request))
    prefix = path[: -len(DOCUMENT_PATH)] if path.endswith(DOCUMENT_PATH) else ""
    return prefix or "/"


@bp.route(DOCUMENT_PATH, methods=["GET"])
@view
def openapi_document() -> Response:
    return Response(body=_document(_mount_point()), status_code=200,
                    headers={"Content-Type": "application/json", "Cache-Control": "public, max-age=300"})


@bp.route("/docs", methods=["GET"])
@view
def docs_page() -> Response:
    return Response(body=PAGE, status_code=200, headers={
        "Content-Type": "text/html; charset=utf-8", "Cache-Control": "public, max-age=300",
        "Content-Security-Policy": CSP})


@functools.cache
def _asset(name: str) -> str:
    if name == INITIALIZER:
        return INITIALIZER_SCRIPT
    from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]  # Swagger UI's distribution

    return (swagger_ui_path / name).read_text(encoding="utf-8")


@bp.route("/docs/{asset}", methods=["GET"])
@view
def docs_asset(asset: str) -> Response:
    if asset not in ASSETS:
        raise NotFound(f"No documentation asset '{asset[:100]}'", details={"known": sorted(ASSETS)})
    return Response(body=_asset(asset), status_code=200,
                    headers={"Content-Type": ASSETS[asset], "Cache-Control": "public, max-age=86400"})
