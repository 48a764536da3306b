"""/webhooks: who may manage them, what is refused at registration, and what is never shown."""
from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo import from_item, to_item
from chalicelib.services.events import EVENT_TYPES
from infra.provision import load_template
from tests.integration.api import Api
from tests.integration.test_webhooks_http import fake_dns

SECRET = "whsec-0123456789abcdef0123456789"
HOOK_URL = "https://hooks.example.com/spoke"


@dataclass
class Team:
    owner: str
    org_id: str
    slug: str


@pytest.fixture
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given example.com names that resolve to a public address (no network needed)."""
    fake_dns(monkeypatch, {"hooks.example.com": ["93.184.216.34"], "other.example.com": ["93.184.216.35"]})


@pytest.fixture
def team(api: Api, public_dns: None) -> Team:
    """Given an organization owned by one user."""
    owner, _ = api.signed_up("owner@team.example.com")
    org = api.post("/organizations", {"name": "Team", "slug": "team"}, token=owner)
    assert org.status == 201, org.body
    return Team(owner, org.data["id"], "team")


def member(api: Api, team: Team, role: str) -> str:
    token, _ = api.signed_up(f"{role}@team.example.com")
    added = api.post(f"/organizations/{team.org_id}/members", {"email": f"{role}@team.example.com", "role": role},
                     token=team.owner)
    assert added.status == 201, added.body
    return token


def register(api: Api, team: Team, token: str | None = None, **fields: Any) -> Any:
    body = {"url": HOOK_URL, "events": ["*"], "secret": SECRET, **fields}
    return api.post("/webhooks", body, token=token or team.owner, org=team.slug)


def test_an_owner_registers_reads_updates_and_deletes_a_webhook(api: Api, team: Team) -> None:
    # When the owner registers a webhook
    created = register(api, team, events=["version.published", "module.created"])
    # Then it is active, with its events in a stable order, and without its secret
    assert created.status == 201, created.body
    hook = created.data
    assert hook["id"].startswith("whk-") and hook["url"] == HOOK_URL and hook["active"] is True
    assert hook["events"] == ["module.created", "version.published"] and hook["created_at"]
    assert set(hook) == {"id", "url", "events", "active", "created_at", "updated_at"}
    path = f"/webhooks/{hook['id']}"
    assert api.get(path, token=team.owner, org=team.org_id).data == hook
    assert api.get("/webhooks", token=team.owner, org=team.slug).data["webhooks"] == [hook]

    # When it is patched: another URL, all events, paused, a rotated secret
    patched = api.patch(path, {"url": "https://other.example.com/in", "events": ["*"], "active": False,
                               "secret": "rotated-secret-0123456789"}, token=team.owner, org=team.slug)
    assert patched.status == 200, patched.body
    assert (patched.data["url"], patched.data["events"], patched.data["active"]) == (
        "https://other.example.com/in", ["*"], False)
    nothing = api.patch(path, {}, token=team.owner, org=team.slug)
    assert (nothing.status, nothing.code) == (400, "VALIDATION_ERROR")

    # When it is deleted, it is gone
    assert api.delete(path, token=team.owner, org=team.slug).status == 204
    for reply in (api.get(path, token=team.owner, org=team.slug), api.delete(path, token=team.owner, org=team.slug),
                  api.patch(path, {"active": True}, token=team.owner, org=team.slug)):
        assert (reply.status, reply.code) == (404, "WEBHOOK_NOT_FOUND")
    assert api.get("/webhooks", token=team.owner, org=team.slug).data["webhooks"] == []


def test_the_secret_is_never_returned(api: Api, team: Team) -> None:
    hook = register(api, team)
    rotated = "rotated-secret-abcdefghijkl"
    replies = [hook, api.get(f"/webhooks/{hook.data['id']}", token=team.owner, org=team.slug),
               api.get("/webhooks", token=team.owner, org=team.slug),
               api.patch(f"/webhooks/{hook.data['id']}", {"secret": rotated}, token=team.owner, org=team.slug)]
    for reply in replies:
        assert reply.status < 300 and SECRET.encode() not in reply.raw and rotated.encode() not in reply.raw
        assert "secret" not in json.dumps(reply.data)


def test_only_admins_and_owners_manage_webhooks(api: Api, team: Team) -> None:
    # Given an admin, a developer and a viewer of the organization, and an outsider
    admin, developer, viewer = (member(api, team, role) for role in ("admin", "developer", "viewer"))
    outsider, _ = api.signed_up("outsider@else.example.com")
    # Then the admin may, like the owner
    created = register(api, team, token=admin)
    assert created.status == 201, created.body
    path = f"/webhooks/{created.data['id']}"
    # And a developer or viewer is refused every operation with 403
    for token in (developer, viewer):
        for reply in (register(api, team, token=token), api.get("/webhooks", token=token, org=team.slug),
                      api.get(path, token=token, org=team.slug), api.delete(path, token=token, org=team.slug),
                      api.patch(path, {"active": False}, token=token, org=team.slug),
                      api.post(f"{path}/ping", token=token, org=team.slug),
                      api.get(f"{path}/deliveries", token=token, org=team.slug)):
            assert (reply.status, reply.code) == (403, "FORBIDDEN"), reply.body
    # And a non-member cannot tell the organization exists; nobody anonymous gets in
    assert api.get("/webhooks", token=outsider, org=team.slug).code == "ORGANIZATION_NOT_FOUND"
    assert api.get("/webhooks", org=team.slug).status == 401


def test_the_default_organization_has_no_webhooks(api: Api, public_dns: None) -> None:
    # Given a signed-in user without X-Organization-ID (the shared default organization)
    token, _ = api.signed_up()
    # Then webhooks are refused with a message that says where they belong; anonymous callers must sign in
    for reply in (api.post("/webhooks", {"url": HOOK_URL, "events": ["*"], "secret": SECRET}, token=token),
                  api.get("/webhooks", token=token), api.get("/webhooks", token=token, org="default")):
        assert (reply.status, reply.code) == (403, "FORBIDDEN")
        assert "named organization" in reply.body["error"]["message"]
    assert api.get("/webhooks").status == 401


@pytest.mark.parametrize("url", ["http://127.0.0.1", "http://10.0.0.1", "http://169.254.169.254",
                                 "http://[::1]", "file:///etc/passwd", "http://localhost:8080/x",
                                 "http://[fd00:ec2::254]/", "http://0.0.0.0/", "https://user:pw@hooks.example.com/",
                                 "http://[fec0::1]/", "http://[2002:a00:1::1]/", "http://[64:ff9b::a9fe:a9fe]/",
                                 "http://[2001:db8::1]/", "http://[3fff::1]/", "http://100.64.0.1/",
                                 "http://192.0.2.1/"])
def test_unsafe_urls_are_refused_at_registration(api: Api, team: Team, url: str) -> None:
    reply = register(api, team, url=url)
    assert (reply.status, reply.code) == (400, "INVALID_WEBHOOK_URL"), reply.body
    assert reply.body["error"]["details"]["reason"]


def test_a_name_resolving_to_a_private_address_is_refused(api: Api, team: Team,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a public-looking name that resolves to a private address
    fake_dns(monkeypatch, {"intranet.example.net": ["192.168.10.20"]})
    # When it is registered, or patched in
    created = register(api, team, url="https://intranet.example.net/hook")
    hook = register(api, team).data
    patched = api.patch(f"/webhooks/{hook['id']}", {"url": "https://intranet.example.net/hook"},
                        token=team.owner, org=team.slug)
    # Then both are refused, saying which address and why
    for reply in (created, patched):
        assert (reply.status, reply.code) == (400, "INVALID_WEBHOOK_URL")
        assert reply.body["error"]["details"]["reason"] == "192.168.10.20 is a private address"


def test_a_name_that_does_not_resolve_is_refused(api: Api, team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*_: Any, **__: Any) -> list:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    reply = register(api, team, url="https://nowhere.invalid/hook")
    assert (reply.status, reply.code) == (400, "INVALID_WEBHOOK_URL")


def test_unknown_events_are_refused_with_the_valid_ones(api: Api, team: Team) -> None:
    reply = register(api, team, events=["module.created", "module.deleted"])
    assert (reply.status, reply.code) == (400, "UNKNOWN_EVENT")
    assert reply.body["error"]["details"] == {"unknown": ["module.deleted"], "valid": ["*", *EVENT_TYPES]}
    for fields in ({"events": []}, {"events": "module.created"}, {"secret": "short"}, {"secret": None},
                   {"url": None}, {"active": "yes"}):
        bad = register(api, team, **fields)
        assert (bad.status, bad.code) == (400, "VALIDATION_ERROR"), fields


def test_an_organization_has_a_bounded_number_of_webhooks(api: Api, team: Team,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib import wiring

    monkeypatch.setenv("SPOKE_WEBHOOK_MAX_PER_ORG", "2")
    wiring.reset()
    assert [register(api, team).status for _ in range(2)] == [201, 201]
    third = register(api, team)
    assert (third.status, third.code) == (422, "WEBHOOK_LIMIT_REACHED")


def test_pings_are_recorded_paginated_most_recent_first_and_expire(api: Api, team: Team,
                                                                   aws_env: dict[str, str]) -> None:
    # Given a webhook pinged five times
    hook = register(api, team).data
    path = f"/webhooks/{hook['id']}"
    pinged = []
    for _ in range(5):
        reply = api.post(f"{path}/ping", token=team.owner, org=team.slug)
        assert reply.status == 202, reply.body
        assert (reply.data["event"], reply.data["status"], reply.data["attempts"]) == ("webhook.ping", "queued", 0)
        pinged.append(reply.data["id"])
        time.sleep(0.002)
    # When the history is read two at a time
    seen, cursor = [], None
    while True:
        query = f"?page_size=2&cursor={cursor}" if cursor else "?page_size=2"
        page = api.get(f"{path}/deliveries{query}", token=team.owner, org=team.slug)
        assert page.status == 200, page.body
        seen += [d["id"] for d in page.data["deliveries"]]
        cursor = page.data["pagination"]["next_cursor"]
        if not cursor:
            break
    # Then it holds every delivery, most recent first
    assert seen == list(reversed(pinged))
    # And each item expires by the table's TTL attribute, about 30 days out
    assert load_template()["Resources"]["Table"]["Properties"]["TimeToLiveSpecification"]["AttributeName"] == \
        "expires_at_epoch"
    item = from_item(boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=aws_env["SPOKE_TABLE_NAME"],
        Key=to_item(keys.delivery_key(team.org_id, hook["id"], seen[0])))["Item"])
    assert abs(item["expires_at_epoch"] - (time.time() + 30 * 86400)) < 120
    # And a cursor cannot be edited or reused for another webhook
    other = register(api, team).data
    first = api.get(f"{path}/deliveries?page_size=2", token=team.owner, org=team.slug).data["pagination"]
    for bad in (first["next_cursor"][:-3] + "AAA",):
        assert api.get(f"{path}/deliveries?cursor={bad}", token=team.owner, org=team.slug).code == "INVALID_CURSOR"
    elsewhere = api.get(f"/webhooks/{other['id']}/deliveries?cursor={first['next_cursor']}", token=team.owner,
                        org=team.slug)
    assert (elsewhere.status, elsewhere.code) == (400, "INVALID_CURSOR")
    assert api.get(f"{path}/deliveries?page_size=500", token=team.owner, org=team.slug).code == "VALIDATION_ERROR"


def test_paused_webhooks_are_not_pinged_and_unknown_deliveries_are_404(api: Api, team: Team) -> None:
    hook = register(api, team, active=False).data
    path = f"/webhooks/{hook['id']}"
    paused = api.post(f"{path}/ping", token=team.owner, org=team.slug)
    assert (paused.status, paused.code) == (409, "WEBHOOK_INACTIVE")
    api.patch(path, {"active": True}, token=team.owner, org=team.slug)
    missing = api.post(f"{path}/deliveries/dlv-000000000000nothing/redeliver", token=team.owner, org=team.slug)
    assert (missing.status, missing.code) == (404, "DELIVERY_NOT_FOUND")
    assert api.get("/webhooks/whk-nope/deliveries", token=team.owner, org=team.slug).code == "WEBHOOK_NOT_FOUND"
