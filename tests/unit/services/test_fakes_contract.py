"""The fakes keep the adapters' contract: the same checks run against each fake and against its real
adapter on moto (in-process, provisioned once for this module from infra/template.yaml).

Only what the services rely on: duplicate creates raise the same domain errors, the last owner stays,
versions come back in precedence order, blobs read back byte-exact and are never overwritten.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import boto3
import pytest

from chalicelib.domain.errors import (
    EmailExists,
    LastOwner,
    MemberExists,
    MemberNotFound,
    ModuleExists,
    ModuleNotFound,
    OrganizationExists,
    VersionExists,
    WebhookLimitReached,
)
from chalicelib.domain.models import Member, Module, Organization, OutboxMessage, User
from chalicelib.domain.roles import Role
from chalicelib.domain.versions import parse_version
from chalicelib.domain.webhooks import Delivery, Webhook
from tests.unit.services.fakes import FakeAccounts, FakeBlobs, FakeOrganizations, FakeRegistry, FakeWebhooksStore

NOW = "2026-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def real_stores() -> Iterator[SimpleNamespace]:
    moto = pytest.importorskip("moto")
    from chalicelib.adapters import aws
    from chalicelib.adapters.accounts_store import AccountsStore
    from chalicelib.adapters.blobs import BlobStore
    from chalicelib.adapters.dynamo import Table
    from chalicelib.adapters.organizations_store import OrganizationsStore
    from chalicelib.adapters.registry_store import RegistryStore
    from infra.provision import provision

    with pytest.MonkeyPatch.context() as patch, moto.mock_aws():
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        aws.reset_clients()
        env = provision("contract", boto3.session.Session(region_name="us-east-1"))
        table = Table(env["SPOKE_TABLE_NAME"])
        from chalicelib.adapters.webhooks_store import WebhooksStore

        yield SimpleNamespace(registry=RegistryStore(table), orgs=OrganizationsStore(table),
                              accounts=AccountsStore(table), blobs=BlobStore(env["SPOKE_BUCKET_NAME"]),
                              webhooks=WebhooksStore(table))
        aws.reset_clients()


@pytest.fixture(params=["fake", "real"])
def stores(request: pytest.FixtureRequest) -> SimpleNamespace:
    if request.param == "real":
        return request.getfixturevalue("real_stores")
    orgs = FakeOrganizations()
    return SimpleNamespace(registry=FakeRegistry(orgs), orgs=orgs, accounts=FakeAccounts(), blobs=FakeBlobs(),
                           webhooks=FakeWebhooksStore())


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _org(stores: SimpleNamespace) -> tuple[Organization, Member]:
    org = Organization(id=_id("org"), name="Acme", slug=_id("acme"), created_at=NOW, member_count=1)
    owner = Member(org_id=org.id, user_id=_id("user"), email="o@example.com", role=Role.OWNER, joined_at=NOW)
    stores.orgs.create_organization(org, owner)
    return org, owner


def _version(org_id: str, module: str, text: str) -> dict:
    version = parse_version(text)
    return {"org_id": org_id, "module": module, "version": version.name, "sort_key": version.sort_key,
            "description": "", "created_at": NOW, "created_by": "u", "manifest_sha256": "m", "file_count": 1,
            "descriptor_set_sha256": "d", "dependencies": [], "resolved_dependencies": [],
            "compiled_languages": [], "compilation": {}, "compilation_rev": 0}


def test_duplicate_module_is_module_exists(stores):
    org, _ = _org(stores)
    module = Module(org_id=org.id, name="user", created_at=NOW, updated_at=NOW)
    stores.registry.create_module(module, outbox=[OutboxMessage(queue="events", body="{}")])
    with pytest.raises(ModuleExists):
        stores.registry.create_module(module)
    assert stores.registry.get_module(org.id, "user").name == "user"
    assert stores.orgs.counters(org.id)["module_count"] == 1


def test_duplicate_version_is_version_exists_and_a_missing_module_is_module_not_found(stores):
    org, _ = _org(stores)
    stores.registry.create_module(Module(org_id=org.id, name="user", created_at=NOW, updated_at=NOW))
    stores.registry.create_version(_version(org.id, "user", "v1.0.0"), NOW)
    with pytest.raises(VersionExists):
        stores.registry.create_version(_version(org.id, "user", "v1.0.0"), NOW)
    with pytest.raises(ModuleNotFound):
        stores.registry.create_version(_version(org.id, "ghost", "v1.0.0"), NOW)
    assert stores.registry.get_module(org.id, "user").version_count == 1


def test_versions_come_back_in_precedence_order(stores):
    org, _ = _org(stores)
    stores.registry.create_module(Module(org_id=org.id, name="user", created_at=NOW, updated_at=NOW))
    for text in ("v1.10.0", "v1.2.0", "v1.2.0-rc.1", "v1.0.0", "v2.0.0"):
        stores.registry.create_version(_version(org.id, "user", text), NOW)
    assert stores.registry.version_names(org.id, "user") == ["v1.0.0", "v1.2.0-rc.1", "v1.2.0", "v1.10.0",
                                                             "v2.0.0"]
    below = parse_version("v1.10.0").sort_key
    assert [i["version"] for i in stores.registry.versions_below(org.id, "user", below, None)] == [
        "v1.2.0", "v1.2.0-rc.1", "v1.0.0"]
    assert [i["version"] for i in stores.registry.versions_below(org.id, "user", below, 1)] == ["v1.2.0"]
    rows, more = stores.registry.list_versions(org.id, "user", after_sort_key=None, limit=2)
    assert [s.version for _, s in rows] == ["v2.0.0", "v1.10.0"] and more


def test_compilation_merge_guard_ignores_statuses_of_another_or_finished_job(stores):
    org, _ = _org(stores)
    stores.registry.create_module(Module(org_id=org.id, name="user", created_at=NOW, updated_at=NOW))
    values = _version(org.id, "user", "v1.0.0")
    values["compilation"] = {"go": {"status": "pending", "job": "new"}, "python": {"status": "succeeded", "job": "a"}}
    stores.registry.create_version(values, NOW)
    after = stores.registry.set_compilation(org.id, "user", values["sort_key"], {
        "go": {"status": "failed", "job": "old"}, "python": {"status": "failed", "job": "a"}},
        unless_job_finished="a")
    assert after["compilation"]["go"] == {"status": "pending", "job": "new"}          # another job's language
    assert after["compilation"]["python"] == {"status": "succeeded", "job": "a"}     # already finished
    after = stores.registry.set_compilation(org.id, "user", values["sort_key"],
                                            {"go": {"status": "succeeded", "job": "new"}})
    assert after["compiled_languages"] == ["go", "python"]


def test_duplicate_slug_and_member_and_the_last_owner(stores):
    org, owner = _org(stores)
    with pytest.raises(OrganizationExists):
        stores.orgs.create_organization(org.model_copy(update={"id": _id("org")}), owner)
    with pytest.raises(MemberExists):
        stores.orgs.add_member(owner)
    with pytest.raises(LastOwner):
        stores.orgs.remove_member(org.id, owner.user_id, Role.OWNER)
    with pytest.raises(MemberNotFound):  # a role that is no longer the member's
        stores.orgs.remove_member(org.id, owner.user_id, Role.VIEWER)
    second = owner.model_copy(update={"user_id": _id("user"), "email": "s@example.com"})
    stores.orgs.add_member(second)
    stores.orgs.remove_member(org.id, owner.user_id, Role.OWNER)
    assert [m.user_id for m in stores.orgs.list_members(org.id)] == [second.user_id]
    assert stores.orgs.counters(org.id)["member_count"] == 1


def test_duplicate_email_and_revocation(stores):
    email = f"{_id('u')}@example.com"
    stores.accounts.create_user(User(id=_id("user"), email=email, created_at=NOW), "h1")
    with pytest.raises(EmailExists):
        stores.accounts.create_user(User(id=_id("user"), email=email, created_at=NOW), "h2")
    assert stores.accounts.credentials_for(email).password_hash == "h1"
    jti = _id("jti")
    assert not stores.accounts.is_revoked(jti)
    stores.accounts.revoke_token(jti, 2_000_000_000)
    assert stores.accounts.is_revoked(jti)


def test_packs_read_back_byte_exact_and_are_never_overwritten(stores):
    files = [("a.proto", b"syntax = 'proto3';\n"), ("empty.proto", b""), ("b/c.proto", _id("x").encode())]
    manifest = stores.blobs.put_pack(files)
    assert stores.blobs.read_files(manifest) == dict(files)
    assert all(stores.blobs.read_file(manifest, entry) == dict(files)[entry.path] for entry in manifest.files)
    sha = stores.blobs.put_manifest(manifest)
    assert stores.blobs.read_manifest(sha) == manifest
    assert stores.blobs.put_pack(files) == manifest  # the same bytes: the same object, written once
    descriptor = stores.blobs.put_descriptor_set(b"\x0a\x00")
    assert stores.blobs.get_descriptor_set(descriptor) == b"\x0a\x00"


def test_webhook_limit_duplicate_deliveries_and_attempt_claims(stores):
    org, _ = _org(stores)
    hooks = [Webhook(id=_id("whk"), org_id=org.id, url="https://a.example.com", events=("*",), secret="s",
                     created_at=NOW, updated_at=NOW) for _ in range(3)]
    for hook in hooks[:2]:
        stores.webhooks.add_webhook(hook, 2)
    with pytest.raises(WebhookLimitReached):
        stores.webhooks.add_webhook(hooks[2], 2)
    assert stores.webhooks.delete_webhook(org.id, hooks[0].id)
    assert not stores.webhooks.delete_webhook(org.id, hooks[0].id)
    stores.webhooks.add_webhook(hooks[2], 2)  # room again after a delete
    delivery = Delivery(id=_id("dlv"), org_id=org.id, webhook_id=hooks[1].id, event="version.published",
                        event_id="evt-1", created_at=NOW, updated_at=NOW, payload="{}")
    assert stores.webhooks.add_delivery(delivery, 2_000_000_000)
    assert not stores.webhooks.add_delivery(delivery, 2_000_000_000)
    assert stores.webhooks.claim_attempt(delivery, 1, 1_000, 60)
    assert not stores.webhooks.claim_attempt(delivery, 1, 1_010, 60)   # a live claim is left alone
    assert stores.webhooks.claim_attempt(delivery, 1, 1_100, 60)       # an expired one is taken over
    assert stores.webhooks.record_attempt(delivery, {"status": "succeeded", "attempts": 1}, {"attempt": 1})
    assert not stores.webhooks.record_attempt(delivery, {"status": "failed", "attempts": 1}, None)  # recorded already
    stored = stores.webhooks.get_delivery(org.id, hooks[1].id, delivery.id)
    assert stored.status == "succeeded" and stored.attempts == 1 and len(stored.history) == 1


def _port_pairs():
    from chalicelib.services import ports
    from chalicelib.services.schemas import CompilerPort
    from chalicelib.services.webhooks import HttpPort, WebhooksStorePort
    from tests.unit.services import fakes

    return [(ports.AccountsPort, fakes.FakeAccounts), (ports.OrganizationsPort, fakes.FakeOrganizations),
            (ports.RegistryPort, fakes.FakeRegistry), (ports.BlobsPort, fakes.FakeBlobs),
            (ports.QueuesPort, fakes.FakeQueues), (ports.TokensPort, fakes.FakeTokens),
            (ports.CursorsPort, fakes.FakeCursors), (ports.PasswordsPort, fakes.FakePasswords),
            (CompilerPort, fakes.MemoCompiler), (WebhooksStorePort, fakes.FakeWebhooksStore),
            (HttpPort, fakes.FakeHttp)]


@pytest.mark.parametrize("port, fake", _port_pairs(), ids=lambda value: getattr(value, "__name__", ""))
def test_each_fake_implements_its_port_as_declared_today(port, fake):
    """Fails as soon as a port gains a method or changes a parameter the fake does not follow."""
    import inspect

    for name, declared in vars(port).items():
        if name.startswith("_") or not callable(declared):
            continue
        assert hasattr(fake, name), f"{fake.__name__} lacks {port.__name__}.{name}"
        wanted = [(p.name, p.kind, p.default is inspect.Parameter.empty)
                  for p in inspect.signature(declared).parameters.values()]
        actual = [(p.name, p.kind, p.default is inspect.Parameter.empty)
                  for p in inspect.signature(getattr(fake, name)).parameters.values()]
        assert actual == wanted, f"{fake.__name__}.{name}{inspect.signature(getattr(fake, name))} != port's"


def test_latest_release_skips_pre_releases_above_it_and_the_source_archive_is_recorded(stores):
    # Given releases, with more pre-releases above the highest than one page of the Query holds
    org, _ = _org(stores)
    stores.registry.create_module(Module(org_id=org.id, name="user", created_at=NOW, updated_at=NOW))
    assert stores.registry.latest_release(org.id, "user") is None
    for text in ("v1.0.0", "v1.1.0", "v1.2.0-rc.1", *(f"v2.0.0-rc.{i}" for i in range(15))):
        stores.registry.create_version(_version(org.id, "user", text), NOW)
    # Then latest is the highest release
    latest = stores.registry.latest_release(org.id, "user")
    assert latest is not None and latest["version"] == "v1.1.0"
    # And a source archive recorded on it is read back with the version
    stores.registry.set_source_archive(org.id, "user", latest["sort_key"], {"sha256": "abc", "size": 3})
    assert stores.registry.get_version(org.id, "user", latest["sort_key"])["source_archive"] == {
        "sha256": "abc", "size": 3}
