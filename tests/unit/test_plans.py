"""Plans and quotas, pure: which plan an organization is on, the refusal's details, where usage counts."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.domain.errors import QuotaExceeded
from chalicelib.domain.models import DEFAULT_ORG_ID, Organization, Principal, RequestContext
from chalicelib.domain.plans import DEFAULT_PLANS, parse_plans
from chalicelib.domain.quotas import day_counter_expiry, limits_of, plan_named, quota_exceeded, utc_day
from chalicelib.domain.roles import Role
from chalicelib.services.organizations import DEFAULT_ORG
from chalicelib.services.quotas import quotas_for

NOON = datetime(2026, 11, 30, 12, 30, tzinfo=UTC)
ALICE = Principal(user_id="user-alice", email="a@example.com", token_id="t", token_expires_at=0)


def ctx(org: Organization) -> RequestContext:
    return RequestContext(request_id="r", principal=ALICE, org=org, role=Role.OWNER)


def test_an_organization_without_a_known_plan_is_on_the_free_plan() -> None:
    # Organizations stored before plans have no plan attribute; a plan removed from the table reads as free
    assert plan_named(DEFAULT_PLANS, None).name == "free"
    assert plan_named(DEFAULT_PLANS, "gold").name == "free"
    assert plan_named(DEFAULT_PLANS, "enterprise").modules == DEFAULT_PLANS["enterprise"].modules


def test_spoke_plans_overrides_one_limit_and_keeps_the_rest() -> None:
    plans = parse_plans('{"professional": {"webhooks": 7}}')
    assert plans["professional"] == replace(DEFAULT_PLANS["professional"], webhooks=7)
    assert plans["free"] == DEFAULT_PLANS["free"]
    with pytest.raises(ValueError, match="unknown limit"):
        parse_plans('{"free": {"widgets": 1}}')


def test_quota_exceeded_carries_the_quota_the_usage_and_the_limit() -> None:
    refused = quota_exceeded("modules", 10, 10, "free")
    assert isinstance(refused, QuotaExceeded) and refused.code == "QUOTA_EXCEEDED"
    assert refused.details == {"quota": "modules", "usage": 10, "limit": 10, "plan": "free"}
    assert "10" in refused.message and "operator" in refused.message


def test_limits_shown_to_users_are_the_rate_and_every_quota() -> None:
    assert limits_of(DEFAULT_PLANS["free"]) == {
        "requests_per_hour": 100, "modules": 10, "versions_per_module": 100, "stored_bytes": 100 * 1024 * 1024,
        "members": 5, "webhooks": 2, "compiles_per_day": 50}


def test_a_named_organization_counts_on_itself_on_its_plan() -> None:
    org = Organization(id="org-1", name="Acme", slug="acme", plan="professional", created_at="x")
    quotas = quotas_for(ctx(org), DEFAULT_PLANS, now=NOON)
    assert quotas is not None
    assert (quotas.plan.name, quotas.org_id, quotas.owner_id, quotas.requester_id) == (
        "professional", "org-1", None, None)
    assert quotas.day == "2026-11-30"


def test_the_default_organization_counts_per_user_at_the_free_plan() -> None:
    quotas = quotas_for(ctx(DEFAULT_ORG), DEFAULT_PLANS, now=NOON)
    assert quotas is not None
    assert (quotas.plan.name, quotas.org_id, quotas.owner_id, quotas.requester_id) == (
        "free", DEFAULT_ORG_ID, "user-alice", "user-alice")
    # A module's owner carries its bytes, whoever publishes; the compiles count on the caller
    on_bobs = quotas_for(ctx(DEFAULT_ORG), DEFAULT_PLANS, owner_id="user-bob", now=NOON)
    assert on_bobs is not None and (on_bobs.owner_id, on_bobs.requester_id) == ("user-bob", "user-alice")


def test_without_a_plan_table_there_are_no_quotas() -> None:
    assert quotas_for(ctx(DEFAULT_ORG), None) is None


def test_a_days_compile_counter_expires_days_after_the_day_began() -> None:
    assert utc_day(NOON) == "2026-11-30"
    assert day_counter_expiry(NOON) == int(datetime(2026, 12, 3, tzinfo=UTC).timestamp())
