"""In-memory fakes of the ports in chalicelib/services/ports.py (cosmicpython's FakeRepository style).

Each fake mirrors its adapter's semantics where a service can tell the difference: conditional writes
raise the same domain errors (ModuleExists, VersionExists, EmailExists, OrganizationExists,
MemberExists, MemberNotFound, LastOwner), blobs are write-once and content-addressed, versions are
ordered by their sortable key, outbox messages are recorded only when their write commits.
tests/unit/services/test_fakes_contract.py runs the same checks against the real adapters (moto).
"""
from __future__ import annotations

import base64
import copy
import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.adapters.http_delivery import HttpResult
from chalicelib.domain.compile_status import compiled_languages, merge_statuses
from chalicelib.domain.errors import (
    EmailExists,
    InvalidCredentials,
    InvalidCursor,
    InvalidWebhookUrl,
    LastOwner,
    MemberExists,
    MemberNotFound,
    ModuleExists,
    ModuleNotFound,
    OrganizationExists,
    OrganizationNotFound,
    Unauthorized,
    VersionExists,
    WebhookLimitReached,
)
from chalicelib.domain.models import Credentials, Member, Module, Organization, OutboxMessage, User, VersionSummary
from chalicelib.domain.passwords import SessionState
from chalicelib.domain.policy import CompatibilityPolicy
from chalicelib.domain.quotas import Quotas, Usage, quota_exceeded
from chalicelib.domain.roles import Role
from chalicelib.domain.schema import CompileOutcome
from chalicelib.domain.search import SearchPage, SearchQuery, words_of
from chalicelib.domain.webhooks import Delivery, Webhook
from chalicelib.services.ports import FollowUp, Manifest, PackedFile, StatusChange
from tests.unit.services.fakes_quotas import QuotaCounters

# --------------------------------------------------------------------------------------------- accounts


class FakeAccounts:
    """AccountsPort: users by id, credentials by (lower-cased) email, revoked token ids, and since when
    (epoch ms) each user's sessions count after a password change."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.credentials: dict[str, Credentials] = {}
        self.revoked: dict[str, int] = {}
        self.sessions_valid_after: dict[str, int] = {}

    def create_user(self, user: User, password_hash: str) -> None:
        if user.email in self.credentials:  # the adapter's conditional put of the email item
            raise EmailExists(f"An account with email '{user.email}' already exists")
        self.credentials[user.email] = Credentials(user_id=user.id, password_hash=password_hash)
        self.users[user.id] = user

    def credentials_for(self, email: str) -> Credentials | None:
        return self.credentials.get(email)

    def get_user(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    def user_id_for_email(self, email: str) -> str | None:
        found = self.credentials.get(email)
        return found.user_id if found else None

    def revoke_token(self, token_id: str, expires_at: int) -> None:
        self.revoked[token_id] = expires_at

    def is_revoked(self, token_id: str) -> bool:
        return token_id in self.revoked

    def session_state(self, token_id: str, user_id: str) -> SessionState:
        return SessionState(revoked=token_id in self.revoked, valid_after_ms=self.sessions_valid_after.get(user_id, 0))

    def change_password(self, user_id: str, email: str, password_hash: str, sessions_valid_after_ms: int) -> None:
        """The adapter's transaction: both or neither (its condition: the email item still names the user)."""
        found = self.credentials.get(email)
        if found is None or found.user_id != user_id:
            raise InvalidCredentials("This account no longer signs in with that email: sign in again")
        self.credentials[email] = Credentials(user_id=user_id, password_hash=password_hash)
        self.sessions_valid_after[user_id] = sessions_valid_after_ms


# ---------------------------------------------------------------------------------------- organizations


class FakeOrganizations:
    """OrganizationsPort: organizations, slugs, members; the counters the table item would hold."""

    def __init__(self) -> None:
        self.orgs: dict[str, Organization] = {}
        self.slugs: dict[str, str] = {}
        self.members: dict[tuple[str, str], Member] = {}
        self.counts: dict[str, dict[str, int]] = {}
        self.quota = QuotaCounters()  # modules, stored bytes, compiles per day (fakes_quotas.py)
        self.webhook_counts: dict[str, int] = {}

    def bump(self, org_id: str, counter: str, by: int = 1) -> None:
        """What the registry's transactions ADD to the organization item (module_count, version_count)."""
        counts = self.counts.setdefault(org_id, {})
        counts[counter] = counts.get(counter, 0) + by

    def create_organization(self, org: Organization, owner: Member) -> None:
        if org.slug in self.slugs or org.id in self.orgs:
            raise OrganizationExists(f"An organization with slug '{org.slug}' already exists")
        self.slugs[org.slug] = org.id
        self.orgs[org.id] = org
        self.counts[org.id] = {"module_count": 0, "version_count": 0, "member_count": org.member_count}
        self.members[(org.id, owner.user_id)] = owner

    def get_organization(self, org_id: str) -> Organization | None:
        org = self.orgs.get(org_id)
        if org is None:
            return None
        counts = self.counts.get(org_id, {})
        return org.model_copy(update={"member_count": counts.get("member_count", org.member_count),
                                      "module_count": counts.get("module_count", 0)})

    def org_id_for_slug(self, slug: str) -> str | None:
        return self.slugs.get(slug)

    def counters(self, org_id: str) -> dict[str, int]:
        counts = self.counts.get(org_id, {})
        return {k: int(counts.get(k, 0)) for k in ("module_count", "version_count", "member_count")}

    def organizations_of(self, user_id: str) -> list[tuple[Organization, Role]]:
        found = [(self.get_organization(m.org_id), m.role) for (_, uid), m in self.members.items()
                 if uid == user_id and m.org_id in self.orgs]
        return sorted(((o, r) for o, r in found if o is not None), key=lambda pair: pair[0].created_at)

    def get_member(self, org_id: str, user_id: str) -> Member | None:
        return self.members.get((org_id, user_id))

    def list_members(self, org_id: str) -> list[Member]:
        return sorted((m for (oid, _), m in self.members.items() if oid == org_id), key=lambda m: m.user_id)

    def add_member(self, member: Member, max_members: int | None = None) -> None:
        if (member.org_id, member.user_id) in self.members:
            raise MemberExists(f"'{member.email}' is already a member of this organization")
        members = self.counts.get(member.org_id, {}).get("member_count", 0)
        if max_members is not None and members >= max_members:  # the adapter's `member_count < :max`
            raise quota_exceeded("members", members, max_members)
        self.members[(member.org_id, member.user_id)] = member
        self.bump(member.org_id, "member_count")

    def rename_organization(self, org_id: str, name: str) -> Organization:
        return self._set(org_id, name=name)

    def set_plan(self, org_id: str, plan: str) -> tuple[Organization, str]:
        before = self.orgs[org_id].plan if org_id in self.orgs else "free"
        return self._set(org_id, plan=plan), before

    def _set(self, org_id: str, **changes: str) -> Organization:
        if org_id not in self.orgs:
            raise OrganizationNotFound(f"Organization '{org_id}' not found", details={"organization": org_id})
        self.orgs[org_id] = self.orgs[org_id].model_copy(update=changes)
        return self.get_organization(org_id)  # type: ignore[return-value]

    def usage(self, quotas: Quotas) -> Usage:
        named = quotas.owner_id is None
        return Usage(modules=self.quota.count(quotas, "module_count"),
                     stored_bytes=self.quota.count(quotas, "stored_bytes"),
                     members=self.counts.get(quotas.org_id, {}).get("member_count", 0) if named else 0,
                     webhooks=self.webhook_counts.get(quotas.org_id, 0) if named else 0,
                     compiles_today=self.quota.compiles_today(quotas))

    def remove_member(self, org_id: str, user_id: str, role: Role) -> None:
        member = self.members.get((org_id, user_id))
        if member is None or member.role is not role:  # the adapter's condition on the member's role
            raise MemberNotFound(f"User '{user_id}' is not a member of this organization",
                                 details={"user_id": user_id})
        owners = sum(1 for (oid, _), m in self.members.items() if oid == org_id and m.role is Role.OWNER)
        if role is Role.OWNER and owners <= 1:  # the adapter's `owner_count > 1` condition
            raise LastOwner("An organization keeps at least one owner: add another owner first")
        del self.members[(org_id, user_id)]
        self.bump(org_id, "member_count", -1)


# --------------------------------------------------------------------------------------------- registry


class FakeRegistry:
    """RegistryPort: modules and version items in dicts; outbox messages appended when a write commits.

    `orgs` (optional) receives the counter updates the real transactions make on the organization item.
    """

    def __init__(self, orgs: FakeOrganizations | None = None) -> None:
        self.modules: dict[tuple[str, str], Module] = {}
        self.versions: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.dependents: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.outbox: list[OutboxMessage] = []
        self._orgs = orgs
        self.quota = orgs.quota if orgs is not None else QuotaCounters()

    # modules
    def create_module(self, module: Module, outbox: Sequence[OutboxMessage] = (), quotas: Quotas | None = None
                      ) -> None:
        key = (module.org_id, module.name)
        if key in self.modules:
            raise ModuleExists(f"Module '{module.name}' already exists", details={"module": module.name})
        if quotas is not None:
            self.quota.check_module(quotas)
            self.quota.add(quotas, "module_count")
        self.modules[key] = module
        self.outbox.extend(outbox)
        if self._orgs is not None:
            self._orgs.bump(module.org_id, "module_count")

    def get_module(self, org_id: str, name: str) -> Module | None:
        return self.modules.get((org_id, name))

    def update_module(self, org_id: str, name: str, description: str, compatibility: CompatibilityPolicy,
                      go_package_prefix: str | None, updated_at: str) -> Module:
        current = self.modules.get((org_id, name))
        if current is None:
            raise ModuleNotFound(f"Module '{name}' not found", details={"module": name})
        updated = current.model_copy(update={"description": description, "compatibility": compatibility,
                                             "go_package_prefix": go_package_prefix or None,
                                             "updated_at": updated_at})
        self.modules[(org_id, name)] = updated
        return updated

    def assign_owner(self, org_id: str, name: str, owner_id: str) -> Module | None:
        """Like the store's conditional write: only a module that exists and has no owner gets one."""
        current = self.modules.get((org_id, name))
        if current is None or current.owner_id is not None:
            return None
        self.modules[(org_id, name)] = current.model_copy(update={"owner_id": owner_id})
        return self.modules[(org_id, name)]

    def _org_modules(self, org_id: str) -> list[Module]:
        return sorted((m for (oid, _), m in self.modules.items() if oid == org_id), key=lambda m: m.name)

    def list_modules(self, org_id: str, *, after: str | None, limit: int) -> tuple[list[Module], bool]:
        found = [m for m in self._org_modules(org_id) if after is None or m.name > after]
        return found[:limit], len(found) > limit

    @staticmethod
    def _matches(module: Module, query: SearchQuery) -> bool:
        if query.name_prefix is not None and module.name.startswith(query.name_prefix):
            return True
        return bool(query.words) and set(query.words) <= set(words_of(module.description))

    def search_modules(self, org_id: str, query: SearchQuery, *, after: str | None, skip: int, limit: int
                       ) -> SearchPage:
        wanted = skip + limit + 1
        names = [m for m in self._org_modules(org_id)
                 if (after is None or m.name > after) and self._matches(m, query)][:wanted]
        return SearchPage(modules=names[skip:skip + limit], more=len(names) == wanted, matched=len(names))

    def count_search(self, org_id: str, query: SearchQuery) -> int:
        return sum(1 for m in self._org_modules(org_id) if self._matches(m, query))

    # versions
    def version_exists(self, org_id: str, module: str, sort_key: str) -> bool:
        return (org_id, module, sort_key) in self.versions

    def create_version(self, values: dict[str, Any], updated_at: str, outbox: Sequence[OutboxMessage] = (),
                       quotas: Quotas | None = None) -> None:
        org_id, module = values["org_id"], values["module"]
        key = (org_id, module, values["sort_key"])
        if key in self.versions:
            raise VersionExists(f"Version '{values['version']}' of module '{module}' already exists",
                                details={"module": module, "version": values["version"]})
        current = self.modules.get((org_id, module))
        if current is None:
            raise ModuleNotFound(f"Module '{module}' not found", details={"module": module})
        if quotas is not None:  # the adapter's conditions, all in the version's transaction
            size = int(values.get("pack_size", 0))
            self.quota.check_version(quotas, current.version_count, size)
            self.quota.add(quotas, "stored_bytes", size)
            self.quota.add_compile(quotas)
        self.versions[key] = {**copy.deepcopy(values), "type": "version"}
        self.modules[(org_id, module)] = current.model_copy(
            update={"version_count": current.version_count + 1, "updated_at": updated_at})
        for dependency in values.get("dependencies", []):
            self.dependents.setdefault((org_id, dependency["module"]), []).append(
                {"module": module, "version": values["version"], "depends_on": dependency["version"]})
        self.outbox.extend(outbox)

    def get_version(self, org_id: str, module: str, sort_key: str) -> dict[str, Any] | None:
        item = self.versions.get((org_id, module, sort_key))
        return copy.deepcopy(item) if item is not None else None

    def _sorted_versions(self, org_id: str, module: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(item) for (oid, mod, _), item in sorted(self.versions.items())
                if oid == org_id and mod == module]

    def versions_below(self, org_id: str, module: str, sort_key: str, limit: int | None) -> list[dict[str, Any]]:
        """Versions of lower precedence, closest first (at most `limit`)."""
        lower = [i for i in reversed(self._sorted_versions(org_id, module)) if i["sort_key"] < sort_key]
        return lower if limit is None else lower[:limit]

    def latest_release(self, org_id: str, module: str) -> dict[str, Any] | None:
        releases = [i for i in self._sorted_versions(org_id, module) if i["sort_key"].endswith("~")]
        return releases[-1] if releases else None

    def set_source_archive(self, org_id: str, module: str, sort_key: str, archive: dict[str, Any]) -> None:
        if (org_id, module, sort_key) in self.versions:
            self.versions[(org_id, module, sort_key)]["source_archive"] = dict(archive)

    def version_names(self, org_id: str, module: str) -> list[str]:
        return [i["version"] for i in self._sorted_versions(org_id, module)]

    def list_versions(self, org_id: str, module: str, *, after_sort_key: str | None, limit: int
                      ) -> tuple[list[tuple[str, VersionSummary]], bool]:
        rows = [(i["sort_key"], VersionSummary(version=i["version"], description=i.get("description", ""),
                                                created_at=i["created_at"], file_count=i["file_count"]))
                for i in reversed(self._sorted_versions(org_id, module))
                if after_sort_key is None or i["sort_key"] < after_sort_key]
        return rows[:limit], len(rows) > limit

    def dependents_of(self, org_id: str, module: str) -> list[dict[str, str]]:
        return list(self.dependents.get((org_id, module), []))

    def set_compilation(self, org_id: str, module: str, sort_key: str, statuses: StatusChange,
                        unless_job_finished: str | None = None, outbox: FollowUp | None = None,
                        compile_quota: Quotas | None = None) -> dict[str, Any] | None:
        """The adapter's merge, without its optimistic retry loop (a dict cannot change under us)."""
        item = self.versions.get((org_id, module, sort_key))
        if item is None:
            return None
        if compile_quota is not None:
            self.quota.check_compile(compile_quota)
            self.quota.add_compile(compile_quota)
        current = copy.deepcopy(item.get("compilation", {}))
        merged = merge_statuses(current, statuses, unless_job_finished)
        messages = outbox(current, merged) if outbox else []
        if merged == current and not messages:
            return copy.deepcopy(item)
        item["compilation"] = merged
        item["compiled_languages"] = compiled_languages(merged)
        item["compilation_rev"] = int(item.get("compilation_rev", 0)) + 1
        self.outbox.extend(messages)
        return copy.deepcopy(item)

    def totals(self) -> dict[str, int]:
        return {"modules_total": len(self.modules), "versions_total": len(self.versions),
                "users_total": 0, "organizations_total": 0}

    def ping(self) -> None:
        return None


# ------------------------------------------------------------------------------------------------ blobs


class FakeBlobs:
    """BlobsPort: content-addressed, write-once objects in a dict, one namespace per kind like the S3 keys."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.calls = 0

    def _put_once(self, key: str, body: bytes) -> None:
        self.calls += 1
        self.objects.setdefault(key, bytes(body))  # If-None-Match: * — an existing key keeps its bytes

    def _get(self, key: str) -> bytes:
        self.calls += 1
        if key not in self.objects:
            raise KeyError(f"NoSuchKey: {key}")
        return self.objects[key]

    def put_blob(self, sha256: str, body: bytes) -> None:
        self._put_once(f"blobs/{sha256}", body)

    def get_blob(self, sha256: str) -> bytes:
        return self._get(f"blobs/{sha256}")

    def put_pack(self, files: Sequence[tuple[str, bytes]]) -> Manifest:
        body, manifest = Manifest.pack(files)
        self._put_once(f"packs/{manifest.pack_sha256}", body)
        return manifest

    def read_file(self, manifest: Manifest, entry: PackedFile) -> bytes:
        if manifest.pack_sha256 is None or entry.offset is None:
            content = self.get_blob(entry.sha256)
        else:
            pack = self._get(f"packs/{manifest.pack_sha256}")
            content = pack[entry.offset:entry.offset + entry.size]
        return _checked(entry, content)

    def read_files(self, manifest: Manifest) -> dict[str, bytes]:
        if manifest.pack_sha256 is None:
            return {e.path: _checked(e, self.get_blob(e.sha256)) for e in manifest.files}
        pack = self._get(f"packs/{manifest.pack_sha256}")
        return {e.path: _checked(e, pack[e.offset:e.offset + e.size]) for e in manifest.files}  # type: ignore[operator]

    def put_manifest(self, manifest: Manifest) -> str:
        body = manifest.to_text().encode()
        sha256 = hashlib.sha256(body).hexdigest()
        self._put_once(f"manifests/{sha256}", body)
        return sha256

    def read_manifest(self, sha256: str) -> Manifest:
        return Manifest.from_text(self._get(f"manifests/{sha256}"))

    def get_manifest(self, sha256: str) -> list[dict[str, Any]]:
        return [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.read_manifest(sha256).files]

    def put_descriptor_set(self, body: bytes) -> str:
        sha256 = hashlib.sha256(body).hexdigest()
        self._put_once(f"descriptors/{sha256}", body)
        return sha256

    def get_descriptor_set(self, sha256: str) -> bytes:
        return self._get(f"descriptors/{sha256}")

    def put_artifact(self, body: bytes) -> str:
        sha256 = hashlib.sha256(body).hexdigest()
        self._put_once(f"artifacts/{sha256}", body)
        return sha256

    def artifact_url(self, sha256: str, filename: str, expires_in: int) -> str:
        return f"https://fake-s3.invalid/artifacts/{sha256}.zip?filename={filename}&expires={expires_in}"

    def descriptor_set_url(self, sha256: str, filename: str, expires_in: int) -> str:
        return f"https://fake-s3.invalid/descriptors/{sha256}?filename={filename}&expires={expires_in}"

    def descriptor_set_size(self, sha256: str) -> int:
        return len(self._get(f"descriptors/{sha256}"))

    def ping(self) -> None:
        return None


def _checked(entry: PackedFile, content: bytes) -> bytes:
    if len(content) != entry.size or hashlib.sha256(content).hexdigest() != entry.sha256:
        raise RuntimeError(f"stored bytes of {entry.path!r} do not match their sha256 {entry.sha256}")
    return content


# ------------------------------------------------------------------------------- queues, tokens, cursors


class FakeQueues:
    """QueuesPort: what was sent, per queue."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def send(self, which: str, body: str, **extra: Any) -> None:
        self.sent.append((which, body, extra))

    def ping(self) -> None:
        return None


class FakeTokens:
    """TokensPort: opaque tokens mapped to their claims (no signing); unknown tokens are refused."""

    def __init__(self, ttl_seconds: int = 3600, now: Callable[[], int] = lambda: 1_800_000_000) -> None:
        self.issued: dict[str, dict[str, Any]] = {}
        self._ttl = ttl_seconds
        self._now = now

    def issue(self, user_id: str, email: str) -> tuple[str, int]:
        expires_at = self._now() + self._ttl
        jti = uuid.uuid4().hex
        token = f"fake-token-{jti}"
        self.issued[token] = {"sub": user_id, "email": email, "iat": self._now(), "exp": expires_at, "jti": jti}
        return token, expires_at

    def decode(self, token: str) -> dict:
        claims = self.issued.get(token)
        if claims is None:
            raise Unauthorized("Invalid or expired token")
        return dict(claims)


class FakeCursors:
    """CursorsPort: base64 JSON with a marker; anything else is INVALID_CURSOR, like a bad signature."""

    _MARK = "fake:"

    def encode(self, position: dict[str, Any]) -> str:
        payload = self._MARK + json.dumps(position, separators=(",", ":"), sort_keys=True)
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> dict[str, Any]:
        try:
            text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            if not text.startswith(self._MARK):
                raise ValueError("not ours")
            position = json.loads(text[len(self._MARK):])
            if not isinstance(position, dict):
                raise ValueError("not an object")
            return position
        except (ValueError, TypeError, UnicodeDecodeError):
            raise InvalidCursor("Cursor is invalid or was modified: use next_cursor as returned") from None


class FakePasswords:
    """PasswordsPort without a KDF: fast, and still never stores the password itself."""

    def __init__(self) -> None:
        self.hashed = 0
        self.verified = 0

    def hash(self, password: str) -> str:
        self.hashed += 1
        return "fake-sha256$" + hashlib.sha256(password.encode()).hexdigest()

    def verify(self, password_hash: str | None, password: str) -> bool:
        self.verified += 1  # the adapter verifies against a dummy hash when there is none: same cost
        return password_hash is not None and password_hash == self.hash(password)


# ---------------------------------------------------------------------------------------------- compiler


@dataclass
class MemoCompiler:
    """CompilerPort: the real protoc (ProtocRunner) once per distinct input, remembered for the session,
    so the breaking rules run on real descriptor sets while a test run compiles each schema once."""

    runner: Any
    memo: dict[str, CompileOutcome] = field(default_factory=dict)
    runs: int = 0

    def descriptor_set(self, files: dict[str, bytes], dependency_files: dict[str, bytes] | None = None,
                       dependency_descriptors: bytes | None = None) -> CompileOutcome:
        digest = hashlib.sha256()
        for part in (files, dependency_files or {}):
            for path in sorted(part):
                digest.update(path.encode() + b"\0" + hashlib.sha256(part[path]).digest())
            digest.update(b"\1")
        digest.update(dependency_descriptors or b"")
        key = digest.hexdigest()
        if key not in self.memo:
            self.runs += 1
            self.memo[key] = self.runner.descriptor_set(files, dependency_files, dependency_descriptors)
        return self.memo[key]


class NullGenerator:
    """GeneratorPort for services that only name languages (publish never generates code)."""

    def versions(self) -> dict[str, str]:
        return {}

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("publish must not generate code in the request")


# --------------------------------------------------------------------------------------------- webhooks


class FakeWebhooksStore:
    """WebhooksStorePort (chalicelib/services/webhooks.py): webhooks and deliveries in dicts, with the
    adapter's conditions: the per-organization limit on add, duplicate deliveries refused (False),
    attempts claimed and recorded only from the expected attempt count."""

    def __init__(self) -> None:
        self.webhooks: dict[tuple[str, str], Webhook] = {}
        self.deliveries: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.outbox: list[OutboxMessage] = []

    def add_webhook(self, webhook: Webhook, max_per_org: int, plan_limit: int | None = None) -> None:
        held = sum(1 for (org, _) in self.webhooks if org == webhook.org_id)
        if plan_limit is not None and plan_limit < max_per_org and held >= plan_limit:
            raise quota_exceeded("webhooks", held, plan_limit)
        if held >= max_per_org:
            raise WebhookLimitReached(f"An organization has at most {max_per_org} webhooks",
                                      details={"limit": max_per_org})
        self.webhooks[(webhook.org_id, webhook.id)] = webhook

    def get_webhook(self, org_id: str, webhook_id: str) -> Any:
        return self.webhooks.get((org_id, webhook_id))

    def list_webhooks(self, org_id: str) -> list[Any]:
        return [w for (org, _), w in sorted(self.webhooks.items()) if org == org_id]

    def update_webhook(self, org_id: str, webhook_id: str, changes: dict[str, Any]) -> Any:
        current = self.webhooks.get((org_id, webhook_id))
        if current is None:
            return None
        updated = current.model_copy(update={k: tuple(v) if k == "events" else v for k, v in changes.items()})
        self.webhooks[(org_id, webhook_id)] = updated
        return updated

    def delete_webhook(self, org_id: str, webhook_id: str) -> bool:
        return self.webhooks.pop((org_id, webhook_id), None) is not None

    def _key(self, delivery: Any) -> tuple[str, str, str]:
        return (delivery.org_id, delivery.webhook_id, delivery.id)

    def add_delivery(self, delivery: Any, expires_at_epoch: int, outbox: Sequence[OutboxMessage] = ()) -> bool:
        if self._key(delivery) in self.deliveries:
            return False
        self.deliveries[self._key(delivery)] = {**delivery.model_dump(), "history": [],
                                                "expires_at_epoch": expires_at_epoch}
        self.outbox.extend(outbox)
        return True

    def get_delivery(self, org_id: str, webhook_id: str, delivery_id: str) -> Delivery | None:
        item = self.deliveries.get((org_id, webhook_id, delivery_id))
        return Delivery(**{k: v for k, v in item.items() if k in Delivery.model_fields}) if item else None

    def claim_attempt(self, delivery: Any, attempt: int, now_epoch: int, lease_seconds: int) -> bool:
        item = self.deliveries.get(self._key(delivery))
        if item is None or item["attempts"] != attempt - 1:
            return False
        if item.get("claimed_attempt", 0) >= attempt and item.get("claim_expires_epoch", 0) >= now_epoch:
            return False
        item.update(claimed_attempt=attempt, claim_expires_epoch=now_epoch + lease_seconds)
        return True

    def record_attempt(self, delivery: Any, changes: dict[str, Any], entry: dict[str, Any] | None) -> bool:
        item = self.deliveries.get(self._key(delivery))
        if item is None or item["attempts"] != delivery.attempts:
            return False
        for key, value in changes.items():
            if value is None:
                item.pop(key, None)
            else:
                item[key] = value
        if entry:
            item["history"] = [*item.get("history", []), entry]
        return True

    def list_deliveries(self, org_id: str, webhook_id: str, after: str | None, limit: int) -> tuple[list[Any], bool]:
        ids = sorted((d for (o, w, d) in self.deliveries if o == org_id and w == webhook_id), reverse=True)
        ids = [d for d in ids if after is None or d < after]
        found = [self.get_delivery(org_id, webhook_id, d).model_copy(update={"payload": ""}) for d in ids[:limit]]
        return found, len(ids) > limit


@dataclass
class FakeHttp:
    """HttpPort: URLs vetted by scheme only (no DNS); posts answered with `status` and remembered."""

    status: int | None = 204
    posted: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    def vet(self, url: Any) -> Any:
        if not isinstance(url, str) or not url.startswith("https://") or "127.0.0.1" in url or "localhost" in url:
            raise InvalidWebhookUrl("Webhook URL must be https:// and globally routable")
        return url

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Any:
        self.posted.append((url, body, headers))
        return HttpResult(status_code=self.status, duration_ms=1, error=None if self.status else "refused")


