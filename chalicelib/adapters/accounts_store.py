"""Users, their credentials, revoked tokens and the end of their sessions in the single table."""
from __future__ import annotations

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo import Table, from_item, to_item
from chalicelib.domain.errors import EmailExists, InvalidCredentials
from chalicelib.domain.models import Credentials, User
from chalicelib.domain.passwords import SessionState

_USER_FIELDS = ("id", "email", "first_name", "last_name", "role", "created_at")


class AccountsStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def create_user(self, user: User, password_hash: str) -> None:
        """Email uniqueness by a conditional put of the email item in the same transaction."""
        reasons = self._table.transact([
            {"Put": {"Item": {**keys.email_key(user.email), "user_id": user.id, "password_hash": password_hash},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Put": {"Item": {**keys.user_key(user.id), **user.model_dump(), "type": "user"},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
        ])  # users_total: the outbox relay counts the new user item from the table's stream
        if reasons:
            if reasons[0] == "ConditionalCheckFailed":
                raise EmailExists(f"An account with email '{user.email}' already exists")
            raise RuntimeError(f"user transaction cancelled: {reasons}")

    def credentials_for(self, email: str) -> Credentials | None:
        item = self._table.get(keys.email_key(email))
        return Credentials(user_id=item["user_id"], password_hash=item["password_hash"]) if item else None

    def get_user(self, user_id: str) -> User | None:
        item = self._table.get(keys.user_key(user_id))
        return User(**{k: item[k] for k in _USER_FIELDS if k in item}) if item else None

    def user_id_for_email(self, email: str) -> str | None:
        item = self._table.get(keys.email_key(email))
        return item["user_id"] if item else None

    def revoke_token(self, token_id: str, expires_at: int) -> None:
        """TTL removes the record once the token would have expired anyway."""
        self._table.put({**keys.revoked_token_key(token_id), "expires_at_epoch": expires_at})

    def is_revoked(self, token_id: str) -> bool:
        return self._table.get(keys.revoked_token_key(token_id)) is not None

    def session_state(self, token_id: str, user_id: str) -> SessionState:
        """Whether a session is revoked and since when the user's sessions count: ONE BatchGetItem of the
        revocation item and the user item's `sessions_valid_after_ms` (projected: the profile stays unread)."""
        revoked_key, user_key = keys.revoked_token_key(token_id), keys.user_key(user_id)
        request = {self._table.name: {"Keys": [to_item(revoked_key), to_item(user_key)],
                                      "ProjectionExpression": "PK, SK, sessions_valid_after_ms"}}
        found: list[dict] = []
        while request:
            response = self._table.client.batch_get_item(RequestItems=request)
            found += [from_item(item) for item in response["Responses"].get(self._table.name, [])]
            request = response.get("UnprocessedKeys") or {}
        revoked = any(item["PK"] == revoked_key["PK"] for item in found)
        user = next((item for item in found if item["PK"] == user_key["PK"]), {})
        return SessionState(revoked=revoked, valid_after_ms=int(user.get("sessions_valid_after_ms", 0)))

    def change_password(self, user_id: str, email: str, password_hash: str, sessions_valid_after_ms: int) -> None:
        """The new hash and the end of older sessions together, in one transaction: a password change
        never leaves the old sessions alive with the new password, or the reverse."""
        reasons = self._table.transact([
            {"Update": {"Key": keys.email_key(email), "UpdateExpression": "SET password_hash = :hash",
                        "ConditionExpression": "user_id = :user",
                        "ExpressionAttributeValues": {":hash": password_hash, ":user": user_id}}},
            {"Update": {"Key": keys.user_key(user_id), "UpdateExpression": "SET sessions_valid_after_ms = :after",
                        "ConditionExpression": "attribute_exists(PK)",
                        "ExpressionAttributeValues": {":after": sessions_valid_after_ms}}},
        ])
        if "ConditionalCheckFailed" in reasons:
            raise InvalidCredentials("This account no longer signs in with that email: sign in again")
        if reasons:
            raise RuntimeError(f"password transaction cancelled: {reasons}")
