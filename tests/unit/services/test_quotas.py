"""Quotas through the services, on the fakes (whose counters mirror the adapters' conditions): each quota
allowed below its limit and refused at it with the quota, the usage and the limit; the plan is the
operator's; PATCH renames."""
from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain.errors import Forbidden, OrganizationNotFound, QuotaExceeded, ValidationFailed
from chalicelib.domain.plans import DEFAULT_PLANS
from chalicelib.domain.roles import Role
from chalicelib.services.compilation import CompilationService
from chalicelib.services.modules import ModulesService
from chalicelib.services.organizations import OrganizationsService
from chalicelib.services.schemas import SchemaService
from chalicelib.services.versions import VersionsService
from chalicelib.services.webhooks import WebhooksService
from tests.unit.services.conftest import LANGUAGES, World, _check_rule_ids
from tests.unit.services.fakes import NullGenerator

PROTO = b'syntax = "proto3";\npackage user.v1;\nmessage User { string id = 1; }\n'
SMALL = replace(DEFAULT_PLANS["free"], modules=2, versions_per_module=2, stored_bytes=2 * len(PROTO) + 5,
                members=2, webhooks=1, compiles_per_day=3)
PLANS = {**DEFAULT_PLANS, "free": SMALL}


@pytest.fixture
def planned(world: World) -> World:
    """The world's services, held to the small free plan above."""
    w = world
    w.organizations = OrganizationsService(w.orgs_store, w.accounts_store, PLANS)
    w.modules = ModulesService(w.registry, w.orgs_store, w.cursors, _check_rule_ids, w.events,
                               collaborators=w.collaborators_store, accounts=w.accounts_store, plans=PLANS)
    w.compilation = CompilationService(w.registry, w.blobs, NullGenerator(), dict(LANGUAGES), 600, w.events,
                                       plans=PLANS)
    w.versions = VersionsService(w.registry, w.blobs, w.modules, w.cursors,
                                 SchemaService(w.registry, w.blobs, w.compiler), w.compatibility, w.compilation,
                                 w.events, max_files=1000, plans=PLANS)
    w.webhooks = WebhooksService(w.webhooks_store, w.http, w.queues, w.cursors, w.webhooks._policy, plans=PLANS)
    return w


def details(refusal: pytest.ExceptionInfo[QuotaExceeded]) -> tuple[str, int, int]:
    return refusal.value.details["quota"], refusal.value.details["usage"], refusal.value.details["limit"]


def publish(w: World, ctx, version: str, module: str = "user", content: bytes = PROTO):
    return w.versions.publish(ctx, module, version, "", [("user.proto", content)])


def test_modules_up_to_the_limit_then_refused(planned: World, dev) -> None:
    ctx = planned.ctx(dev, planned.org(dev))
    planned.modules.create(ctx, "a", "")
    planned.modules.create(ctx, "b", "")
    with pytest.raises(QuotaExceeded) as refusal:
        planned.modules.create(ctx, "c", "")
    assert details(refusal) == ("modules", 2, 2)
    assert planned.registry.get_module(ctx.org.id, "c") is None


def test_in_the_default_organization_modules_count_per_user(planned: World, default_ctx) -> None:
    other = planned.ctx(planned.user("other@example.com"))
    for name in ("a", "b"):
        planned.modules.create(default_ctx, name, "")
    with pytest.raises(QuotaExceeded):
        planned.modules.create(default_ctx, "c", "")
    planned.modules.create(other, "d", "")  # someone else's quota is their own


def test_versions_bytes_and_compiles_are_held_at_publish(planned: World, dev) -> None:
    ctx = planned.ctx(dev, planned.org(dev))
    planned.modules.create(ctx, "user", "")
    publish(planned, ctx, "1.0.0")
    publish(planned, ctx, "1.1.0")
    with pytest.raises(QuotaExceeded) as refusal:
        publish(planned, ctx, "1.2.0")
    assert details(refusal) == ("versions_per_module", 2, 2)
    # Another module: the bytes of two versions are all the plan holds
    planned.modules.create(ctx, "other", "")
    with pytest.raises(QuotaExceeded) as refusal:
        publish(planned, ctx, "1.0.0", module="other")
    assert details(refusal) == ("stored_bytes", 2 * len(PROTO), 2 * len(PROTO) + 5)
    assert planned.registry.version_names(ctx.org.id, "other") == []


def test_compiles_per_day_count_publishes_and_recompiles(planned: World, dev) -> None:
    ctx = planned.ctx(dev, planned.org(dev))
    planned.modules.create(ctx, "user", "")
    publish(planned, ctx, "1.0.0")                                       # one
    planned.versions.request_compilation(ctx, "user", "1.0.0", ["python"])  # two
    planned.versions.request_compilation(ctx, "user", "1.0.0", ["go"])      # three
    with pytest.raises(QuotaExceeded) as refusal:
        planned.versions.request_compilation(ctx, "user", "1.0.0", ["python"])
    assert details(refusal) == ("compiles_per_day", 3, 3)
    assert planned.organizations.usage(dev, ctx.org.id)["usage"]["compiles_today"] == 3


def test_members_up_to_the_limit(planned: World, dev) -> None:
    org = planned.org(dev)
    owner_ctx = planned.ctx(dev, org)
    for email in ("b@example.com", "c@example.com"):
        planned.user(email)
    planned.organizations.add_member(owner_ctx, "b@example.com", "developer")
    with pytest.raises(QuotaExceeded) as refusal:
        planned.organizations.add_member(owner_ctx, "c@example.com", "developer")
    assert details(refusal) == ("members", 2, 2)


def test_webhooks_up_to_the_plans_limit(planned: World, dev) -> None:
    ctx = planned.ctx(dev, planned.org(dev))
    body = {"url": "https://hooks.example.com/a", "events": ["*"], "secret": "whsec-0123456789abcdef0123"}
    planned.webhooks.create(ctx, body)
    with pytest.raises(QuotaExceeded) as refusal:
        planned.webhooks.create(ctx, body)
    assert details(refusal) == ("webhooks", 1, 1)


def test_only_the_operator_sets_a_plan(planned: World, dev) -> None:
    with pytest.raises(Forbidden, match="operator"):
        planned.organizations.create(dev, "Big", "big", plan="enterprise")
    org = planned.org(dev)
    assert org.plan == "free"
    with pytest.raises(Forbidden, match="operator"):
        planned.organizations.update(dev, org.id, {"plan": "enterprise"})
    moved, before = planned.organizations.set_plan("acme", "professional")
    assert (before, moved.plan) == ("free", "professional")
    with pytest.raises(ValidationFailed):
        planned.organizations.set_plan("acme", "platinum")
    with pytest.raises(OrganizationNotFound):
        planned.organizations.set_plan("default", "enterprise")


def test_a_new_plan_holds_at_once(planned: World, dev) -> None:
    org = planned.org(dev)
    ctx = planned.ctx(dev, org)
    planned.modules.create(ctx, "a", "")
    planned.modules.create(ctx, "b", "")
    planned.organizations.set_plan(org.id, "professional")
    planned.modules.create(planned.ctx(dev, org), "c", "")  # professional: 200 modules


def test_admins_rename_and_developers_cannot(planned: World, dev) -> None:
    org = planned.org(dev)
    developer = planned.as_role(org, Role.DEVELOPER, "d@example.com")
    assert planned.organizations.update(dev, org.id, {"name": "Acme Two"}).name == "Acme Two"
    with pytest.raises(Forbidden):
        planned.organizations.update(developer.principal, org.id, {"name": "Mine"})
    with pytest.raises(ValidationFailed) as refusal:
        planned.organizations.update(dev, org.id, {"slug": "other"})
    assert refusal.value.validation_errors[0]["code"] == "NOT_EDITABLE"


def test_usage_shows_plan_limits_and_what_is_held(planned: World, dev) -> None:
    org = planned.org(dev)
    planned.modules.create(planned.ctx(dev, org), "a", "")
    seen = planned.organizations.usage(dev, org.id)
    assert (seen["plan"], seen["limits"]["modules"]) == ("free", 2)
    assert seen["usage"] == {"modules": 1, "stored_bytes": 0, "members": 1, "webhooks": 0, "compiles_today": 0}
