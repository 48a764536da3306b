"""Password hashing with argon2id (memory-hard), via argon2-cffi."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# A real hash to verify against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash("spoke-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class Argon2Passwords:
    """The PasswordsPort the services use."""

    hash = staticmethod(hash_password)
    verify = staticmethod(verify_password)
