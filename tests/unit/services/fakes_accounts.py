"""In-memory fake of ApiTokensPort (part of tests/unit/services/fakes.py's family; CountersPort's fake is
in fakes_rate_limits.py).

It mirrors the adapter where a service can tell: the per-user bound is a condition of the create,
delete of an unknown token is TOKEN_NOT_FOUND, a use is recorded at most once a minute."""
from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.api_tokens import LAST_USE_PRECISION_SECONDS, ApiToken
from chalicelib.domain.errors import TokenLimitReached, TokenNotFound


class FakeApiTokens:
    """ApiTokensPort: tokens by hash; `fail_touch` makes the record of a use fail, as a throttled write would."""

    def __init__(self) -> None:
        self.by_hash: dict[str, ApiToken] = {}
        self.touches = 0
        self.fail_touch = False

    def create(self, token: ApiToken, max_per_user: int) -> None:
        if sum(1 for t in self.by_hash.values() if t.user_id == token.user_id) >= max_per_user:
            raise TokenLimitReached(f"You hold {max_per_user} API tokens", details={"limit": max_per_user})
        self.by_hash[token.token_hash] = token

    def find(self, token_hash: str) -> ApiToken | None:
        return self.by_hash.get(token_hash)

    def list_for(self, user_id: str) -> list[ApiToken]:
        return sorted((t for t in self.by_hash.values() if t.user_id == user_id),
                      key=lambda t: (t.created_at, t.id), reverse=True)

    def delete(self, user_id: str, token_id: str) -> None:
        found = next((h for h, t in self.by_hash.items() if t.user_id == user_id and t.id == token_id), None)
        if found is None:
            raise TokenNotFound(f"API token '{token_id}' not found among your tokens", details={"id": token_id})
        del self.by_hash[found]

    def touch(self, token_hash: str, used_at: str, used_epoch: int) -> bool:
        self.touches += 1
        if self.fail_touch:
            raise ConnectionError("the table is unreachable")
        token = self.by_hash.get(token_hash)
        if token is None or (token.last_used_epoch is not None
                             and token.last_used_epoch > used_epoch - LAST_USE_PRECISION_SECONDS):
            return False
        self.by_hash[token_hash] = replace(token, last_used_at=used_at, last_used_epoch=used_epoch)
        return True
