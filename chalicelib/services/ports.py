"""What the services need from the outside world. Adapters implement these; tests may fake them."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence

from chalicelib.domain.compile_status import Statuses, StatusChange

if TYPE_CHECKING:  # annotations only: a cold start does not load pydantic models
    from chalicelib.domain.policy import CompatibilityPolicy
    from chalicelib.domain.models import (Credentials, Member, Module, Organization, OutboxMessage, User,
                                          VersionSummary)
    from chalicelib.domain.roles import Role
    from chalicelib.domain.search import SearchPage, SearchQuery


class AccountsPort(Protocol):
    def create_user(self, user: User, password_hash: str) -> None: ...
    def credentials_for(self, email: str) -> Credentials | None: ...
    def get_user(self, user_id: str) -> User | None: ...
    def user_id_for_email(self, email: str) -> str | None: ...
    def revoke_token(self, token_id: str, expires_at: int) -> None: ...
    def is_revoked(self, token_id: str) -> bool: ...


class CountersPort(Protocol):
    """Atomic counters with a time to live: rate limits, login throttling."""

    def increment(self, key: str, window_start: int, expires_at: int) -> int:
        """Add one to the counter of `key` in the window starting at `window_start`; the new count."""
    def peek(self, key: str, window_start: int) -> int:
        """The current count (0 when none)."""


class OrganizationsPort(Protocol):
    def create_organization(self, org: Organization, owner: Member) -> None: ...
    def get_organization(self, org_id: str) -> Organization | None: ...
    def org_id_for_slug(self, slug: str) -> str | None: ...
    def counters(self, org_id: str) -> dict[str, int]: ...
    def organizations_of(self, user_id: str) -> list[tuple[Organization, Role]]: ...
    def get_member(self, org_id: str, user_id: str) -> Member | None: ...
    def list_members(self, org_id: str) -> list[Member]: ...
    def add_member(self, member: Member) -> None: ...
    def remove_member(self, org_id: str, user_id: str, role: Role) -> None:
        """Raises MemberNotFound (gone, or no longer that role) or LastOwner (the org's last owner)."""


# Statuses (language -> compile status) and StatusChange: the statuses to set, or a function of the
# current ones giving them (evaluated against the stored map on every optimistic retry, so a decision
# such as "claim what nobody holds" is atomic). Defined with their merge rule in domain/compile_status.
# (statuses before, statuses after) -> the messages that this change of status must be followed by,
# written in the same transaction as the change.
FollowUp = Callable[[Statuses, Statuses], "list[OutboxMessage]"]


class RegistryPort(Protocol):
    def create_module(self, module: Module, outbox: Sequence[OutboxMessage] = ()) -> None: ...
    def get_module(self, org_id: str, name: str) -> Module | None: ...
    def update_module(self, org_id: str, name: str, description: str, compatibility: CompatibilityPolicy,
                      go_package_prefix: str | None, updated_at: str) -> Module: ...
    def list_modules(self, org_id: str, *, after: str | None, limit: int) -> tuple[list[Module], bool]: ...
    def search_modules(self, org_id: str, query: SearchQuery, *, after: str | None, skip: int, limit: int
                       ) -> SearchPage: ...
    def count_search(self, org_id: str, query: SearchQuery) -> int: ...
    def version_exists(self, org_id: str, module: str, sort_key: str) -> bool: ...
    def create_version(self, values: dict[str, Any], updated_at: str, outbox: Sequence[OutboxMessage] = ()
                       ) -> None: ...
    def dependents_of(self, org_id: str, module: str) -> list[dict[str, str]]: ...
    def set_compilation(self, org_id: str, module: str, sort_key: str, statuses: StatusChange,
                        unless_job_finished: str | None = None, outbox: FollowUp | None = None
                        ) -> dict[str, Any] | None: ...
    def get_version(self, org_id: str, module: str, sort_key: str) -> dict[str, Any] | None: ...
    def versions_below(self, org_id: str, module: str, sort_key: str, limit: int | None) -> list[dict[str, Any]]: ...
    def version_names(self, org_id: str, module: str) -> list[str]: ...
    def list_versions(self, org_id: str, module: str, *, after_sort_key: str | None, limit: int
                      ) -> tuple[list[tuple[str, VersionSummary]], bool]: ...
    def totals(self) -> dict[str, int]: ...
    def ping(self) -> None: ...


@dataclass(frozen=True)
class PackedFile:
    """One file of a version. `offset`: where its bytes start in the version's pack; None in the old
    layout (one blob per file, under its sha256)."""
    path: str
    size: int
    sha256: str
    offset: int | None = None


@dataclass(frozen=True)
class Manifest:
    """A version's file list, in upload order, and the pack holding their bytes (None: the old layout).

    The same compact JSON is the S3 manifest object (named by its sha256) and, for small versions, the
    copy inline in the version item: {"format": 2, "pack": {"sha256", "size"}, "files": [{"path",
    "size", "sha256", "offset"}]}; the old layout's is {"files": [{"path", "size", "sha256"}]}.
    """
    files: tuple[PackedFile, ...]
    pack_sha256: str | None = None
    pack_size: int = 0

    def find(self, path: str) -> PackedFile | None:
        return next((f for f in self.files if f.path == path), None)

    @staticmethod
    def pack(files: Sequence[tuple[str, bytes]]) -> tuple[bytes, "Manifest"]:
        """The pack of `files` (their bytes back to back, in the order given) and its manifest: the one
        layout every blob store writes."""
        entries, offset = [], 0
        for path, content in files:
            entries.append(PackedFile(path=path, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                                      offset=offset))
            offset += len(content)
        body = b"".join(content for _, content in files)
        return body, Manifest(files=tuple(entries), pack_sha256=hashlib.sha256(body).hexdigest(), pack_size=len(body))

    def to_text(self) -> str:
        if self.pack_sha256 is None:
            body: dict[str, Any] = {"files": [{"path": f.path, "size": f.size, "sha256": f.sha256}
                                              for f in self.files]}
        else:
            body = {"format": 2, "pack": {"sha256": self.pack_sha256, "size": self.pack_size},
                    "files": [{"path": f.path, "size": f.size, "sha256": f.sha256, "offset": f.offset}
                              for f in self.files]}
        return json.dumps(body, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_text(cls, text: str | bytes) -> "Manifest":
        body = json.loads(text)
        pack = body.get("pack") or {}
        return cls(files=tuple(PackedFile(path=f["path"], size=int(f["size"]), sha256=f["sha256"],
                                          offset=f.get("offset")) for f in body["files"]),
                   pack_sha256=pack.get("sha256"), pack_size=int(pack.get("size", 0)))


class BlobsPort(Protocol):
    def put_blob(self, sha256: str, body: bytes) -> None: ...
    def get_blob(self, sha256: str) -> bytes: ...
    def put_pack(self, files: Sequence[tuple[str, bytes]]) -> Manifest: ...
    def read_file(self, manifest: Manifest, entry: PackedFile) -> bytes: ...
    def read_files(self, manifest: Manifest) -> dict[str, bytes]: ...
    def put_manifest(self, manifest: Manifest) -> str: ...
    def read_manifest(self, sha256: str) -> Manifest: ...
    def get_manifest(self, sha256: str) -> list[dict[str, Any]]: ...
    def put_descriptor_set(self, body: bytes) -> str: ...
    def get_descriptor_set(self, sha256: str) -> bytes: ...
    def put_artifact(self, body: bytes) -> str: ...
    def artifact_url(self, sha256: str, filename: str, expires_in: int) -> str: ...
    def ping(self) -> None: ...


class QueuesPort(Protocol):
    def send(self, which: str, body: str, **extra: Any) -> None: ...
    def ping(self) -> None: ...


class TokensPort(Protocol):
    def issue(self, user_id: str, email: str) -> tuple[str, int]: ...
    def decode(self, token: str) -> dict: ...


class CursorsPort(Protocol):
    def encode(self, position: dict[str, Any]) -> str: ...
    def decode(self, cursor: str) -> dict[str, Any]: ...


class PasswordsPort(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str | None, password: str) -> bool: ...


@dataclass(frozen=True)
class UploadGrant:
    """Permission to post one archive to S3 and publish it once: bound to an organization, a module and
    the user it was granted to, until `expires_at` (Unix seconds)."""
    upload_id: str
    org_id: str
    module: str
    user_id: str
    created_at: str
    expires_at: int
    used_version: str | None = None      # set once a version was published from it


class UploadsPort(Protocol):
    def create(self, grant: UploadGrant) -> None: ...
    def get(self, upload_id: str) -> UploadGrant | None: ...
    def mark_used(self, upload_id: str, version: str) -> bool: ...
    def presigned_post(self, grant: UploadGrant, max_bytes: int, expires_in: int) -> dict[str, Any]: ...
    def read_archive(self, grant: UploadGrant, max_bytes: int) -> bytes | None: ...


@dataclass(frozen=True)
class TableChange:
    """One record of the table's change stream, as the outbox relay needs it: an outbox message to
    forward, or an entity that was created (for the totals), or neither."""
    sequence: str                           # the stream's sequence number (partial batch failures name it)
    outbox_id: str | None = None            # an outbox item to forward...
    message: OutboxMessage | None = None    # ...and what it holds
    created: str | None = None              # "user", "organization", "module" or "version"
    org_id: str | None = None               # the organization a created module or version belongs to


class OutboxStorePort(Protocol):
    def is_pending(self, outbox_id: str) -> bool: ...
    def forwarded(self, outbox_id: str) -> None: ...
    def add_totals(self, totals: dict[str, int], org_versions: dict[str, int]) -> None: ...
