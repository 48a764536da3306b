"""Use cases of API tokens: create (shown once), list, revoke, and turning a token into a principal.

A token acts only in its organization and within its scopes; its user's role there still applies
(`services.common.require` checks both, `OrganizationsService.context_for` the organization and the
membership). Only a session manages tokens: a leaked token cannot mint or revoke others.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.api_tokens import (
    LAST_USE_PRECISION_SECONDS,
    MAX_TOKENS_PER_USER,
    ApiToken,
    is_token_id,
    is_well_formed,
    new_token_id,
    new_token_text,
    token_hash,
    token_request,
)
from chalicelib.domain.errors import OrganizationNotFound, TokenNotFound, Unauthorized
from chalicelib.domain.models import DEFAULT_ORG_ID, Principal
from chalicelib.domain.names import DEFAULT_ORG_SLUG, is_org_ref, shown
from chalicelib.services.common import iso_utc, require_session
from chalicelib.services.ports import ApiTokensPort, OrganizationsPort

logger = logging.getLogger("spoke.api_tokens")
SECONDS_PER_DAY = 86_400


def _iso(epoch: float) -> str:
    return iso_utc(datetime.fromtimestamp(epoch, UTC))


class ApiTokensService:
    def __init__(self, store: ApiTokensPort, orgs: OrganizationsPort, max_days: int,
                 max_per_user: int = MAX_TOKENS_PER_USER, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._orgs = orgs
        self._max_days = max_days
        self._max_per_user = max_per_user
        self._clock = clock

    def create(self, principal: Principal | None, body: dict[str, Any]) -> tuple[ApiToken, str]:
        """The stored token and its secret text: the text is returned here and never again."""
        who = require_session(principal, "create API tokens")
        request = token_request(body, self._max_days)
        org_id, org_slug = self._organization_of(who, request.organization)
        now = int(self._clock())
        expires = now + request.expires_in_days * SECONDS_PER_DAY
        text = new_token_text()
        token = ApiToken(id=new_token_id(), token_hash=token_hash(text), user_id=who.user_id, email=who.email,
                         org_id=org_id, org_slug=org_slug, name=request.name, scopes=request.scopes,
                         created_at=_iso(now), expires_at=_iso(expires), expires_at_epoch=expires)
        self._store.create(token, self._max_per_user)
        return token, text

    def list(self, principal: Principal | None) -> list[ApiToken]:
        return self._store.list_for(require_session(principal, "list API tokens").user_id)

    def revoke(self, principal: Principal | None, token_id: str) -> None:
        """At once: the lookup item is deleted and every request reads it strongly consistently."""
        who = require_session(principal, "revoke API tokens")
        if not is_token_id(token_id):
            raise TokenNotFound(f"API token '{shown(token_id)}' not found among your tokens",
                                details={"id": shown(token_id)})
        self._store.delete(who.user_id, token_id)

    def describe(self, principal: Principal) -> ApiToken | None:
        """The token a request is made with (for GET /auth/me)."""
        if principal.kind != "api_token":
            return None
        return next((t for t in self._store.list_for(principal.user_id) if t.id == principal.token_id), None)

    def authenticate(self, text: str) -> Principal:
        """One strongly consistent GetItem (plus, at most once a minute, the record of its last use)."""
        found = self._store.find(token_hash(text)) if is_well_formed(text) else None
        if found is None:
            raise Unauthorized("API token is invalid or has been revoked")
        now = int(self._clock())
        if found.expires_at_epoch <= now:
            raise Unauthorized(f"API token expired at {found.expires_at}: create a new one")
        if found.last_used_epoch is None or now - found.last_used_epoch >= LAST_USE_PRECISION_SECONDS:
            try:
                self._store.touch(found.token_hash, _iso(now), now)
            except Exception:  # noqa: BLE001 - a bookkeeping write never fails the request
                logger.warning("could not record the use of API token %s", found.id, exc_info=True)
        return Principal(user_id=found.user_id, email=found.email, token_id=found.id,
                         token_expires_at=found.expires_at_epoch, kind="api_token", org_id=found.org_id,
                         scopes=found.scopes)

    def _organization_of(self, who: Principal, ref: str) -> tuple[str, str]:
        """(id, slug) of an organization the caller belongs to; 404 as for any organization they cannot see."""
        if ref.lower() in (DEFAULT_ORG_ID, DEFAULT_ORG_SLUG):
            return DEFAULT_ORG_ID, DEFAULT_ORG_SLUG
        org_id = None
        if is_org_ref(ref):
            org_id = ref if ref.startswith("org-") else self._orgs.org_id_for_slug(ref.lower())
        org = self._orgs.get_organization(org_id) if org_id else None
        if org is None or self._orgs.get_member(org.id, who.user_id) is None:
            raise OrganizationNotFound(f"Organization '{shown(ref)}' not found among yours",
                                       details={"organization": shown(ref)})
        return org.id, org.slug
