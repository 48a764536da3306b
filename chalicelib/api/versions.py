"""/modules/{name}/versions and their files."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api.http import api_view, envelope, json_object, query_param, request_context
from chalicelib.api.uploads import read_upload
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.paths import MAX_PATH_DEPTH
from chalicelib.services.common import PageRequest
from chalicelib.wiring import services

if TYPE_CHECKING:  # annotations only: a cold start does not load pydantic models
    from chalicelib.domain.models import ModuleVersion

bp = Blueprint(__name__)
view = api_view(lambda: bp.current_request)
UPLOAD_CONTENT_TYPES = ["application/json", "multipart/form-data"]


def _version_json(record: ModuleVersion, detailed: bool) -> dict:
    files = ([{"path": f.path, "size": f.size, "checksum": f.checksum} for f in record.files] if detailed
             else [f.path for f in record.files])
    data = {"module": record.module, "version": record.version, "description": record.description,
            "created_at": record.created_at, "files": files, "dependencies": list(record.dependencies)}
    if not detailed:
        return data
    return {**data, "compiled_languages": list(record.compiled_languages), "compilation": record.compilation}


def _archive_publish(request: Request) -> dict[str, Any] | None:
    """The JSON body when it names an upload ({"version", "upload_id", ...}) instead of carrying files."""
    if request.headers.get("content-type", "application/json").split(";")[0].strip().lower() != "application/json":
        return None
    if b'"upload_id"' not in (request.raw_body or b""):
        return None
    body = json_object(request)
    if "upload_id" not in body:
        return None
    if "files" in body:
        raise ValidationFailed("Send either files or upload_id, not both", validation_errors=[
            {"field": "files", "code": "CONFLICTING_FIELDS", "message": "the files come from the upload"}])
    return body


@bp.route("/modules/{name}/versions", methods=["POST"], content_types=UPLOAD_CONTENT_TYPES)
@view
def publish_version(name: str) -> Response:
    """201 with the new version; 200 with the existing one when this is an identical retry."""
    request = bp.current_request
    archived = _archive_publish(request)
    if archived is not None:
        record, created = services().versions.publish(
            request_context(request), name, archived.get("version"), archived.get("description"), [],
            [archived[field] for field in ("dependencies", "dependency") if field in archived],
            upload_id=archived["upload_id"])
    else:
        upload = read_upload(request)
        record, created = services().versions.publish(request_context(request), name, upload.first("version"),
                                                      upload.first("description"), upload.files,
                                                      upload.all("dependencies", "dependency"))
    return envelope({**_version_json(record, detailed=False), "checked_against": list(record.checked_against)},
                    201 if created else 200)


@bp.route("/validate", methods=["POST"], content_types=UPLOAD_CONTENT_TYPES)
@view
def validate() -> Response:
    request = bp.current_request
    upload = read_upload(request)
    return envelope(services().versions.validate(request_context(request), upload.files,
                                                 upload.all("dependencies", "dependency")))


@bp.route("/modules/{name}/versions/{version}/dependencies", methods=["GET"])
@view
def version_dependencies(name: str, version: str) -> Response:
    resolved = services().versions.dependencies(request_context(bp.current_request), name, unquote(version))
    return envelope({"module": name, "version": unquote(version), "dependencies": resolved})


@bp.route("/modules/{name}/dependents", methods=["GET"])
@view
def module_dependents(name: str) -> Response:
    return envelope({"module": name, "dependents": services().versions.dependents(
        request_context(bp.current_request), name)})


@bp.route("/modules/{name}/versions", methods=["GET"])
@view
def list_versions(name: str) -> Response:
    request = bp.current_request
    page = PageRequest.parse(query_param(request, "page"), query_param(request, "page_size"),
                             query_param(request, "cursor"))
    versions, next_cursor = services().versions.list(request_context(request), name, page)
    return envelope({"module": name, "versions": [v.model_dump() for v in versions],
                     "pagination": {"page": page.page, "page_size": page.page_size,
                                    "has_more": next_cursor is not None, "next_cursor": next_cursor}})


@bp.route("/modules/{name}/versions/{version}", methods=["GET"])
@view
def get_version(name: str, version: str) -> Response:
    record = services().versions.get(request_context(bp.current_request), name, unquote(version))
    return envelope(_version_json(record, detailed=True))


def _held_etags(header: str | None) -> frozenset[str]:
    if not header:
        return frozenset()
    return frozenset(tag.strip().removeprefix("W/").strip('"') for tag in header.split(","))


def get_file(name: str, version: str, **segments: str) -> Response:
    """Chalice has no greedy path parameter, so a route per directory depth lands here."""
    request = bp.current_request
    path = "/".join(unquote(segments[f"p{i}"]) for i in range(len(segments)))
    held = _held_etags(request.headers.get("if-none-match"))
    entry, content = services().versions.get_file(request_context(request), name, unquote(version), path,
                                                  held)
    headers = {"ETag": f'"{entry.sha256}"', "Cache-Control": "public, max-age=31536000, immutable",
               "X-Checksum-SHA256": entry.sha256}
    if content is None or "*" in held:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=content.decode("utf-8"), status_code=200,
                    headers={**headers, "Content-Type": "text/plain; charset=utf-8"})


for _depth in range(1, MAX_PATH_DEPTH + 1):
    _route = "/modules/{name}/versions/{version}/files/" + "/".join(f"{{p{i}}}" for i in range(_depth))
    bp.route(_route, methods=["GET"])(view(get_file))


@bp.route("/languages", methods=["GET"])
@view
def languages() -> Response:
    return envelope(services().compilation.languages())


@bp.route("/modules/{name}/versions/{version}/compile", methods=["POST"])
@view
def request_compilation(name: str, version: str) -> Response:
    request = bp.current_request
    body = json_object(request) if (request.raw_body or b"").strip() else {}
    statuses = services().versions.request_compilation(request_context(request), name, unquote(version),
                                                       body.get("languages"))
    return envelope({"module": name, "version": unquote(version), "compilation": statuses}, 202)


@bp.route("/modules/{name}/versions/{version}/download/{language}", methods=["GET"])
@view
def download(name: str, version: str, language: str) -> Response:
    request = bp.current_request
    state, data = services().versions.download(request_context(request), name, unquote(version), language)
    if state == "pending":
        return envelope(data, 202, headers={"Retry-After": "5"})
    if "application/json" in request.headers.get("accept", ""):
        return envelope(data)
    return Response(body="", status_code=302, headers={"Location": data["url"]})
