"""The bodies the API takes and answers, as pydantic models: the OpenAPI document's schemas.

These describe the wire, not the domain: the views build their dicts from domain records, and these
models say what those dicts hold (the route-coverage and schemathesis tests hold them to it). Response
models accept unknown keys, so a field added to an answer is not a breaking change for a client;
nested structures the services own (a compatibility policy, compile statuses) stay open objects.
"""
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.names import _MODULE_NAME
from chalicelib.domain.policy import CompatibilityMode
from chalicelib.services.events import EVENT_TYPES
from chalicelib.services.modules import MAX_DESCRIPTION

T = TypeVar("T")

# The grammars the services check, so generated requests (and clients) know them.
MODULE_NAME = _MODULE_NAME.pattern
_SEMVER = r"v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?"
SEMVER = f"^{_SEMVER}$"
SEMVER_OR_LATEST = f"^(latest|{_SEMVER})$"
PROTO_PATH = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*\.proto$"
ProtoPath = Annotated[str, Field(pattern=PROTO_PATH, max_length=512)]
if TYPE_CHECKING:
    EventName = str
else:  # the event names the services publish, or "*" for all of them
    EventName = Literal[("*", *EVENT_TYPES)]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION)]
EXAMPLE_FILES: dict[str, Any] = {
    "user/v1/user.proto": 'syntax = "proto3";\npackage user.v1;\nmessage User { string id = 1; }\n'}

Timestamp = str  # ISO 8601 UTC, e.g. 2025-01-24T10:00:00Z
Obj = dict[str, Any]


class Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class Request(BaseModel):
    """A request body: the keys it documents (the views ignore others, but none is meant)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class EmptyRequest(Request):
    """No fields yet: an empty object, or no body at all."""


class PolicyIn(Request):
    """A module's compatibility policy (README, 'Compatibility policy'); omitted keys keep their value."""

    mode: CompatibilityMode | None = None
    use: list[str] | None = None
    except_: list[str] | None = Field(default=None, alias="except")
    allow_breaking_major: bool | None = None
    lint: dict[str, list[str] | str | bool] | None = None


# --- the envelope (README "API") --------------------------------------------------------------------

class Meta(Model):
    request_id: str = Field(description="X-Request-ID of this response")
    timestamp: Timestamp


class FieldError(Model):
    field: str
    message: str
    code: str = Field(description="REQUIRED, INVALID_TYPE, TOO_LONG, ...")


class ErrorBody(Model):
    code: str = Field(description="A stable error code (README, 'Error codes')")
    message: str
    details: Obj = Field(description="Structured facts about the error; keys depend on the code")
    validation_errors: list[FieldError]


class ErrorEnvelope(Model):
    """Every error: `data` is null, `error` says what went wrong."""

    data: None
    error: ErrorBody
    meta: Meta


class Envelope(Model, Generic[T]):
    """Every JSON success: `data` holds the answer, `error` is null."""

    data: T
    error: None
    meta: Meta


def envelope_of(model: type[BaseModel]) -> type[BaseModel]:
    """`Envelope[model]`, for a model known only at run time."""
    return Envelope[model]  # type: ignore[valid-type]


# --- accounts ---------------------------------------------------------------------------------------

class RegisterRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"email": "ada@example.com", "password": "correct-horse-battery-staple", "first_name": "Ada",
         "last_name": "Lovelace"}]})

    email: str = Field(max_length=254)
    password: str = Field(min_length=10, max_length=256)
    first_name: str | None = None
    last_name: str | None = None


class UserOut(Model):
    id: str
    email: str
    first_name: str
    last_name: str


class Registered(Model):
    user: UserOut


class LoginRequest(Request):
    email: str
    password: str


class SessionUser(Model):
    id: str
    email: str
    role: str


class Session(Model):
    token: str = Field(description="A JWT: send it as `Authorization: Bearer <token>`")
    expires_at: Timestamp
    user: SessionUser


class LoggedOut(Model):
    success: bool


class PasswordChangeRequest(Request):
    current_password: str
    new_password: str = Field(min_length=10, max_length=256)


class PasswordChanged(Session):
    sessions_ended: bool


class TokenOrganization(Model):
    id: str
    slug: str | None


class ApiTokenOut(Model):
    id: str
    name: str
    organization: TokenOrganization
    scopes: list[str]
    created_at: Timestamp
    expires_at: Timestamp | None
    last_used_at: Timestamp | None


class ApiTokenCreated(ApiTokenOut):
    token: str = Field(description="The secret (spk_...), shown only in this answer")


class ApiTokenRequest(Request):
    name: str
    organization: str = Field(description="Organization id, slug, or `default`")
    scopes: list[Literal["read", "write", "admin"]]
    expires_in_days: int | None = Field(default=None, ge=1)


class ApiTokenList(Model):
    tokens: list[ApiTokenOut]


class TokenSummary(Model):
    id: str
    name: str
    organization: TokenOrganization
    scopes: list[str]
    expires_at: Timestamp | None


class MyOrganization(Model):
    id: str
    slug: str
    name: str
    plan: str
    role: str


class Identity(Model):
    kind: Literal["user", "api_token"]
    user: UserOut
    token: TokenSummary | None
    organizations: list[MyOrganization]


# --- organizations, members, usage, SSO, audit ------------------------------------------------------

class OrganizationRequest(Request):
    name: str
    slug: str
    plan: str | None = Field(default=None, description="Only `free`: the operator sets plans")


class OrganizationOut(Model):
    id: str
    name: str
    slug: str
    plan: str
    created_at: Timestamp
    member_count: int
    role: str | None = Field(default=None, description="The caller's role (absent after an edit)")


class OrganizationList(Model):
    organizations: list[OrganizationOut]


class OrganizationUpdate(Request):
    name: str | None = None


class Usage(Model):
    plan: str
    limits: dict[str, int]
    usage: dict[str, int]


class MemberRequest(Request):
    email: str
    role: Literal["owner", "admin", "developer", "viewer"] = "developer"


class MemberOut(Model):
    user_id: str
    email: str
    role: str
    joined_at: Timestamp


class MemberList(Model):
    members: list[MemberOut]


class SsoConfigRequest(Request):
    issuer: str
    client_id: str
    client_secret: str
    allowed_domains: list[str] = []
    default_role: Literal["viewer", "developer", "admin"] = "developer"


class SsoConfigOut(Model):
    organization_id: str
    issuer: str
    client_id: str
    client_secret_set: bool = Field(description="Always true: the secret itself is never returned")
    allowed_domains: list[str]
    default_role: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_endpoint_auth_method: str
    updated_at: Timestamp
    updated_by: str | None


class SsoStartRequest(Request):
    redirect_uri: str


class SsoStarted(Model):
    authorization_url: str
    state: str
    expires_at: Timestamp


class SsoCallbackRequest(Request):
    state: str
    code: str


class SsoOrganization(Model):
    id: str
    slug: str
    name: str


class SsoLogin(Session):
    organization: SsoOrganization
    role: str
    provisioned: bool


class AuditActor(Model):
    user_id: str | None
    api_token_id: str | None


class AuditRecordOut(Model):
    at: Timestamp
    request_id: str
    action: str = Field(description="`METHOD /route/{pattern}`")
    path: str
    resource: dict[str, str]
    status: int
    organization: str | None
    actor: AuditActor


class LimitPagination(Model):
    limit: int
    has_more: bool
    next_cursor: str | None


class AuditList(Model):
    records: list[AuditRecordOut]
    pagination: LimitPagination


# --- modules ----------------------------------------------------------------------------------------

class ModuleRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "user", "description": "User service"}]})

    name: str = Field(pattern=MODULE_NAME)
    description: Description | None = None
    compatibility: PolicyIn | None = None
    go_package_prefix: str | None = None


class ModuleUpdate(Request):
    description: Description | None = None
    compatibility: PolicyIn | None = None
    go_package_prefix: str | None = None


class Owner(Model):
    id: str


class ModuleOut(Model):
    name: str
    description: str
    created_at: Timestamp
    updated_at: Timestamp
    versions: list[str] = Field(description="In semver order")
    latest_version: str | None
    compatibility: Obj
    go_package_prefix: str | None
    owner: Owner | None


class ModuleSummary(Model):
    name: str
    description: str
    created_at: Timestamp
    updated_at: Timestamp
    version_count: int


class PagePagination(Model):
    page: int
    page_size: int
    total_pages: int
    total_items: int
    has_more: bool
    next_cursor: str | None


class ModuleList(Model):
    modules: list[ModuleSummary]
    pagination: PagePagination


class CollaboratorRequest(Request):
    email: str


class CollaboratorOut(Model):
    user_id: str
    email: str
    added_at: Timestamp


class CollaboratorList(Model):
    module: str
    owner: Owner | None
    collaborators: list[CollaboratorOut]


class UploadGrant(Model):
    upload_id: str
    module: str
    method: Literal["POST"]
    url: str
    fields: dict[str, str] = Field(description="Send these form fields, then the archive as `file_field`")
    file_field: str
    url_expires_at: Timestamp
    expires_at: Timestamp
    formats: list[str]
    max_bytes: int
    limits: dict[str, int]


# --- versions, files, compatibility -----------------------------------------------------------------

class PublishFiles(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"version": "v1.0.0", "description": "Initial release", "files": EXAMPLE_FILES}]})

    version: str = Field(pattern=SEMVER, description="A semantic version, e.g. v1.0.0")
    description: str | None = None
    files: dict[ProtoPath, str] = Field(description="path -> the file's text")
    dependencies: list[str] | None = Field(default=None, description="module@version of published modules")


class PublishUpload(Request):
    version: str = Field(pattern=SEMVER)
    upload_id: str = Field(description="From POST /modules/{name}/uploads")
    description: str | None = None
    dependencies: list[str] | None = None


class PublishForm(Model):
    """multipart/form-data: these fields, and any number of file parts (their file names are the paths)."""

    version: str = Field(pattern=SEMVER)
    description: str | None = None
    dependency: str | None = Field(default=None, description="module@version; repeat the field for more")


class Dependency(Model):
    module: str
    version: str


class PublishedVersion(Model):
    module: str
    version: str
    description: str
    created_at: Timestamp
    files: list[str]
    dependencies: list[Obj]
    checked_against: list[str] = Field(description="The versions the module's policy compared it with")


class FileOut(Model):
    path: str
    size: int
    checksum: str = Field(description="sha256:<hex>")


class VersionOut(Model):
    module: str
    version: str
    description: str
    created_at: Timestamp
    files: list[FileOut]
    dependencies: list[Obj]
    compiled_languages: list[str]
    compilation: dict[str, Obj] = Field(description="language (or language@release) -> its compile status")


class VersionSummary(Model):
    version: str
    description: str
    created_at: Timestamp
    file_count: int


class CursorPagination(Model):
    page: int
    page_size: int
    has_more: bool
    next_cursor: str | None


class VersionList(Model):
    module: str
    versions: list[VersionSummary]
    pagination: CursorPagination


class ValidateFiles(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [{"files": EXAMPLE_FILES}]})

    files: dict[ProtoPath, str]
    dependencies: list[str] | None = None


class ValidateForm(Model):
    """multipart/form-data: file parts, and `dependency` fields."""

    dependency: str | None = None


class Validation(Model):
    valid: bool
    errors: list[Obj] = Field(description="{file, line, column, message}")
    warnings: list[Obj]


class VersionDependencies(Model):
    module: str
    version: str
    dependencies: list[Obj]


class Dependents(Model):
    module: str
    dependents: list[Obj]


class CompareVersions(Request):
    version1: str = Field(pattern=SEMVER_OR_LATEST)
    version2: str = Field(pattern=SEMVER_OR_LATEST)
    use: list[str] | None = None
    except_: list[str] | None = Field(default=None, alias="except")


class CompareFiles(Request):
    against: str = Field(pattern=SEMVER_OR_LATEST, description="A stored version, or `latest`")
    files: dict[ProtoPath, str]
    dependencies: list[str] | None = None
    use: list[str] | None = None
    except_: list[str] | None = Field(default=None, alias="except")


class CompareForm(Model):
    """multipart/form-data: `against`, file parts as in publish, `dependency`, `use`, `except`."""

    against: str


class Finding(Model):
    rule: str = Field(description="buf's rule ID, e.g. FIELD_NO_DELETE")
    category: str
    categories: list[str]
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str


class Compatibility(Model):
    compatible: bool
    breaking_changes: list[Finding]
    warnings: list[Any]
    use: list[str]
    except_: list[str] = Field(alias="except")


class Language(Model):
    name: str
    description: str


class Languages(Model):
    languages: list[Language]
    versions: Obj
    protoc_releases: list[Obj]
    default_protoc_release: str | None


class CompileRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [{"languages": ["python", "go"]}]})

    languages: list[str] | None = None
    protoc: str | None = Field(default=None, description="A protoc release of GET /languages")


class CompileAccepted(Model):
    module: str
    version: str
    compilation: dict[str, Obj]


class DownloadLink(Model):
    url: str = Field(description="A presigned S3 URL")
    size: int
    sha256: str


# --- webhooks ---------------------------------------------------------------------------------------

class WebhookRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"url": "https://example.com/hooks/spoke", "events": ["version.published"], "secret": "a-long-shared-secret"}]})

    url: str
    events: list[EventName] = Field(min_length=1)
    secret: str
    active: bool | None = None


class WebhookUpdate(Request):
    url: str | None = None
    events: list[EventName] | None = Field(default=None, min_length=1)
    secret: str | None = None
    active: bool | None = None


class WebhookOut(Model):
    id: str
    url: str
    events: list[str]
    active: bool
    created_at: Timestamp
    updated_at: Timestamp


class WebhookList(Model):
    webhooks: list[WebhookOut]


class DeliveryOut(Model):
    id: str
    webhook_id: str
    event: str
    event_id: str
    status: str
    attempts: int
    status_code: int | None
    duration_ms: int | float | None
    last_error: str | None
    next_retry_at: Timestamp | None
    redelivery_of: str | None
    created_at: Timestamp
    updated_at: Timestamp
    history: list[Obj]


class DeliveryPagination(Model):
    page_size: int
    has_more: bool
    next_cursor: str | None


class DeliveryList(Model):
    deliveries: list[DeliveryOut]
    pagination: DeliveryPagination


# --- system -----------------------------------------------------------------------------------------

class Health(Model):
    status: Literal["ok", "degraded"]
    timestamp: Timestamp
    version: str
    uptime: str
    checks: Obj | None = Field(default=None, description="Operators only: each backend's state")
