"""Accounts use cases through AccountsService with fakes: register (password rules), login (throttled),
authenticate (sessions and API tokens), logout, password change, who-am-I, and API tokens."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from chalicelib.domain.errors import (
    EmailExists,
    Forbidden,
    InvalidCredentials,
    OrganizationNotFound,
    TokenLimitReached,
    TokenNotFound,
    TooManyLoginAttempts,
    Unauthorized,
    ValidationFailed,
    WeakPassword,
)
from chalicelib.domain.models import Principal
from chalicelib.domain.roles import Action, Role
from chalicelib.services.accounts import AccountsService, LoginThrottle
from chalicelib.services.api_tokens import ApiTokensService
from chalicelib.services.common import require
from chalicelib.services.organizations import OrganizationsService
from tests.unit.services.fakes import FakeAccounts, FakeOrganizations, FakePasswords, FakeTokens
from tests.unit.services.fakes_accounts import FakeApiTokens
from tests.unit.services.fakes_rate_limits import FakeCounters

PASSWORD = "correct-horse-battery-staple"
START = 1_800_000_000  # FakeTokens' clock: a window of the throttle starts here (a multiple of 900)


@dataclass
class Clock:
    now: float = START

    def __call__(self) -> float:
        return self.now


@dataclass
class Accounts:
    """AccountsService wired like chalicelib/wiring.py, on fakes, with a clock the test moves."""

    clock: Clock = field(default_factory=Clock)
    store: FakeAccounts = field(default_factory=FakeAccounts)
    orgs_store: FakeOrganizations = field(default_factory=FakeOrganizations)
    passwords: FakePasswords = field(default_factory=FakePasswords)
    tokens_store: FakeApiTokens = field(default_factory=FakeApiTokens)
    counters: FakeCounters = field(default_factory=FakeCounters)

    def __post_init__(self) -> None:
        self.tokens = FakeTokens(now=lambda: int(self.clock()))
        self.api_tokens = ApiTokensService(self.tokens_store, self.orgs_store, max_days=365, max_per_user=3,
                                           clock=self.clock)
        self.service = AccountsService(self.store, self.tokens, self.passwords, api_tokens=self.api_tokens,
                                       counters=self.counters, organizations=self.orgs_store,
                                       throttle=LoginThrottle(max_failures=3, window_seconds=900), clock=self.clock)
        self.organizations = OrganizationsService(self.orgs_store, self.store)

    def signed_in(self, email: str = "ada@example.com") -> tuple[str, Principal]:
        self.service.register(email, PASSWORD)
        token, _, _ = self.service.login(email, PASSWORD)
        return token, self.service.authenticate(token)

    def token_for(self, who: Principal, organization: str = "default", scopes: list[str] | None = None,
                  **extra: object) -> str:
        _, text = self.api_tokens.create(who, {"name": "ci", "organization": organization,
                                               "scopes": scopes or ["read"], **extra})
        return text


@pytest.fixture
def accounts() -> Accounts:
    return Accounts()


# --------------------------------------------------------------------------------------------- register


def test_register_stores_a_hash_never_the_password(accounts):
    # Given / When a new user registers
    user = accounts.service.register("Ada@Example.com ", PASSWORD, "Ada", "Lovelace")
    # Then the address is normalised, the user stored, and only a hash kept
    assert user.email == "ada@example.com"
    assert accounts.store.get_user(user.id) == user
    stored = accounts.store.credentials_for("ada@example.com")
    assert stored.user_id == user.id and PASSWORD not in stored.password_hash


def test_register_twice_with_the_same_email_is_email_exists(accounts):
    accounts.service.register("ada@example.com", PASSWORD)
    with pytest.raises(EmailExists):
        accounts.service.register("ADA@example.com", "another long passphrase")


@pytest.mark.parametrize("password, code", [("short", "TOO_SHORT"), ("nine-char", "TOO_SHORT"),
                                            ("x" * 257, "TOO_LONG"), ("password123", "COMMON_PASSWORD"),
                                            ("QwertyUIOP", "COMMON_PASSWORD"), ("1234567890", "COMMON_PASSWORD")])
def test_register_refuses_a_weak_password_saying_why_and_stores_nothing(accounts, password, code):
    with pytest.raises(WeakPassword) as refused:
        accounts.service.register("a@example.com", password)
    assert refused.value.validation_errors == [{"field": "password", "code": code,
                                                "message": refused.value.validation_errors[0]["message"]}]
    assert "10 to 256 characters" in refused.value.message
    assert accounts.store.users == {}


@pytest.mark.parametrize("email, password", [("not-an-email", PASSWORD), (None, PASSWORD), ("a@example.com", None)])
def test_register_refuses_bad_input_and_stores_nothing(accounts, email, password):
    with pytest.raises(ValidationFailed):
        accounts.service.register(email, password)
    assert accounts.store.users == {}


def test_a_ten_character_uncommon_password_is_accepted(accounts):
    assert accounts.service.register("a@example.com", "kq8-zr4!vw").email == "a@example.com"


# ------------------------------------------------------------------------------------------------ login


def test_login_issues_a_token_that_authenticates(accounts):
    # Given a registered user
    user = accounts.service.register("ada@example.com", PASSWORD)
    # When they log in (any case of their address)
    token, expires, who = accounts.service.login(" ADA@example.com", PASSWORD)
    # Then the token names them, as a session without scopes, and expires when the token says
    principal = accounts.service.authenticate(token)
    assert who == user and principal.user_id == user.id and principal.email == "ada@example.com"
    assert (principal.kind, principal.scopes, principal.org_id) == ("session", None, None)
    assert expires.endswith("Z")


@pytest.mark.parametrize("email, password", [("ada@example.com", "wrong password"),
                                             ("nobody@example.com", PASSWORD),
                                             ("x" * 300 + "@example.com", PASSWORD)])
def test_login_with_wrong_credentials_is_one_error_for_both_cases(accounts, email, password):
    accounts.service.register("ada@example.com", PASSWORD)
    with pytest.raises(InvalidCredentials, match="Email or password is incorrect"):
        accounts.service.login(email, password)


def test_login_of_an_unknown_email_still_runs_the_verifier(accounts):
    # The hasher is asked even without a stored hash (the adapter burns a dummy hash: no timing oracle)
    before = accounts.passwords.verified
    with pytest.raises(InvalidCredentials):
        accounts.service.login("nobody@example.com", PASSWORD)
    assert accounts.passwords.verified == before + 1


def test_login_without_fields_is_a_validation_error(accounts):
    with pytest.raises(ValidationFailed) as refused:
        accounts.service.login(None, None)
    assert {e["field"] for e in refused.value.validation_errors} == {"email", "password"}


def test_an_old_short_password_still_signs_in(accounts):
    # Given an account made before the password rules (its hash stored as it was)
    accounts.store.create_user(_user("old@example.com"), accounts.passwords.hash("secret123"))
    # When its owner signs in with it, then it works: the rules apply to new passwords only
    assert accounts.service.login("old@example.com", "secret123")[2].email == "old@example.com"


def _user(email: str):
    from chalicelib.domain.models import User

    return User(id="user-000000000001", email=email, created_at="2025-01-01T00:00:00Z")


# ------------------------------------------------------------------------------------------- throttling


def test_repeated_failures_for_one_email_are_throttled_before_the_hasher_runs(accounts):
    # Given a user and 3 failed attempts (the limit) for their email, from different addresses
    accounts.service.register("ada@example.com", PASSWORD)
    for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        with pytest.raises(InvalidCredentials):
            accounts.service.login("ada@example.com", "wrong password", ip)
    verified = accounts.passwords.verified
    # When they (or anyone) try again within the window, even with the right password
    accounts.clock.now = START + 600
    with pytest.raises(TooManyLoginAttempts) as refused:
        accounts.service.login("Ada@example.com", PASSWORD, "10.0.0.4")
    # Then it is 429 with the seconds until the window ends, and argon2 did not run
    assert refused.value.retry_after == 300 and refused.value.details["retry_after_seconds"] == 300
    assert "this email" in refused.value.message
    assert accounts.passwords.verified == verified
    # And another user is not affected, while the next window starts fresh for Ada
    accounts.service.register("bob@example.com", PASSWORD)
    assert accounts.service.login("bob@example.com", PASSWORD, "10.0.0.4")
    accounts.clock.now = START + 900
    assert accounts.service.login("ada@example.com", PASSWORD, "10.0.0.4")[2].email == "ada@example.com"


def test_repeated_failures_from_one_address_are_throttled_for_every_email(accounts):
    # Given 3 failures from one address, each for a different (unknown) email
    accounts.service.register("ada@example.com", PASSWORD)
    for n in range(3):
        with pytest.raises(InvalidCredentials):
            accounts.service.login(f"guess{n}@example.com", "wrong password", "203.0.113.9")
    # When that address tries a real account, then it is throttled; another address is not
    with pytest.raises(TooManyLoginAttempts, match="your address"):
        accounts.service.login("ada@example.com", PASSWORD, "203.0.113.9")
    assert accounts.service.login("ada@example.com", PASSWORD, "198.51.100.1")


def test_successful_logins_do_not_count(accounts):
    accounts.service.register("ada@example.com", PASSWORD)
    for _ in range(5):
        accounts.service.login("ada@example.com", PASSWORD, "10.0.0.1")
    assert accounts.counters.hits == {}


def test_a_broken_counter_store_neither_locks_out_nor_hides_wrong_passwords(accounts):
    # Given the counters failing
    accounts.service.register("ada@example.com", PASSWORD)
    accounts.counters.failure = ConnectionError("the table is unreachable")
    # Then a wrong password is still INVALID_CREDENTIALS and a right one signs in (fail open)
    with pytest.raises(InvalidCredentials):
        accounts.service.login("ada@example.com", "wrong password", "10.0.0.1")
    assert accounts.service.login("ada@example.com", PASSWORD, "10.0.0.1")


# ---------------------------------------------------------------------------------------------- logout


def test_logout_revokes_the_token(accounts):
    # Given a signed-in user
    token, principal = accounts.signed_in()
    # When they log out
    accounts.service.logout(principal)
    # Then the same token no longer authenticates, while a fresh login does
    with pytest.raises(Unauthorized, match="revoked"):
        accounts.service.authenticate(token)
    fresh, _, _ = accounts.service.login("ada@example.com", PASSWORD)
    assert accounts.service.authenticate(fresh).user_id == principal.user_id
    assert accounts.store.revoked[principal.token_id] == principal.token_expires_at


# ------------------------------------------------------------------------------------------ password change


def test_password_change_ends_older_sessions_and_returns_a_fresh_one(accounts):
    # Given two sessions of Ada (two devices), and an API token
    old, principal = accounts.signed_in()
    other, _, _ = accounts.service.login("ada@example.com", PASSWORD)
    api_token = accounts.token_for(principal)
    # When she changes her password a second later
    accounts.clock.now = START + 1
    fresh, expires, user = accounts.service.change_password(principal, PASSWORD, "a brand new passphrase", "10.0.0.1")
    # Then both older sessions are refused with the reason, the fresh one works, the API token too
    for ended in (old, other):
        with pytest.raises(Unauthorized, match="password was changed"):
            accounts.service.authenticate(ended)
    assert accounts.service.authenticate(fresh).user_id == user.id and expires.endswith("Z")
    assert accounts.service.authenticate(api_token).kind == "api_token"
    # And only the new password signs in
    with pytest.raises(InvalidCredentials):
        accounts.service.login("ada@example.com", PASSWORD)
    assert accounts.service.login("ada@example.com", "a brand new passphrase")


def test_password_change_with_a_wrong_current_password_changes_nothing_and_counts(accounts):
    token, principal = accounts.signed_in()
    with pytest.raises(ValidationFailed) as refused:
        accounts.service.change_password(principal, "not my password", "a brand new passphrase", "10.0.0.1")
    assert refused.value.validation_errors[0]["field"] == "current_password"
    assert accounts.service.authenticate(token).user_id == principal.user_id
    assert accounts.service.login("ada@example.com", PASSWORD)
    # ... and it counts like a failed login: at the limit the change is throttled too
    for _ in range(2):
        with pytest.raises(ValidationFailed):
            accounts.service.change_password(principal, "not my password", "a brand new passphrase", "10.0.0.1")
    with pytest.raises(TooManyLoginAttempts):
        accounts.service.change_password(principal, PASSWORD, "a brand new passphrase", "10.0.0.1")


@pytest.mark.parametrize("new, error", [("short", WeakPassword), ("password1234", WeakPassword),
                                        (None, ValidationFailed), (PASSWORD, ValidationFailed)])
def test_password_change_applies_the_password_rules_to_the_new_password(accounts, new, error):
    token, principal = accounts.signed_in()
    with pytest.raises(error) as refused:
        accounts.service.change_password(principal, PASSWORD, new)
    assert refused.value.validation_errors[0]["field"] == "new_password"
    assert accounts.service.authenticate(token)


def test_an_api_token_cannot_change_the_password_nor_sign_out(accounts):
    _, principal = accounts.signed_in()
    as_token = accounts.service.authenticate(accounts.token_for(principal, scopes=["admin"]))
    with pytest.raises(Forbidden, match="API token cannot change a password"):
        accounts.service.change_password(as_token, PASSWORD, "a brand new passphrase")
    with pytest.raises(Forbidden):
        accounts.service.logout(as_token)


# -------------------------------------------------------------------------------------------- API tokens


def test_an_api_token_is_shown_once_stored_as_a_hash_and_authenticates_within_its_bounds(accounts):
    # Given Ada, owner of Acme
    _, ada = accounts.signed_in()
    acme = accounts.organizations.create(ada, "Acme", "acme")
    # When she creates a read token for Acme (by slug)
    token, text = accounts.api_tokens.create(ada, {"name": "ci", "organization": "acme", "scopes": ["read"],
                                                   "expires_in_days": 30})
    # Then the secret is spk_..., never stored, and the stored token names Acme and its bounds
    assert text.startswith("spk_") and len(text) == 47
    assert text not in repr(accounts.tokens_store.by_hash) and token.token_hash in accounts.tokens_store.by_hash
    assert (token.org_id, token.org_slug, token.scopes) == (acme.id, "acme", ("read",))
    assert token.expires_at_epoch == START + 30 * 86_400
    # And it authenticates as an API token bound to Acme and its scopes
    principal = accounts.service.authenticate(text)
    assert (principal.kind, principal.org_id, principal.scopes, principal.user_id) == (
        "api_token", acme.id, ("read",), ada.user_id)


def test_a_read_token_reads_but_cannot_publish_even_for_an_owner(accounts):
    # Given Ada, owner of Acme, and a read token of hers for Acme
    _, ada = accounts.signed_in()
    acme = accounts.organizations.create(ada, "Acme", "acme")
    principal = accounts.service.authenticate(accounts.token_for(ada, "acme", ["read"]))
    # When the token acts (no X-Organization-ID: its own organization)
    ctx = accounts.organizations.context_for("req", principal, None)
    # Then it acts in Acme as its owner, may read, and may not publish or manage
    assert (ctx.org.id, ctx.role) == (acme.id, Role.OWNER)
    require(ctx, Action.READ)
    for action in (Action.PUBLISH, Action.MANAGE_MEMBERS):
        with pytest.raises(Forbidden, match="scopes"):
            require(ctx, action)


def test_a_token_never_exceeds_its_users_role(accounts):
    # Given Bob, a viewer of Acme, with an admin token for Acme
    _, ada = accounts.signed_in()
    acme = accounts.organizations.create(ada, "Acme", "acme")
    _, bob = accounts.signed_in("bob@example.com")
    accounts.organizations.add_member(accounts.organizations.context_for("r", ada, acme.id), "bob@example.com",
                                      "viewer")
    principal = accounts.service.authenticate(accounts.token_for(bob, acme.id, ["admin"]))
    ctx = accounts.organizations.context_for("req", principal, acme.id)
    # Then the token reads (both allow it) but cannot publish (his role does not)
    require(ctx, Action.READ)
    with pytest.raises(Forbidden, match="role"):
        require(ctx, Action.PUBLISH)


def test_a_token_acts_only_in_its_organization(accounts):
    # Given Ada in Acme and Globex, with a write token for Acme
    _, ada = accounts.signed_in()
    accounts.organizations.create(ada, "Acme", "acme")
    globex = accounts.organizations.create(ada, "Globex", "globex")
    principal = accounts.service.authenticate(accounts.token_for(ada, "acme", ["write"]))
    # When it names Globex (by id or slug) or the default organization, then it is 403 naming its own
    for elsewhere in (globex.id, "globex", "default"):
        with pytest.raises(Forbidden, match="acts only in 'acme'"):
            accounts.organizations.context_for("req", principal, elsewhere)
    # And a token for the default organization acts only there
    default_token = accounts.service.authenticate(accounts.token_for(ada, "default", ["write"]))
    assert accounts.organizations.context_for("req", default_token, None).org.is_default
    with pytest.raises(Forbidden, match="acts only in 'default'"):
        accounts.organizations.context_for("req", default_token, "acme")


def test_a_token_of_a_removed_member_acts_nowhere(accounts):
    _, ada = accounts.signed_in()
    acme = accounts.organizations.create(ada, "Acme", "acme")
    _, bob = accounts.signed_in("bob@example.com")
    owner_ctx = accounts.organizations.context_for("r", ada, acme.id)
    accounts.organizations.add_member(owner_ctx, "bob@example.com", "developer")
    principal = accounts.service.authenticate(accounts.token_for(bob, "acme", ["write"]))
    accounts.organizations.remove_member(owner_ctx, bob.user_id)
    with pytest.raises(OrganizationNotFound):
        accounts.organizations.context_for("req", principal, None)


def test_a_revoked_token_is_refused_at_once_and_an_unknown_one_is_not_found(accounts):
    _, ada = accounts.signed_in()
    text = accounts.token_for(ada)
    token = accounts.api_tokens.list(ada)[0]
    accounts.api_tokens.revoke(ada, token.id)
    with pytest.raises(Unauthorized, match="invalid or has been revoked"):
        accounts.service.authenticate(text)
    for unknown in (token.id, "tok-000000000000", "../etc"):
        with pytest.raises(TokenNotFound):
            accounts.api_tokens.revoke(ada, unknown)


def test_one_user_cannot_see_or_revoke_anothers_token(accounts):
    _, ada = accounts.signed_in()
    _, bob = accounts.signed_in("bob@example.com")
    text = accounts.token_for(ada)
    ada_token = accounts.api_tokens.list(ada)[0]
    assert accounts.api_tokens.list(bob) == []
    with pytest.raises(TokenNotFound):
        accounts.api_tokens.revoke(bob, ada_token.id)
    assert accounts.service.authenticate(text).user_id == ada.user_id


def test_an_expired_token_is_refused(accounts):
    _, ada = accounts.signed_in()
    text = accounts.token_for(ada, expires_in_days=1)
    accounts.clock.now = START + 86_400
    with pytest.raises(Unauthorized, match="expired"):
        accounts.service.authenticate(text)


@pytest.mark.parametrize("text", ["spk_", "spk_short", "spk_" + "a" * 43 + "!", "spk_" + "a" * 44])
def test_a_malformed_token_is_refused_without_a_lookup(accounts, text):
    with pytest.raises(Unauthorized):
        accounts.service.authenticate(text)


def test_last_use_is_recorded_at_most_once_a_minute_and_never_fails_a_request(accounts):
    _, ada = accounts.signed_in()
    text = accounts.token_for(ada)
    for _ in range(3):
        accounts.service.authenticate(text)
    assert accounts.tokens_store.touches == 1
    assert accounts.api_tokens.list(ada)[0].last_used_at == "2027-01-15T08:00:00Z"
    accounts.clock.now = START + 61
    accounts.tokens_store.fail_touch = True
    assert accounts.service.authenticate(text).kind == "api_token"
    assert accounts.tokens_store.touches == 2


def test_only_a_session_manages_tokens(accounts):
    _, ada = accounts.signed_in()
    as_token = accounts.service.authenticate(accounts.token_for(ada, scopes=["admin"]))
    with pytest.raises(Forbidden, match="API token cannot create API tokens"):
        accounts.api_tokens.create(as_token, {"name": "x", "organization": "default", "scopes": ["read"]})
    with pytest.raises(Forbidden):
        accounts.api_tokens.list(as_token)
    with pytest.raises(Forbidden):
        accounts.api_tokens.revoke(as_token, as_token.token_id)
    with pytest.raises(Unauthorized):
        accounts.api_tokens.create(None, {})


@pytest.mark.parametrize("body, fields", [
    ({}, {"name", "organization", "scopes"}),
    ({"name": "ci", "organization": "default", "scopes": []}, {"scopes"}),
    ({"name": "ci", "organization": "default", "scopes": ["read", "delete"]}, {"scopes"}),
    ({"name": "ci", "organization": "default", "scopes": "read"}, {"scopes"}),
    ({"name": "ci\nx", "organization": "default", "scopes": ["read"]}, {"name"}),
    ({"name": "x" * 101, "organization": "default", "scopes": ["read"]}, {"name"}),
    ({"name": "ci", "organization": "default", "scopes": ["read"], "expires_in_days": 0}, {"expires_in_days"}),
    ({"name": "ci", "organization": "default", "scopes": ["read"], "expires_in_days": 366}, {"expires_in_days"}),
    ({"name": "ci", "organization": "default", "scopes": ["read"], "expires_in_days": "30"}, {"expires_in_days"}),
    ({"name": "ci", "organization": "default", "scopes": ["read"], "expires_in_days": True}, {"expires_in_days"}),
])
def test_a_bad_token_request_lists_every_problem_and_stores_nothing(accounts, body, fields):
    _, ada = accounts.signed_in()
    with pytest.raises(ValidationFailed) as refused:
        accounts.api_tokens.create(ada, body)
    assert {e["field"] for e in refused.value.validation_errors} == fields
    assert accounts.tokens_store.by_hash == {}


def test_a_token_for_an_organization_one_is_not_in_is_not_found(accounts):
    _, ada = accounts.signed_in()
    accounts.organizations.create(ada, "Acme", "acme")
    _, eve = accounts.signed_in("eve@example.com")
    for ref in ("acme", "nope", "org-000000000000", "NOT A SLUG"):
        with pytest.raises(OrganizationNotFound):
            accounts.api_tokens.create(eve, {"name": "x", "organization": ref, "scopes": ["read"]})


def test_tokens_per_user_are_bounded(accounts):
    _, ada = accounts.signed_in()
    for _ in range(3):
        accounts.token_for(ada)
    with pytest.raises(TokenLimitReached):
        accounts.token_for(ada)
    accounts.api_tokens.revoke(ada, accounts.api_tokens.list(ada)[0].id)
    assert accounts.token_for(ada)


def test_scopes_are_kept_in_one_order_without_repeats_and_expiry_defaults_to_90_days(accounts):
    _, ada = accounts.signed_in()
    token, _ = accounts.api_tokens.create(ada, {"name": "ci", "organization": "default",
                                                "scopes": ["write", "read", "write"]})
    assert token.scopes == ("read", "write") and token.expires_at_epoch == START + 90 * 86_400


# ----------------------------------------------------------------------------------------------- who am I


def test_who_am_i_for_a_session_lists_every_organization_with_the_role(accounts):
    _, ada = accounts.signed_in()
    acme = accounts.organizations.create(ada, "Acme", "acme")
    identity = accounts.service.identity(ada)
    assert identity.kind == "user" and identity.token is None and identity.user.email == "ada@example.com"
    assert [(o.slug, r) for o, r in identity.organizations] == [("default", Role.DEVELOPER), ("acme", Role.OWNER)]
    assert identity.organizations[1][0].id == acme.id


def test_who_am_i_for_a_token_names_the_token_and_only_its_organization(accounts):
    _, ada = accounts.signed_in()
    accounts.organizations.create(ada, "Acme", "acme")
    accounts.organizations.create(ada, "Globex", "globex")
    principal = accounts.service.authenticate(accounts.token_for(ada, "globex", ["read", "write"]))
    identity = accounts.service.identity(principal)
    assert identity.kind == "api_token" and identity.token.id == principal.token_id
    assert identity.token.scopes == ("read", "write")
    assert [(o.slug, r) for o, r in identity.organizations] == [("globex", Role.OWNER)]


def test_the_common_password_list_is_loaded_only_when_a_password_is_set() -> None:
    # Given a fresh interpreter that imports the API and authenticates a session (no password is set)
    import subprocess
    import sys
    from pathlib import Path

    child = ("import sys, app\n"
             "from chalicelib.services.accounts import AccountsService\n"
             "from tests.unit.services.fakes import FakeAccounts, FakePasswords, FakeTokens\n"
             "service = AccountsService(FakeAccounts(), FakeTokens(), FakePasswords())\n"
             "service.authenticate(FakeTokens.issue(service._tokens, 'user-1', 'a@example.com')[0])\n"
             "print('zxcvbn' in sys.modules)\n"
             "service.register('a@example.com', 'correct-horse-battery-staple')\n"
             "print('zxcvbn' in sys.modules)\n")
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, "-c", child], cwd=root, capture_output=True, text=True, timeout=60)
    # Then zxcvbn's 30,000 words stay unloaded until a registration needs them
    assert result.stdout.split() == ["False", "True"], result.stderr


@pytest.mark.parametrize("port_name, fake", [("ApiTokensPort", FakeApiTokens), ("CountersPort", FakeCounters)])
def test_the_new_fakes_follow_their_ports(port_name, fake):
    """As test_fakes_contract does for the older ports: fails when a port's method changes and its fake does not."""
    import inspect

    from chalicelib.services import ports

    port = getattr(ports, port_name)
    for name, declared in vars(port).items():
        if name.startswith("_") or not callable(declared):
            continue
        wanted = [(p.name, p.kind) for p in inspect.signature(declared).parameters.values()]
        assert [(p.name, p.kind) for p in inspect.signature(getattr(fake, name)).parameters.values()] == wanted, name
