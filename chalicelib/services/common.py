"""Small helpers every service shares: time, access checks, pagination."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import Forbidden, InvalidCursor, Unauthorized, ValidationFailed
from chalicelib.domain.roles import Action, can, scopes_allow

if TYPE_CHECKING:  # annotations only: a cold start does not load pydantic models
    from chalicelib.domain.models import Principal, RequestContext
    from chalicelib.services.ports import CursorsPort

MAX_PAGE_SIZE = 100
MAX_PAGE_OFFSET = 10_000  # page numbers reach this far; cursors go anywhere
MAX_CURSOR_LENGTH = 2048


def iso_utc(moment: datetime) -> str:
    """The one timestamp format of the API: `2025-01-24T10:00:00Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now() -> str:
    return iso_utc(datetime.now(UTC))


def require_principal(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthorized("Authentication required: send 'Authorization: Bearer <token>' from /auth/login")
    return principal


def require_session(principal: Principal | None, doing: str) -> Principal:
    """A signed-in person, not an API token: what only a person may do (tokens, password, new organizations)."""
    who = require_principal(principal)
    if who.kind != "session":
        raise Forbidden(f"An API token cannot {doing}: sign in with your email and password (or SSO)")
    return who


def require(ctx: RequestContext, action: Action) -> None:
    """The one access check. The default organization is readable by anyone, writable when signed in;
    an API token may do no more than its scopes allow."""
    if action is Action.READ and ctx.org.is_default:
        return
    principal = require_principal(ctx.principal)
    if not scopes_allow(principal.scopes, action):
        raise Forbidden(f"This API token's scopes ({', '.join(principal.scopes or ())}) do not allow "
                        f"{action.value.replace('_', ' ')}")
    if not can(ctx.role, action):
        raise Forbidden(f"Your role in '{ctx.org.slug}' ({ctx.role.value if ctx.role else 'none'}) "
                        f"does not allow {action.value.replace('_', ' ')}")


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    page_size: int = 20
    cursor: str | None = None

    @classmethod
    def parse(cls, page: Any, page_size: Any, cursor: Any) -> PageRequest:
        errors = []
        values = {}
        for field, raw, default, high in (("page", page, 1, MAX_PAGE_OFFSET + 1),
                                          ("page_size", page_size, 20, MAX_PAGE_SIZE)):
            try:
                value = default if raw in (None, "") else int(raw)
                if not 1 <= value <= high:
                    raise ValueError
                values[field] = value
            except (TypeError, ValueError):
                errors.append({"field": field, "code": "OUT_OF_RANGE",
                               "message": f"{field} must be an integer from 1 to {high}"})
        if not errors and (values["page"] - 1) * values["page_size"] > MAX_PAGE_OFFSET:
            errors.append({"field": "page", "code": "OUT_OF_RANGE",
                           "message": f"page numbers reach {MAX_PAGE_OFFSET} items deep: follow next_cursor beyond"})
        if errors:
            raise ValidationFailed("Invalid pagination parameters", validation_errors=errors)
        if cursor and len(cursor) > MAX_CURSOR_LENGTH:
            raise InvalidCursor(f"Cursor is longer than {MAX_CURSOR_LENGTH} characters: it is not one Spoke issued")
        return cls(values["page"], values["page_size"], cursor or None)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def pagination(page: PageRequest, total_items: int, next_cursor: str | None) -> dict[str, Any]:
    return {
        "page": page.page,
        "page_size": page.page_size,
        "total_pages": max(1, math.ceil(total_items / page.page_size)),
        "total_items": total_items,
        "has_more": next_cursor is not None,
        "next_cursor": next_cursor,
    }


def resume_after(cursors: CursorsPort, cursor: str | None, scope: dict[str, Any]) -> str | None:
    """Where a listing resumes: the `after` of a cursor issued for this very listing (same scope)."""
    if not cursor:
        return None
    position = cursors.decode(cursor)
    after = position.get("after")
    if any(position.get(key) != value for key, value in scope.items()) or not isinstance(after, str):
        raise InvalidCursor("Cursor belongs to another listing: start again without it")
    return after


def next_cursor(cursors: CursorsPort, scope: dict[str, Any], last: str | None, more: bool) -> str | None:
    """A signed cursor after `last` when more items follow it."""
    return cursors.encode({**scope, "after": last}) if more and last is not None else None
