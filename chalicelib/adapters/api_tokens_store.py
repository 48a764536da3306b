"""API tokens in the single table: one item to find a token by the hash of its secret, one in its user's list.

- `APITOKEN#<sha256>` (lookup, read on every request the token makes, with ConsistentRead so that a
  revocation counts at once): who, where, scopes, expiry, last use. TTL (`expires_at_epoch`) removes it
  after expiry.
- `USER#<id>` / `APITOKEN#<token id>` (the user's list, holding the hash to revoke by): no TTL, so the
  user's count of tokens (`api_token_count` on their user item, bounded by a condition in the create
  transaction) stays true; an expired token stays listed until its user deletes it.
Both items are written in one transaction and deleted in one transaction, with the count.
"""
from __future__ import annotations

from typing import Any

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo import Table
from chalicelib.domain.api_tokens import LAST_USE_PRECISION_SECONDS, ApiToken
from chalicelib.domain.errors import TokenLimitReached, TokenNotFound

_FIELDS = ("token_id", "user_id", "email", "org_id", "org_slug", "name", "scopes", "created_at", "expires_at",
           "expires_at_epoch")


def _token(item: dict[str, Any], token_hash: str, usage: dict[str, Any] | None = None) -> ApiToken:
    usage = usage if usage is not None else item
    return ApiToken(id=item["token_id"], token_hash=token_hash, user_id=item["user_id"], email=item["email"],
                    org_id=item["org_id"], org_slug=item["org_slug"], name=item["name"],
                    scopes=tuple(item["scopes"]), created_at=item["created_at"], expires_at=item["expires_at"],
                    expires_at_epoch=int(item["expires_at_epoch"]), last_used_at=usage.get("last_used_at"),
                    last_used_epoch=usage.get("last_used_epoch"))


class ApiTokensStore:
    """The ApiTokensPort."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def create(self, token: ApiToken, max_per_user: int) -> None:
        values = {"token_id": token.id, "user_id": token.user_id, "email": token.email, "org_id": token.org_id,
                  "org_slug": token.org_slug, "name": token.name, "scopes": list(token.scopes),
                  "created_at": token.created_at, "expires_at": token.expires_at,
                  "expires_at_epoch": token.expires_at_epoch}
        listed = {k: v for k, v in values.items() if k != "expires_at_epoch"}  # no TTL: see the module's note
        reasons = self._table.transact([
            {"Update": {"Key": keys.user_key(token.user_id),
                        "UpdateExpression": "ADD api_token_count :one",
                        "ConditionExpression": "attribute_exists(PK) AND "
                                               "(attribute_not_exists(api_token_count) OR api_token_count < :max)",
                        "ExpressionAttributeValues": {":one": 1, ":max": max_per_user}}},
            {"Put": {"Item": {**keys.api_token_key(token.token_hash), **values, "type": "api_token"},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Put": {"Item": {**keys.user_api_token_key(token.user_id, token.id), **listed,
                              "expires_epoch": token.expires_at_epoch, "token_hash": token.token_hash},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
        ])
        if reasons and reasons[0] == "ConditionalCheckFailed":
            raise TokenLimitReached(f"You hold {max_per_user} API tokens, the most a user may: delete one you no "
                                    f"longer use (expired ones count until deleted)",
                                    details={"limit": max_per_user})
        if reasons:
            raise RuntimeError(f"API token transaction cancelled: {reasons}")

    def find(self, token_hash: str) -> ApiToken | None:
        """Strongly consistent: a token deleted a moment ago is not found."""
        item = self._table.get(keys.api_token_key(token_hash), consistent=True)
        return _token(item, token_hash) if item else None

    def list_for(self, user_id: str) -> list[ApiToken]:
        """The user's list (at most the per-user bound, far below a 1 MB page), with the last use that only
        the lookup items record (one BatchGetItem). Newest first."""
        listed = list(self._table.query(f"USER#{user_id}", keys.user_api_tokens_prefix()))
        lookups = {item["PK"]: item for item in self._table.batch_get(
            [keys.api_token_key(item["token_hash"]) for item in listed])} if listed else {}
        tokens = [_token({**item, "expires_at_epoch": item["expires_epoch"]}, item["token_hash"],
                         lookups.get(keys.api_token_key(item["token_hash"])["PK"], {})) for item in listed]
        return sorted(tokens, key=lambda t: (t.created_at, t.id), reverse=True)

    def delete(self, user_id: str, token_id: str) -> None:
        """Both items and the count in one transaction, conditional on the listed item still existing
        (a concurrent delete of the same token cannot count twice)."""
        listed = self._table.get(keys.user_api_token_key(user_id, token_id), consistent=True)
        if listed is None:
            raise TokenNotFound(f"API token '{token_id}' not found among your tokens", details={"id": token_id})
        reasons = self._table.transact([
            {"Delete": {"Key": keys.user_api_token_key(user_id, token_id),
                        "ConditionExpression": "attribute_exists(PK)"}},
            {"Delete": {"Key": keys.api_token_key(listed["token_hash"])}},
            {"Update": {"Key": keys.user_key(user_id), "UpdateExpression": "ADD api_token_count :minus",
                        "ConditionExpression": "attribute_exists(PK)",
                        "ExpressionAttributeValues": {":minus": -1}}},
        ])
        if reasons and reasons[0] == "ConditionalCheckFailed":
            raise TokenNotFound(f"API token '{token_id}' not found among your tokens", details={"id": token_id})
        if reasons:
            raise RuntimeError(f"API token transaction cancelled: {reasons}")

    def touch(self, token_hash: str, used_at: str, used_epoch: int) -> bool:
        """Record a use at most once a minute: conditional, so containers racing write once; False when
        another wrote it first or the token is gone."""
        return self._table.update_if(
            keys.api_token_key(token_hash), "SET last_used_at = :at, last_used_epoch = :epoch",
            "attribute_exists(PK) AND (attribute_not_exists(last_used_epoch) OR last_used_epoch <= :stale)",
            {":at": used_at, ":epoch": used_epoch, ":stale": used_epoch - LAST_USE_PRECISION_SECONDS})
