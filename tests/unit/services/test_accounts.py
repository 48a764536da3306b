"""Accounts use cases (register, login, authenticate, logout) through AccountsService with fakes."""
from __future__ import annotations

import pytest

from chalicelib.domain.errors import EmailExists, InvalidCredentials, Unauthorized, ValidationFailed


def test_register_stores_a_hash_never_the_password(world):
    # Given / When a new user registers
    user = world.accounts.register("Ada@Example.com ", "correct horse", "Ada", "Lovelace")
    # Then the address is normalised, the user stored, and only a hash kept
    assert user.email == "ada@example.com"
    assert world.accounts_store.get_user(user.id) == user
    stored = world.accounts_store.credentials_for("ada@example.com")
    assert stored.user_id == user.id and "correct horse" not in stored.password_hash


def test_register_twice_with_the_same_email_is_email_exists(world):
    world.accounts.register("ada@example.com", "correct horse")
    with pytest.raises(EmailExists):
        world.accounts.register("ADA@example.com", "another pass")


@pytest.mark.parametrize("email, password", [("not-an-email", "correct horse"), ("a@example.com", "short"),
                                             ("a@example.com", "x" * 257), (None, "correct horse")])
def test_register_refuses_bad_input_and_stores_nothing(world, email, password):
    with pytest.raises(ValidationFailed):
        world.accounts.register(email, password)
    assert world.accounts_store.users == {}


def test_login_issues_a_token_that_authenticates(world):
    # Given a registered user
    user = world.accounts.register("ada@example.com", "correct horse")
    # When they log in (any case of their address)
    token, expires, who = world.accounts.login(" ADA@example.com", "correct horse")
    # Then the token names them, and expires when the token says
    principal = world.accounts.authenticate(token)
    assert who == user and principal.user_id == user.id and principal.email == "ada@example.com"
    assert expires.endswith("Z")


@pytest.mark.parametrize("email, password", [("ada@example.com", "wrong password"),
                                             ("nobody@example.com", "correct horse"),
                                             ("x" * 300 + "@example.com", "correct horse")])
def test_login_with_wrong_credentials_is_one_error_for_both_cases(world, email, password):
    world.accounts.register("ada@example.com", "correct horse")
    with pytest.raises(InvalidCredentials, match="Email or password is incorrect"):
        world.accounts.login(email, password)


def test_login_of_an_unknown_email_still_runs_the_verifier(world):
    # The hasher is asked even without a stored hash (the adapter burns a dummy hash: no timing oracle)
    before = world.passwords.verified
    with pytest.raises(InvalidCredentials):
        world.accounts.login("nobody@example.com", "correct horse")
    assert world.passwords.verified == before + 1


def test_login_without_fields_is_a_validation_error(world):
    with pytest.raises(ValidationFailed) as refused:
        world.accounts.login(None, None)
    assert {e["field"] for e in refused.value.validation_errors} == {"email", "password"}


def test_logout_revokes_the_token(world):
    # Given a signed-in user
    principal = world.user("ada@example.com")
    token = next(t for t, c in world.tokens.issued.items() if c["jti"] == principal.token_id)
    # When they log out
    world.accounts.logout(principal)
    # Then the same token no longer authenticates, while a fresh login does
    with pytest.raises(Unauthorized, match="revoked"):
        world.accounts.authenticate(token)
    fresh, _, _ = world.accounts.login("ada@example.com", "correct horse")
    assert world.accounts.authenticate(fresh).user_id == principal.user_id
    assert world.accounts_store.revoked[principal.token_id] == principal.token_expires_at
