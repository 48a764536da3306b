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
from chalicelib.domain.source_archive import SOURCE_DOWNLOADS
from chalicelib.domain.versions import is_latest
from chalicelib.services.common import PageRequest
from chalicelib.wiring import services

if TYPE_CHECKING:  # annotations only: a cold start does not load pydantic models
    from chalicelib.domain.models import ModuleVersion

bp = Blueprint(__name__)
view = api_view(lambda: bp.current_request)
UPLOAD_CONTENT_TYPES = ["application/json", "multipart/form-data"]
VERSION_HEADER = "X-Spoke-Version"  # on reads through `latest`: the version it resolved to


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
                                                 upload.all("dependencies", "dependency"), upload.first("module")))


def _alias_headers(requested: str, concrete: str) -> dict[str, str]:
    """A read through `latest` names the version it resolved to (the body's `version` says it too)."""
    return {VERSION_HEADER: concrete} if is_latest(requested) else {}


@bp.route("/modules/{name}/versions/{version}/dependencies", methods=["GET"])
@view
def version_dependencies(name: str, version: str) -> Response:
    requested = unquote(version)
    concrete, resolved = services().versions.version_dependencies(request_context(bp.current_request), name,
                                                                  requested)
    return envelope({"module": name, "version": concrete, "dependencies": resolved},
                    headers=_alias_headers(requested, concrete))


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
    requested = unquote(version)
    record = services().versions.get(request_context(bp.current_request), name, requested)
    return envelope(_version_json(record, detailed=True), headers=_alias_headers(requested, record.version))


def _held_etags(header: str | None) -> frozenset[str]:
    if not header:
        return frozenset()
    return frozenset(tag.strip().removeprefix("W/").strip('"') for tag in header.split(","))


def get_file(name: str, version: str, **segments: str) -> Response:
    """A file's bytes (GET) or only its headers (HEAD: the same status and headers, no body, no read of
    the bytes). Chalice has no greedy path parameter, so a route per directory depth lands here."""
    request = bp.current_request
    path = "/".join(unquote(segments[f"p{i}"]) for i in range(len(segments)))
    requested = unquote(version)
    held = _held_etags(request.headers.get("if-none-match"))
    ctx = request_context(request)
    found = services().versions.read_file(ctx, name, requested, path, held, with_content=request.method != "HEAD")
    entry = found.entry
    headers: dict[str, str | list[str]] = {
        "ETag": f'"{entry.sha256}"', "X-Checksum-SHA256": entry.sha256,
        "Cache-Control": _file_cache_control(ctx.org.is_default, is_latest(requested)),
        **_alias_headers(requested, found.version)}
    if entry.sha256 in held or "*" in held:
        return Response(body="", status_code=304, headers=headers)
    headers["Content-Type"] = "text/plain; charset=utf-8"
    if found.content is None:  # HEAD: what GET would send, without the body
        return Response(body="", status_code=200, headers={**headers, "Content-Length": str(entry.size)})
    return Response(body=found.content.decode("utf-8"), status_code=200, headers=headers)


def _file_cache_control(public: bool, through_alias: bool) -> str:
    """A pinned version's file never changes: cache it for a year. Through `latest` it changes with the
    next release: caches must revalidate (the ETag, the content's sha256, makes that a 304). A named
    organization's files are private: no shared cache may keep them. The default organization's are the
    same for every caller; `Vary: Authorization, X-Organization-ID` (api/caching.py) keeps a cache from
    answering another organization's request (an API token's, or one naming it) with them."""
    audience = "public" if public else "private"
    return f"{audience}, no-cache" if through_alias else f"{audience}, max-age=31536000, immutable"


for _depth in range(1, MAX_PATH_DEPTH + 1):
    _route = "/modules/{name}/versions/{version}/files/" + "/".join(f"{{p{i}}}" for i in range(_depth))
    bp.route(_route, methods=["GET", "HEAD"])(view(get_file))


@bp.route("/languages", methods=["GET"])
@view
def languages() -> Response:
    return envelope(services().compilation.languages())


@bp.route("/modules/{name}/versions/{version}/compile", methods=["POST"])
@view
def request_compilation(name: str, version: str) -> Response:
    request = bp.current_request
    body = json_object(request) if (request.raw_body or b"").strip() else {}
    # the protoc release: the body's `protoc`, else `?protoc=` (absent: the default release)
    statuses = services().versions.request_compilation(request_context(request), name, unquote(version),
                                                       body.get("languages"),
                                                       body.get("protoc", query_param(request, "protoc")))
    return envelope({"module": name, "version": unquote(version), "compilation": statuses}, 202)


def _with_dependencies(value: str | None, language: str) -> bool:
    """`?with_dependencies=true`: the closure ZIP (compiled languages only); absent or false: the module's."""
    flag = (value or "false").strip().lower()
    if flag not in ("true", "1", "false", "0"):
        raise ValidationFailed("with_dependencies must be true or false", validation_errors=[
            {"field": "with_dependencies", "code": "INVALID_VALUE", "message": "true or false"}])
    if flag in ("true", "1") and language in SOURCE_DOWNLOADS:
        raise ValidationFailed(f"with_dependencies applies to compiled languages, not to '{language}'",
                               validation_errors=[{"field": "with_dependencies", "code": "INVALID_VALUE",
                                                   "message": "only with a compiled language, e.g. download/go"}])
    return flag in ("true", "1")


@bp.route("/modules/{name}/versions/{version}/download/{language}", methods=["GET"])
@view
def download(name: str, version: str, language: str) -> Response:
    """A compiled ZIP, or one of the source downloads (`proto`: the sources as a ZIP; `descriptor_set`:
    the stored FileDescriptorSet): 302 to a presigned URL, or with `Accept: application/json` where it is.
    `?with_dependencies=true`: one ZIP of the version's and its whole dependency closure's code."""
    request = bp.current_request
    requested = unquote(version)
    with_dependencies = _with_dependencies(query_param(request, "with_dependencies"), language)
    if language in SOURCE_DOWNLOADS:
        data = services().source_archives.download(request_context(request), name, requested, language)
        concrete = data["version"]
    else:
        state, data, concrete = (services().dependency_bundles if with_dependencies else services().versions).download(
            request_context(request), name, requested, language, query_param(request, "protoc"))
        if state == "pending":
            return envelope(data, 202, headers={"Retry-After": "5", **_alias_headers(requested, concrete)})
    if "application/json" in request.headers.get("accept", ""):
        return envelope(data, headers=_alias_headers(requested, concrete))
    return Response(body="", status_code=302, headers={"Location": data["url"], "Cache-Control": "no-store",
                                                        **_alias_headers(requested, concrete)})
