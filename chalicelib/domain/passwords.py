"""The password rules of registration and password change (never of login: an old password still signs in).

At least 10 characters, at most 256, and not one of the passwords people use most (zxcvbn's list of
30,000, compared case-insensitively). The list is loaded on the first check, never at a cold start.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from chalicelib.domain.errors import ValidationFailed, WeakPassword

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
PASSWORD_RULE = (f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters, and not a commonly used password "
                 "(a few unrelated words, e.g. 'correct-horse-battery-staple', work well)")


@dataclass(frozen=True)
class SessionState:
    """What ends a session besides its expiry: its logout (`revoked`), or a password change after which
    only sessions issued at or after `valid_after_ms` (epoch milliseconds; 0: never changed) count."""

    revoked: bool
    valid_after_ms: int = 0

    def ended_for(self, issued_at_ms: int) -> bool:
        return issued_at_ms < self.valid_after_ms


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """zxcvbn's frequency list, kept only where the length rule alone would let a password through."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # ~30,000 words: only when a password is set

    return frozenset(word for word in FREQUENCY_LISTS["passwords"] if len(word) >= MIN_PASSWORD_LENGTH)


def checked_password(field: str, value: object) -> str:
    """`value` if it may become a password; WEAK_PASSWORD (400) naming `field` and the rule if not."""
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} is required: {PASSWORD_RULE}", validation_errors=[
            {"field": field, "code": "REQUIRED" if value is None else "INVALID_TYPE", "message": PASSWORD_RULE}])
    if len(value) < MIN_PASSWORD_LENGTH:
        problem, code = f"is {len(value)} characters long; at least {MIN_PASSWORD_LENGTH} are required", "TOO_SHORT"
    elif len(value) > MAX_PASSWORD_LENGTH:
        problem, code = f"is {len(value)} characters long; at most {MAX_PASSWORD_LENGTH} are allowed", "TOO_LONG"
    elif value.lower() in common_passwords():
        problem, code = "is one of the most commonly used passwords", "COMMON_PASSWORD"
    else:
        return value
    raise WeakPassword(f"{field} {problem}: choose {PASSWORD_RULE}", validation_errors=[
        {"field": field, "code": code, "message": PASSWORD_RULE}])
