"""Password hashing with argon2id (memory-hard), via argon2-cffi.

Cost defaults to argon2-cffi's (RFC 9106 low-memory profile: t=3, 64 MiB); configuration may lower
it where speed matters more than strength (the test suite), never in a deployed stage.

Each hash or verify holds 64 MiB while it runs: 16 concurrent logins once took the API process from
275 to 1,300 MiB. A semaphore lets at most `max_concurrent` run at once in a process (the rest wait
their turn), so memory stays bounded whatever the number of threads (`chalice local`, the worker).
"""
from __future__ import annotations

import threading
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ARGON2_PREFIX = "$argon2"


class Argon2Passwords:
    """The PasswordsPort the services use."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536, max_concurrent: int = 2) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        self._slots = threading.BoundedSemaphore(max_concurrent)

    @cached_property
    def _dummy_hash(self) -> str:
        """A real hash to verify against when the email is unknown, so timing does not reveal accounts.

        Made on first need, not at cold start: most requests never check a password."""
        return self.hash("spoke-timing-equaliser")

    def hash(self, password: str) -> str:
        with self._slots:
            return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """False for no hash, a wrong password, or a stored value that is no argon2 hash (e.g. the `!sso`
        of an account that signs in only through its organization's identity provider)."""
        usable = password_hash is not None and password_hash.startswith(ARGON2_PREFIX)
        # same cost either way: no timing oracle
        checked = password_hash if usable and password_hash is not None else self._dummy_hash
        try:
            with self._slots:
                return self._hasher.verify(checked, password) and usable
        except (VerificationError, InvalidHashError):
            return False
