"""The audit trail's record: who did what, when, to which resource (seed 002: "all mutating operations
logged with user/timestamp").

A plain dataclass (no pydantic): every successful mutation builds one, so it stays off the cold path.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Query filters: an action is "<METHOD> <route pattern>", as API Gateway names the resource.
MAX_ACTION_LENGTH = 200
MAX_ACTOR_LENGTH = 100


@dataclass(frozen=True)
class AuditRecord:
    """One successful mutation.

    `action` is the method and the route pattern (`POST /modules/{name}/versions`), `path` the path
    the caller sent and `resource` the route's parameters (`{"name": "user"}`): together they say
    which resource was changed, whatever the route. `actor` is the user; `api_token_id` is set when
    the user acted through an API token. `organization` is None for a mutation outside any
    organization (registration, login, creating one) and "default" in the default organization: those
    are logged, not stored."""

    request_id: str
    action: str
    path: str
    status: int
    organization: str | None = None
    actor: str | None = None
    api_token_id: str | None = None
    resource: dict[str, str] = field(default_factory=dict)
    lambda_request_id: str | None = None
    at: str = ""  # ISO 8601 UTC with milliseconds (2026-11-30T11:12:40.123Z), stamped when recorded

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> AuditRecord:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in values.items() if k in names})


@dataclass(frozen=True)
class AuditQuery:
    """A page of one organization's trail, newest first, optionally only one actor's or one action's."""

    org_id: str
    limit: int
    actor: str | None = None
    action: str | None = None
    after: str | None = None  # the sort key of the last record of the previous page
