"""In the default organization a module belongs to its creator: others read it, only its owner and the
collaborators the owner adds write to it. Named organizations keep their roles. (Services on fakes;
the last tests hold the fakes to the real stores on moto.)"""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest

from chalicelib.domain.errors import (
    CollaboratorLimitReached,
    CollaboratorNotFound,
    CollaboratorsOnlyInDefault,
    Conflict,
    Forbidden,
    ModuleNotFound,
    UserNotFound,
    ValidationFailed,
)
from chalicelib.domain.models import DEFAULT_ORG_ID, Module, Principal
from chalicelib.domain.roles import Role
from chalicelib.services.collaborators import CollaboratorsService
from chalicelib.services.ports import Collaborator
from tests.unit.services.fakes import FakeRegistry
from tests.unit.services.fakes_collaborators import FakeCollaborators

USER_V1 = b'syntax = "proto3";\npackage user.v1;\n\nmessage User {\n  string name = 1;\n  string email = 2;\n}\n'
USER_BROKEN = b'syntax = "proto3";\npackage user.v1;\n\nmessage User {\n  string name = 1;\n}\n'
STRICT = {"mode": "BACKWARD", "allow_breaking_major": False}  # not even a new major may break


def collaborators(world, limit: int = 100) -> CollaboratorsService:
    return CollaboratorsService(world.modules, world.collaborators_store, world.accounts_store, limit=limit)


@pytest.fixture
def alice(world):
    return world.ctx(world.user("alice@example.com"))


@pytest.fixture
def bob(world):
    return world.ctx(world.user("bob@example.com"))


@pytest.fixture
def published(world, alice):
    """Given Alice's module `user` in the default organization, BACKWARD policy, with v1.0.0."""
    world.modules.create(alice, "user", "Alice's users", STRICT)
    world.versions.publish(alice, "user", "1.0.0", "first", [("user/v1/user.proto", USER_V1)])
    return world.registry.get_module(DEFAULT_ORG_ID, "user")


def test_the_creator_is_recorded_as_the_owner_in_every_organization(world, alice, dev):
    # When Alice creates a module in the default organization, and dev one in their own organization
    created = world.modules.create(alice, "user", "")
    acme = world.org(dev)
    named = world.modules.create(world.ctx(dev, acme), "billing", "")
    # Then each module records who created it
    assert created.owner_id == alice.principal.user_id
    assert world.registry.get_module(DEFAULT_ORG_ID, "user").owner_id == alice.principal.user_id
    assert named.owner_id == dev.user_id


def test_another_user_cannot_hijack_a_default_module(world, alice, bob, published):
    # When Bob tries to turn off the policy and to publish a breaking version over Alice's
    with pytest.raises(Forbidden) as patched:
        world.modules.update(bob, "user", {"compatibility": {"mode": "NONE"}})
    with pytest.raises(Forbidden) as pushed:
        world.versions.publish(bob, "user", "2.0.0", "", [("user/v1/user.proto", USER_BROKEN)])
    # Then both are refused with a message that says what to do
    assert "belongs to its owner: ask them to add you as a collaborator" in patched.value.message
    assert pushed.value.code == "FORBIDDEN"
    # And the module and its versions are as Alice left them
    assert world.registry.get_module(DEFAULT_ORG_ID, "user") == published
    assert world.registry.version_names(DEFAULT_ORG_ID, "user") == ["v1.0.0"]
    # And Bob still reads it
    module, versions = world.modules.get(bob, "user")
    assert module.owner_id == alice.principal.user_id and versions == ["v1.0.0"]


def test_every_write_path_asks_for_permission(world, bob, published):
    # When Bob edits the description, the Go prefix, or requests a recompile of Alice's module
    for attempt in (lambda: world.modules.update(bob, "user", {"description": "mine now"}),
                    lambda: world.modules.update(bob, "user", {"go_package_prefix": "example.com/x"}),
                    lambda: world.versions.request_compilation(bob, "user", "1.0.0", ["go"])):
        # Then each is refused
        with pytest.raises(Forbidden):
            attempt()
    assert world.registry.get_module(DEFAULT_ORG_ID, "user") == published


def test_the_owner_keeps_every_right_without_a_collaborator_lookup(world, alice, published):
    # When Alice loosens her policy and publishes a breaking version
    updated, _ = world.modules.update(alice, "user", {"compatibility": {"mode": "NONE"}})
    record, created = world.versions.publish(alice, "user", "2.0.0", "", [("user/v1/user.proto", USER_BROKEN)])
    # Then both succeed, and her own writes never read the collaborator list
    assert updated.compatibility.mode.value == "NONE" and created and record.version == "v2.0.0"
    assert world.collaborators_store.gets == 0


def test_a_collaborator_writes_until_removed(world, alice, bob, published):
    service = collaborators(world)
    # Given Alice adds Bob as a collaborator
    added, created = service.add(alice, "user", "Bob@Example.com")
    assert created and (added.email, added.user_id) == ("bob@example.com", bob.principal.user_id)
    # When Bob edits the module and publishes a compatible version
    world.modules.update(bob, "user", {"description": "shared"})
    _, published_v11 = world.versions.publish(bob, "user", "1.1.0", "", [("user/v1/user.proto", USER_V1)])
    # Then both succeed (and the policy still binds him: it is Alice's)
    assert published_v11 and world.registry.get_module(DEFAULT_ORG_ID, "user").description == "shared"
    # When Bob removes himself
    service.remove(bob, "user", bob.principal.user_id)
    # Then he is refused again, and no longer listed
    with pytest.raises(Forbidden):
        world.modules.update(bob, "user", {"description": "again"})
    assert service.list(bob, "user")[1] == []


def test_adding_again_is_safe_and_only_the_owner_manages_collaborators(world, alice, bob, published):
    service = collaborators(world)
    carol = world.ctx(world.user("carol@example.com"))
    service.add(alice, "user", "bob@example.com")
    # When Alice adds Bob a second time
    again, created = service.add(alice, "user", "bob@example.com")
    # Then nothing changes
    assert not created and [c.user_id for c in service.list(carol, "user")[1]] == [bob.principal.user_id]
    # When Bob (a collaborator, not the owner) adds Carol or removes someone else
    with pytest.raises(Forbidden, match="Only the owner"):
        service.add(bob, "user", "carol@example.com")
    with pytest.raises(Forbidden):
        service.remove(carol, "user", bob.principal.user_id)
    # Then Bob is still the only collaborator
    assert [c.email for c in service.list(carol, "user")[1]] == ["bob@example.com"]


def test_collaborator_requests_with_bad_input_are_clear(world, alice, published):
    service = collaborators(world)
    with pytest.raises(UserNotFound):
        service.add(alice, "user", "nobody@example.com")
    with pytest.raises(ValidationFailed, match="owns module"):
        service.add(alice, "user", "alice@example.com")
    with pytest.raises(ValidationFailed):
        service.add(alice, "user", "not an email")
    with pytest.raises(CollaboratorNotFound):
        service.remove(alice, "user", "user-000000000000")
    with pytest.raises(CollaboratorNotFound):
        service.remove(alice, "user", "../../etc")
    with pytest.raises(ModuleNotFound):
        service.add(alice, "missing", "alice@example.com")


def test_the_number_of_collaborators_is_bounded(world, alice, published):
    service = collaborators(world, limit=2)
    for name in ("b1", "b2", "b3"):
        world.user(f"{name}@example.com")
    service.add(alice, "user", "b1@example.com")
    service.add(alice, "user", "b2@example.com")
    with pytest.raises(CollaboratorLimitReached):
        service.add(alice, "user", "b3@example.com")
    assert len(service.list(alice, "user")[1]) == 2


def test_named_organizations_keep_their_roles(world, dev):
    # Given Acme with a module its owner created, and a developer member
    acme = world.org(dev)
    owner = world.ctx(dev, acme)
    world.modules.create(owner, "billing", "")
    developer = world.as_role(acme, Role.DEVELOPER, "member@example.com")
    # When the developer edits it and publishes
    world.modules.update(developer, "billing", {"description": "edited by a developer"})
    _, created = world.versions.publish(developer, "billing", "1.0.0", "", [("billing/v1/b.proto", USER_V1)])
    # Then both succeed: there, roles govern writes
    assert created
    # And collaborators do not exist there
    with pytest.raises(CollaboratorsOnlyInDefault, match="roles govern"):
        collaborators(world).add(owner, "billing", "member@example.com")
    with pytest.raises(CollaboratorsOnlyInDefault):
        collaborators(world).list(developer, "billing")


def test_an_api_tokens_scopes_still_apply_to_the_owner(world, alice, published):
    # Given Alice's API token with the read scope only
    token = Principal(user_id=alice.principal.user_id, email="alice@example.com", token_id="tok", token_expires_at=0,
                      kind="api_token", org_id=DEFAULT_ORG_ID, scopes=("read",))
    # When it edits her module
    with pytest.raises(Forbidden, match="scopes"):
        world.modules.update(world.ctx(token), "user", {"description": "x"})
    # Then nothing changed
    assert world.registry.get_module(DEFAULT_ORG_ID, "user") == published


def _legacy_module(world) -> Module:
    """A default-organization module stored before modules had owners."""
    legacy = Module(org_id=DEFAULT_ORG_ID, name="legacy", created_at="2025-01-01T00:00:00Z",
                    updated_at="2025-01-01T00:00:00Z")
    world.registry.create_module(legacy)
    return legacy


def test_a_module_without_an_owner_is_read_only_until_an_operator_assigns_one(world, alice, bob):
    legacy = _legacy_module(world)
    # When anyone writes to it: refused, saying why and who can help
    with pytest.raises(Forbidden, match="no owner.*operator"):
        world.modules.update(alice, "legacy", {"description": "x"})
    assert world.modules.get(bob, "legacy")[0] == legacy
    # When the operator assigns Alice
    assigned = world.modules.assign_owner("legacy", alice.principal.user_id)
    # Then Alice writes, and a second assignment to someone else is refused (once is final)
    assert assigned.owner_id == alice.principal.user_id
    world.modules.update(alice, "legacy", {"description": "mine"})
    with pytest.raises(Conflict):
        world.modules.assign_owner("legacy", bob.principal.user_id)
    assert world.modules.assign_owner("legacy", alice.principal.user_id).owner_id == alice.principal.user_id
    # And bad references are clear
    with pytest.raises(ModuleNotFound):
        world.modules.assign_owner("missing", alice.principal.user_id)
    with pytest.raises(UserNotFound):
        world.modules.assign_owner("legacy", "user-ffffffffffff")


# ------------------------------------------------------------------ the fakes keep the stores' contract

@pytest.fixture(scope="module")
def real_stores() -> Iterator[tuple]:
    moto = pytest.importorskip("moto")
    from chalicelib.adapters import aws
    from chalicelib.adapters.collaborators_store import CollaboratorsStore
    from chalicelib.adapters.dynamo import Table
    from chalicelib.adapters.registry_store import RegistryStore
    from infra.provision import provision

    with pytest.MonkeyPatch.context() as patch, moto.mock_aws():
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        aws.reset_clients()
        env = provision("ownership", boto3.session.Session(region_name="us-east-1"))
        table = Table(env["SPOKE_TABLE_NAME"])
        yield RegistryStore(table), CollaboratorsStore(table)
        aws.reset_clients()


@pytest.fixture(params=["fake", "real"])
def stores(request: pytest.FixtureRequest) -> tuple:
    if request.param == "real":
        return request.getfixturevalue("real_stores")
    return FakeRegistry(), FakeCollaborators()


def _collaborator(module: str, n: int) -> Collaborator:
    return Collaborator(org_id=DEFAULT_ORG_ID, module=module, user_id=f"user-{n:012x}", email=f"c{n}@example.com",
                        added_at="2026-01-01T00:00:00Z", added_by="user-aaaaaaaaaaaa")


def test_stores_keep_the_owner_and_assign_one_only_once(stores) -> None:
    registry, _ = stores
    name = f"m-{uuid.uuid4().hex[:8]}"
    registry.create_module(Module(org_id=DEFAULT_ORG_ID, name=name, created_at="t", updated_at="t", owner_id="u-1"))
    assert registry.get_module(DEFAULT_ORG_ID, name).owner_id == "u-1"
    assert registry.assign_owner(DEFAULT_ORG_ID, name, "u-2") is None
    legacy = f"l-{uuid.uuid4().hex[:8]}"
    registry.create_module(Module(org_id=DEFAULT_ORG_ID, name=legacy, created_at="t", updated_at="t"))
    assert registry.get_module(DEFAULT_ORG_ID, legacy).owner_id is None
    assert registry.assign_owner(DEFAULT_ORG_ID, legacy, "u-3").owner_id == "u-3"
    assert registry.assign_owner(DEFAULT_ORG_ID, legacy, "u-4") is None
    assert registry.get_module(DEFAULT_ORG_ID, legacy).owner_id == "u-3"
    assert registry.assign_owner(DEFAULT_ORG_ID, "never-made", "u-3") is None


def test_stores_bound_collaborators_and_refuse_duplicates(stores) -> None:
    _, store = stores
    module = f"m-{uuid.uuid4().hex[:8]}"
    assert store.add(_collaborator(module, 1), limit=2) is True
    assert store.add(_collaborator(module, 1), limit=2) is False
    assert store.add(_collaborator(module, 2), limit=2) is True
    with pytest.raises(CollaboratorLimitReached):
        store.add(_collaborator(module, 3), limit=2)
    assert [c.email for c in store.list(DEFAULT_ORG_ID, module)] == ["c1@example.com", "c2@example.com"]
    assert store.get(DEFAULT_ORG_ID, module, _collaborator(module, 2).user_id) == _collaborator(module, 2)
    # Removing frees a place; removing twice is False
    assert store.remove(DEFAULT_ORG_ID, module, _collaborator(module, 1).user_id) is True
    assert store.remove(DEFAULT_ORG_ID, module, _collaborator(module, 1).user_id) is False
    assert store.add(_collaborator(module, 3), limit=2) is True
    assert store.get(DEFAULT_ORG_ID, module, _collaborator(module, 1).user_id) is None
