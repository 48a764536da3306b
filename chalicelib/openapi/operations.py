"""What each route takes and answers: its body, parameters, success answers and domain errors.

One `Operation` per (method, route) of the app. Errors are the domain's error classes, so each one's
code and HTTP status come from the code that raises and maps it (`chalicelib.api.errors`); the few
answers no class stands for (Chalice's own refusals, the 500) are listed as (status, code).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from chalicelib.domain import errors as e
from chalicelib.domain.breaking.config import InvalidBreakingConfig, UnknownRule
from chalicelib.domain.paths import MAX_PATH_DEPTH
from chalicelib.openapi import models as m

Auth = Literal["none", "optional", "required", "session"]
ErrorRef = type[e.DomainError] | tuple[int, str]

# Routes that are not the API (the web UI's pages and assets): the document leaves them out on purpose.
NOT_API_PREFIXES = ("/ui",)

JSON = "application/json"
MULTIPART = "multipart/form-data"


@dataclass(frozen=True)
class Body:
    """A request body: one schema per media type (a model, or None for no schema)."""

    content: dict[str, type[BaseModel] | list[type[BaseModel]]]
    required: bool = True
    description: str = ""


@dataclass(frozen=True)
class Answer:
    """A success answer: `model` is the envelope's `data` (None: no JSON body)."""

    description: str
    model: type[BaseModel] | None = None
    media_type: str = JSON
    headers: tuple[str, ...] = ()
    links: dict[str, dict[str, object]] = field(default_factory=dict)
    raw: bool = False  # the body is `model` itself, not an envelope around it (or plain text)


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    schema: dict[str, object]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    answers: dict[int, Answer]
    errors: tuple[ErrorRef, ...] = ()
    auth: Auth = "required"
    body: Body | None = None
    query: tuple[Query, ...] = ()
    org_header: bool = False
    counted: bool = True  # rate-counted: X-RateLimit-* headers and a possible 429
    description: str = ""


# --- shared error sets ------------------------------------------------------------------------------

INTERNAL: tuple[ErrorRef, ...] = ((500, "INTERNAL_ERROR"),)
JSON_BODY: tuple[ErrorRef, ...] = (e.InvalidJson, e.PayloadTooLarge, e.UnsupportedMediaType, e.ValidationFailed)
UPLOAD_BODY: tuple[ErrorRef, ...] = (*JSON_BODY, e.BadRequest)
AUTH: tuple[ErrorRef, ...] = (e.Unauthorized,)
SESSION: tuple[ErrorRef, ...] = (e.Unauthorized, e.Forbidden)
# request_context: the bearer, then the organization (X-Organization-ID or the path's) and the role
CONTEXT: tuple[ErrorRef, ...] = (e.Unauthorized, e.Forbidden, e.OrganizationNotFound, e.ValidationFailed)
MODULE: tuple[ErrorRef, ...] = (*CONTEXT, e.ModuleNotFound)
VERSION: tuple[ErrorRef, ...] = (*MODULE, e.VersionNotFound, e.InvalidVersion)
PAGED: tuple[ErrorRef, ...] = (e.ValidationFailed, e.InvalidCursor)
PROTO: tuple[ErrorRef, ...] = (e.InvalidPath, e.InvalidFile, e.NoFiles, e.DuplicatePath, e.InvalidProto,
                               e.UnresolvedImport, e.DependencyNotFound, e.DependencyConflict, e.InvalidVersion,
                               e.CompileLimitExceeded)
WEBHOOK: tuple[ErrorRef, ...] = (*CONTEXT, e.WebhookNotFound)

PAGE = Query("page", "Page number (1-based)", {"type": "integer", "minimum": 1, "default": 1})
PAGE_SIZE = Query("page_size", "Items per page (1-100)", {"type": "integer", "minimum": 1, "maximum": 100,
                                                           "default": 20})
CURSOR = Query("cursor", "`pagination.next_cursor` of the previous page (opaque, signed)", {"type": "string"})
PROTOC = Query("protoc", "A protoc release of GET /languages (absent: the default)", {"type": "string"})

VERSION_HEADERS = ("X-Spoke-Version",)
FILE_HEADERS = ("ETag", "X-Checksum-SHA256", "Cache-Control", "X-Spoke-Version")


def _json(model: type[BaseModel] | list[type[BaseModel]], required: bool = True) -> Body:
    return Body({JSON: model}, required=required)


def _module_links(name: str) -> dict[str, dict[str, object]]:
    return {"GetModule": {"operationId": "get_module", "parameters": {"name": name}},
            "PublishVersion": {"operationId": "publish_version", "parameters": {"name": name}},
            "ListVersions": {"operationId": "list_versions", "parameters": {"name": name}},
            "EditModule": {"operationId": "update_module", "parameters": {"name": name}},
            "ListCollaborators": {"operationId": "list_collaborators", "parameters": {"name": name}},
            "AddCollaborator": {"operationId": "add_collaborator", "parameters": {"name": name}},
            "Dependents": {"operationId": "module_dependents", "parameters": {"name": name}},
            "UploadGrant": {"operationId": "create_upload", "parameters": {"name": name}}}


def _version_links() -> dict[str, dict[str, object]]:
    at = {"name": "$request.path.name", "version": "$response.body#/data/version"}
    return {"GetVersion": {"operationId": "get_version", "parameters": at},
            "GetDependencies": {"operationId": "version_dependencies", "parameters": at},
            "DownloadSources": {"operationId": "download", "parameters": {**at, "language": "proto"}},
            "DownloadPython": {"operationId": "download", "parameters": {**at, "language": "python"}},
            "Compile": {"operationId": "request_compilation", "parameters": at},
            "GetFile": {"operationId": "get_file", "parameters": {**at, "p0": "$response.body#/data/files/0"}},
            "HeadFile": {"operationId": "head_file", "parameters": {**at, "p0": "$response.body#/data/files/0"}},
            "CompareWithItself": {"operationId": "check_compatibility", "parameters": {"name": "$request.path.name"},
                                  "requestBody": {"version1": "$response.body#/data/version",
                                                  "version2": "$response.body#/data/version"}}}


def _file_operations() -> list[Operation]:
    """GET and HEAD of a file, one route per directory depth (Chalice has no greedy path parameter)."""
    found: list[Operation] = []
    for depth in range(1, MAX_PATH_DEPTH + 1):
        path = "/modules/{name}/versions/{version}/files/" + "/".join(f"{{p{i}}}" for i in range(depth))
        suffix = "" if depth == 1 else f"_depth_{depth}"
        not_modified = Answer("Not modified: the held ETag is the file's", headers=FILE_HEADERS, raw=True,
                              media_type="")
        found.append(Operation(
            "GET", path, f"get_file{suffix}", f"A file's bytes ({depth} path segment{'s' * (depth > 1)})", "Files",
            {200: Answer("The file's text", media_type="text/plain", headers=FILE_HEADERS, raw=True),
             304: not_modified},
            (*VERSION, e.FileNotFound, e.InvalidPath), auth="optional", org_header=True))
        found.append(Operation(
            "HEAD", path, f"head_file{suffix}", "A file's headers, without its bytes", "Files",
            {200: Answer("GET's headers, no body", headers=(*FILE_HEADERS, "Content-Length"), raw=True,
                         media_type=""), 304: not_modified},
            (*VERSION, e.FileNotFound, e.InvalidPath), auth="optional", org_header=True))
    return found


OPERATIONS: list[Operation] = [
    # --- accounts
    Operation("POST", "/auth/register", "register", "Create an account", "Accounts",
              {201: Answer("The account", m.Registered)},
              (*JSON_BODY, e.WeakPassword, e.EmailExists), auth="none", body=_json(m.RegisterRequest)),
    Operation("POST", "/auth/login", "login", "Sign in: a session token", "Accounts",
              {200: Answer("A session", m.Session)},
              (*JSON_BODY, e.InvalidCredentials, e.TooManyLoginAttempts), auth="none", body=_json(m.LoginRequest)),
    Operation("POST", "/auth/logout", "logout", "End this session", "Accounts",
              {200: Answer("The session's token is revoked", m.LoggedOut)}, SESSION, auth="session"),
    Operation("POST", "/auth/password", "change_password", "Change the password: every other session ends",
              "Accounts", {200: Answer("A new session", m.PasswordChanged)},
              (*SESSION, *JSON_BODY, e.InvalidCredentials, e.WeakPassword, e.TooManyLoginAttempts), auth="session",
              body=_json(m.PasswordChangeRequest)),
    Operation("GET", "/auth/me", "me", "Who the bearer is, and their organizations", "Accounts",
              {200: Answer("The caller", m.Identity)}, AUTH),
    Operation("POST", "/auth/tokens", "create_token", "Create an API token (its secret is shown once)", "Accounts",
              {201: Answer("The token and its secret", m.ApiTokenCreated, links={
                  "RevokeToken": {"operationId": "revoke_token", "parameters": {"token_id": "$response.body#/data/id"}}
              })},
              (*SESSION, *JSON_BODY, e.OrganizationNotFound, e.TokenLimitReached), auth="session",
              body=_json(m.ApiTokenRequest)),
    Operation("GET", "/auth/tokens", "list_tokens", "Your API tokens, newest first", "Accounts",
              {200: Answer("The tokens, without secrets", m.ApiTokenList)}, SESSION, auth="session"),
    Operation("DELETE", "/auth/tokens/{token_id}", "revoke_token", "Revoke an API token", "Accounts",
              {204: Answer("Revoked", media_type="", raw=True)}, (*SESSION, e.TokenNotFound), auth="session"),
    Operation("POST", "/auth/sso/{org}/start", "start_sso", "Start a single sign-on", "Single sign-on",
              {200: Answer("Where to send the browser", m.SsoStarted)},
              (*JSON_BODY, e.SsoNotConfigured, e.OrganizationNotFound), auth="none", body=_json(m.SsoStartRequest)),
    Operation("POST", "/auth/sso/callback", "sso_callback", "Finish a single sign-on: a session token",
              "Single sign-on", {200: Answer("A session", m.SsoLogin)},
              (*JSON_BODY, e.SsoLoginFailed, e.SsoNotConfigured), auth="none", body=_json(m.SsoCallbackRequest)),
    # --- organizations
    Operation("POST", "/organizations", "create_organization", "Create an organization (you become its owner)",
              "Organizations", {201: Answer("The organization", m.OrganizationOut, links={
                  "GetOrganization": {"operationId": "get_organization",
                                      "parameters": {"org_id": "$response.body#/data/id"}},
                  "ListMembers": {"operationId": "list_members", "parameters": {"org_id": "$response.body#/data/id"}},
              })},
              (*SESSION, *JSON_BODY, e.OrganizationExists), auth="session", body=_json(m.OrganizationRequest)),
    Operation("GET", "/organizations", "list_organizations", "Your organizations", "Organizations",
              {200: Answer("The organizations with your role", m.OrganizationList)}, AUTH),
    Operation("GET", "/organizations/{org_id}", "get_organization", "An organization (id or slug)",
              "Organizations", {200: Answer("The organization", m.OrganizationOut)}, CONTEXT),
    Operation("PATCH", "/organizations/{org_id}", "update_organization", "Rename an organization",
              "Organizations", {200: Answer("The organization", m.OrganizationOut)},
              (*CONTEXT, *JSON_BODY), body=_json(m.OrganizationUpdate)),
    Operation("GET", "/organizations/{org_id}/usage", "organization_usage", "The plan's limits and the usage",
              "Organizations", {200: Answer("Limits and usage", m.Usage)}, CONTEXT),
    Operation("POST", "/organizations/{org_id}/members", "add_member", "Add a registered user as a member",
              "Organizations", {201: Answer("The member", m.MemberOut)},
              (*CONTEXT, *JSON_BODY, e.UserNotFound, e.MemberExists, e.QuotaExceeded), body=_json(m.MemberRequest)),
    Operation("GET", "/organizations/{org_id}/members", "list_members", "The members and their roles",
              "Organizations", {200: Answer("The members", m.MemberList)}, CONTEXT),
    Operation("DELETE", "/organizations/{org_id}/members/{user_id}", "remove_member", "Remove a member (or leave)",
              "Organizations", {204: Answer("Removed", media_type="", raw=True)},
              (*CONTEXT, e.MemberNotFound, e.LastOwner)),
    Operation("GET", "/organizations/{org_id}/audit", "list_audit", "The organization's audit trail, newest first",
              "Organizations", {200: Answer("Audit records", m.AuditList)},
              (*CONTEXT, e.InvalidCursor),
              query=(Query("limit", "Records per page (1-100)", {"type": "integer", "minimum": 1, "maximum": 100}),
                     CURSOR, Query("actor", "Only this user's actions", {"type": "string"}),
                     Query("action", "Only this action, e.g. `POST /modules`", {"type": "string"}))),
    Operation("PUT", "/organizations/{org_id}/sso", "configure_sso", "Configure single sign-on (OIDC)",
              "Single sign-on", {200: Answer("The settings, without the secret", m.SsoConfigOut)},
              (*CONTEXT, *JSON_BODY, e.InvalidSsoConfig), body=_json(m.SsoConfigRequest)),
    Operation("GET", "/organizations/{org_id}/sso", "get_sso", "The single sign-on settings", "Single sign-on",
              {200: Answer("The settings, without the secret", m.SsoConfigOut)}, (*CONTEXT, e.SsoNotConfigured)),
    Operation("DELETE", "/organizations/{org_id}/sso", "delete_sso", "Remove single sign-on", "Single sign-on",
              {204: Answer("Removed", media_type="", raw=True)}, (*CONTEXT, e.SsoNotConfigured)),
    # --- modules
    Operation("POST", "/modules", "create_module", "Create a module", "Modules",
              {201: Answer("The module", m.ModuleOut, links=_module_links("$response.body#/data/name"))},
              (*CONTEXT, *JSON_BODY, e.ModuleExists, e.QuotaExceeded, UnknownRule, InvalidBreakingConfig),
              body=_json(m.ModuleRequest), org_header=True),
    Operation("GET", "/modules", "list_modules", "Modules of the organization, by name", "Modules",
              {200: Answer("A page of modules", m.ModuleList)}, (*CONTEXT, *PAGED), auth="optional",
              query=(PAGE, PAGE_SIZE, CURSOR, Query("org", "Organization id or slug (else X-Organization-ID)",
                                                    {"type": "string"}),
                     Query("q", "A name prefix or description words", {"type": "string"})), org_header=True),
    Operation("GET", "/modules/{name}", "get_module", "A module, its versions in semver order", "Modules",
              {200: Answer("The module", m.ModuleOut)}, MODULE, auth="optional", org_header=True),
    Operation("PATCH", "/modules/{name}", "update_module", "Edit description, policy or Go prefix", "Modules",
              {200: Answer("The module", m.ModuleOut)},
              (*MODULE, *JSON_BODY, UnknownRule, InvalidBreakingConfig), body=_json(m.ModuleUpdate), org_header=True),
    Operation("POST", "/modules/{name}/collaborators", "add_collaborator", "Add a collaborator (default only)",
              "Modules", {201: Answer("Added", m.CollaboratorOut), 200: Answer("Already one", m.CollaboratorOut)},
              (*MODULE, *JSON_BODY, e.UserNotFound, e.CollaboratorsOnlyInDefault, e.CollaboratorLimitReached),
              body=_json(m.CollaboratorRequest), org_header=True),
    Operation("GET", "/modules/{name}/collaborators", "list_collaborators", "The owner and collaborators",
              "Modules", {200: Answer("Owner and collaborators", m.CollaboratorList)},
              (*MODULE, e.CollaboratorsOnlyInDefault), auth="optional", org_header=True),
    Operation("DELETE", "/modules/{name}/collaborators/{user_id}", "remove_collaborator", "Remove a collaborator",
              "Modules", {204: Answer("Removed", media_type="", raw=True)},
              (*MODULE, e.CollaboratorNotFound, e.CollaboratorsOnlyInDefault), org_header=True),
    Operation("POST", "/modules/{name}/uploads", "create_upload", "A presigned S3 POST for a large module's archive",
              "Versions", {201: Answer("Where to post the archive", m.UploadGrant)},
              (*MODULE, *JSON_BODY), body=Body({JSON: m.EmptyRequest}, required=False), org_header=True),
    Operation("GET", "/modules/{name}/dependents", "module_dependents", "Who depends on this module", "Versions",
              {200: Answer("The dependents", m.Dependents)}, MODULE, auth="optional", org_header=True),
    Operation("POST", "/modules/{name}/compatibility/check", "check_compatibility",
              "Breaking changes between two versions, or of unpublished files against one", "Versions",
              {200: Answer("The verdict and buf's findings", m.Compatibility)},
              (*VERSION, *UPLOAD_BODY, *PROTO, UnknownRule, InvalidBreakingConfig), auth="optional",
              body=Body({JSON: [m.CompareVersions, m.CompareFiles], MULTIPART: m.CompareForm}), org_header=True),
    # --- versions
    Operation("POST", "/modules/{name}/versions", "publish_version", "Publish a version", "Versions",
              {201: Answer("Published", m.PublishedVersion, links=_version_links()),
               200: Answer("An identical retry: the stored version", m.PublishedVersion)},
              (*MODULE, *UPLOAD_BODY, *PROTO, e.VersionExists, e.BreakingChange, e.LintFailed, e.QuotaExceeded,
               e.UploadNotFound,
               e.UploadForbidden, e.UploadExpired, e.UploadNotReceived, e.UploadAlreadyUsed, e.InvalidArchive,
               e.ArchiveTooLarge),
              body=Body({JSON: [m.PublishFiles, m.PublishUpload], MULTIPART: m.PublishForm}), org_header=True),
    Operation("GET", "/modules/{name}/versions", "list_versions", "Versions, highest first", "Versions",
              {200: Answer("A page of versions", m.VersionList)}, (*MODULE, *PAGED), auth="optional",
              query=(PAGE, PAGE_SIZE, CURSOR), org_header=True),
    Operation("GET", "/modules/{name}/versions/{version}", "get_version", "A version: files, dependencies, compiles",
              "Versions", {200: Answer("The version", m.VersionOut, headers=VERSION_HEADERS)}, VERSION,
              auth="optional", org_header=True),
    Operation("GET", "/modules/{name}/versions/{version}/dependencies", "version_dependencies",
              "The resolved transitive dependencies", "Versions",
              {200: Answer("The dependencies", m.VersionDependencies, headers=VERSION_HEADERS)}, VERSION,
              auth="optional", org_header=True),
    Operation("POST", "/modules/{name}/versions/{version}/compile", "request_compilation", "(Re)compile a version",
              "Compiled code", {202: Answer("Queued: the statuses", m.CompileAccepted)},
              (*VERSION, *JSON_BODY, e.UnknownLanguage, e.UnknownProtocRelease, e.QuotaExceeded),
              body=Body({JSON: m.CompileRequest}, required=False), query=(PROTOC,), org_header=True),
    Operation("GET", "/modules/{name}/versions/{version}/download/{language}", "download",
              "Compiled code (a ZIP), the sources (`proto`) or the descriptor set (`descriptor_set`)", "Compiled code",
              {200: Answer("With `Accept: application/json`: the link", m.DownloadLink, headers=VERSION_HEADERS),
               202: Answer("Still compiling: retry after Retry-After", m.Model, headers=("Retry-After",
                                                                                       *VERSION_HEADERS)),
               302: Answer("To a presigned S3 URL", headers=("Location", *VERSION_HEADERS), raw=True, media_type="")},
              (*VERSION, e.UnknownLanguage, e.UnknownProtocRelease, e.CompilationFailed, e.ClosureTooLarge,
               e.ClosureConflict, e.QuotaExceeded), auth="optional",
              query=(PROTOC, Query("with_dependencies", "One ZIP of the version's and its dependencies' code",
                                   {"type": "string", "enum": ["true", "false", "1", "0"]})), org_header=True),
    Operation("POST", "/validate", "validate", "Check files as publish would, storing nothing", "Versions",
              {200: Answer("Valid or not, with protoc's errors", m.Validation)},
              (*CONTEXT, *UPLOAD_BODY, *PROTO), auth="optional",
              body=Body({JSON: m.ValidateFiles, MULTIPART: m.ValidateForm}), org_header=True),
    Operation("GET", "/languages", "languages", "The compile outputs and protoc releases", "Compiled code",
              {200: Answer("Languages and releases", m.Languages)}, (), auth="none"),
    # --- webhooks
    Operation("POST", "/webhooks", "create_webhook", "Register a webhook", "Webhooks",
              {201: Answer("The webhook (never its secret)", m.WebhookOut, links={
                  "GetWebhook": {"operationId": "get_webhook", "parameters": {"webhook_id": "$response.body#/data/id"}},
                  "Deliveries": {"operationId": "list_deliveries",
                                 "parameters": {"webhook_id": "$response.body#/data/id"}}})},
              (*CONTEXT, *JSON_BODY, e.InvalidWebhookUrl, e.UnknownEvent, e.WebhookLimitReached, e.QuotaExceeded),
              body=_json(m.WebhookRequest), org_header=True),
    Operation("GET", "/webhooks", "list_webhooks", "The organization's webhooks", "Webhooks",
              {200: Answer("The webhooks", m.WebhookList)}, CONTEXT, org_header=True),
    Operation("GET", "/webhooks/{webhook_id}", "get_webhook", "A webhook", "Webhooks",
              {200: Answer("The webhook", m.WebhookOut)}, WEBHOOK, org_header=True),
    Operation("PATCH", "/webhooks/{webhook_id}", "update_webhook", "Change url, events, active or secret",
              "Webhooks", {200: Answer("The webhook", m.WebhookOut)},
              (*WEBHOOK, *JSON_BODY, e.InvalidWebhookUrl, e.UnknownEvent), body=_json(m.WebhookUpdate),
              org_header=True),
    Operation("DELETE", "/webhooks/{webhook_id}", "delete_webhook", "Delete a webhook", "Webhooks",
              {204: Answer("Deleted", media_type="", raw=True)}, WEBHOOK, org_header=True),
    Operation("POST", "/webhooks/{webhook_id}/ping", "ping_webhook", "Send a webhook.ping", "Webhooks",
              {202: Answer("The delivery", m.DeliveryOut)}, (*WEBHOOK, e.WebhookInactive), org_header=True),
    Operation("GET", "/webhooks/{webhook_id}/deliveries", "list_deliveries", "Deliveries, most recent first",
              "Webhooks", {200: Answer("A page of deliveries", m.DeliveryList)}, (*WEBHOOK, *PAGED),
              query=(PAGE_SIZE, CURSOR), org_header=True),
    Operation("POST", "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", "redeliver",
              "Send a delivery's payload again", "Webhooks", {202: Answer("The new delivery", m.DeliveryOut)},
              (*WEBHOOK, e.DeliveryNotFound, e.WebhookInactive), org_header=True),
    # --- system and this document
    Operation("GET", "/health", "health", "Liveness of the registry and its backends", "System",
              {200: Answer("ok", m.Health), 503: Answer("degraded: a backend is down", m.Health)}, (),
              auth="optional", counted=False),
    Operation("GET", "/metrics", "metrics", "Prometheus metrics", "System",
              {200: Answer("Prometheus text", media_type="text/plain", raw=True)}, (e.MetricsAccessDenied,),
              auth="optional", counted=False),
    Operation("GET", "/openapi.json", "openapi", "This document", "System",
              {200: Answer("OpenAPI 3.1", raw=True)}, (), auth="none", counted=False),
    Operation("GET", "/docs", "docs", "The API's documentation page (Swagger UI)", "System",
              {200: Answer("HTML", media_type="text/html", raw=True)}, (), auth="none", counted=False),
    Operation("GET", "/docs/{asset}", "docs_asset", "The documentation page's scripts and styles", "System",
              {200: Answer("JavaScript, CSS or an image", media_type="*/*", raw=True)},
              (e.NotFound,), auth="none", counted=False),
    *_file_operations(),
]
