"""Accounts: register, login, logout and token revocation."""
from __future__ import annotations

import jwt

from tests.integration.api import Api
from tests.integration.outbox import relay_outbox


def test_register_login_and_use_a_token(api: Api) -> None:
    # Given a registered user
    created = api.post("/auth/register", {"email": "Jo@Example.com", "password": "correct-horse-battery-staple",
                                          "first_name": "John", "last_name": "Doe"})
    assert created.status == 201
    assert created.data["user"] == {"id": created.data["user"]["id"], "email": "jo@example.com",
                                    "first_name": "John", "last_name": "Doe"}
    # When they log in (email is case-insensitive)
    login = api.post("/auth/login", {"email": "jo@example.com", "password": "correct-horse-battery-staple"})
    # Then they get a JWT carrying exp, iat, jti and sub, and their user
    assert login.status == 200
    claims = jwt.decode(login.data["token"], options={"verify_signature": False})
    assert {"exp", "iat", "jti", "sub"} <= set(claims)
    assert claims["sub"] == created.data["user"]["id"]
    assert login.data["expires_at"].endswith("Z")
    assert login.data["user"] == {"id": claims["sub"], "email": "jo@example.com", "role": "developer"}
    # And the token works for a write
    assert api.post("/modules", {"name": "user"}, token=login.data["token"]).status == 201


def test_email_is_unique(api: Api) -> None:
    # Given an account
    api.post("/auth/register", {"email": "a@example.com", "password": "correct-horse-battery-staple"})
    # When the same email registers again, in another case
    again = api.post("/auth/register", {"email": "A@example.com", "password": "other-secret"})
    # Then it is a conflict and the first password still works
    assert (again.status, again.code) == (409, "EMAIL_EXISTS")
    assert api.post("/auth/login", {"email": "a@example.com",
                                    "password": "correct-horse-battery-staple"}).status == 200


def test_unknown_email_and_wrong_password_look_the_same(api: Api) -> None:
    api.post("/auth/register", {"email": "a@example.com", "password": "correct-horse-battery-staple"})
    wrong = api.post("/auth/login", {"email": "a@example.com", "password": "not-it-123"})
    unknown = api.post("/auth/login", {"email": "b@example.com", "password": "correct-horse-battery-staple"})
    assert (wrong.status, wrong.code) == (unknown.status, unknown.code) == (401, "INVALID_CREDENTIALS")
    assert wrong.body["error"]["message"] == unknown.body["error"]["message"]


def test_logout_revokes_the_token(api: Api) -> None:
    # Given a signed-in user
    token, _ = api.signed_up()
    # When they log out
    out = api.post("/auth/logout", token=token)
    assert out.status == 200 and out.data == {"success": True}
    # Then the token is refused from now on, while a new login works
    again = api.post("/modules", {"name": "after-logout"}, token=token)
    assert (again.status, again.code) == (401, "UNAUTHORIZED")
    assert "revoked" in again.body["error"]["message"]
    assert api.post("/auth/logout", token=token).status == 401


def test_logout_needs_a_token(api: Api) -> None:
    reply = api.post("/auth/logout")
    assert (reply.status, reply.code) == (401, "UNAUTHORIZED")


def test_writes_need_a_token_but_default_reads_do_not(api: Api) -> None:
    token, _ = api.signed_up()
    api.module(token, "public")
    anonymous_write = api.post("/modules", {"name": "anon"})
    assert (anonymous_write.status, anonymous_write.code) == (401, "UNAUTHORIZED")
    assert api.get("/modules/public").status == 200
    relay_outbox()  # the default organization's module total is added up from the table's stream
    assert api.get("/modules").data["pagination"]["total_items"] == 1
