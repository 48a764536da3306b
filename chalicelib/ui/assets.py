"""The UI's static files, read once per container from the package (chalicelib/ui/static/).

Only files of this folder with a known type are served, by their bare name: an asset name is one
path segment looked up in a dict, so no request can reach another file.
"""
from __future__ import annotations

import functools
import hashlib
import html
from dataclasses import dataclass
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Text only: API Gateway passes a text body through as it is (a binary type, e.g. image/*, would need base64).
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8"}
INDEX = "index.html"
BASE_MARKER = "{{BASE}}"  # index.html's <base href>: where /ui/ is, stage or base path included
UI_ROUTE = "/ui"


@dataclass(frozen=True)
class Asset:
    body: str
    content_type: str
    etag: str


def _asset(body: str, content_type: str) -> Asset:
    return Asset(body, content_type, '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"')


@functools.cache
def assets() -> dict[str, Asset]:
    """Every servable file by name."""
    found = {}
    for path in sorted(STATIC_DIR.iterdir()):
        content_type = CONTENT_TYPES.get(path.suffix)
        if path.is_file() and content_type is not None and path.name != INDEX:
            found[path.name] = _asset(path.read_text(encoding="utf-8"), content_type)
    return found


@functools.cache
def _index_template() -> str:
    return (STATIC_DIR / INDEX).read_text(encoding="utf-8")


def ui_base(request_path: str | None) -> str:
    """The path of /ui/ as the browser sees it. On API Gateway the request's path carries the stage
    (`/dev/ui/`) or a custom domain's base path; locally it is `/ui/`. Relative URLs resolve against it."""
    path = (request_path or UI_ROUTE).split("?")[0].rstrip("/")
    for suffix in (f"{UI_ROUTE}/{INDEX}", UI_ROUTE):
        if path.endswith(suffix):
            return path[: -len(suffix)] + UI_ROUTE + "/"
    return UI_ROUTE + "/"


def index(request_path: str | None) -> Asset:
    """index.html with its <base href> set for this deployment (escaped: it comes from the request)."""
    body = _index_template().replace(BASE_MARKER, html.escape(ui_base(request_path), quote=True))
    return _asset(body, CONTENT_TYPES[".html"])
