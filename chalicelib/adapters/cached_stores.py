"""The reads every authenticated request makes, remembered for seconds (see `cache.py`).

These subclasses change only how the hot reads are served: session state, organization by id,
organization id by slug, and membership. Everything else, writes included, is the store's own, so
the stores keep evolving without this module. Staleness, by design and documented in the README:

- On this container, its own writes are seen at once: logout marks the token revoked here, a password
  change ends the user's older sessions here (one BatchGetItem reads both when a session is new), adding
  or removing a member forgets that membership and the organization (its member_count).
- On other containers a revocation or password change takes up to `SPOKE_REVOCATION_CACHE_SECONDS` to be seen (a
  logged-out token may keep reading there that long), a removed member keeps access and an
  organization's name and counts stay as they were for up to `SPOKE_CACHE_SECONDS`.
- Only found items are cached: a new organization, slug or membership is usable at once
  everywhere. Keys hold every id they depend on, so one organization's entry never answers for another.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from chalicelib.adapters.accounts_store import AccountsStore
from chalicelib.adapters.cache import TtlCache
from chalicelib.adapters.dynamo import Table
from chalicelib.adapters.organizations_store import OrganizationsStore
from chalicelib.domain.models import Member, Organization
from chalicelib.domain.passwords import SessionState

OrgCacheKey = tuple[str, ...]


class CachedAccountsStore(AccountsStore):
    """Remembers each session's state (revoked? ended by a password change?); a logout or a password
    change on this container counts here at once, elsewhere within `SPOKE_REVOCATION_CACHE_SECONDS`.

    Keys: ("session", token id, user id) -> SessionState read from the table; ("revoked", token id) ->
    a logout (or a read of it); ("ended", user id) -> the `sessions_valid_after_ms` of a password change
    made here. The last two override an older session entry."""

    def __init__(self, table: Table, revocations: TtlCache[tuple[str, ...], Any]) -> None:
        super().__init__(table)
        self._revocations = revocations

    def session_state(self, token_id: str, user_id: str) -> SessionState:
        key = ("session", token_id, user_id)
        state = self._revocations.get(key)
        if state is None:
            state = super().session_state(token_id, user_id)
            self._revocations.put(key, state)
        if self._revocations.get(("revoked", token_id)):  # logged out here after the entry above was made
            state = replace(state, revoked=True)
        ended_here = self._revocations.get(("ended", user_id))
        if ended_here is not None and ended_here > state.valid_after_ms:
            state = replace(state, valid_after_ms=ended_here)
        return state

    def is_revoked(self, token_id: str) -> bool:
        known = self._revocations.get(("revoked", token_id))
        if known is not None:
            return known
        revoked = super().is_revoked(token_id)
        self._revocations.put(("revoked", token_id), revoked)
        return revoked

    def revoke_token(self, token_id: str, expires_at: int, *args: Any, **kwargs: Any) -> None:
        self._revocations.invalidate(("revoked", token_id))  # even if the write fails: the next check reads
        super().revoke_token(token_id, expires_at, *args, **kwargs)
        self._revocations.put(("revoked", token_id), True)

    def change_password(self, user_id: str, email: str, password_hash: str, sessions_valid_after_ms: int) -> None:
        super().change_password(user_id, email, password_hash, sessions_valid_after_ms)
        self._revocations.put(("ended", user_id), sessions_valid_after_ms)


class CachedOrganizationsStore(OrganizationsStore):
    """Remembers organizations, slugs and memberships that exist; membership writes here forget them."""

    def __init__(self, table: Table, cache: TtlCache[OrgCacheKey, Any]) -> None:
        super().__init__(table)
        self._cache = cache

    def get_organization(self, org_id: str) -> Organization | None:
        key = ("org", org_id)
        org = self._cache.get(key)
        if org is None:
            org = super().get_organization(org_id)
            self._cache.put(key, org)
        return org

    def org_id_for_slug(self, slug: str) -> str | None:
        key = ("slug", slug)  # slugs are unique and never reassigned
        org_id = self._cache.get(key)
        if org_id is None:
            org_id = super().org_id_for_slug(slug)
            self._cache.put(key, org_id)
        return org_id

    def get_member(self, org_id: str, user_id: str) -> Member | None:
        key = ("member", org_id, user_id)
        member = self._cache.get(key)
        if member is None:
            member = super().get_member(org_id, user_id)
            self._cache.put(key, member)
        return member

    def add_member(self, member: Member, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().add_member(member, *args, **kwargs)
        finally:
            self._forget(member.org_id, member.user_id)

    def remove_member(self, org_id: str, user_id: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().remove_member(org_id, user_id, *args, **kwargs)
        finally:
            self._forget(org_id, user_id)

    def rename_organization(self, org_id: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().rename_organization(org_id, *args, **kwargs)
        finally:
            self._cache.invalidate(("org", org_id))

    def set_plan(self, org_id: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().set_plan(org_id, *args, **kwargs)
        finally:
            self._cache.invalidate(("org", org_id))

    def _forget(self, org_id: str, user_id: str) -> None:
        self._cache.invalidate(("member", org_id, user_id), ("org", org_id))
