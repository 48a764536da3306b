"""The audit trail: every successful mutation passes `AuditService.record` (from api_view), the one
place it is written; an organization's admins read it back with `AuditService.list`.

Each record is a log line (`spoke.audit`, CloudWatch Logs on Lambda) and, for a named organization,
one item in that organization's partition with a TTL. The mutation has already succeeded when its
record is written: a failing store never fails or delays the response beyond its one PutItem; the
record is then logged at ERROR, whole, so it is still in the logs.

Mutations outside a named organization (registration, login, the default organization, creating an
organization) are logged only: the default organization has no admins to read a trail, and the
log line carries the same record.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.domain.audit import (
    MAX_ACTION_LENGTH,
    MAX_ACTOR_LENGTH,
    AuditQuery,
    AuditRecord,
)
from chalicelib.domain.errors import Forbidden, ValidationFailed
from chalicelib.domain.names import DEFAULT_ORG_ID
from chalicelib.domain.roles import Action
from chalicelib.services.common import (
    MAX_PAGE_SIZE,
    PageRequest,
    next_cursor,
    require,
    require_principal,
    resume_after,
)

if TYPE_CHECKING:  # annotations only: a cold start does not load pydantic models
    from chalicelib.domain.models import RequestContext
    from chalicelib.services.ports import AuditStorePort, CursorsPort

logger = logging.getLogger("spoke.audit")


def iso_ms(moment: datetime) -> str:
    """`2026-11-30T11:12:40.123Z`: sortable as text, finer than the API's seconds."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class AuditService:
    def __init__(self, store: AuditStorePort, cursors: CursorsPort, retention_days: int,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._store, self._cursors, self._retention_days = store, cursors, retention_days
        self._clock = clock or (lambda: datetime.now(UTC))

    def record(self, entry: AuditRecord) -> AuditRecord:
        """Log the record, store it when it belongs to a named organization; never raises."""
        now = self._clock()
        entry = replace(entry, at=iso_ms(now))
        logger.info("audit %s %s", entry.action, entry.status, extra={"audit": entry.as_dict()})
        if entry.organization in (None, DEFAULT_ORG_ID):
            return entry
        expires = int((now + timedelta(days=self._retention_days)).timestamp())
        try:
            self._store.put(entry, expires)
        except Exception:
            logger.exception("audit record not stored: %s %s", entry.action, entry.request_id,
                             extra={"audit": entry.as_dict(), "audit_stored": False})
        return entry

    def list(self, ctx: RequestContext, actor: Any, action: Any, limit: Any, cursor: Any
             ) -> tuple[list[AuditRecord], str | None, int]:
        """A page of the organization's trail, newest first: (records, next cursor, page size).
        Admins and owners only; a filter by `actor` (user id) and/or `action` ("POST /modules")."""
        require_principal(ctx.principal)
        if ctx.org.is_default:
            raise Forbidden("The default organization has no audit trail: its mutations are in the logs only")
        require(ctx, Action.MANAGE_SETTINGS)
        page = PageRequest.parse(None, _limit(limit), cursor)
        actor_, action_ = _filter("actor", actor, MAX_ACTOR_LENGTH), _filter("action", action, MAX_ACTION_LENGTH)
        scope = {"audit": ctx.org.id, "actor": actor_, "action": action_}
        query = AuditQuery(org_id=ctx.org.id, limit=page.page_size, actor=actor_, action=action_,
                           after=resume_after(self._cursors, page.cursor, scope))
        found, more = self._store.list(query)
        last = found[-1][0] if found else None
        return [entry for _, entry in found], next_cursor(self._cursors, scope, last, more), page.page_size


def _limit(value: Any) -> int:
    try:
        size = 20 if value is None or value == "" else int(value)
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationFailed("Invalid pagination parameters", validation_errors=[
            {"field": "limit", "code": "OUT_OF_RANGE",
             "message": f"limit must be an integer from 1 to {MAX_PAGE_SIZE}"}]) from None
    return size


def _filter(name: str, value: Any, longest: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > longest or not value.isprintable():
        raise ValidationFailed(f"Invalid {name} filter", validation_errors=[
            {"field": name, "code": "INVALID", "message": f"must be printable text of at most {longest} characters"}])
    return value
