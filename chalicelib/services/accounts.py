"""Use cases of accounts: register, login (throttled), logout, password change, who-am-I, and turning a
bearer (a session JWT or an `spk_` API token) into a principal."""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.domain.api_tokens import looks_like_api_token
from chalicelib.domain.errors import InvalidCredentials, TooManyLoginAttempts, Unauthorized, ValidationFailed
from chalicelib.domain.models import DEFAULT_ORG_ID, Organization, Principal, User
from chalicelib.domain.passwords import checked_password
from chalicelib.domain.roles import Role
from chalicelib.domain.text import bounded_text
from chalicelib.services.common import iso_utc, require_principal, require_session, utc_now
from chalicelib.services.ports import AccountsPort, CountersPort, OrganizationsPort, PasswordsPort, TokensPort

if TYPE_CHECKING:
    from chalicelib.domain.api_tokens import ApiToken
    from chalicelib.services.api_tokens import ApiTokensService

logger = logging.getLogger("spoke.accounts")
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 100


def normalise_email(value: Any) -> str:
    """email-validator's judgement (syntax only: no DNS from a request), lower-cased as the account key."""
    reason = "must be an email address like user@example.com"
    if isinstance(value, str) and len(value.strip()) <= MAX_EMAIL_LENGTH:
        from email_validator import EmailNotValidError, validate_email  # only where an address is checked

        try:
            return validate_email(value.strip(), check_deliverability=False, test_environment=True).normalized.lower()
        except EmailNotValidError as error:
            reason = str(error)
    raise ValidationFailed(f"A valid email address is required: {reason}", validation_errors=[
        {"field": "email", "code": "INVALID_FORMAT",
         "message": f"an email address like user@example.com, at most {MAX_EMAIL_LENGTH} characters"}])


def _name(field: str, value: Any) -> str:
    if value is None:
        return ""
    return bounded_text(field, value, MAX_NAME_LENGTH, single_line=True)


@dataclass(frozen=True)
class LoginThrottle:
    """At `max_failures` failed password checks for one email or from one source address within a fixed
    window of `window_seconds`, further attempts are refused (429) until the window ends, before argon2."""

    max_failures: int = 10
    window_seconds: int = 900


@dataclass(frozen=True)
class Identity:
    """Who a request is made by (GET /auth/me): the user, the API token if it is one, and where they act."""

    kind: str
    user: User
    token: ApiToken | None
    organizations: list[tuple[Organization, Role]]


class AccountsService:
    """`api_tokens`, `counters` and `organizations` are optional so that a test may leave them out:
    without them API tokens are refused, logins are not throttled and /auth/me lists no organization."""

    def __init__(self, accounts: AccountsPort, tokens: TokensPort, passwords: PasswordsPort, *,
                 api_tokens: ApiTokensService | None = None, counters: CountersPort | None = None,
                 organizations: OrganizationsPort | None = None, throttle: LoginThrottle = LoginThrottle(),
                 clock: Callable[[], float] = time.time) -> None:
        self._accounts = accounts
        self._tokens = tokens
        self._passwords = passwords
        self._api_tokens = api_tokens
        self._counters = counters
        self._orgs = organizations
        self._throttle = throttle
        self._clock = clock

    @property
    def api_tokens(self) -> ApiTokensService | None:
        return self._api_tokens

    def register(self, email: Any, password: Any, first_name: Any = None, last_name: Any = None) -> User:
        user = User(id=f"user-{uuid.uuid4().hex[:12]}", email=normalise_email(email),
                    first_name=_name("first_name", first_name), last_name=_name("last_name", last_name),
                    created_at=utc_now())
        self._accounts.create_user(user, self._passwords.hash(checked_password("password", password)))
        return user

    def login(self, email: Any, password: Any, source_ip: str = "unknown") -> tuple[str, str, User]:
        if not isinstance(email, str) or not isinstance(password, str):
            raise ValidationFailed("email and password are required", validation_errors=[
                {"field": f, "code": "REQUIRED", "message": "is required"}
                for f, v in (("email", email), ("password", password)) if not isinstance(v, str)])
        address = email.strip().lower()
        throttled = self._throttle_scopes(address, source_ip)
        self._refuse_if_throttled(throttled)
        if len(address) > MAX_EMAIL_LENGTH:  # no such account can exist; its key would not fit either
            self._count_failure(throttled)
            raise InvalidCredentials("Email or password is incorrect")
        credentials = self._accounts.credentials_for(address)
        # verify runs even without credentials (against a dummy hash): timing does not reveal accounts
        verified = self._passwords.verify(credentials.password_hash if credentials else None, password)
        if not verified or credentials is None:
            self._count_failure(throttled)
            raise InvalidCredentials("Email or password is incorrect")
        user = self._accounts.get_user(credentials.user_id)
        if user is None:
            raise InvalidCredentials("Email or password is incorrect")
        token, expires_at = self._tokens.issue(user.id, user.email)
        return token, _iso(expires_at), user

    def authenticate(self, token: str) -> Principal:
        """The one entry of every bearer: an API token (`spk_...`) or a session JWT (signature, expiry,
        logout, password change: one cached read)."""
        if looks_like_api_token(token):
            if self._api_tokens is None:
                raise Unauthorized("API tokens are not accepted here")
            return self._api_tokens.authenticate(token)
        claims = self._tokens.decode(token)
        state = self._accounts.session_state(claims["jti"], claims["sub"])
        if state.revoked:
            raise Unauthorized("Token has been revoked: sign in again")
        issued_at = float(claims["iat"])
        if state.ended_for(round(issued_at * 1000)):
            raise Unauthorized("Session ended: the password was changed, sign in again")
        return Principal(user_id=claims["sub"], email=claims.get("email", ""), token_id=claims["jti"],
                         token_expires_at=int(claims["exp"]), issued_at=int(issued_at))

    def logout(self, principal: Principal | None) -> None:
        who = require_session(principal, "sign out: revoke it with DELETE /auth/tokens/{id}")
        self._accounts.revoke_token(who.token_id, who.token_expires_at)

    def change_password(self, principal: Principal | None, current: Any, new: Any, source_ip: str = "unknown"
                        ) -> tuple[str, str, User]:
        """Checks the current password (throttled like a login), applies the password rules, stores the new
        hash and ends every session issued before now, in one write; returns a fresh session for the caller.
        API tokens stay valid: revoke them separately."""
        who = require_session(principal, "change a password")
        if not isinstance(current, str):
            raise ValidationFailed("current_password is required", validation_errors=[
                {"field": "current_password", "code": "REQUIRED", "message": "your password of today"}])
        new_password = checked_password("new_password", new)
        throttled = self._throttle_scopes(who.email, source_ip)
        self._refuse_if_throttled(throttled)
        credentials = self._accounts.credentials_for(who.email)
        user = self._accounts.get_user(who.user_id)
        if (not self._passwords.verify(credentials.password_hash if credentials else None, current)
                or credentials is None or credentials.user_id != who.user_id or user is None):
            self._count_failure(throttled)
            raise ValidationFailed("current_password is incorrect", validation_errors=[
                {"field": "current_password", "code": "INCORRECT", "message": "your password of today"}])
        if new_password == current:
            raise ValidationFailed("new_password must differ from current_password", validation_errors=[
                {"field": "new_password", "code": "UNCHANGED", "message": "a password other than today's"}])
        new_hash = self._passwords.hash(new_password)
        ended_before_ms = int(self._clock() * 1000)  # after argon2: a session issued meanwhile ends too
        self._accounts.change_password(who.user_id, who.email, new_hash, ended_before_ms)
        token, expires_at = self._tokens.issue(user.id, user.email)
        return token, _iso(expires_at), user

    def identity(self, principal: Principal | None) -> Identity:
        """The caller, their API token if they use one, and the organizations they may act in: for a token
        only its own; for a session every organization they belong to and the default."""
        from chalicelib.services.organizations import DEFAULT_ORG  # that module imports this one

        who = require_principal(principal)
        user = self._accounts.get_user(who.user_id)
        if user is None:
            raise Unauthorized("This account no longer exists")
        token = self._api_tokens.describe(who) if self._api_tokens is not None else None
        if who.kind == "api_token":
            return Identity(kind="api_token", user=user, token=token, organizations=self._token_org(who))
        named = self._orgs.organizations_of(who.user_id) if self._orgs is not None else []
        return Identity(kind="user", user=user, token=None, organizations=[(DEFAULT_ORG, Role.DEVELOPER), *named])

    def _token_org(self, who: Principal) -> list[tuple[Organization, Role]]:
        from chalicelib.services.organizations import DEFAULT_ORG

        if who.org_id in (None, DEFAULT_ORG_ID) or self._orgs is None:
            return [(DEFAULT_ORG, Role.DEVELOPER)]
        org = self._orgs.get_organization(who.org_id)
        member = self._orgs.get_member(who.org_id, who.user_id) if org else None
        return [(org, member.role)] if org and member else []

    # login throttling: fixed windows per email and per source address, peeked before argon2 runs

    def _throttle_scopes(self, address: str, source_ip: str) -> tuple[str, ...]:
        scopes = [f"login-ip#{source_ip}"]
        if len(address) <= MAX_EMAIL_LENGTH:
            scopes.insert(0, f"login-email#{address}")
        return tuple(scopes)

    def _window(self) -> tuple[int, int]:
        now = int(self._clock())
        return now, now - now % self._throttle.window_seconds

    def _refuse_if_throttled(self, scopes: tuple[str, ...]) -> None:
        if self._counters is None:
            return
        now, start = self._window()
        for scope in scopes:
            try:
                failures = self._counters.peek(scope, start)
            except Exception:  # noqa: BLE001 - the counter store failing must not lock everyone out
                logger.warning("login throttle: could not read %s", scope.split("#")[0], exc_info=True)
                continue
            if failures >= self._throttle.max_failures:
                retry_after = max(1, start + self._throttle.window_seconds - now)
                which = "this email" if scope.startswith("login-email#") else "your address"
                raise TooManyLoginAttempts(
                    f"Too many failed sign-ins for {which}: try again in {retry_after} seconds",
                    retry_after=retry_after, details={"limit": self._throttle.max_failures,
                                                      "window_seconds": self._throttle.window_seconds})

    def _count_failure(self, scopes: tuple[str, ...]) -> None:
        if self._counters is None:
            return
        _, start = self._window()
        for scope in scopes:
            try:
                self._counters.increment(scope, start, start + self._throttle.window_seconds + 60)
            except Exception:  # noqa: BLE001 - the answer stays INVALID_CREDENTIALS
                logger.warning("login throttle: could not count a failure of %s", scope.split("#")[0],
                               exc_info=True)


def _iso(epoch: int) -> str:
    return iso_utc(datetime.fromtimestamp(epoch, UTC))
