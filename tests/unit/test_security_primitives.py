"""Cursors, tokens, passwords and the access rule."""
from __future__ import annotations

import time

import jwt
import pytest

from chalicelib.adapters.cursors import CursorSigner
from chalicelib.adapters.passwords import Argon2Passwords
from chalicelib.adapters.tokens import JwtTokens
from chalicelib.domain.errors import Forbidden, InvalidCursor, Unauthorized
from chalicelib.domain.models import Organization, Principal, RequestContext
from chalicelib.domain.roles import Action, Role
from chalicelib.services.common import require
from chalicelib.services.organizations import DEFAULT_ORG

SECRET = "s" * 40


def test_cursor_round_trips_and_refuses_edits() -> None:
    signer = CursorSigner(SECRET)
    cursor = signer.encode({"org": "default", "after": "mod-09"})
    assert signer.decode(cursor) == {"org": "default", "after": "mod-09"}
    forged = CursorSigner("t" * 40).encode({"org": "default", "after": "zzz"})
    for bad in (forged, cursor[:-2], "!!!", ""):
        with pytest.raises(InvalidCursor):
            signer.decode(bad)


def test_tokens_carry_required_claims_and_expire() -> None:
    tokens = JwtTokens(SECRET, ttl_seconds=60)
    token, expires_at = tokens.issue("user-1", "a@example.com")
    claims = tokens.decode(token)
    assert claims["sub"] == "user-1" and claims["exp"] == expires_at and claims["jti"]
    expired = jwt.encode({**claims, "exp": int(time.time()) - 1}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized, match="expired"):
        tokens.decode(expired)
    none_alg = jwt.encode(claims, key="", algorithm="none")
    with pytest.raises(Unauthorized):
        tokens.decode(none_alg)


def test_passwords_are_argon2id_and_verify() -> None:
    passwords = Argon2Passwords(time_cost=1, memory_kib=8192)
    hashed = passwords.hash("secret123")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify(hashed, "secret123")
    assert not passwords.verify(hashed, "secret124")
    assert not passwords.verify(None, "spoke-timing-equaliser")


def _ctx(org: Organization, role: Role | None, signed_in: bool = True) -> RequestContext:
    principal = Principal(user_id="u", email="u@x.io", token_id="j", token_expires_at=0) if signed_in else None
    return RequestContext(request_id="r", principal=principal, org=org, role=role)


def test_access_rule() -> None:
    private = Organization(id="org-1", name="Acme", slug="acme", created_at="2025-01-01T00:00:00Z")
    require(_ctx(DEFAULT_ORG, None, signed_in=False), Action.READ)
    with pytest.raises(Unauthorized):
        require(_ctx(DEFAULT_ORG, None, signed_in=False), Action.PUBLISH)
    require(_ctx(DEFAULT_ORG, Role.DEVELOPER), Action.PUBLISH)
    require(_ctx(private, Role.VIEWER), Action.READ)
    with pytest.raises(Forbidden):
        require(_ctx(private, Role.VIEWER), Action.PUBLISH)
    with pytest.raises(Forbidden):
        require(_ctx(private, Role.ADMIN), Action.MANAGE_OWNERS)
    require(_ctx(private, Role.OWNER), Action.MANAGE_OWNERS)


def test_settings_need_a_long_enough_secret_or_a_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.config import Settings

    names = {"table_name": "t", "bucket_name": "b", "compile_queue_name": "c", "events_queue_name": "e"}
    with pytest.raises(ValueError, match="at least 32 bytes"):
        Settings(**names, jwt_secret="short")
    with pytest.raises(ValueError, match="SPOKE_JWT_SECRET_PARAMETER"):
        Settings(**names)
    assert Settings(**names, jwt_secret_parameter="/spoke/prod/jwt").jwt_secret is None
