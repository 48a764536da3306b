"""Plan limits for tests that are not about plans: high enough that no other suite meets them.

Tests of rate limits and quotas use the contract's table (SPOKE_PLANS unset) or set their own."""
from __future__ import annotations

import json

from chalicelib.domain.plans import LIMIT_NAMES, PLAN_NAMES

UNLIMITED = 10 ** 9
GENEROUS_PLANS = json.dumps({plan: {limit: UNLIMITED for limit in LIMIT_NAMES} for plan in PLAN_NAMES})
