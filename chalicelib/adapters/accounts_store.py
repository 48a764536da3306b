"""Users, their credentials and revoked tokens in the single table."""
from __future__ import annotations

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo import Table
from chalicelib.domain.errors import EmailExists
from chalicelib.domain.models import Credentials, User

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
