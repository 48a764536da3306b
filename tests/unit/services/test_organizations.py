"""Organizations and members through OrganizationsService with fakes: roles, tenancy, the last owner."""
from __future__ import annotations

import pytest

from chalicelib.domain.errors import (
    Forbidden,
    LastOwner,
    MemberExists,
    MemberNotFound,
    OrganizationExists,
    OrganizationNotFound,
    Unauthorized,
    UserNotFound,
    ValidationFailed,
)
from chalicelib.domain.roles import Role


def test_creator_becomes_the_only_owner(world, dev):
    # When a signed-in user creates an organization
    org = world.org(dev, "acme")
    # Then they are its one owner, and it is listed as theirs
    members = world.organizations.list_members(world.ctx(dev, org))
    assert [(m.user_id, m.role) for m in members] == [(dev.user_id, Role.OWNER)]
    assert [(o.id, r) for o, r in world.organizations.list_for(dev)] == [(org.id, Role.OWNER)]
    # ... and it is found by slug as well as by id
    assert world.organizations.context_for("r", dev, "ACME").org.id == org.id


def test_slugs_are_unique(world, dev):
    world.org(dev, "acme")
    with pytest.raises(OrganizationExists):
        world.org(world.user("other@example.com"), "acme")


def test_creating_an_organization_needs_a_signed_in_user(world):
    with pytest.raises(Unauthorized):
        world.organizations.create(None, "Acme", "acme")


def test_non_members_cannot_tell_an_organization_exists(world, dev):
    org = world.org(dev, "acme")
    outsider = world.user("out@example.com")
    for ref in (org.id, "acme", "no-such-org"):
        with pytest.raises(OrganizationNotFound):
            world.ctx(outsider, org) if ref == org.id else world.organizations.context_for("r", outsider, ref)


def test_owner_adds_members_with_roles(world, dev):
    org = world.org(dev, "acme")
    viewer = world.as_role(org, Role.VIEWER, "viewer@example.com")
    assert viewer.role is Role.VIEWER
    assert world.orgs_store.counters(org.id)["member_count"] == 2


def test_adding_twice_is_member_exists_and_unknown_email_is_user_not_found(world, dev):
    org = world.org(dev, "acme")
    world.as_role(org, Role.DEVELOPER, "d@example.com")
    owner = world.ctx(dev, org)
    with pytest.raises(MemberExists):
        world.organizations.add_member(owner, "d@example.com", "viewer")
    with pytest.raises(UserNotFound):
        world.organizations.add_member(owner, "ghost@example.com", "viewer")
    with pytest.raises(ValidationFailed):
        world.organizations.add_member(owner, "d@example.com", "superuser")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.DEVELOPER])
def test_viewers_and_developers_cannot_manage_members(world, dev, role):
    org = world.org(dev, "acme")
    member = world.as_role(org, role, "m@example.com")
    world.user("new@example.com")
    with pytest.raises(Forbidden):
        world.organizations.add_member(member, "new@example.com", "viewer")
    with pytest.raises(Forbidden):
        world.organizations.remove_member(member, dev.user_id)


def test_admins_manage_members_but_not_owners(world, dev):
    # Given an admin
    org = world.org(dev, "acme")
    admin = world.as_role(org, Role.ADMIN, "admin@example.com")
    world.user("new@example.com")
    # Then they may add a developer, but neither add nor remove an owner
    world.organizations.add_member(admin, "new@example.com", "developer")
    world.user("boss@example.com")
    with pytest.raises(Forbidden, match="owners"):
        world.organizations.add_member(admin, "boss@example.com", "owner")
    with pytest.raises(Forbidden, match="owners"):
        world.organizations.remove_member(admin, dev.user_id)


def test_the_last_owner_cannot_leave(world, dev):
    # Given an organization with one owner and a developer
    org = world.org(dev, "acme")
    world.as_role(org, Role.DEVELOPER, "d@example.com")
    # When its only owner leaves
    with pytest.raises(LastOwner):
        world.organizations.remove_member(world.ctx(dev, org), dev.user_id)
    # Then nothing changed
    assert world.orgs_store.get_member(org.id, dev.user_id).role is Role.OWNER
    assert world.orgs_store.counters(org.id)["member_count"] == 2


def test_an_owner_may_leave_while_another_owner_remains(world, dev):
    org = world.org(dev, "acme")
    second = world.as_role(org, Role.OWNER, "second@example.com")
    world.organizations.remove_member(world.ctx(dev, org), dev.user_id)
    assert [m.user_id for m in world.orgs_store.list_members(org.id)] == [second.principal.user_id]
    # ... and now the second is the last one
    with pytest.raises(LastOwner):
        world.organizations.remove_member(second, second.principal.user_id)


def test_members_may_leave_themselves_and_unknown_members_are_not_found(world, dev):
    org = world.org(dev, "acme")
    viewer = world.as_role(org, Role.VIEWER, "v@example.com")
    world.organizations.remove_member(viewer, viewer.principal.user_id)
    assert world.orgs_store.get_member(org.id, viewer.principal.user_id) is None
    with pytest.raises(MemberNotFound):
        world.organizations.remove_member(world.ctx(dev, org), viewer.principal.user_id)


def test_the_default_organization_has_no_member_list(world, default_ctx):
    with pytest.raises(OrganizationNotFound):
        world.organizations.list_members(default_ctx)
