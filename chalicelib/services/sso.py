"""Use cases of single sign-on: an organization's admins configure an OpenID Connect issuer; people sign
in through it (authorization code + PKCE) and their first login makes them members.

Settings live in the table (SsoPort), the client secret in SSM (SsoSecretsPort); the issuer is reached
only through the OidcPort, which verifies ID tokens. Every failure of a login is SsoLoginFailed (401),
naming the check that failed; a login creates nobody unless every check held.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import (
    EmailExists,
    MemberExists,
    OrganizationNotFound,
    SsoLoginFailed,
    SsoNotConfigured,
    ValidationFailed,
)
from chalicelib.domain.models import DEFAULT_ORG_ID, Member, Organization, RequestContext, User
from chalicelib.domain.names import DEFAULT_ORG_SLUG, is_org_ref, shown
from chalicelib.domain.roles import Action, Role
from chalicelib.domain.sso import (
    LoginState,
    SsoConfig,
    authorization_url,
    redirect_uri,
    settings_input,
    signs_in_by_sso,
    sso_password_hash,
    verified_email,
)
from chalicelib.services.common import iso_utc, require, require_principal, utc_now
from chalicelib.services.ports import AccountsPort, OidcPort, OrganizationsPort, SsoPort, SsoSecretsPort, TokensPort

if TYPE_CHECKING:
    from chalicelib.domain.plans import Plan

MAX_STATE_LENGTH = 128
MAX_CODE_LENGTH = 2048


@dataclass(frozen=True)
class SsoStart:
    authorization_url: str
    state: str
    expires_at: str


@dataclass(frozen=True)
class SsoLogin:
    """A session as /auth/login gives one, and what the login did in the organization."""
    token: str
    expires_at: str
    user: User
    organization: Organization
    role: Role
    provisioned: bool       # True: this login made the user a member (and, maybe, created the account)


def code_challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


class SsoService:
    def __init__(self, store: SsoPort, secrets_store: SsoSecretsPort, oidc: OidcPort, accounts: AccountsPort,
                 orgs: OrganizationsPort, tokens: TokensPort, *, state_ttl_seconds: int, allow_http: bool,
                 plans: Mapping[str, Plan] | None = None, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._secrets = secrets_store
        self._oidc = oidc
        self._accounts = accounts
        self._orgs = orgs
        self._tokens = tokens
        self._state_ttl = state_ttl_seconds
        self._allow_http = allow_http
        self._clock = clock
        self._plans = plans  # the plan table: a first login is a new member, within the members quota

    # settings (organization admins)

    def configure(self, ctx: RequestContext, body: dict[str, Any]) -> SsoConfig:
        """Check the settings and the issuer's discovery document, then keep the secret in SSM and the
        rest in the table. The secret is written first: a failure after it leaves the previous settings
        in force (with a secret they may no longer match), never settings without a secret."""
        self._require_settings(ctx)
        wanted = settings_input(body, self._allow_http)
        provider = self._oidc.discover(wanted.issuer)
        config = SsoConfig(org_id=ctx.org.id, issuer=wanted.issuer, client_id=wanted.client_id,
                           allowed_domains=wanted.allowed_domains, default_role=wanted.default_role,
                           provider=provider, updated_at=utc_now(),
                           updated_by=require_principal(ctx.principal).user_id)
        self._secrets.put_client_secret(ctx.org.id, wanted.client_secret)
        self._store.put_config(config)
        return config

    def get(self, ctx: RequestContext) -> SsoConfig:
        self._require_settings(ctx)
        config = self._store.get_config(ctx.org.id)
        if config is None:
            raise SsoNotConfigured(f"SSO is not configured for '{ctx.org.slug}'")
        return config

    def delete(self, ctx: RequestContext) -> None:
        """The settings go first: from then on no login starts or finishes; then the secret."""
        self._require_settings(ctx)
        if not self._store.delete_config(ctx.org.id):
            raise SsoNotConfigured(f"SSO is not configured for '{ctx.org.slug}'")
        self._secrets.delete_client_secret(ctx.org.id)

    @staticmethod
    def _require_settings(ctx: RequestContext) -> None:
        if ctx.org.is_default:
            raise OrganizationNotFound("The default organization has no SSO: everyone signs in with their own "
                                       "account; configure SSO on your own organization")
        require(ctx, Action.MANAGE_SETTINGS)

    # login (anonymous)

    def start(self, org_ref: str, redirect: Any) -> SsoStart:
        """A new login: random state, nonce and PKCE verifier, kept under the state until it expires."""
        org = self._organization(org_ref)
        config = self._store.get_config(org.id) if org else None
        if org is None or config is None:
            raise SsoNotConfigured(f"SSO is not configured for organization '{shown(org_ref)}'",
                                   details={"organization": shown(org_ref)})
        expires_at = int(self._clock()) + self._state_ttl
        login = LoginState(state=secrets.token_urlsafe(32), org_id=org.id, nonce=secrets.token_urlsafe(32),
                           code_verifier=secrets.token_urlsafe(64), redirect_uri=redirect_uri(redirect),
                           expires_at=expires_at)
        self._store.put_state(login)
        return SsoStart(authorization_url=authorization_url(config.provider, config.client_id, login,
                                                            code_challenge(login.code_verifier)),
                        state=login.state, expires_at=iso_utc(datetime.fromtimestamp(expires_at, UTC)))

    def callback(self, state: Any, code: Any) -> SsoLogin:
        """Redeem a login's state once, exchange the code, verify the ID token, then find or create the
        account and its membership. Nothing is written before every check of the identity held."""
        _required_text("state", state, MAX_STATE_LENGTH)
        _required_text("code", code, MAX_CODE_LENGTH)
        login = self._store.take_state(state, int(self._clock()))
        if login is None:
            raise SsoLoginFailed("SSO login failed: this login is unknown, already used or expired; start again")
        config = self._store.get_config(login.org_id)
        org = self._orgs.get_organization(login.org_id)
        secret = self._secrets.get_client_secret(login.org_id) if config else None
        if config is None or org is None or secret is None:
            raise SsoLoginFailed("SSO login failed: SSO is no longer configured for this organization")
        id_token = self._oidc.exchange_code(config.provider, config.client_id, secret, code, login.code_verifier,
                                            login.redirect_uri)
        claims = self._oidc.verify_id_token(config.provider, config.client_id, id_token, login.nonce)
        email = verified_email(claims, config.allowed_domains)
        user, created = self._account(email, claims, org.id)
        member, joined = self._membership(org, user, config.default_role)
        token, expires_at = self._tokens.issue(user.id, user.email)
        return SsoLogin(token=token, expires_at=iso_utc(datetime.fromtimestamp(expires_at, UTC)),
                        user=user, organization=org, role=member.role, provisioned=created or joined)

    def _organization(self, ref: str) -> Organization | None:
        ref = (ref or "").strip()
        if ref in (DEFAULT_ORG_ID, DEFAULT_ORG_SLUG) or not is_org_ref(ref):
            return None
        org_id = ref if ref.startswith("org-") else self._orgs.org_id_for_slug(ref.lower())
        return self._orgs.get_organization(org_id) if org_id else None

    def _account(self, email: str, claims: dict[str, Any], org_id: str) -> tuple[User, bool]:
        """The account of `email`: one this organization's SSO created, or a new one (no password)."""
        for _ in range(2):  # a concurrent first login may create it between our read and our write
            credentials = self._accounts.credentials_for(email)
            if credentials is not None:
                user = self._accounts.get_user(credentials.user_id)
                if user is None or not signs_in_by_sso(credentials.password_hash, org_id):
                    raise SsoLoginFailed(
                        f"SSO login failed: an account with email '{email}' already exists and signs in another "
                        "way; sign in with it as before (an organization's SSO signs in only accounts it created)")
                return user, False
            user = User(id=f"user-{uuid.uuid4().hex[:12]}", email=email,
                        first_name=_name(claims.get("given_name")), last_name=_name(claims.get("family_name")),
                        created_at=utc_now())
            try:
                self._accounts.create_user(user, sso_password_hash(org_id))
            except EmailExists:
                continue
            return user, True
        raise SsoLoginFailed("SSO login failed: the account is being created by another login; try again")

    def _membership(self, org: Organization, user: User, role: Role) -> tuple[Member, bool]:
        existing = self._orgs.get_member(org.id, user.id)
        if existing is not None:
            return existing, False
        member = Member(org_id=org.id, user_id=user.id, email=user.email, role=role, joined_at=utc_now())
        try:  # over the plan's members quota: QUOTA_EXCEEDED (403), as when an admin adds a member
            self._orgs.add_member(member, max_members=self._max_members(org))
        except MemberExists:  # a concurrent login of the same person made them a member first
            return self._orgs.get_member(org.id, user.id) or member, False
        return member, True


    def _max_members(self, org: Organization) -> int | None:
        if self._plans is None:
            return None
        from chalicelib.domain.quotas import plan_named

        return plan_named(self._plans, org.plan).members


def _required_text(field: str, value: Any, limit: int) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        raise ValidationFailed(f"{field} is required: the '{field}' your callback received (at most {limit} "
                               "characters)", validation_errors=[
            {"field": field, "code": "REQUIRED" if value is None else "INVALID_VALUE",
             "message": f"a string of 1 to {limit} characters"}])


def _name(value: Any) -> str:
    return value.strip()[:100] if isinstance(value, str) and value.isprintable() else ""
