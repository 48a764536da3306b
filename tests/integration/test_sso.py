"""SSO with OpenID Connect through the API (moto + chalice.test.Client) against a real local issuer
(tests/oidc_provider.py over HTTP): configuration, the authorization-code + PKCE round trip, and every
check of the ID token refusing a login without creating anyone."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import wiring
from chalicelib.adapters import aws, keys
from chalicelib.domain.errors import InvalidSsoConfig
from tests.integration.api import Api, Reply
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Misbehaviour, OidcProvider, follow_authorization

PASSWORD = "correct-horse-battery-staple"
CALLBACK = "http://127.0.0.1:8765/callback"


@pytest.fixture(autouse=True)
def oidc_over_http(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' issuer speaks http on 127.0.0.1, which this setting allows (a local stage's)."""
    monkeypatch.setenv("SPOKE_OIDC_ALLOW_HTTP", "true")
    wiring.reset()


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    with OidcProvider(email="alice@example.com") as running:
        yield running


@pytest.fixture
def org(api: Api) -> dict[str, str]:
    """Given an organization and its owner's session."""
    token, _ = api.signed_up(password=PASSWORD)
    slug = f"acme-{uuid.uuid4().hex[:8]}"
    created = api.post("/organizations", {"name": "Acme", "slug": slug}, token=token)
    assert created.status == 201, created.body
    return {"id": created.data["id"], "slug": slug, "owner_token": token}


def settings(provider: OidcProvider, **overrides: Any) -> dict[str, Any]:
    return {"issuer": provider.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "allowed_domains": ["example.com"], "default_role": "viewer", **overrides}


def configured(api: Api, org: dict[str, str], provider: OidcProvider, **overrides: Any) -> Reply:
    reply = api.call("PUT", f"/organizations/{org['id']}/sso", settings(provider, **overrides),
                     token=org["owner_token"])
    assert reply.status == 200, reply.body
    return reply


def sso_login(api: Api, org_ref: str) -> Reply:
    """Start, follow the authorization URL as a browser would, and hand the callback's code back."""
    started = api.post(f"/auth/sso/{org_ref}/start", {"redirect_uri": CALLBACK})
    assert started.status == 200, started.body
    redirect = follow_authorization(started.data["authorization_url"])
    assert redirect["state"] == started.data["state"]
    return api.post("/auth/sso/callback", {"state": redirect["state"], "code": redirect["code"]})


def members(api: Api, org: dict[str, str]) -> dict[str, str]:
    listed = api.get(f"/organizations/{org['id']}/members", token=org["owner_token"])
    assert listed.status == 200, listed.body
    return {m["email"]: m["role"] for m in listed.data["members"]}


def account_exists(email: str) -> bool:
    return wiring.services().cached_stores[0].user_id_for_email(email) is not None


def test_the_oidc_round_trip_creates_a_member_with_the_default_role(api: Api, org: dict[str, str],
                                                                      provider: OidcProvider) -> None:
    # Given SSO configured by the organization's owner
    configured(api, org, provider)
    # When alice signs in through the issuer (by the organization's slug)
    login = sso_login(api, org["slug"])
    # Then she has a session, and is a viewer of the organization
    assert login.status == 200, login.body
    assert login.data["user"]["email"] == "alice@example.com"
    assert (login.data["organization"]["id"], login.data["role"], login.data["provisioned"]) == (
        org["id"], "viewer", True)
    assert members(api, org)["alice@example.com"] == "viewer"
    # ... her session works: she sees the organization with her role
    mine = api.get("/organizations", token=login.data["token"])
    assert [(o["id"], o["role"]) for o in mine.data["organizations"]] == [(org["id"], "viewer")]
    # ... and the code was redeemed with the PKCE verifier and the same redirect_uri (the issuer checked both)
    assert provider.token_requests[-1]["redirect_uri"] == CALLBACK
    assert len(provider.token_requests[-1]["code_verifier"]) >= 43


def test_a_second_login_finds_the_same_member(api: Api, org: dict[str, str], provider: OidcProvider) -> None:
    # Given alice signed in once
    configured(api, org, provider)
    first = sso_login(api, org["id"])
    # When she signs in again
    second = sso_login(api, org["id"])
    # Then she is the same user, not provisioned again, and listed once
    assert second.status == 200, second.body
    assert second.data["user"]["id"] == first.data["user"]["id"]
    assert second.data["provisioned"] is False
    assert list(members(api, org)).count("alice@example.com") == 1
    assert len(members(api, org)) == 2


def test_the_settings_keep_the_secret_in_ssm_and_never_return_it(api: Api, org: dict[str, str],
                                                                  provider: OidcProvider) -> None:
    # When the owner configures SSO
    reply = configured(api, org, provider)
    # Then the answer and a later GET show the settings and that a secret is set, never the secret
    for shown in (reply, api.get(f"/organizations/{org['id']}/sso", token=org["owner_token"])):
        assert shown.data["client_secret_set"] is True
        assert CLIENT_SECRET not in shown.raw.decode()
        assert shown.data["token_endpoint"] == f"{provider.issuer}/token"
    # ... the secret is an SSM SecureString, and the table's item does not hold it
    parameter = aws.client("ssm").get_parameter(
        Name=keys.sso_secret_parameter(wiring.services().settings.stage, org["id"]), WithDecryption=True)["Parameter"]
    assert (parameter["Type"], parameter["Value"]) == ("SecureString", CLIENT_SECRET)
    item = wiring.services().table.get(keys.sso_config_key(org["id"]))
    assert CLIENT_SECRET not in str(item)


@pytest.mark.parametrize(("misbehaviour", "check"), [
    (Misbehaviour(nonce="someone-elses-nonce"), "nonce"),
    (Misbehaviour(expired=True), "expired"),
    (Misbehaviour(audience="another-client"), "audience"),
    (Misbehaviour(wrong_key=True), "signature"),
    (Misbehaviour(email_verified=False), "not verified"),
    (Misbehaviour(omit_email=True), "no email"),
    (Misbehaviour(extra_audience="another-client"), "azp"),
    (Misbehaviour(hs256_with_secret=True), "not a JWT signed with one of the issuer's keys"),
])
def test_an_id_token_that_fails_a_check_signs_nobody_in(api: Api, org: dict[str, str], provider: OidcProvider,
                                                        misbehaviour: Misbehaviour, check: str) -> None:
    # Given SSO configured, and an issuer whose ID token is wrong in one way
    configured(api, org, provider)
    provider.misbehave = misbehaviour
    # When alice signs in
    login = sso_login(api, org["id"])
    # Then the login is refused, saying which check failed, and nobody was created
    assert (login.status, login.code) == (401, "SSO_LOGIN_FAILED"), login.body
    assert check in login.body["error"]["message"]
    assert "alice@example.com" not in members(api, org)
    assert not account_exists("alice@example.com")


def test_an_email_outside_the_allowed_domains_signs_nobody_in(api: Api, org: dict[str, str]) -> None:
    with OidcProvider(email="mallory@elsewhere.org") as provider:
        configured(api, org, provider)
        login = sso_login(api, org["id"])
    assert (login.status, login.code) == (401, "SSO_LOGIN_FAILED")
    assert "elsewhere.org" in login.body["error"]["message"]
    assert not account_exists("mallory@elsewhere.org")


def test_a_state_is_redeemed_once(api: Api, org: dict[str, str], provider: OidcProvider) -> None:
    # Given a login that completed
    configured(api, org, provider)
    started = api.post(f"/auth/sso/{org['id']}/start", {"redirect_uri": CALLBACK})
    redirect = follow_authorization(started.data["authorization_url"])
    assert api.post("/auth/sso/callback", {"state": redirect["state"], "code": redirect["code"]}).status == 200
    # When its callback is replayed
    replay = api.post("/auth/sso/callback", {"state": redirect["state"], "code": redirect["code"]})
    # Then it is refused
    assert (replay.status, replay.code) == (401, "SSO_LOGIN_FAILED")
    assert "already used" in replay.body["error"]["message"]


def test_an_account_that_signs_in_with_a_password_is_not_taken_over(api: Api, org: dict[str, str],
                                                                      provider: OidcProvider) -> None:
    # Given alice registered with a password before (her account is not the organization's to vouch for)
    api.signed_up("alice@example.com", PASSWORD)
    configured(api, org, provider)
    # When the organization's issuer says it is alice
    login = sso_login(api, org["id"])
    # Then no session is given for her account, and she is not made a member
    assert (login.status, login.code) == (401, "SSO_LOGIN_FAILED")
    assert "already exists" in login.body["error"]["message"]
    assert "alice@example.com" not in members(api, org)


@pytest.mark.parametrize(("overrides", "reason"), [
    ({"issuer": "https://other.example.com"}, "must match exactly"),
    ({"token_endpoint": None}, "no token_endpoint"),
    ({"jwks_uri": "http://10.0.0.8/jwks"}, "jwks_uri is refused"),
    ({"code_challenge_methods_supported": ["plain"]}, "S256"),
])
def test_a_discovery_document_that_does_not_hold_is_refused(api: Api, org: dict[str, str], provider: OidcProvider,
                                                             overrides: dict[str, Any], reason: str) -> None:
    provider.discovery_overrides = overrides
    reply = api.call("PUT", f"/organizations/{org['id']}/sso", settings(provider), token=org["owner_token"])
    assert (reply.status, reply.code) == (400, "INVALID_SSO_CONFIG"), reply.body
    assert reason in reply.body["error"]["message"]
    assert api.get(f"/organizations/{org['id']}/sso", token=org["owner_token"]).code == "SSO_NOT_CONFIGURED"


@pytest.mark.parametrize(("issuer", "reason"), [
    ("https://169.254.169.254", "metadata"),
    ("https://10.1.2.3", "private"),
    ("ftp://idp.example.com", "https"),
    ("http://idp.example.com", "https"),
])
def test_an_issuer_that_must_not_be_contacted_is_refused(api: Api, org: dict[str, str], issuer: str,
                                                          reason: str) -> None:
    reply = api.call("PUT", f"/organizations/{org['id']}/sso",
                     {"issuer": issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                      "allowed_domains": ["example.com"]}, token=org["owner_token"])
    assert (reply.status, reply.code) == (400, "INVALID_SSO_CONFIG"), reply.body
    assert reason in reply.body["error"]["message"]


def test_only_admins_and_owners_configure_sso(api: Api, org: dict[str, str], provider: OidcProvider) -> None:
    # Given a developer of the organization
    email = f"dev-{uuid.uuid4().hex[:8]}@example.com"
    developer_token, _ = api.signed_up(email, PASSWORD)
    added = api.post(f"/organizations/{org['id']}/members", {"email": email, "role": "developer"},
                     token=org["owner_token"])
    assert added.status == 201, added.body
    reply = api.call("PUT", f"/organizations/{org['id']}/sso", settings(provider), token=developer_token)
    assert reply.status == 403
    assert api.get(f"/organizations/{org['id']}/sso", token=developer_token).status == 403


def test_the_default_organization_has_no_sso(api: Api, provider: OidcProvider) -> None:
    token, _ = api.signed_up(password=PASSWORD)
    reply = api.call("PUT", "/organizations/default/sso", settings(provider), token=token)
    assert reply.status == 404
    assert "default organization has no SSO" in reply.body["error"]["message"]
    assert api.post("/auth/sso/default/start", {"redirect_uri": CALLBACK}).code == "SSO_NOT_CONFIGURED"


def test_bad_input_to_start_and_callback_is_a_clear_4xx(api: Api, org: dict[str, str],
                                                         provider: OidcProvider) -> None:
    assert api.post("/auth/sso/no-such-org/start", {"redirect_uri": CALLBACK}).code == "SSO_NOT_CONFIGURED"
    configured(api, org, provider)
    bad_redirect = api.post(f"/auth/sso/{org['id']}/start", {"redirect_uri": "javascript:alert(1)"})
    assert (bad_redirect.status, bad_redirect.code) == (400, "VALIDATION_ERROR")
    assert "redirect_uri" in bad_redirect.body["error"]["message"]
    missing = api.post("/auth/sso/callback", {"state": "x"})
    assert (missing.status, missing.code) == (400, "VALIDATION_ERROR")
    unknown = api.post("/auth/sso/callback", {"state": "never-issued", "code": "c"})
    assert (unknown.status, unknown.code) == (401, "SSO_LOGIN_FAILED")


def test_deleting_sso_ends_logins_and_removes_the_secret(api: Api, org: dict[str, str],
                                                         provider: OidcProvider) -> None:
    configured(api, org, provider)
    started = api.post(f"/auth/sso/{org['id']}/start", {"redirect_uri": CALLBACK})
    redirect = follow_authorization(started.data["authorization_url"])
    # When the owner deletes the settings while a login is in progress
    deleted = api.delete(f"/organizations/{org['id']}/sso", token=org["owner_token"])
    assert deleted.status == 204
    # Then that login cannot finish, no new one starts, and the secret is gone from SSM
    finish = api.post("/auth/sso/callback", {"state": redirect["state"], "code": redirect["code"]})
    assert (finish.status, finish.code) == (401, "SSO_LOGIN_FAILED")
    assert api.post(f"/auth/sso/{org['id']}/start", {"redirect_uri": CALLBACK}).code == "SSO_NOT_CONFIGURED"
    with pytest.raises(Exception, match="ParameterNotFound"):
        aws.client("ssm").get_parameter(Name=keys.sso_secret_parameter(wiring.services().settings.stage, org["id"]))
    assert api.delete(f"/organizations/{org['id']}/sso", token=org["owner_token"]).code == "SSO_NOT_CONFIGURED"


def test_when_ssm_fails_no_settings_are_stored(api: Api, org: dict[str, str], provider: OidcProvider) -> None:
    def refuse(**_: object) -> None:
        raise RuntimeError("SSM is down")

    aws.client("ssm").meta.events.register("before-call.ssm.PutParameter", refuse)
    try:
        reply = api.call("PUT", f"/organizations/{org['id']}/sso", settings(provider), token=org["owner_token"])
    finally:
        aws.client("ssm").meta.events.unregister("before-call.ssm.PutParameter", refuse)
    assert (reply.status, reply.code) == (500, "INTERNAL_ERROR")
    assert api.get(f"/organizations/{org['id']}/sso", token=org["owner_token"]).code == "SSO_NOT_CONFIGURED"


def test_when_the_membership_write_fails_the_next_login_completes_it(api: Api, org: dict[str, str],
                                                                     provider: OidcProvider) -> None:
    # Given the table refuses the membership's transaction (the organization's items) during alice's first login
    configured(api, org, provider)

    def refuse(params: dict[str, Any], **_: object) -> None:
        for operation in params.get("TransactItems", []):
            (_kind, body), = operation.items()
            if (body.get("Key") or body.get("Item") or {}).get("PK", {}).get("S", "").startswith("ORG#"):
                raise RuntimeError("DynamoDB is down")

    aws.client("dynamodb").meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", refuse)
    try:
        failed = sso_login(api, org["id"])
    finally:
        aws.client("dynamodb").meta.events.unregister("before-parameter-build.dynamodb.TransactWriteItems", refuse)
    # Then that login fails without a session and without a membership (her account was created)
    assert failed.status == 500
    assert "alice@example.com" not in members(api, org)
    assert account_exists("alice@example.com")
    # When she tries again, the login completes: one account, one membership
    again = sso_login(api, org["id"])
    assert again.status == 200, again.body
    assert members(api, org)["alice@example.com"] == "viewer"



@pytest.mark.parametrize("ref", ["..", "%00", "-h", "org-", "x" * 300, "%F0%9F%99%82", "a%20b", "DEFAULT"])
def test_hostile_organization_references_are_a_404(api: Api, ref: str) -> None:
    reply = api.post(f"/auth/sso/{ref}/start", {"redirect_uri": CALLBACK})
    assert (reply.status, reply.code) == (404, "SSO_NOT_CONFIGURED"), reply.body


@pytest.mark.parametrize("body", [{"state": 1, "code": "c"}, {"state": "s" * 500, "code": "c"},
                                  {"state": "s", "code": ["c"]}, {"state": "s", "code": "c" * 5000}])
def test_hostile_callback_bodies_are_a_400(api: Api, body: dict[str, Any]) -> None:
    reply = api.post("/auth/sso/callback", body)
    assert (reply.status, reply.code) == (400, "VALIDATION_ERROR"), reply.body


@pytest.mark.parametrize("body", [[], {"issuer": 1}, {"issuer": "https://idp.example.com", "client_id": "x",
                                                      "client_secret": "long-enough-secret", "allowed_domains": [7]}])
def test_hostile_settings_are_a_400(api: Api, org: dict[str, str], body: Any) -> None:
    reply = api.call("PUT", f"/organizations/{org['id']}/sso", body, token=org["owner_token"])
    assert reply.status == 400, reply.body
    assert reply.code in ("INVALID_JSON", "VALIDATION_ERROR", "INVALID_SSO_CONFIG")


def test_a_token_endpoint_that_takes_the_secret_in_the_form_is_used_so(api: Api, org: dict[str, str]) -> None:
    # Given an issuer whose token endpoint accepts client_secret_post only
    with OidcProvider(email="alice@example.com", auth_methods=("client_secret_post",)) as provider:
        assert configured(api, org, provider).data["token_endpoint_auth_method"] == "client_secret_post"
        login = sso_login(api, org["id"])
    # Then the login completes, the secret sent in the form
    assert login.status == 200, login.body
    assert provider.token_requests[-1]["client_secret"] == CLIENT_SECRET


def test_a_wrong_client_secret_is_a_failed_login_without_the_issuers_words(api: Api, org: dict[str, str],
                                                                           provider: OidcProvider) -> None:
    configured(api, org, provider, client_secret="not-the-issuers-secret")
    login = sso_login(api, org["id"])
    assert (login.status, login.code) == (401, "SSO_LOGIN_FAILED")
    assert login.body["error"]["message"] == ("SSO login failed: the identity provider refused the authorization "
                                              "code: HTTP 401 (invalid_client)")


def test_the_issuers_answers_are_bounded_in_size(provider: OidcProvider) -> None:
    from chalicelib.adapters.oidc import OidcClient

    provider.discovery_overrides = {"padding": "x" * 4096}
    with pytest.raises(InvalidSsoConfig, match="more than 1024 bytes"):
        OidcClient(allow_http=True, max_response_bytes=1024).discover(provider.issuer)


def test_the_store_hands_a_login_state_out_once_and_never_after_it_expired(aws_env: dict[str, str]) -> None:
    from chalicelib.adapters.sso_store import SsoStore
    from chalicelib.domain.sso import LoginState

    store = SsoStore(wiring.services().table)
    now = 1_800_000_000
    store.put_state(LoginState("live", "org-1", "nonce", "verifier", CALLBACK, now + 60))
    store.put_state(LoginState("stale", "org-1", "nonce", "verifier", CALLBACK, now - 1))
    # A live state: once, with everything it was stored with
    assert store.take_state("live", now) == LoginState("live", "org-1", "nonce", "verifier", CALLBACK, now + 60)
    assert store.take_state("live", now) is None
    # An expired one that TTL has not deleted yet: never
    assert store.take_state("stale", now) is None
    assert store.take_state("never-issued", now) is None
