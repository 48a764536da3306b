"""Entities of the registry. Plain pydantic models: no I/O, no AWS shapes."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from chalicelib.domain.names import DEFAULT_ORG_ID as DEFAULT_ORG_ID  # re-exported
from chalicelib.domain.policy import CompatibilityPolicy
from chalicelib.domain.roles import Role


class Entity(BaseModel):
    model_config = ConfigDict(frozen=True)


class User(Entity):
    id: str
    email: str
    first_name: str = ""
    last_name: str = ""
    role: str = "developer"
    created_at: str


class Credentials(Entity):
    user_id: str
    password_hash: str


class Organization(Entity):
    id: str
    name: str
    slug: str
    plan: str = "free"
    created_at: str
    member_count: int = 0
    module_count: int = 0
    is_default: bool = False


class Member(Entity):
    org_id: str
    user_id: str
    email: str
    role: Role
    joined_at: str


class Module(Entity):
    org_id: str
    name: str
    description: str = ""
    created_at: str
    updated_at: str
    version_count: int = 0
    compatibility: CompatibilityPolicy = CompatibilityPolicy()
    go_package_prefix: str | None = None  # Go import path prefix for files without go_package
    owner_id: str | None = None  # who created it: in the default organization, only they (and collaborators) write


class FileEntry(Entity):
    path: str
    size: int
    sha256: str

    @property
    def checksum(self) -> str:
        return f"sha256:{self.sha256}"


class ModuleVersion(Entity):
    org_id: str
    module: str
    version: str
    sort_key: str
    description: str = ""
    created_at: str
    created_by: str
    files: tuple[FileEntry, ...]
    dependencies: tuple[dict[str, str], ...] = ()
    compiled_languages: tuple[str, ...] = ()
    checked_against: tuple[str, ...] = ()  # set on publish: the versions the policy compared it with
    compilation: dict[str, dict[str, Any]] = {}  # language -> status (pending, running, succeeded, failed)


class VersionSummary(Entity):
    version: str
    description: str
    created_at: str
    file_count: int


class Principal(Entity):
    """Who is calling: a signed-in user (a session from /auth/login or SSO) or an API token.

    An API token (`kind == "api_token"`) acts only in its organization (`org_id`) and within its
    `scopes` ("read", "write", "admin"); a session has neither bound (`org_id`, `scopes` None)."""

    user_id: str
    email: str
    token_id: str
    token_expires_at: int
    kind: str = "session"
    org_id: str | None = None
    scopes: tuple[str, ...] | None = None
    issued_at: int = 0


class RequestContext(Entity):
    """Every request knows its id, its caller and the organization it acts in."""

    request_id: str
    principal: Principal | None
    org: Organization
    role: Role | None


class OutboxMessage(Entity):
    """Work that must follow a write (a compile job, a registry event): stored in the write's own
    transaction and sent to `queue` ("compile" or "events") once it has committed, so the write and its
    follow-up happen together or not at all."""

    queue: str
    body: str
