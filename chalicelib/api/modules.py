"""/modules: create, list, read, edit; a default-organization module's collaborators."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.http import api_view, envelope, json_object, query_param, request_context, required_text
from chalicelib.api.uploads import Upload, read_upload, upload_from_json
from chalicelib.domain.errors import ValidationFailed
from chalicelib.services.common import PageRequest
from chalicelib.wiring import services

if TYPE_CHECKING:  # annotations only: a cold start does not load pydantic models
    from chalicelib.domain.models import Module
    from chalicelib.services.ports import Collaborator

bp = Blueprint(__name__)
view = api_view(lambda: bp.current_request)


def module_json(module: Module, versions: list[str]) -> dict:
    return {"name": module.name, "description": module.description, "created_at": module.created_at,
            "updated_at": module.updated_at, "versions": versions,
            "latest_version": versions[-1] if versions else None,
            "compatibility": module.compatibility.as_json(), "go_package_prefix": module.go_package_prefix,
            "owner": {"id": module.owner_id} if module.owner_id else None}


def collaborator_json(collaborator: Collaborator) -> dict:
    return {"user_id": collaborator.user_id, "email": collaborator.email, "added_at": collaborator.added_at}


@bp.route("/modules", methods=["POST"])
@view
def create_module() -> Response:
    request = bp.current_request
    body = json_object(request)
    required_text(body, "name")
    module = services().modules.create(request_context(request), body["name"], body.get("description"),
                                       body.get("compatibility"), body.get("go_package_prefix"))
    return envelope(module_json(module, []), 201)


@bp.route("/modules", methods=["GET"])
@view
def list_modules() -> Response:
    request = bp.current_request
    org_ref = query_param(request, "org") or None
    ctx = request_context(request, org_ref) if org_ref else request_context(request)
    page = PageRequest.parse(query_param(request, "page"), query_param(request, "page_size"),
                             query_param(request, "cursor"))
    modules, pagination = services().modules.list(ctx, page, query_param(request, "q"))
    return envelope({"modules": [{"name": m.name, "description": m.description, "created_at": m.created_at,
                                  "updated_at": m.updated_at, "version_count": m.version_count}
                                 for m in modules], "pagination": pagination})


@bp.route("/modules/{name}", methods=["GET"])
@view
def get_module(name: str) -> Response:
    module, versions = services().modules.get(request_context(bp.current_request), name)
    return envelope(module_json(module, versions))


@bp.route("/modules/{name}", methods=["PATCH"])
@view
def update_module(name: str) -> Response:
    request = bp.current_request
    body = json_object(request)
    module, versions = services().modules.update(request_context(request), name, body)
    return envelope(module_json(module, versions))


def _rule_ids(upload: Upload, name: str) -> Any:
    """`use`/`except`: a JSON list as sent (the service checks it), or multipart fields, each one ID or
    several separated by commas; None when absent (the module's policy applies)."""
    values = upload.fields.get(name)
    if values is None:
        return None
    if len(values) == 1 and not isinstance(values[0], str):
        return values[0]
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


@bp.route("/modules/{name}/compatibility/check", methods=["POST"],
          content_types=["application/json", "multipart/form-data"])
@view
def check_compatibility(name: str) -> Response:
    """Two stored versions (`{version1, version2}`), or unpublished files against a stored version
    (`{against, files, dependencies?}` as JSON, or multipart with `against` and file fields as publish)."""
    request = bp.current_request
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == "multipart/form-data":
        upload = read_upload(request)
    else:
        body = json_object(request)
        if "files" not in body and "against" not in body:
            return envelope(services().compatibility.check(request_context(request), name, body))
        upload = upload_from_json(body)
    stored = sorted({"version1", "version2"} & set(upload.fields))
    if stored:
        raise ValidationFailed("Send either version1 and version2 (two stored versions) or against and files "
                               "(unpublished files against a stored version), not both", validation_errors=[
                                   {"field": field, "code": "CONFLICTING_FIELDS",
                                    "message": "not with against and files"} for field in stored])
    dependencies = (upload.all("dependencies", "dependency")
                    if {"dependencies", "dependency"} & set(upload.fields) else None)
    return envelope(services().compatibility.check_files(
        request_context(request), name, upload.first("against"), upload.files, dependencies,
        use=_rule_ids(upload, "use"), except_=_rule_ids(upload, "except"), mode=upload.first("mode")))


@bp.route("/modules/{name}/collaborators", methods=["POST"])
@view
def add_collaborator(name: str) -> Response:
    """201 when added; 200 when they already were a collaborator (safe to repeat)."""
    request = bp.current_request
    body = json_object(request)
    collaborator, added = services().collaborators.add(request_context(request), name, body.get("email"))
    return envelope(collaborator_json(collaborator), 201 if added else 200)


@bp.route("/modules/{name}/collaborators", methods=["GET"])
@view
def list_collaborators(name: str) -> Response:
    module, collaborators = services().collaborators.list(request_context(bp.current_request), name)
    return envelope({"module": module.name, "owner": {"id": module.owner_id} if module.owner_id else None,
                     "collaborators": [collaborator_json(c) for c in collaborators]})


@bp.route("/modules/{name}/collaborators/{user_id}", methods=["DELETE"])
@view
def remove_collaborator(name: str, user_id: str) -> Response:
    services().collaborators.remove(request_context(bp.current_request), name, user_id)
    return Response(body="", status_code=204)
