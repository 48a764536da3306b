"""Assemble the OpenAPI 3.1 document from `operations.OPERATIONS` and the pydantic models.

Schemas come from pydantic (`models_json_schema`, JSON Schema 2020-12 as OpenAPI 3.1 takes it);
each error answer narrows the envelope's `error.code` to the codes that route can answer with that
status, so a client (and schemathesis) can hold the API to them.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.api.errors import status_for_type
from chalicelib.domain import errors as e
from chalicelib.openapi import models as m
from chalicelib.openapi.operations import JSON, OPERATIONS, Answer, ErrorRef, Operation

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"
PATH_PARAMETER = re.compile(r"{(\w+)}")
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")

DESCRIPTION = """\
Spoke, a protobuf schema registry. Every JSON answer is an envelope `{"data", "error", "meta"}`; an
error's `error.code` is stable (each route lists the codes it answers with, per status).

Authenticate with `Authorization: Bearer <token>`: a session from `POST /auth/login` (or single
sign-on), or an API token (`spk_...`, `POST /auth/tokens`) that acts in one organization.
`X-Organization-ID` (an organization's id or slug) selects the namespace of module calls; without it
they use the shared `default` organization.

Every response carries `X-Request-ID`. Rate-counted requests carry `X-RateLimit-*`; over the plan's
hourly rate the answer is 429 with `Retry-After`. Every path also answers `OPTIONS` (a CORS
preflight: 204 with `Allow`), not listed below.
"""

PARAMETER_TEXT = {
    "name": "Module name", "version": "A semantic version, or `latest` (the highest release) on reads",
    "org_id": "Organization id or slug", "org": "Organization id or slug", "user_id": "A user's id",
    "token_id": "An API token's id", "webhook_id": "A webhook's id", "delivery_id": "A delivery's id",
    "language": "A compile output of GET /languages, or `proto` / `descriptor_set` (the sources)",
    "asset": "A file of Swagger UI's distribution",
}

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {"description": "This request's id (yours, if you sent a sane one)",
                     "schema": {"type": "string"}},
    "X-RateLimit-Limit": {"description": "Requests per hour of the scope's plan", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in this hour", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "Epoch seconds of the next hour", "schema": {"type": "integer"}},
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}},
    "ETag": {"description": "The file's sha256, quoted", "schema": {"type": "string"}},
    "X-Checksum-SHA256": {"description": "The file's sha256", "schema": {"type": "string"}},
    "Cache-Control": {"description": "Who may keep the answer (README, 'Caching')", "schema": {"type": "string"}},
    "X-Spoke-Version": {"description": "Through `latest`: the version it resolved to", "schema": {"type": "string"}},
    "Location": {"description": "A presigned S3 URL", "schema": {"type": "string"}},
    "Content-Length": {"description": "The file's size in bytes", "schema": {"type": "integer"}},
}


def _error_refs(op: Operation) -> list[ErrorRef]:
    # Chalice refuses a Content-Type outside the route's (JSON, or JSON and multipart) on any method
    refs: list[ErrorRef] = [*op.errors, e.UnsupportedMediaType]
    if PATH_PARAMETER.search(op.path):  # a path segment the gateway cannot route (e.g. an encoded '/')
        refs.append(e.NotFound)
    if op.counted:
        refs.append(e.RateLimitExceeded)
    refs.append((500, "INTERNAL_ERROR"))
    return refs


def _errors_by_status(op: Operation) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for ref in _error_refs(op):
        status, code = ref if isinstance(ref, tuple) else (status_for_type(ref), ref.code)
        if code not in found[status]:
            found[status].append(code)
    return dict(found)


def _answer_headers(op: Operation, extra: tuple[str, ...]) -> dict[str, Any]:
    names = ("X-Request-ID", *(RATE_HEADERS if op.counted else ()), *extra)
    return {name: {"$ref": f"#/components/headers/{name}"} for name in dict.fromkeys(names)}


class _Schemas:
    """Every model the document names, turned into components once."""

    def __init__(self) -> None:
        self.models: dict[type[BaseModel], str] = {}

    def ref(self, model: type[BaseModel]) -> dict[str, Any]:
        self.models.setdefault(model, "")
        return {"$ref": REF.format(model=_name(model))}

    def components(self) -> dict[str, Any]:
        _, top = models_json_schema([(model, "validation") for model in self.models], ref_template=REF)
        return dict(sorted(top.get("$defs", {}).items()))


def _name(model: type[BaseModel]) -> str:
    """The component name pydantic gives a model (generics: `Envelope_Session_`)."""
    return re.sub(r"[^a-zA-Z0-9.\-_]", "_", model.__name__)


def _content(schemas: _Schemas, models: type[BaseModel] | list[type[BaseModel]]) -> dict[str, Any]:
    if isinstance(models, list):
        return {"anyOf": [schemas.ref(model) for model in models]}
    return schemas.ref(models)


def _success(schemas: _Schemas, op: Operation, answer: Answer) -> dict[str, Any]:
    out: dict[str, Any] = {"description": answer.description, "headers": _answer_headers(op, answer.headers)}
    if answer.media_type:
        if answer.raw:
            schema: dict[str, Any] = ({"type": "string"} if answer.media_type != JSON else {"type": "object"})
        else:
            schema = schemas.ref(m.envelope_of(answer.model or m.Model))
        out["content"] = {answer.media_type: {"schema": schema}}
    if answer.links:
        out["links"] = answer.links
    return out


def _error(schemas: _Schemas, op: Operation, status: int, codes: list[str]) -> dict[str, Any]:
    headers = ("Retry-After",) if status == 429 else ()
    body = {"allOf": [schemas.ref(m.ErrorEnvelope),
                      {"properties": {"error": {"properties": {"code": {"enum": codes}}}}}]}
    out: dict[str, Any] = {"description": ", ".join(f"`{code}`" for code in codes),
                           "headers": _answer_headers(op, headers)}
    if op.method != "HEAD":  # a HEAD answer has no body, errors included
        out["content"] = {JSON: {"schema": body}}
    return out


PARAMETER_SCHEMA = {"name": {"type": "string", "pattern": m.MODULE_NAME},
                    "version": {"type": "string", "pattern": m.SEMVER_OR_LATEST}}


def _parameters(op: Operation) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "description": PARAMETER_TEXT.get(name, "A path segment"),
         "schema": PARAMETER_SCHEMA.get(name, {"type": "string", "minLength": 1})}
        for name in PATH_PARAMETER.findall(op.path)]
    found += [{"name": q.name, "in": "query", "required": False, "description": q.description, "schema": q.schema}
              for q in op.query]
    if op.org_header:
        found.append({"$ref": "#/components/parameters/OrganizationHeader"})
    return found


def _security(op: Operation) -> list[dict[str, list[str]]]:
    """Either bearer (a session or an API token); `{}` where anonymous callers are answered too."""
    session: dict[str, list[str]] = {"session": []}
    token: dict[str, list[str]] = {"apiToken": []}
    return {"none": [], "optional": [session, token, {}], "required": [session, token],
            "session": [session]}[op.auth]


class _SharedResponses:
    """Error answers that several operations give alike (the 429, the 500 ...), written once under
    components/responses and referenced: the document stays a size a browser reads quickly."""

    def __init__(self) -> None:
        self.by_name: dict[str, dict[str, Any]] = {}

    def ref(self, status: int, codes: list[str], response: dict[str, Any]) -> dict[str, Any]:
        digest = hashlib.sha256(json.dumps(response, sort_keys=True).encode()).hexdigest()[:8]
        name = f"{status}_{codes[0]}{'_AND_MORE' if len(codes) > 1 else ''}_{digest}"
        self.by_name.setdefault(name, response)
        return {"$ref": f"#/components/responses/{name}"}


def _operation(schemas: _Schemas, shared: _SharedResponses, op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {str(status): _success(schemas, op, answer) for status, answer in op.answers.items()}
    for status, codes in sorted(_errors_by_status(op).items()):
        responses[str(status)] = shared.ref(status, codes, _error(schemas, op, status, codes))
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag],
                           "security": _security(op), "responses": dict(sorted(responses.items()))}
    if op.description:
        out["description"] = op.description
    parameters = _parameters(op)
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = {"required": op.body.required, "content": {
            media: {"schema": _content(schemas, models)} for media, models in op.body.content.items()}}
    return out


def build(server_url: str = "/") -> dict[str, Any]:
    """The whole document; `server_url` is where the API is mounted (a stage's prefix on API Gateway)."""
    schemas, shared = _Schemas(), _SharedResponses()
    schemas.ref(m.ErrorEnvelope)
    paths: dict[str, dict[str, Any]] = defaultdict(dict)
    for op in OPERATIONS:
        paths[op.path][op.method.lower()] = _operation(schemas, shared, op)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Spoke", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": server_url}],
        "tags": [{"name": tag} for tag in dict.fromkeys(op.tag for op in OPERATIONS)],
        "paths": dict(paths),
        "components": {
            "schemas": schemas.components(),
            "responses": dict(sorted(shared.by_name.items())),
            "headers": HEADERS,
            "parameters": {"OrganizationHeader": {
                "name": "X-Organization-ID", "in": "header", "required": False, "schema": {"type": "string"},
                "description": "The organization (id or slug) the call acts in; absent: `default`"}},
            "securitySchemes": {
                "session": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                            "description": "A session token from POST /auth/login or single sign-on"},
                "apiToken": {"type": "http", "scheme": "bearer", "bearerFormat": "spk_...",
                             "description": "An API token (POST /auth/tokens), scoped to one organization"}},
        },
    }
