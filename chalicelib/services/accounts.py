"""Use cases of accounts: register, login, logout, and turning a bearer token into a principal."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from chalicelib.domain.errors import InvalidCredentials, Unauthorized, ValidationFailed
from chalicelib.domain.text import bounded_text
from chalicelib.domain.models import Principal, User
from chalicelib.services.common import iso_utc, utc_now
from chalicelib.services.ports import AccountsPort, PasswordsPort, TokensPort

MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 100
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


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


def _password(value: Any) -> str:
    if not isinstance(value, str) or not MIN_PASSWORD_LENGTH <= len(value) <= MAX_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"Password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
            validation_errors=[{"field": "password", "code": "INVALID_LENGTH",
                                "message": f"must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"}])
    return value


def _name(field: str, value: Any) -> str:
    if value is None:
        return ""
    return bounded_text(field, value, MAX_NAME_LENGTH, single_line=True)


class AccountsService:
    def __init__(self, accounts: AccountsPort, tokens: TokensPort, passwords: PasswordsPort) -> None:
        self._accounts = accounts
        self._tokens = tokens
        self._passwords = passwords

    def register(self, email: Any, password: Any, first_name: Any = None, last_name: Any = None) -> User:
        user = User(id=f"user-{uuid.uuid4().hex[:12]}", email=normalise_email(email),
                    first_name=_name("first_name", first_name), last_name=_name("last_name", last_name),
                    created_at=utc_now())
        self._accounts.create_user(user, self._passwords.hash(_password(password)))
        return user

    def login(self, email: Any, password: Any) -> tuple[str, str, User]:
        if not isinstance(email, str) or not isinstance(password, str):
            raise ValidationFailed("email and password are required", validation_errors=[
                {"field": f, "code": "REQUIRED", "message": "is required"}
                for f, v in (("email", email), ("password", password)) if not isinstance(v, str)])
        if len(email.strip()) > MAX_EMAIL_LENGTH:  # no such account can exist; its key would not fit either
            raise InvalidCredentials("Email or password is incorrect")
        credentials = self._accounts.credentials_for(email.strip().lower())
        if not self._passwords.verify(credentials.password_hash if credentials else None, password):
            raise InvalidCredentials("Email or password is incorrect")
        user = self._accounts.get_user(credentials.user_id)
        if user is None:
            raise InvalidCredentials("Email or password is incorrect")
        token, expires_at = self._tokens.issue(user.id, user.email)
        return token, iso_utc(datetime.fromtimestamp(expires_at, timezone.utc)), user

    def authenticate(self, token: str) -> Principal:
        claims = self._tokens.decode(token)
        if self._accounts.is_revoked(claims["jti"]):
            raise Unauthorized("Token has been revoked: sign in again")
        return Principal(user_id=claims["sub"], email=claims.get("email", ""), token_id=claims["jti"],
                         token_expires_at=int(claims["exp"]))

    def logout(self, principal: Principal) -> None:
        self._accounts.revoke_token(principal.token_id, principal.token_expires_at)
