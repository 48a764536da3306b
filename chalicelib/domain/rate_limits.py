"""Rate limits: fixed hourly windows, who a request counts against, and what the count means.

Pure arithmetic. A window is aligned to the epoch hour (10:00:00-10:59:59 UTC), so every container
agrees on it without talking to another, and its reset is the next window's start. A request counts
against one scope:

- `org#<id>`: a signed-in caller (session or API token) acting in a named organization it belongs to,
  at that organization's plan's `requests_per_hour`;
- `user#<id>`: a signed-in caller in the `default` organization (or naming one it cannot act in),
  at the free plan's rate: the default organization is shared, so it is never one budget for all;
- `ip#<address>`: no bearer, or one that is not valid, at the free plan's rate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.domain.errors import RateLimitExceeded
from chalicelib.domain.plans import DEFAULT_PLAN

if TYPE_CHECKING:  # annotations only: a cold start does not load pydantic models
    from chalicelib.domain.models import Organization, Principal

WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class Window:
    """A fixed window `[start, start + seconds)` in epoch seconds."""

    start: int
    seconds: int = WINDOW_SECONDS

    @classmethod
    def containing(cls, now: float, seconds: int = WINDOW_SECONDS) -> Window:
        return cls(start=int(now // seconds) * seconds, seconds=seconds)

    @property
    def reset(self) -> int:
        """When the next window starts, and the count is fresh again (X-RateLimit-Reset)."""
        return self.start + self.seconds

    def seconds_left(self, now: float) -> int:
        """Whole seconds until the reset, at least 1 (Retry-After: 0 would invite a retry storm)."""
        return max(1, math.ceil(self.reset - now))


@dataclass(frozen=True)
class RateScope:
    """Whom a request counts against (`kind` org, user or ip) and under which plan."""

    kind: str
    id: str
    plan: str

    @property
    def key(self) -> str:
        """The counter's name: one counter item per scope and window, so no partition is shared."""
        return f"{self.kind}#{self.id}"


def scope_for(principal: Principal | None, org: Organization | None, source_ip: str) -> RateScope:
    """The scope of a request whose caller is `principal` (None: anonymous or an invalid bearer),
    acting in `org` (None or the default organization: not a named organization it may act in)."""
    if principal is None:
        return RateScope("ip", source_ip, DEFAULT_PLAN)
    if org is not None and not org.is_default:
        return RateScope("org", org.id, org.plan)
    return RateScope("user", principal.user_id, DEFAULT_PLAN)


@dataclass(frozen=True)
class RateStatus:
    """One counted request: the scope's count in its window against the plan's limit."""

    scope: RateScope
    plan: str
    limit: int
    count: int
    window: Window
    now: float

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def retry_after(self) -> int:
        return self.window.seconds_left(self.now)

    def exceeded_error(self) -> RateLimitExceeded:
        """The 429 a person understands: which limit, which plan, whom it counts and when it resets."""
        whom = {"org": "this organization", "user": "your account in the default organization",
                "ip": "anonymous requests from your address"}.get(self.scope.kind, "this caller")
        return RateLimitExceeded(
            f"Rate limit exceeded: the {self.plan} plan allows {self.limit} requests per hour for {whom}; "
            f"the count resets at {self.window.reset} (epoch seconds), in {self.retry_after} s",
            retry_after=self.retry_after,
            details={"limit": self.limit, "plan": self.plan, "scope": self.scope.kind, "reset": self.window.reset})
