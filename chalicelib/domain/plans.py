"""Plans and their limits: the contract's free, professional and enterprise, as configuration.

The table below is the default; a deployment overrides any limit of any plan with `SPOKE_PLANS`
(JSON, e.g. `{"free": {"modules": 20}}`), read once through Settings. Limits are whole numbers;
`requests_per_hour` is the contract's rate limit, the rest are quotas.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from typing import Any

PLAN_NAMES = ("free", "professional", "enterprise")
DEFAULT_PLAN = "free"


@dataclass(frozen=True)
class Plan:
    name: str
    requests_per_hour: int          # every API request of the organization (the contract's table)
    modules: int                    # modules in the organization
    versions_per_module: int        # versions of one module
    stored_bytes: int               # bytes of source (packs) the organization's versions hold
    members: int                    # members of the organization
    webhooks: int                   # registered webhooks
    compiles_per_day: int           # compile requests (each publish, each recompile) per UTC day

    @property
    def quotas(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("name", "requests_per_hour")}


_MIB = 1024 * 1024
DEFAULT_PLANS: dict[str, Plan] = {
    "free": Plan("free", requests_per_hour=100, modules=10, versions_per_module=100, stored_bytes=100 * _MIB,
                 members=5, webhooks=2, compiles_per_day=50),
    "professional": Plan("professional", requests_per_hour=1_000, modules=200, versions_per_module=1_000,
                         stored_bytes=10 * 1024 * _MIB, members=50, webhooks=20, compiles_per_day=1_000),
    "enterprise": Plan("enterprise", requests_per_hour=10_000, modules=5_000, versions_per_module=10_000,
                       stored_bytes=1024 * 1024 * _MIB, members=1_000, webhooks=100, compiles_per_day=20_000),
}
LIMIT_NAMES = tuple(f.name for f in fields(Plan) if f.name != "name")


def is_plan(value: Any) -> bool:
    return isinstance(value, str) and value in PLAN_NAMES


def parse_plans(text: str | None) -> dict[str, Plan]:
    """The default table with the overrides of `text` (SPOKE_PLANS); ValueError names what is wrong."""
    if not text:
        return dict(DEFAULT_PLANS)
    try:
        overrides = json.loads(text)
    except ValueError:
        raise ValueError("SPOKE_PLANS must be JSON like {\"free\": {\"modules\": 20}}") from None
    if not isinstance(overrides, dict):
        raise ValueError("SPOKE_PLANS must be a JSON object of plan name -> limits")
    plans = dict(DEFAULT_PLANS)
    for name, limits in overrides.items():
        if name not in PLAN_NAMES:
            raise ValueError(f"SPOKE_PLANS names an unknown plan {name!r}: plans are {', '.join(PLAN_NAMES)}")
        if not isinstance(limits, dict):
            raise ValueError(f"SPOKE_PLANS[{name!r}] must be an object of limit -> whole number")
        for limit, value in limits.items():
            if limit not in LIMIT_NAMES:
                raise ValueError(f"SPOKE_PLANS[{name!r}] names an unknown limit {limit!r}: "
                                 f"limits are {', '.join(LIMIT_NAMES)}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"SPOKE_PLANS[{name!r}][{limit!r}] must be a whole number, not {value!r}")
        plans[name] = replace(plans[name], **limits)
    return plans
