"""API tokens, password change and login throttling over real HTTP against the local stack.

Done means: an API token with `read` scope cannot publish; a revoked token is 401 at once. Throttling
runs on a stack of its own with a low limit (the shared stacks raise it: all tests sign in from 127.0.0.1)."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from localdev.stack import Stack, free_port, running_stack
from tests.e2e.conftest import PASSWORD
from tests.plans import GENEROUS_PLANS

TIMEOUT = 30
PROTO = 'syntax = "proto3";\npackage team.v1;\nmessage Team { string id = 1; }\n'


def call(api_url: str, method: str, path: str, token: str | None = None, body: Any = None,
         org: str | None = None) -> requests.Response:
    headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **({"X-Organization-ID": org} if org else {})}
    return requests.request(method, f"{api_url}{path}", json=body, headers=headers, timeout=TIMEOUT)


def publish(api_url: str, token: str, version: str, org: str | None = None) -> requests.Response:
    return call(api_url, "POST", "/modules/team/versions", token,
                {"version": version, "files": {"team.proto": PROTO}}, org=org)


@pytest.fixture
def team(api_url: str, register_user: Callable[[], str]) -> dict[str, str]:
    """Given an organization of one owner, with a module `team` at v1.0.0."""
    owner = register_user()
    slug = f"t{uuid.uuid4().hex[:10]}"
    assert call(api_url, "POST", "/organizations", owner, {"name": "Team", "slug": slug}).status_code == 201
    assert call(api_url, "POST", "/modules", owner, {"name": "team"}, org=slug).status_code == 201
    assert publish(api_url, owner, "v1.0.0", org=slug).status_code == 201
    return {"owner": owner, "slug": slug}


def create_token(api_url: str, session: str, slug: str, scopes: list[str]) -> dict[str, Any]:
    reply = call(api_url, "POST", "/auth/tokens", session, {"name": "ci", "organization": slug, "scopes": scopes,
                                                            "expires_in_days": 7})
    assert reply.status_code == 201, reply.text
    return reply.json()["data"]


def test_a_read_token_reads_and_cannot_publish_and_a_revoked_one_is_401_at_once(
        api_url: str, team: dict[str, str]) -> None:
    # Given a read and a write token for the team
    read = create_token(api_url, team["owner"], team["slug"], ["read"])
    write = create_token(api_url, team["owner"], team["slug"], ["write"])
    assert read["token"].startswith("spk_")
    # Then the read token reads in its organization without naming it, and cannot publish
    assert call(api_url, "GET", "/modules/team/versions/v1.0.0", read["token"]).status_code == 200
    refused = publish(api_url, read["token"], "v1.1.0")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    # While the write token publishes
    assert publish(api_url, write["token"], "v1.1.0").status_code == 201
    # When the write token is revoked, then its very next request is 401
    assert call(api_url, "DELETE", f"/auth/tokens/{write['id']}", team["owner"]).status_code == 204
    after = publish(api_url, write["token"], "v1.2.0")
    assert after.status_code == 401 and after.json()["error"]["code"] == "UNAUTHORIZED"
    assert call(api_url, "GET", "/modules/team", write["token"]).status_code == 401
    # And the list shows only the read token, with its last use and no secret
    listed = call(api_url, "GET", "/auth/tokens", team["owner"]).json()["data"]["tokens"]
    assert [t["id"] for t in listed] == [read["id"]] and listed[0]["last_used_at"].endswith("Z")
    assert "token" not in listed[0]


def test_who_am_i_with_a_token_and_the_token_stays_in_its_organization(
        api_url: str, team: dict[str, str]) -> None:
    token = create_token(api_url, team["owner"], team["slug"], ["read", "write"])
    me = call(api_url, "GET", "/auth/me", token["token"]).json()["data"]
    assert me["kind"] == "api_token" and me["token"]["id"] == token["id"]
    assert [(o["slug"], o["role"]) for o in me["organizations"]] == [(team["slug"], "owner")]
    elsewhere = call(api_url, "GET", "/modules", token["token"], org="default")
    assert elsewhere.status_code == 403
    assert elsewhere.json()["error"]["message"] == f"This API token acts only in '{team['slug']}'"


def test_a_password_change_ends_older_sessions_and_keeps_api_tokens(api_url: str, team: dict[str, str]) -> None:
    # Given the owner's email (who am I), a second session and a CI token
    email = call(api_url, "GET", "/auth/me", team["owner"]).json()["data"]["user"]["email"]
    second = call(api_url, "POST", "/auth/login", body={"email": email, "password": PASSWORD}).json()["data"]["token"]
    ci = create_token(api_url, team["owner"], team["slug"], ["read"])["token"]
    # When the password changes
    changed = call(api_url, "POST", "/auth/password", team["owner"],
                   {"current_password": PASSWORD, "new_password": "another long passphrase"})
    assert changed.status_code == 200, changed.text
    # Then the older sessions are 401, the fresh one and the CI token work
    for old in (team["owner"], second):
        reply = call(api_url, "GET", "/auth/me", old)
        assert reply.status_code == 401 and "password was changed" in reply.json()["error"]["message"]
    assert call(api_url, "GET", "/auth/me", changed.json()["data"]["token"]).status_code == 200
    assert call(api_url, "GET", "/modules/team", ci).status_code == 200


@pytest.fixture(scope="module")
def throttled_stack() -> Iterator[Stack]:
    """Given a registry of its own allowing 3 failed logins per 15 minutes."""
    with running_stack(api_port=free_port(), aws_port=free_port(), quiet=True,
                       environment={"SPOKE_PLANS": GENEROUS_PLANS, "SPOKE_LOGIN_MAX_FAILURES": "3"}) as running:
        yield running


def test_repeated_failed_logins_get_429_with_retry_after_over_http(throttled_stack: Stack) -> None:
    url = throttled_stack.api_url
    email = f"victim-{uuid.uuid4().hex[:8]}@example.com"
    assert call(url, "POST", "/auth/register", body={"email": email, "password": PASSWORD}).status_code == 201
    weak = call(url, "POST", "/auth/register", body={"email": f"x{email}", "password": "secret123"})
    assert weak.status_code == 400 and weak.json()["error"]["code"] == "WEAK_PASSWORD"
    for _ in range(3):
        assert call(url, "POST", "/auth/login", body={"email": email, "password": "guess-guess"}).status_code == 401
    throttled = call(url, "POST", "/auth/login", body={"email": email, "password": PASSWORD})
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "TOO_MANY_LOGIN_ATTEMPTS"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 900
    assert throttled.headers["X-Request-ID"]
