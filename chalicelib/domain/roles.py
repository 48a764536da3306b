"""Organization roles and what each may do. The README's permission table is this file."""
from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    OWNER = "owner"
    ADMIN = "admin"
    DEVELOPER = "developer"
    VIEWER = "viewer"


class Action(str, Enum):
    READ = "read"  # modules, versions, files, members
    PUBLISH = "publish"  # create and edit modules, publish versions
    MANAGE_MEMBERS = "manage_members"  # add/remove developers, viewers and admins
    MANAGE_SETTINGS = "manage_settings"  # organization settings, webhooks
    MANAGE_OWNERS = "manage_owners"  # add/remove owners


PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.VIEWER: frozenset({Action.READ}),
    Role.DEVELOPER: frozenset({Action.READ, Action.PUBLISH}),
    Role.ADMIN: frozenset({Action.READ, Action.PUBLISH, Action.MANAGE_MEMBERS, Action.MANAGE_SETTINGS}),
    Role.OWNER: frozenset(Action),
}


def can(role: Role | None, action: Action) -> bool:
    return role is not None and action in PERMISSIONS[role]


# What an API token's scopes let it do, on top of (never beyond) its user's role in its organization.
SCOPES: dict[str, frozenset[Action]] = {
    "read": frozenset({Action.READ}),
    "write": frozenset({Action.READ, Action.PUBLISH}),
    "admin": frozenset(Action),
}


def scopes_allow(scopes: tuple[str, ...] | None, action: Action) -> bool:
    """None: not a token (a session), bound by its role alone."""
    return scopes is None or any(action in SCOPES.get(scope, frozenset()) for scope in scopes)
