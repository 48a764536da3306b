"""Typed, frozen views of the server's JSON (stdlib dataclasses: the client needs only httpx).

Each model keeps the JSON it came from in `raw`, so a field the server adds later is reachable
before the client learns about it; `from_json` tolerates missing fields for the same reason.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx

T = TypeVar("T")
Json = Mapping[str, Any]


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else ()


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class RateLimit:
    """The X-RateLimit-* headers of the last API response: how much of the window is left."""
    limit: int | None
    remaining: int | None
    reset: int | None  # Unix seconds when the window starts afresh

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> RateLimit | None:
        if "x-ratelimit-limit" not in headers and "x-ratelimit-remaining" not in headers:
            return None
        return cls(_int(headers.get("x-ratelimit-limit")), _int(headers.get("x-ratelimit-remaining")),
                   _int(headers.get("x-ratelimit-reset")))


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing; `next_cursor` resumes after it (None when it is the last)."""
    items: tuple[T, ...]
    next_cursor: str | None
    has_more: bool
    total_items: int | None = None


@dataclass(frozen=True)
class User:
    id: str
    email: str
    first_name: str | None = None
    last_name: str | None = None
    role: str | None = None

    @classmethod
    def from_json(cls, data: Json) -> User:
        return cls(str(data.get("id", "")), str(data.get("email", "")), data.get("first_name"),
                   data.get("last_name"), data.get("role"))


@dataclass(frozen=True)
class Session:
    """What login returns: the bearer token and who it belongs to."""
    token: str
    expires_at: str | None
    user: User

    @classmethod
    def from_json(cls, data: Json) -> Session:
        return cls(str(data["token"]), data.get("expires_at"), User.from_json(data.get("user") or {}))


@dataclass(frozen=True)
class Organization:
    id: str
    slug: str
    name: str
    plan: str | None = None
    created_at: str | None = None
    member_count: int | None = None
    role: str | None = None  # the caller's role, where the server says it
    raw: Json = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Json) -> Organization:
        return cls(str(data.get("id", "")), str(data.get("slug", "")), str(data.get("name", "")),
                   data.get("plan"), data.get("created_at"), _int(data.get("member_count")), data.get("role"),
                   dict(data))


@dataclass(frozen=True)
class ApiToken:
    """An API token's record; `token` (the secret) is set only in the answer that created it."""
    id: str
    name: str
    organization_id: str | None
    organization_slug: str | None
    scopes: tuple[str, ...]
    created_at: str | None = None
    expires_at: str | None = None
    last_used_at: str | None = None
    token: str | None = field(default=None, repr=False)

    @classmethod
    def from_json(cls, data: Json) -> ApiToken:
        org = data.get("organization")
        org_id, org_slug = (org.get("id"), org.get("slug")) if isinstance(org, dict) else (org, None)
        return cls(str(data.get("id", "")), str(data.get("name", "")), org_id, org_slug,
                   tuple(str(s) for s in _tuple(data.get("scopes"))), data.get("created_at"),
                   data.get("expires_at"), data.get("last_used_at"), data.get("token"))


@dataclass(frozen=True)
class Me:
    """Who the client is signed in as: a user session or an API token (then `token` says which)."""
    kind: str
    user: User | None
    token: ApiToken | None
    organizations: tuple[Organization, ...]

    @classmethod
    def from_json(cls, data: Json) -> Me:
        user, token = data.get("user"), data.get("token")
        return cls(str(data.get("kind", "")), User.from_json(user) if isinstance(user, dict) else None,
                   ApiToken.from_json(token) if isinstance(token, dict) else None,
                   tuple(Organization.from_json(o) for o in _tuple(data.get("organizations"))))


@dataclass(frozen=True)
class Module:
    """A module: from a listing (`version_count`) or a GET (`versions`, `latest_version`)."""
    name: str
    description: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    versions: tuple[str, ...] = ()
    latest_version: str | None = None
    version_count: int | None = None
    compatibility: Json | None = None
    go_package_prefix: str | None = None
    raw: Json = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Json) -> Module:
        return cls(str(data.get("name", "")), data.get("description"), data.get("created_at"),
                   data.get("updated_at"), tuple(_tuple(data.get("versions"))), data.get("latest_version"),
                   _int(data.get("version_count")), data.get("compatibility"), data.get("go_package_prefix"),
                   dict(data))


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int | None = None
    checksum: str | None = None  # "sha256:<hex>"

    @property
    def sha256(self) -> str | None:
        return self.checksum.split(":", 1)[1] if self.checksum and ":" in self.checksum else self.checksum

    @classmethod
    def from_json(cls, data: Any) -> FileEntry:
        if isinstance(data, str):  # a publish answer lists paths only
            return cls(data)
        return cls(str(data.get("path", "")), _int(data.get("size")), data.get("checksum"))


@dataclass(frozen=True)
class Version:
    module: str
    version: str
    description: str | None = None
    created_at: str | None = None
    files: tuple[FileEntry, ...] = ()
    dependencies: tuple[Any, ...] = ()
    compiled_languages: tuple[str, ...] = ()
    compilation: Json | None = None
    file_count: int | None = None
    raw: Json = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Json, module: str | None = None) -> Version:
        return cls(str(data.get("module") or module or ""), str(data.get("version", "")), data.get("description"),
                   data.get("created_at"), tuple(FileEntry.from_json(f) for f in _tuple(data.get("files"))),
                   _tuple(data.get("dependencies")), tuple(_tuple(data.get("compiled_languages"))),
                   data.get("compilation"), _int(data.get("file_count")), dict(data))


@dataclass(frozen=True)
class CompatibilityReport:
    compatible: bool
    breaking_changes: tuple[Json, ...]
    warnings: tuple[Any, ...]
    version1: str | None = None
    version2: str | None = None
    raw: Json = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Json) -> CompatibilityReport:
        return cls(bool(data.get("compatible")), _tuple(data.get("breaking_changes")), _tuple(data.get("warnings")),
                   data.get("version1"), data.get("version2"), dict(data))


@dataclass(frozen=True)
class ValidationReport:
    valid: bool
    errors: tuple[Json, ...]
    warnings: tuple[Any, ...]

    @classmethod
    def from_json(cls, data: Json) -> ValidationReport:
        return cls(bool(data.get("valid")), _tuple(data.get("errors")), _tuple(data.get("warnings")))


@dataclass(frozen=True)
class UploadGrant:
    """A presigned S3 POST for one archive of a module's files (POST /modules/{name}/uploads)."""
    upload_id: str
    url: str
    fields: Json
    file_field: str = "file"
    max_bytes: int | None = None
    expires_at: str | None = None
    formats: tuple[str, ...] = ("zip", "tar.gz")

    @classmethod
    def from_json(cls, data: Json) -> UploadGrant:
        return cls(str(data["upload_id"]), str(data["url"]), dict(data.get("fields") or {}),
                   str(data.get("file_field") or "file"), _int(data.get("max_bytes")), data.get("expires_at"),
                   tuple(_tuple(data.get("formats"))) or ("zip", "tar.gz"))


@dataclass(frozen=True)
class Artifact:
    """Where a compiled (or `proto`) ZIP is and what it must hash to."""
    url: str
    size: int | None
    sha256: str | None
