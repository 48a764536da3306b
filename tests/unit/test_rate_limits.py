"""Rate limits without AWS: the hourly window's arithmetic, whom a request counts against, and the
service's count against the plan (on an in-memory counter, with an injected clock)."""
from __future__ import annotations

import logging

import pytest

from chalicelib.domain.models import Organization, Principal
from chalicelib.domain.plans import DEFAULT_PLANS, parse_plans
from chalicelib.domain.rate_limits import RateScope, Window, scope_for
from chalicelib.services.organizations import DEFAULT_ORG
from chalicelib.services.rate_limits import RateLimitsService
from tests.clock import Clock
from tests.unit.services.fakes_rate_limits import FakeCounters

HOUR_START = 1_764_493_200  # 2025-11-30T09:00:00Z, an epoch hour
ALICE = Principal(user_id="user-alice", email="alice@example.com", token_id="t1", token_expires_at=HOUR_START + 7200)


def _org(plan: str = "free", org_id: str = "org-acme") -> Organization:
    return Organization(id=org_id, name="Acme", slug="acme", plan=plan, created_at="2025-01-01T00:00:00Z")


@pytest.fixture
def clock() -> Clock:
    return Clock(HOUR_START + 1234.5)


@pytest.fixture
def counters() -> FakeCounters:
    return FakeCounters()


@pytest.fixture
def limits(counters: FakeCounters, clock: Clock) -> RateLimitsService:
    return RateLimitsService(counters, DEFAULT_PLANS, clock=clock)


# ------------------------------------------------------------------ the window

def test_a_window_is_the_epoch_hour_and_resets_at_the_next_one() -> None:
    # Given any moment inside an hour
    window = Window.containing(HOUR_START + 3599.9)
    # Then the window starts on the hour and resets exactly one hour later
    assert window.start == HOUR_START
    assert window.reset == HOUR_START + 3600
    # And the first second of the next hour belongs to the next window
    assert Window.containing(HOUR_START + 3600).start == HOUR_START + 3600


def test_retry_after_is_the_whole_seconds_until_the_reset_and_never_zero() -> None:
    window = Window.containing(HOUR_START)
    assert window.seconds_left(HOUR_START) == 3600
    assert window.seconds_left(HOUR_START + 3598.5) == 2  # rounded up: retrying earlier would fail again
    assert window.seconds_left(HOUR_START + 3599.99) == 1


# ------------------------------------------------------------------ whom a request counts against

def test_anonymous_callers_count_per_address_at_the_free_rate() -> None:
    assert scope_for(None, None, "203.0.113.9") == RateScope("ip", "203.0.113.9", "free")


def test_a_member_acting_in_a_named_organization_counts_against_it_at_its_plan() -> None:
    scope = scope_for(ALICE, _org("professional"), "203.0.113.9")
    assert scope == RateScope("org", "org-acme", "professional")
    assert scope.key == "org#org-acme"


def test_callers_in_the_default_organization_count_per_user_at_the_free_rate() -> None:
    assert scope_for(ALICE, DEFAULT_ORG, "203.0.113.9") == RateScope("user", "user-alice", "free")
    # and so does a caller whose organization could not be resolved (not a member)
    assert scope_for(ALICE, None, "203.0.113.9") == RateScope("user", "user-alice", "free")


# ------------------------------------------------------------------ the count against the plan

def test_a_free_organization_gets_100_requests_an_hour_then_429(limits: RateLimitsService) -> None:
    scope = RateScope("org", "org-acme", "free")
    # When it makes 100 requests
    statuses = [limits.hit(scope) for _ in range(100)]
    # Then each is allowed and the remaining count goes 99 .. 0
    assert all(s is not None and not s.exceeded for s in statuses)
    assert [s.remaining for s in statuses if s] == list(range(99, -1, -1))
    assert {s.limit for s in statuses if s} == {100}
    # And the 101st is over the limit, with nothing remaining and a retry at the next hour
    over = limits.hit(scope)
    assert over is not None and over.exceeded
    assert (over.remaining, over.window.reset, over.retry_after) == (0, HOUR_START + 3600, 3600 - 1234)


def test_the_next_hour_starts_fresh(limits: RateLimitsService, clock: Clock) -> None:
    scope = RateScope("org", "org-acme", "free")
    for _ in range(101):
        limits.hit(scope)
    # When the clock moves into the next hour
    clock.now = HOUR_START + 3600
    status = limits.hit(scope)
    # Then the count starts again
    assert status is not None and not status.exceeded
    assert (status.count, status.remaining, status.window.reset) == (1, 99, HOUR_START + 7200)


def test_each_plan_has_its_contract_rate(limits: RateLimitsService) -> None:
    for plan, limit in (("free", 100), ("professional", 1_000), ("enterprise", 10_000)):
        status = limits.hit(RateScope("org", f"org-{plan}", plan))
        assert status is not None and (status.limit, status.remaining, status.plan) == (limit, limit - 1, plan)


def test_an_unknown_plan_name_is_held_to_the_free_rate(limits: RateLimitsService) -> None:
    status = limits.hit(RateScope("org", "org-odd", "platinum"))
    assert status is not None and (status.plan, status.limit) == ("free", 100)


def test_a_deployment_may_set_its_own_rates(counters: FakeCounters, clock: Clock) -> None:
    limits = RateLimitsService(counters, parse_plans('{"free": {"requests_per_hour": 3}}'), clock=clock)
    scope = RateScope("ip", "198.51.100.7", "free")
    assert [limits.hit(scope).exceeded for _ in range(4)] == [False, False, False, True]  # type: ignore[union-attr]


def test_scopes_and_windows_are_separate_counters(limits: RateLimitsService, counters: FakeCounters,
                                                  clock: Clock) -> None:
    # Given one busy organization
    for _ in range(150):
        limits.hit(RateScope("org", "org-busy", "free"))
    # Then another organization, a user and an address each start at their own count
    for scope in (RateScope("org", "org-quiet", "free"), RateScope("user", "org-busy", "free"),
                  RateScope("ip", "org-busy", "free")):
        status = limits.hit(scope)
        assert status is not None and status.count == 1, scope
    # And every (scope, window) is its own counter, whose expiry is after its window's reset
    assert set(counters.hits) == {("org#org-busy", HOUR_START), ("org#org-quiet", HOUR_START),
                                  ("user#org-busy", HOUR_START), ("ip#org-busy", HOUR_START)}
    assert all(expiry > HOUR_START + 3600 for expiry in counters.expiries.values())


def test_a_failing_counter_lets_the_request_through_and_warns(limits: RateLimitsService, counters: FakeCounters,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    counters.failure = RuntimeError("ProvisionedThroughputExceededException")
    with caplog.at_level(logging.WARNING, logger="spoke.rate_limits"):
        status = limits.hit(RateScope("org", "org-acme", "free"))
    assert status is None
    warning, = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "org#org-acme" in warning.getMessage() and "ProvisionedThroughputExceeded" in warning.getMessage()


def test_the_429_says_which_limit_plan_and_reset(limits: RateLimitsService, clock: Clock) -> None:
    scope = RateScope("org", "org-acme", "free")
    for _ in range(100):
        limits.hit(scope)
    error = limits.hit(scope).exceeded_error()  # type: ignore[union-attr]
    assert error.code == "RATE_LIMIT_EXCEEDED"
    assert error.retry_after == 3600 - 1234
    assert "100 requests per hour" in error.message and "free plan" in error.message
    assert str(HOUR_START + 3600) in error.message
    assert {k: error.details[k] for k in ("limit", "plan", "scope", "reset")} == {
        "limit": 100, "plan": "free", "scope": "org", "reset": HOUR_START + 3600}
