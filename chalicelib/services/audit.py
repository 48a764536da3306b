"""The audit trail: every successful mutation passes `record`, the one place to write it.

Today it is a structured log line (CloudWatch Logs on Lambda); the audit-log feature will give it
a durable store without touching any view.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import json
import logging

from chalicelib.services.common import utc_now

if TYPE_CHECKING:  # annotations only: a cold start does not load pydantic models
    from chalicelib.domain.models import Principal, RequestContext

logger = logging.getLogger("spoke.audit")


def record(request_id: str, method: str, path: str, status: int, ctx: RequestContext | None,
           principal: Principal | None) -> None:
    who = ctx.principal if ctx and ctx.principal else principal
    logger.info(json.dumps({
        "audit": True, "at": utc_now(), "request_id": request_id, "action": f"{method} {path}",
        "status": status, "organization": ctx.org.id if ctx else None,
        "principal": who.user_id if who else None,
    }))
