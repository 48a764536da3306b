"""Login throttling: repeated failures for one email or from one source address get 429 with Retry-After,
before argon2 runs (each verification holds 64 MiB); the password rules of registration.

The limits are taken low here (SPOKE_LOGIN_MAX_FAILURES=3), the window the default 900 s; the source
address is chalice's local `sourceIp` (LambdaEventConverter.LOCAL_SOURCE_IP)."""
from __future__ import annotations

import time
from typing import Any

import pytest
from chalice.local import LambdaEventConverter

from chalicelib.adapters import aws
from chalicelib.adapters.passwords import Argon2Passwords
from tests.integration.api import Api

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def low_limit(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Given 3 failures per window allowed (set before the first request builds the settings), and every
    argon2 verification recorded."""
    monkeypatch.setenv("SPOKE_LOGIN_MAX_FAILURES", "3")
    verified: list[str] = []
    real = Argon2Passwords.verify

    def counted(self: Argon2Passwords, password_hash: str | None, password: str) -> bool:
        verified.append(password)
        return real(self, password_hash, password)

    monkeypatch.setattr(Argon2Passwords, "verify", counted)
    return verified


def _from(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", address)


def _login(api: Api, email: str, password: str) -> Any:
    return api.post("/auth/login", {"email": email, "password": password})


def test_failures_for_one_email_are_429_with_retry_after_before_argon2(
        api: Api, low_limit: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Given Ada, and 3 failed logins for her email from three addresses
    api.signed_up("ada@example.test")
    for n in range(3):
        _from(monkeypatch, f"203.0.113.{n}")
        assert _login(api, "ada@example.test", "not her password").code == "INVALID_CREDENTIALS"
    verified = len(low_limit)
    # When anyone tries her email again, even with the right password, from a fresh address
    _from(monkeypatch, "198.51.100.1")
    reply = _login(api, "ADA@example.test", PASSWORD)
    # Then it is 429 TOO_MANY_LOGIN_ATTEMPTS with Retry-After (seconds to the window's end) in the envelope
    assert (reply.status, reply.code) == (429, "TOO_MANY_LOGIN_ATTEMPTS")
    retry_after = int(reply.headers["Retry-After"])
    assert 1 <= retry_after <= 900 - int(time.time()) % 900 + 1
    assert reply.body["error"]["details"]["retry_after_seconds"] == retry_after
    assert "try again in" in reply.body["error"]["message"] and reply.body["data"] is None
    # And argon2 did not run for it
    assert len(low_limit) == verified
    # While another account signs in from that address
    api.signed_up("bob@example.test")
    assert _login(api, "bob@example.test", PASSWORD).status == 200


def test_failures_from_one_address_are_429_for_every_email(
        api: Api, low_limit: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Given 3 failures from one address, each guessing another email
    api.signed_up("ada@example.test")
    _from(monkeypatch, "203.0.113.66")
    for n in range(3):
        assert _login(api, f"guess{n}@example.test", "password-guess").status == 401
    # When that address tries a real account with its right password, then it is 429
    reply = _login(api, "ada@example.test", PASSWORD)
    assert (reply.status, reply.code) == (429, "TOO_MANY_LOGIN_ATTEMPTS")
    assert "your address" in reply.body["error"]["message"]
    # While another address signs in as usual
    _from(monkeypatch, "198.51.100.7")
    assert _login(api, "ada@example.test", PASSWORD).status == 200


def test_a_throttle_store_that_fails_does_not_lock_anyone_out(
        api: Api, low_limit: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Given every counter call fails (GetItem and UpdateItem of COUNTER#login-... items)
    api.signed_up("ada@example.test")

    def fail(params: dict[str, Any], **_: Any) -> None:
        if "COUNTER#login-" in params["body"].decode():
            raise ConnectionError("counters unreachable")

    client = aws.client("dynamodb")
    for operation in ("GetItem", "UpdateItem"):
        client.meta.events.register(f"before-call.dynamodb.{operation}", fail, unique_id="throttle-fault")
    try:
        # Then wrong passwords are still 401 (never 500) however many, and the right one signs in
        for _ in range(5):
            assert _login(api, "ada@example.test", "not her password").code == "INVALID_CREDENTIALS"
        assert _login(api, "ada@example.test", PASSWORD).status == 200
    finally:
        for operation in ("GetItem", "UpdateItem"):
            client.meta.events.unregister(f"before-call.dynamodb.{operation}", unique_id="throttle-fault")


def test_a_wrong_current_password_counts_like_a_failed_login(
        api: Api, low_limit: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a session, and 3 wrong current passwords in password changes
    token, _ = api.signed_up("ada@example.test")
    for _ in range(3):
        reply = api.post("/auth/password", {"current_password": "guess-guess", "new_password": "a new passphrase"},
                         token=token)
        assert reply.status == 400
    # Then even the right one is throttled now, and so is a login of that email
    reply = api.post("/auth/password", {"current_password": PASSWORD, "new_password": "a new passphrase"},
                     token=token)
    assert (reply.status, reply.code) == (429, "TOO_MANY_LOGIN_ATTEMPTS") and "Retry-After" in reply.headers
    assert _login(api, "ada@example.test", PASSWORD).status == 429


def test_successful_logins_are_never_throttled(api: Api, low_limit: list[str]) -> None:
    api.signed_up("ada@example.test")
    assert all(_login(api, "ada@example.test", PASSWORD).status == 200 for _ in range(6))
