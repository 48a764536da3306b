"""Counting requests against their plan's hourly rate: one atomic counter increment per request.

Costs one DynamoDB call (the counter's UpdateItem ADD, which returns the new count: no read first,
no lost hit under concurrency). Each scope has its own counter item per window (`counter_key`), so a
busy organization's counter is its own partition and never throttles anyone else's. When the
counter store fails the request is let through (fail open) with a logged warning: an outage of the
counter must not become an outage of the registry.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from chalicelib.domain.plans import DEFAULT_PLAN, Plan
from chalicelib.domain.rate_limits import WINDOW_SECONDS, RateScope, RateStatus, Window
from chalicelib.services.ports import CountersPort

logger = logging.getLogger("spoke.rate_limits")


class RateLimitsService:
    def __init__(self, counters: CountersPort, plans: Mapping[str, Plan],
                 clock: Callable[[], float] = time.time, window_seconds: int = WINDOW_SECONDS) -> None:
        self._counters = counters
        self._plans = plans
        self.clock = clock  # tests move it into the next hour
        self._window_seconds = window_seconds

    def hit(self, scope: RateScope) -> RateStatus | None:
        """Count one request of `scope`; its status in the current window, or None when the counter
        store failed (the caller lets the request through, without rate headers)."""
        now = self.clock()
        window = Window.containing(now, self._window_seconds)
        plan = self._plans.get(scope.plan) or self._plans[DEFAULT_PLAN]  # an unknown plan name: free
        try:
            # TTL one window after the reset: DynamoDB deletes expired items lazily, never early.
            count = self._counters.increment(scope.key, window.start, window.reset + window.seconds)
        except Exception as error:  # noqa: BLE001 - fail open, whatever the store raised
            logger.warning("rate limit counter for %s failed; request let through uncounted: %r", scope.key, error)
            return None
        return RateStatus(scope=scope, plan=plan.name, limit=plan.requests_per_hour, count=count, window=window,
                          now=now)
