"""SSO over the running local stack (chalice local + embedded AWS, SSM included) against the tests' own
OpenID Connect issuer on 127.0.0.1: configure, sign in through the issuer, become a member.

The local stage allows http issuers on loopback (SPOKE_OIDC_ALLOW_HTTP in LOCAL_STAGE_ENVIRONMENT)."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Misbehaviour, OidcProvider, follow_authorization

CALLBACK = "http://127.0.0.1:8765/callback"


def call(method: str, url: str, token: str | None = None, body: Any = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, url, json=body, headers=headers, timeout=30)


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    with OidcProvider(email=f"sso-{uuid.uuid4().hex[:10]}@example.com") as running:
        yield running


@pytest.fixture
def team(api_url: str, token: str, unique: Callable[[str], str], provider: OidcProvider) -> dict[str, str]:
    """Given an organization whose owner configured SSO with the local issuer."""
    slug = unique("sso")
    created = call("POST", f"{api_url}/organizations", token, {"name": "SSO", "slug": slug})
    assert created.status_code == 201, created.text
    org = created.json()["data"]["id"]
    configured = call("PUT", f"{api_url}/organizations/{org}/sso", token, {
        "issuer": provider.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "allowed_domains": ["example.com"], "default_role": "developer"})
    assert configured.status_code == 200, configured.text
    assert configured.json()["data"]["client_secret_set"] is True
    assert CLIENT_SECRET not in configured.text
    return {"token": token, "org": org, "slug": slug}


def sso_login(api_url: str, org_ref: str) -> requests.Response:
    started = call("POST", f"{api_url}/auth/sso/{org_ref}/start", body={"redirect_uri": CALLBACK})
    assert started.status_code == 200, started.text
    redirect = follow_authorization(started.json()["data"]["authorization_url"])
    return call("POST", f"{api_url}/auth/sso/callback", body={"state": redirect["state"], "code": redirect["code"]})


def member_roles(api_url: str, team: dict[str, str]) -> dict[str, str]:
    listed = call("GET", f"{api_url}/organizations/{team['org']}/members", team["token"])
    assert listed.status_code == 200, listed.text
    return {m["email"]: m["role"] for m in listed.json()["data"]["members"]}


def test_the_oidc_round_trip_creates_a_member(api_url: str, team: dict[str, str], provider: OidcProvider) -> None:
    # When someone of the allowed domain signs in through the organization's issuer
    login = sso_login(api_url, team["slug"])
    # Then they get a session and are a developer of the organization
    assert login.status_code == 200, login.text
    data = login.json()["data"]
    assert (data["user"]["email"], data["role"], data["provisioned"]) == (provider.email, "developer", True)
    assert member_roles(api_url, team)[provider.email] == "developer"
    mine = call("GET", f"{api_url}/organizations", data["token"])
    assert [o["id"] for o in mine.json()["data"]["organizations"]] == [team["org"]]
    # ... and signing in again finds the same member
    again = sso_login(api_url, team["org"])
    assert again.status_code == 200, again.text
    assert (again.json()["data"]["user"]["id"], again.json()["data"]["provisioned"]) == (data["user"]["id"], False)
    assert list(member_roles(api_url, team)).count(provider.email) == 1


def test_a_forged_id_token_signs_nobody_in(api_url: str, team: dict[str, str], provider: OidcProvider) -> None:
    # Given an issuer whose ID token is signed with a key its JWKS does not hold
    provider.misbehave = Misbehaviour(wrong_key=True)
    # When someone signs in
    login = sso_login(api_url, team["org"])
    # Then the login is refused, and they are no member
    assert login.status_code == 401, login.text
    assert login.json()["error"]["code"] == "SSO_LOGIN_FAILED"
    assert "signature" in login.json()["error"]["message"]
    assert provider.email not in member_roles(api_url, team)
