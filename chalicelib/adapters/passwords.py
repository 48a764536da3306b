"""Password hashing with argon2id (memory-hard), via argon2-cffi.

Cost defaults to argon2-cffi's (RFC 9106 low-memory profile: t=3, 64 MiB); configuration may lower
it where speed matters more than strength (the test suite), never in a deployed stage.
"""
from __future__ import annotations

from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Passwords:
    """The PasswordsPort the services use."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)

    @cached_property
    def _dummy_hash(self) -> str:
        """A real hash to verify against when the email is unknown, so timing does not reveal accounts.

        Made on first need, not at cold start: most requests never check a password."""
        return self._hasher.hash("spoke-timing-equaliser")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy_hash, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False
