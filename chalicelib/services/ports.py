"""What the services need from the outside world. Adapters implement these; tests may fake them."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.domain.compile_status import StatusChange, Statuses

if TYPE_CHECKING:  # annotations only: a cold start does not load pydantic models
    from chalicelib.domain.api_tokens import ApiToken
    from chalicelib.domain.models import Credentials, Member, Module, Organization, OutboxMessage, User, VersionSummary
    from chalicelib.domain.passwords import SessionState
    from chalicelib.domain.policy import CompatibilityPolicy
    from chalicelib.domain.quotas import Quotas, Usage
    from chalicelib.domain.roles import Role
    from chalicelib.domain.search import SearchPage, SearchQuery


class AccountsPort(Protocol):
    def create_user(self, user: User, password_hash: str) -> None: ...
    def credentials_for(self, email: str) -> Credentials | None: ...
    def get_user(self, user_id: str) -> User | None: ...
    def user_id_for_email(self, email: str) -> str | None: ...
    def revoke_token(self, token_id: str, expires_at: int) -> None: ...
    def is_revoked(self, token_id: str) -> bool: ...
    def session_state(self, token_id: str, user_id: str) -> SessionState:
        """Revoked? Ended by a password change? One read (BatchGetItem) when not cached."""
    def change_password(self, user_id: str, email: str, password_hash: str, sessions_valid_after_ms: int
                        ) -> None:
        """The new hash and the end of the user's older sessions, together."""


class ApiTokensPort(Protocol):
    """API tokens by the hash of their secret, and each user's list of them."""

    def create(self, token: ApiToken, max_per_user: int) -> None:
        """Both items at once; TokenLimitReached when the user already holds `max_per_user`."""
    def find(self, token_hash: str) -> ApiToken | None:
        """Strongly consistent: a revoked token is gone at once."""
    def list_for(self, user_id: str) -> list[ApiToken]: ...
    def delete(self, user_id: str, token_id: str) -> None:
        """TokenNotFound unless it is one of the user's."""
    def touch(self, token_hash: str, used_at: str, used_epoch: int) -> bool:
        """Record a use unless one was recorded within the last minute."""


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
    def add_member(self, member: Member, max_members: int | None = None) -> None:
        """Raises MemberExists, or QuotaExceeded when `max_members` (the plan's quota) is reached."""
    def rename_organization(self, org_id: str, name: str) -> Organization: ...
    def set_plan(self, org_id: str, plan: str) -> tuple[Organization, str]:
        """The operator's change of plan: the organization after it and the plan before."""
    def usage(self, quotas: Quotas) -> Usage:
        """What the organization (the user, in the default organization) holds against its quotas."""
    def remove_member(self, org_id: str, user_id: str, role: Role) -> None:
        """Raises MemberNotFound (gone, or no longer that role) or LastOwner (the org's last owner)."""


# Statuses (language -> compile status) and StatusChange: the statuses to set, or a function of the
# current ones giving them (evaluated against the stored map on every optimistic retry, so a decision
# such as "claim what nobody holds" is atomic). Defined with their merge rule in domain/compile_status.
# (statuses before, statuses after) -> the messages that this change of status must be followed by,
# written in the same transaction as the change.
FollowUp = Callable[[Statuses, Statuses], "list[OutboxMessage]"]


class RegistryPort(Protocol):
    def create_module(self, module: Module, outbox: Sequence[OutboxMessage] = (), quotas: Quotas | None = None
                      ) -> None:
        """Raises ModuleExists, or QuotaExceeded (modules) as a condition of the same write."""
    def get_module(self, org_id: str, name: str) -> Module | None: ...
    def update_module(self, org_id: str, name: str, description: str, compatibility: CompatibilityPolicy,
                      go_package_prefix: str | None, updated_at: str) -> Module: ...
    def assign_owner(self, org_id: str, name: str, owner_id: str) -> Module | None:
        """Set a module's owner only while it has none (one conditional write); None when the module
        is missing or already owned."""
    def list_modules(self, org_id: str, *, after: str | None, limit: int) -> tuple[list[Module], bool]: ...
    def search_modules(self, org_id: str, query: SearchQuery, *, after: str | None, skip: int, limit: int
                       ) -> SearchPage: ...
    def count_search(self, org_id: str, query: SearchQuery) -> int: ...
    def version_exists(self, org_id: str, module: str, sort_key: str) -> bool: ...
    def create_version(self, values: dict[str, Any], updated_at: str, outbox: Sequence[OutboxMessage] = (),
                       quotas: Quotas | None = None) -> None:
        """Raises VersionExists, ModuleNotFound, or QuotaExceeded (versions_per_module, stored_bytes of
        `values["pack_size"]`, compiles_per_day) as conditions of the same transaction."""
    def dependents_of(self, org_id: str, module: str) -> list[dict[str, str]]: ...
    def set_compilation(self, org_id: str, module: str, sort_key: str, statuses: StatusChange,
                        unless_job_finished: str | None = None, outbox: FollowUp | None = None,
                        compile_quota: Quotas | None = None) -> dict[str, Any] | None: ...
    def get_version(self, org_id: str, module: str, sort_key: str) -> dict[str, Any] | None: ...
    def versions_below(self, org_id: str, module: str, sort_key: str, limit: int | None) -> list[dict[str, Any]]: ...
    def latest_release(self, org_id: str, module: str) -> dict[str, Any] | None:
        """The item of the highest-precedence version that is not a pre-release (`latest`); None: none."""
    def set_source_archive(self, org_id: str, module: str, sort_key: str, archive: dict[str, Any]) -> None:
        """Record {sha256, size} of the version's source ZIP on its item."""
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
    def pack(files: Sequence[tuple[str, bytes]]) -> tuple[bytes, Manifest]:
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
    def from_text(cls, text: str | bytes) -> Manifest:
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
    def descriptor_set_url(self, sha256: str, filename: str, expires_in: int) -> str: ...
    def descriptor_set_size(self, sha256: str) -> int: ...
    def ping(self) -> None: ...


class QueuesPort(Protocol):
    def send(self, which: str, body: str, **extra: Any) -> None: ...
    def ping(self) -> None: ...


class TokensPort(Protocol):
    def issue(self, user_id: str, email: str) -> tuple[str, int]: ...
    def decode(self, token: str) -> dict[str, Any]: ...


class CursorsPort(Protocol):
    def encode(self, position: dict[str, Any]) -> str: ...
    def decode(self, cursor: str) -> dict[str, Any]: ...


class PasswordsPort(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str | None, password: str) -> bool: ...


@dataclass(frozen=True)
class Collaborator:
    """Someone a default-organization module's owner lets publish and edit the module."""
    org_id: str
    module: str
    user_id: str
    email: str
    added_at: str
    added_by: str


class CollaboratorsPort(Protocol):
    """A module's collaborators: at most `limit` per module, held by a condition of the write."""

    def add(self, collaborator: Collaborator, limit: int) -> bool:
        """False when they already are one; raises CollaboratorLimitReached past `limit`."""
    def get(self, org_id: str, module: str, user_id: str) -> Collaborator | None: ...
    def list(self, org_id: str, module: str) -> list[Collaborator]: ...
    def remove(self, org_id: str, module: str, user_id: str) -> bool:
        """False when they were not one."""


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
    def add_totals(self, totals: dict[str, int], org_counts: dict[str, dict[str, int]]) -> None:
        """`org_counts`: organization id -> counter name (version_count, module_count) -> added."""


# Single sign-on (OpenID Connect): the organization's settings and logins in progress, the client
# secret (SSM), and the issuer itself (discovery, token endpoint, ID-token verification).
if TYPE_CHECKING:
    from chalicelib.domain.sso import LoginState, ProviderMetadata, SsoConfig


class SsoPort(Protocol):
    def put_config(self, config: SsoConfig) -> None: ...
    def get_config(self, org_id: str) -> SsoConfig | None: ...
    def delete_config(self, org_id: str) -> bool:
        """False when there was none."""
    def put_state(self, login: LoginState) -> None: ...
    def take_state(self, state: str, now: int) -> LoginState | None:
        """Remove and return the login of `state` if it exists and has not expired: at most once."""


class SsoSecretsPort(Protocol):
    def put_client_secret(self, org_id: str, secret: str) -> None: ...
    def get_client_secret(self, org_id: str) -> str | None: ...
    def delete_client_secret(self, org_id: str) -> None: ...


class OidcPort(Protocol):
    def discover(self, issuer: str) -> ProviderMetadata:
        """The issuer's discovery document, checked; InvalidSsoConfig (with the reason) otherwise."""
    def exchange_code(self, provider: ProviderMetadata, client_id: str, client_secret: str, code: str,
                      code_verifier: str, redirect_uri: str) -> str:
        """The ID token the token endpoint gives for `code`; SsoLoginFailed otherwise."""
    def verify_id_token(self, provider: ProviderMetadata, client_id: str, id_token: str, nonce: str
                        ) -> dict[str, Any]:
        """The claims of an ID token whose signature (the issuer's JWKS), iss, aud, exp and nonce hold;
        SsoLoginFailed naming the check that failed otherwise."""


if TYPE_CHECKING:
    from chalicelib.domain.audit import AuditQuery, AuditRecord


class AuditStorePort(Protocol):
    def put(self, record: AuditRecord, expires_at_epoch: int) -> None:
        """Store one record (a single PutItem); raises when the store fails."""
    def list(self, query: AuditQuery) -> tuple[list[tuple[str, AuditRecord]], bool]:
        """(position, record) pairs of one organization's trail, newest first, at most `query.limit`, and
        whether more follow; a position is what `AuditQuery.after` takes to resume after that record."""


class MetricsPort(Protocol):
    """Operational metrics (CloudWatch EMF on AWS). Services count what only they know (publishes,
    compile and delivery outcomes); the adapter adds the service and stage dimensions."""

    def count(self, name: str, value: float = 1, dimensions: dict[str, str] | None = None) -> None: ...
    def milliseconds(self, name: str, value: float, dimensions: dict[str, str] | None = None) -> None: ...


class NoMetrics:
    """A MetricsPort that records nothing: the default of services built without one."""

    def count(self, name: str, value: float = 1, dimensions: dict[str, str] | None = None) -> None:
        return None

    def milliseconds(self, name: str, value: float, dimensions: dict[str, str] | None = None) -> None:
        return None


class ClosuresPort(Protocol):
    """The stored compiled ZIPs a closure ZIP is built from, and which closure ZIP (an artifact, stored
    with BlobsPort.put_artifact) a closure's inputs built: {"sha256", "size"}, or None before the first."""

    def read_artifact(self, sha256: str) -> bytes: ...
    def get_pointer(self, inputs_sha256: str) -> dict[str, Any] | None: ...
    def put_pointer(self, inputs_sha256: str, artifact: dict[str, Any]) -> None: ...
