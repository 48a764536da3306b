"""The audit trail's use cases on fakes: what is stored (and for how long), what is only logged, who may
read it, and that a failing store never fails the mutation nor loses the record from the log."""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.audit import AuditRecord
from chalicelib.domain.errors import Forbidden, InvalidCursor, ValidationFailed
from chalicelib.domain.roles import Role
from chalicelib.services.audit import AuditService
from tests.unit.services.fakes_telemetry import FakeAuditStore

T0 = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=5)
        return self.now


@pytest.fixture
def store() -> FakeAuditStore:
    return FakeAuditStore()


@pytest.fixture
def audit(world, store: FakeAuditStore) -> AuditService:
    return AuditService(store, world.cursors, retention_days=30, clock=Clock())


def _mutation(org: str | None, actor: str, action: str = "POST /modules", request_id: str = "req-1") -> AuditRecord:
    return AuditRecord(request_id=request_id, action=action, path="/modules", status=201, organization=org,
                       actor=actor, resource={})


def test_a_named_organizations_mutation_is_logged_and_stored_with_its_ttl(audit, store, caplog):
    caplog.set_level(logging.INFO, logger="spoke.audit")
    # When a mutation in org-1 is recorded
    entry = audit.record(_mutation("org-1", "usr-1"))
    # Then it is stored, stamped with its time, expiring after the retention period
    [(stored, expires)] = store.items.values()
    assert stored == entry and entry.at == "2026-11-30T12:00:00.005Z"
    assert expires == int((T0 + timedelta(milliseconds=5, days=30)).timestamp())
    # And it is a log line carrying the whole record
    [line] = [r for r in caplog.records if r.name == "spoke.audit"]
    assert line.levelno == logging.INFO and line.audit == entry.as_dict()


@pytest.mark.parametrize("org", [None, "default"])
def test_mutations_outside_a_named_organization_are_logged_only(audit, store, caplog, org):
    caplog.set_level(logging.INFO, logger="spoke.audit")
    audit.record(_mutation(org, "usr-1"))
    assert store.items == {}
    assert [r.audit["organization"] for r in caplog.records if r.name == "spoke.audit"] == [org]


def test_a_failing_store_keeps_the_record_in_an_error_line_and_does_not_raise(audit, store, caplog):
    caplog.set_level(logging.INFO, logger="spoke.audit")
    store.failing = True
    # When the store fails while a mutation is recorded
    entry = audit.record(_mutation("org-1", "usr-1", request_id="req-lost"))
    # Then nothing is raised (the mutation's answer stands) and an ERROR line holds the whole record
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.audit == entry.as_dict() and error.audit["request_id"] == "req-lost"
    assert error.exc_info is not None


@pytest.fixture
def trail(world, dev, audit):
    """Given acme, its admin and a developer, and three mutations: two by the developer, one by the admin."""
    org = world.org(dev, "acme")
    owner_ctx = world.ctx(dev, org)
    admin = world.as_role(org, Role.ADMIN, "admin@example.com")
    developer = world.as_role(org, Role.DEVELOPER, "developer@example.com")
    audit.record(_mutation(org.id, developer.principal.user_id, "POST /modules", "req-a"))
    audit.record(_mutation(org.id, admin.principal.user_id, "POST /organizations/{org_id}/members", "req-b"))
    audit.record(_mutation(org.id, developer.principal.user_id, "PATCH /modules/{name}", "req-c"))
    return {"owner": owner_ctx, "admin": admin, "developer": developer}


def test_admins_read_the_trail_newest_first(audit, trail):
    for who in ("owner", "admin"):
        records, cursor, limit = audit.list(trail[who], None, None, None, None)
        assert [r.request_id for r in records] == ["req-c", "req-b", "req-a"]
        assert cursor is None and limit == 20


def test_filters_by_actor_and_action(audit, trail):
    developer = trail["developer"].principal.user_id
    by_actor, _, _ = audit.list(trail["admin"], developer, None, None, None)
    assert [r.request_id for r in by_actor] == ["req-c", "req-a"]
    by_action, _, _ = audit.list(trail["admin"], None, "POST /modules", None, None)
    assert [r.request_id for r in by_action] == ["req-a"]
    both, _, _ = audit.list(trail["admin"], developer, "POST /organizations/{org_id}/members", None, None)
    assert both == []


def test_pages_follow_the_cursor_of_the_same_listing(audit, trail):
    first, cursor, _ = audit.list(trail["admin"], None, None, "2", None)
    assert [r.request_id for r in first] == ["req-c", "req-b"] and cursor
    second, last_cursor, _ = audit.list(trail["admin"], None, None, "2", cursor)
    assert [r.request_id for r in second] == ["req-a"] and last_cursor is None
    # A cursor of the unfiltered listing does not resume a filtered one
    with pytest.raises(InvalidCursor):
        audit.list(trail["admin"], None, "POST /modules", "2", cursor)


def test_members_below_admin_and_the_default_organization_are_refused(audit, trail, default_ctx):
    with pytest.raises(Forbidden):
        audit.list(trail["developer"], None, None, None, None)
    with pytest.raises(Forbidden):
        audit.list(default_ctx, None, None, None, None)


@pytest.mark.parametrize("limit, actor", [("0", None), ("101", None), ("ten", None), (None, "x" * 101),
                                          (None, "bad\nactor")])
def test_bad_parameters_are_a_validation_error(audit, trail, limit, actor):
    with pytest.raises(ValidationFailed) as raised:
        audit.list(trail["admin"], actor, None, limit, None)
    assert raised.value.validation_errors[0]["field"] == ("limit" if actor is None else "actor")
