"""The SSO use cases on in-memory fakes: who may configure it, what a login stores and redeems, and that
a login creates an account and a membership only when every check held."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.domain.errors import (
    Forbidden,
    InvalidSsoConfig,
    OrganizationNotFound,
    SsoLoginFailed,
    SsoNotConfigured,
    ValidationFailed,
)
from chalicelib.domain.models import Organization, Principal
from chalicelib.domain.roles import Role
from chalicelib.services.sso import SsoService, code_challenge
from tests.unit.services.conftest import World
from tests.unit.services.fakes_sso import FakeIssuer, FakeSsoSecrets, FakeSsoStore

PASSWORD = "correct-horse-battery-staple"
CALLBACK = "http://127.0.0.1:8765/callback"
SETTINGS = {"issuer": "https://idp.example.com", "client_id": "spoke", "client_secret": "s3cret-value-1234",
            "allowed_domains": ["example.com"], "default_role": "developer"}


@dataclass
class Sso:
    world: World
    service: SsoService
    store: FakeSsoStore
    secrets: FakeSsoSecrets
    issuer: FakeIssuer
    clock: list[float]
    org: Organization
    owner: Principal

    def configure(self, **overrides: object) -> None:
        self.service.configure(self.world.ctx(self.owner, self.org), {**SETTINGS, **overrides})

    def login(self, code: str = "the-code") -> object:
        started = self.service.start(self.org.slug, CALLBACK)
        return self.service.callback(started.state, code)


@pytest.fixture
def sso(world: World) -> Sso:
    owner = world.user("owner@example.com", PASSWORD)
    org = world.org(owner)
    store, secrets, issuer, clock = FakeSsoStore(), FakeSsoSecrets(), FakeIssuer(), [1_800_000_000.0]
    service = SsoService(store, secrets, issuer, world.accounts_store, world.orgs_store, world.tokens,
                         state_ttl_seconds=600, allow_http=False, clock=lambda: clock[0])
    return Sso(world, service, store, secrets, issuer, clock, org, owner)


def test_configuring_keeps_the_secret_apart_from_the_settings(sso: Sso) -> None:
    sso.configure()
    config = sso.store.configs[sso.org.id]
    assert (config.issuer, config.client_id, config.allowed_domains, config.default_role) == (
        "https://idp.example.com", "spoke", ("example.com",), Role.DEVELOPER)
    assert sso.secrets.secrets[sso.org.id] == "s3cret-value-1234"
    assert "s3cret" not in repr(config)


def test_a_refused_discovery_stores_nothing(sso: Sso) -> None:
    sso.issuer.refuse_discovery = "the issuer does not match"
    with pytest.raises(InvalidSsoConfig):
        sso.configure()
    assert sso.store.configs == {} and sso.secrets.secrets == {}


def test_only_admins_configure_and_never_in_the_default_organization(sso: Sso) -> None:
    developer = sso.world.as_role(sso.org, Role.DEVELOPER, "dev@example.com")
    with pytest.raises(Forbidden):
        sso.service.configure(developer, SETTINGS)
    admin = sso.world.as_role(sso.org, Role.ADMIN, "admin@example.com")
    sso.service.configure(admin, SETTINGS)
    with pytest.raises(OrganizationNotFound, match="default organization has no SSO"):
        sso.service.configure(sso.world.ctx(sso.owner), SETTINGS)


def test_start_asks_for_a_code_with_a_pkce_challenge_of_the_stored_verifier(sso: Sso) -> None:
    sso.configure()
    started = sso.service.start(sso.org.id, CALLBACK)
    query = {k: v[0] for k, v in parse_qs(urlsplit(started.authorization_url).query).items()}
    login = sso.store.states[started.state]
    assert started.authorization_url.startswith("https://idp.example.com/authorize?")
    assert (query["response_type"], query["client_id"], query["redirect_uri"], query["state"]) == (
        "code", "spoke", CALLBACK, started.state)
    assert (query["nonce"], query["code_challenge"], query["code_challenge_method"]) == (
        login.nonce, code_challenge(login.code_verifier), "S256")
    assert login.expires_at == 1_800_000_600
    assert "openid" in query["scope"].split() and "email" in query["scope"].split()


def test_pkce_challenge_is_rfc_7636_s256() -> None:
    # Authlib's implementation of RFC 7636 agrees, for verifiers of every allowed length
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    for verifier in ("a" * 43, "dBjftJeZ4CVP-mJ92K9bMmXPs3AYlS8P3e6d78Tg6Xs", "~._-" * 32):
        assert code_challenge(verifier) == create_s256_code_challenge(verifier)


def test_start_refuses_unknown_or_unconfigured_organizations_and_bad_redirects(sso: Sso) -> None:
    with pytest.raises(SsoNotConfigured):
        sso.service.start(sso.org.slug, CALLBACK)
    sso.configure()
    with pytest.raises(SsoNotConfigured):
        sso.service.start("no-such-org", CALLBACK)
    with pytest.raises(ValidationFailed, match="redirect_uri"):
        sso.service.start(sso.org.slug, "ftp://example.com/cb")


def test_the_first_login_creates_the_account_and_the_membership(sso: Sso) -> None:
    sso.configure()
    login = sso.login()
    assert (login.user.email, login.role, login.provisioned) == ("alice@example.com", Role.DEVELOPER, True)
    member = sso.world.orgs_store.get_member(sso.org.id, login.user.id)
    assert member is not None and member.role is Role.DEVELOPER
    assert sso.world.tokens.issued[login.token]["sub"] == login.user.id
    exchange = sso.issuer.exchanges[-1]
    assert (exchange["client_secret"], exchange["redirect_uri"], exchange["code"]) == (
        "s3cret-value-1234", CALLBACK, "the-code")
    # The account has no password: password login never verifies against it
    assert not sso.world.passwords.verify(
        sso.world.accounts_store.credentials_for("alice@example.com").password_hash, "!sso")


def test_a_second_login_provisions_nothing(sso: Sso) -> None:
    sso.configure()
    first = sso.login()
    second = sso.login()
    assert second.user.id == first.user.id and second.provisioned is False
    assert [m.email for m in sso.world.orgs_store.list_members(sso.org.id)].count("alice@example.com") == 1


def test_a_state_is_redeemed_once_and_only_before_it_expires(sso: Sso) -> None:
    sso.configure()
    started = sso.service.start(sso.org.slug, CALLBACK)
    sso.service.callback(started.state, "code")
    with pytest.raises(SsoLoginFailed, match="already used"):
        sso.service.callback(started.state, "code")
    late = sso.service.start(sso.org.slug, CALLBACK)
    sso.clock[0] += 601
    with pytest.raises(SsoLoginFailed, match="expired"):
        sso.service.callback(late.state, "code")


@pytest.mark.parametrize(("claims", "refuse", "message"), [
    ({"email": "alice@example.com", "email_verified": True}, "the ID token has expired", "expired"),
    ({"email": "mallory@elsewhere.org", "email_verified": True}, None, "elsewhere.org"),
    ({"email": "alice@example.com", "email_verified": False}, None, "not verified"),
    ({"sub": "no-email"}, None, "no email"),
])
def test_a_login_whose_identity_does_not_hold_creates_nobody(sso: Sso, claims: dict, refuse: str | None,
                                                             message: str) -> None:
    sso.configure()
    sso.issuer.claims, sso.issuer.refuse = claims, refuse
    with pytest.raises(SsoLoginFailed, match=message):
        sso.login()
    assert len(sso.world.orgs_store.list_members(sso.org.id)) == 1
    assert sso.world.accounts_store.credentials_for(str(claims.get("email"))) is None


def test_an_account_with_a_password_is_not_signed_in_by_sso(sso: Sso) -> None:
    sso.world.user("alice@example.com", PASSWORD)
    sso.configure()
    with pytest.raises(SsoLoginFailed, match="already exists"):
        sso.login()
    assert len(sso.world.orgs_store.list_members(sso.org.id)) == 1


def test_an_account_another_organizations_sso_created_is_not_signed_in(sso: Sso) -> None:
    # Given alice's account was made by acme's SSO
    sso.configure()
    sso.login()
    # When another organization's SSO (its own issuer, the same domain) vouches for her
    other = sso.world.org(sso.owner, "globex")
    sso.service.configure(sso.world.ctx(sso.owner, other), SETTINGS)
    started = sso.service.start("globex", CALLBACK)
    # Then it cannot sign into her account
    with pytest.raises(SsoLoginFailed, match="already exists"):
        sso.service.callback(started.state, "code")


def test_deleting_removes_settings_and_secret(sso: Sso) -> None:
    sso.configure()
    sso.service.delete(sso.world.ctx(sso.owner, sso.org))
    assert sso.store.configs == {} and sso.secrets.secrets == {}
    with pytest.raises(SsoNotConfigured):
        sso.service.get(sso.world.ctx(sso.owner, sso.org))
    with pytest.raises(SsoNotConfigured):
        sso.service.delete(sso.world.ctx(sso.owner, sso.org))


def test_a_first_login_beyond_the_members_quota_is_refused(world: World) -> None:
    from dataclasses import replace

    from chalicelib.domain.errors import QuotaExceeded
    from chalicelib.domain.plans import DEFAULT_PLANS

    # Given an organization whose plan allows one member (its owner)
    owner = world.user("owner@example.com", PASSWORD)
    org = world.org(owner)
    plans = {**DEFAULT_PLANS, "free": replace(DEFAULT_PLANS["free"], members=1)}
    store = FakeSsoStore()
    service = SsoService(store, FakeSsoSecrets(), FakeIssuer(), world.accounts_store, world.orgs_store, world.tokens,
                         state_ttl_seconds=600, allow_http=False, plans=plans)
    service.configure(world.ctx(owner, org), SETTINGS)
    # When alice signs in for the first time
    with pytest.raises(QuotaExceeded):
        service.callback(service.start(org.id, CALLBACK).state, "code")
    # Then she is no member
    assert [m.email for m in world.orgs_store.list_members(org.id)] == ["owner@example.com"]
