"""Small helpers every service shares: time, access checks, pagination."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from chalicelib.domain.errors import Forbidden, Unauthorized, ValidationFailed
from chalicelib.domain.models import Principal, RequestContext
from chalicelib.domain.roles import Action, can

MAX_PAGE_SIZE = 100
MAX_PAGE_OFFSET = 10_000  # page numbers reach this far; cursors go anywhere


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def require_principal(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthorized("Authentication required: send 'Authorization: Bearer <token>' from /auth/login")
    return principal


def require(ctx: RequestContext, action: Action) -> None:
    """The one access check. The default organization is readable by anyone, writable when signed in."""
    if action is Action.READ and ctx.org.is_default:
        return
    require_principal(ctx.principal)
    if not can(ctx.role, action):
        raise Forbidden(f"Your role in '{ctx.org.slug}' ({ctx.role.value if ctx.role else 'none'}) "
                        f"does not allow {action.value.replace('_', ' ')}")


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    page_size: int = 20
    cursor: str | None = None

    @classmethod
    def parse(cls, page: Any, page_size: Any, cursor: Any) -> "PageRequest":
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
