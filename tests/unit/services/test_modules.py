"""Module use cases through ModulesService with fakes: create, list (pages, cursors, search), get,
update, the compatibility policy, and who may do what."""
from __future__ import annotations

import json

import pytest

from chalicelib.domain.breaking.config import UnknownRule
from chalicelib.domain.errors import (
    Forbidden,
    InvalidCursor,
    ModuleExists,
    ModuleNotFound,
    Unauthorized,
    ValidationFailed,
)
from chalicelib.domain.policy import CompatibilityMode
from chalicelib.domain.roles import Role
from chalicelib.services.common import PageRequest


def test_create_stores_the_module_and_records_its_event(world, default_ctx):
    # When a developer creates a module
    module = world.modules.create(default_ctx, "user", "User service schemas")
    # Then it is stored with the default policy (BACKWARD on buf's FILE rules)
    assert world.registry.get_module(default_ctx.org.id, "user") == module
    assert module.compatibility.mode is CompatibilityMode.BACKWARD and module.compatibility.use == ("FILE",)
    # ... and its module.created event is in the outbox, written with it
    (message,) = world.registry.outbox
    event = json.loads(message.body)
    assert message.queue == "events" and event["event"] == "module.created"
    assert event["data"] == {"module": "user", "description": "User service schemas"}


def test_create_twice_is_module_exists_and_records_one_event(world, default_ctx):
    world.modules.create(default_ctx, "user", "first")
    with pytest.raises(ModuleExists):
        world.modules.create(default_ctx, "user", "second")
    assert world.registry.get_module(default_ctx.org.id, "user").description == "first"
    assert len(world.registry.outbox) == 1


@pytest.mark.parametrize("name", ["", "Upper", "-dash", "a" * 200, "../etc", None, 7])
def test_create_refuses_bad_names(world, default_ctx, name):
    with pytest.raises(ValidationFailed):
        world.modules.create(default_ctx, name, "")
    assert world.registry.modules == {}


def test_create_with_a_policy_and_unknown_rule_ids_is_refused(world, default_ctx):
    module = world.modules.create(default_ctx, "a", "", {"mode": "BACKWARD_TRANSITIVE", "use": ["wire"]})
    assert module.compatibility.mode is CompatibilityMode.BACKWARD_TRANSITIVE
    assert module.compatibility.use == ("WIRE",)
    with pytest.raises(UnknownRule):  # a 400 UNKNOWN_RULE, before anything is stored
        world.modules.create(default_ctx, "b", "", {"use": ["NOT_A_BUF_RULE"]})
    with pytest.raises(ValidationFailed):
        world.modules.create(default_ctx, "c", "", {"mode": "SOMETIMES"})
    assert world.registry.get_module(default_ctx.org.id, "b") is None


def test_anonymous_callers_read_the_default_organization_but_cannot_write(world, default_ctx):
    world.modules.create(default_ctx, "user", "")
    anonymous = world.ctx(None)
    module, versions = world.modules.get(anonymous, "user")
    assert module.name == "user" and versions == []
    with pytest.raises(Unauthorized):
        world.modules.create(anonymous, "other", "")


def test_viewers_read_but_cannot_create_or_edit(world, dev):
    org = world.org(dev, "acme")
    world.modules.create(world.ctx(dev, org), "user", "")
    viewer = world.as_role(org, Role.VIEWER, "v@example.com")
    assert world.modules.get(viewer, "user")[0].name == "user"
    with pytest.raises(Forbidden):
        world.modules.create(viewer, "other", "")
    with pytest.raises(Forbidden):
        world.modules.update(viewer, "user", {"description": "x"})


def test_modules_are_per_organization(world, dev, default_ctx):
    org = world.org(dev, "acme")
    world.modules.create(world.ctx(dev, org), "user", "")
    with pytest.raises(ModuleNotFound):
        world.modules.get(default_ctx, "user")
    world.modules.create(default_ctx, "user", "")  # the same name elsewhere is another module


def test_get_of_a_missing_or_malformed_name_is_module_not_found(world, default_ctx):
    for name in ("nope", "../../x", "A" * 500):
        with pytest.raises(ModuleNotFound):
            world.modules.get(default_ctx, name)


def test_update_changes_description_and_policy_keeping_the_rest(world, default_ctx):
    # Given a module with a transitive policy
    world.modules.create(default_ctx, "user", "old", {"mode": "BACKWARD_TRANSITIVE", "use": ["WIRE"]})
    # When only the mode changes, then only the description
    module, _ = world.modules.update(default_ctx, "user", {"compatibility": {"mode": "NONE"}})
    assert module.compatibility.mode is CompatibilityMode.NONE and module.compatibility.use == ("WIRE",)
    module, _ = world.modules.update(default_ctx, "user", {"description": "new"})
    # Then each edit kept what it did not name
    assert module.description == "new" and module.compatibility.mode is CompatibilityMode.NONE
    assert world.registry.get_module(default_ctx.org.id, "user") == module


@pytest.mark.parametrize("changes", [{}, {"name": "renamed"}, {"created_at": "x"}])
def test_update_refuses_fields_that_cannot_change(world, default_ctx, changes):
    world.modules.create(default_ctx, "user", "old")
    with pytest.raises(ValidationFailed):
        world.modules.update(default_ctx, "user", changes)
    assert world.registry.get_module(default_ctx.org.id, "user").description == "old"


def test_update_of_a_missing_module_is_not_found(world, default_ctx):
    with pytest.raises(ModuleNotFound):
        world.modules.update(default_ctx, "ghost", {"description": "x"})


def test_list_pages_and_cursors_walk_every_module_once(world, default_ctx):
    # Given 7 modules
    names = [f"mod{i}" for i in range(7)]
    for name in reversed(names):
        world.modules.create(default_ctx, name, "")
    # When listed by page number, then by cursor
    page2, meta2 = world.modules.list(default_ctx, PageRequest(page=2, page_size=3), None)
    assert [m.name for m in page2] == names[3:6]
    assert meta2["total_items"] == 7 and meta2["total_pages"] == 3 and meta2["has_more"]
    seen, cursor = [], None
    while True:
        page, meta = world.modules.list(default_ctx, PageRequest(page_size=3, cursor=cursor), None)
        seen += [m.name for m in page]
        cursor = meta["next_cursor"]
        if cursor is None:
            break
    # Then names come in order, each once
    assert seen == names


def test_a_cursor_of_another_listing_or_a_forged_one_is_refused(world, default_ctx):
    for name in ("a1", "a2", "b1"):
        world.modules.create(default_ctx, name, "")
    _, meta = world.modules.list(default_ctx, PageRequest(page_size=1), None)
    with pytest.raises(InvalidCursor):
        world.modules.list(default_ctx, PageRequest(page_size=1, cursor=meta["next_cursor"]), "a")
    with pytest.raises(InvalidCursor):
        world.modules.list(default_ctx, PageRequest(page_size=1, cursor="forged"), None)


def test_search_matches_name_prefixes_and_description_words(world, default_ctx):
    world.modules.create(default_ctx, "user", "Accounts and profiles")
    world.modules.create(default_ctx, "users-admin", "")
    world.modules.create(default_ctx, "billing", "Invoices for user accounts")
    world.modules.create(default_ctx, "orders", "")
    found, meta = world.modules.list(default_ctx, PageRequest(), "user")
    assert [m.name for m in found] == ["billing", "user", "users-admin"] and meta["total_items"] == 3
    found, _ = world.modules.list(default_ctx, PageRequest(), "ACCOUNTS profiles")
    assert [m.name for m in found] == ["user"]
