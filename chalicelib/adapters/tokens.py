"""JWT access tokens (HS256) with exp, iat, jti and sub.

`iat` carries milliseconds (a NumericDate may be fractional, RFC 7519 section 2): a password change
ends the sessions issued before it, and a session issued in the same second must not survive it."""
from __future__ import annotations

import time
import uuid

import jwt

from chalicelib.domain.errors import Unauthorized

_ALGORITHM = "HS256"
_ISSUER = "spoke"


class JwtTokens:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret = secret
        self._ttl = ttl_seconds

    def issue(self, user_id: str, email: str) -> tuple[str, int]:
        now = time.time()
        expires_at = int(now) + self._ttl
        claims = {"sub": user_id, "email": email, "iat": round(now, 3), "exp": expires_at,
                  "jti": uuid.uuid4().hex, "iss": _ISSUER}
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM), expires_at

    def decode(self, token: str) -> dict:
        try:
            return jwt.decode(
                token, self._secret, algorithms=[_ALGORITHM], issuer=_ISSUER,
                options={"require": ["exp", "iat", "jti", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("Token has expired: sign in again") from None
        except jwt.PyJWTError:
            raise Unauthorized("Token is invalid") from None
