"""Quotas per plan: which plan an organization is on, where a write's usage is counted, and the error
a refused write gives.

Quotas are never checked by reading usage first: each is a condition of the very write that makes
the usage grow (see the stores). This module only says what the limits are and where they count.
In the shared default organization usage counts per user (`owner_id`), at the free plan; its own
item is never written by a request.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib.domain.errors import QuotaExceeded
from chalicelib.domain.plans import DEFAULT_PLAN, DEFAULT_PLANS, Plan

COMPILES = "compiles"  # the daily counter's name in its key
DAILY_COUNTER_DAYS = 3  # a day's counter lives this long past the day's start (TTL), then goes

QUOTA_MESSAGES = {
    "modules": "modules in the organization",
    "versions_per_module": "versions of this module",
    "stored_bytes": "bytes of stored source",
    "members": "members of the organization",
    "webhooks": "webhooks of the organization",
    "compiles_per_day": "compile requests today (UTC)",
}


def plan_named(plans: Mapping[str, Plan] | None, name: str | None) -> Plan:
    """The plan of an organization; one stored before plans existed (no name) or naming an unknown plan
    is on the free plan."""
    table = plans if plans is not None else DEFAULT_PLANS
    return table.get(name or DEFAULT_PLAN) or table[DEFAULT_PLAN]


def quota_exceeded(quota: str, usage: int, limit: int, plan: str | None = None) -> QuotaExceeded:
    """QUOTA_EXCEEDED with what the contract's clients need to act: the quota, the usage, the limit."""
    details: dict[str, object] = {"quota": quota, "usage": usage, "limit": limit}
    if plan:
        details["plan"] = plan
    what = QUOTA_MESSAGES.get(quota, quota)
    return QuotaExceeded(f"Quota exceeded: {what} would pass the {plan or 'plan'}'s limit of {limit} "
                         f"(now {usage}); ask the operator for a larger plan", details=details)


def utc_day(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def day_counter_expiry(moment: datetime) -> int:
    """When a day's counter may go (epoch seconds): a few days after the day began."""
    start = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((start + timedelta(days=DAILY_COUNTER_DAYS)).timestamp())


@dataclass(frozen=True)
class Quotas:
    """The limits one write is held to, and where its usage is counted.

    `owner_id`: in the default organization, the user whose item counts modules and stored bytes
    (None elsewhere: the organization's item counts them). `requester_id`: in the default
    organization, the user whose compile requests are counted per day. `day`: the UTC day of the
    write, whose counter expires at `day_expires_at`."""

    plan: Plan
    org_id: str
    owner_id: str | None = None
    requester_id: str | None = None
    day: str = ""
    day_expires_at: int = 0

    def exceeded(self, quota: str, usage: int) -> QuotaExceeded:
        return quota_exceeded(quota, usage, getattr(self.plan, quota), self.plan.name)


@dataclass(frozen=True)
class Usage:
    """What a tenant holds now, against its plan's quotas (GET /organizations/{id}/usage)."""

    modules: int = 0
    stored_bytes: int = 0
    members: int = 0
    webhooks: int = 0
    compiles_today: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"modules": self.modules, "stored_bytes": self.stored_bytes, "members": self.members,
                "webhooks": self.webhooks, "compiles_today": self.compiles_today}


def limits_of(plan: Plan) -> dict[str, int]:
    return {"requests_per_hour": plan.requests_per_hour, **plan.quotas}
