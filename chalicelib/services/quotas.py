"""The quotas a request's writes are held to: its organization's plan, and where its usage counts."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chalicelib.domain.quotas import Quotas, day_counter_expiry, plan_named, utc_day

if TYPE_CHECKING:
    from chalicelib.domain.models import RequestContext
    from chalicelib.domain.plans import Plan

Plans = Mapping[str, "Plan"]


def quotas_for(ctx: RequestContext, plans: Plans | None, owner_id: str | None = None,
               now: datetime | None = None) -> Quotas | None:
    """None without a plan table (no quotas). In the default organization usage counts per user: modules
    and stored bytes on `owner_id` (the module's owner; the caller by default), compiles on the caller."""
    if plans is None:
        return None
    moment = now or datetime.now(UTC)
    caller = ctx.principal.user_id if ctx.principal else None
    shared = ctx.org.is_default
    return Quotas(plan=plan_named(plans, ctx.org.plan), org_id=ctx.org.id,
                  owner_id=(owner_id or caller or "anonymous") if shared else None,
                  requester_id=(caller or "anonymous") if shared else None,
                  day=utc_day(moment), day_expires_at=day_counter_expiry(moment))
