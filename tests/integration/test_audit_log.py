"""The audit trail of an organization: who did what, when, to which resource, stored with a TTL and read
back by its admins at GET /organizations/{id}/audit (newest first, filters, cursor); a failing store never
fails the mutation and leaves the record in the log."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.adapters import aws, keys
from tests.integration.api import Api


@pytest.fixture
def acme(api: Api) -> dict[str, Any]:
    """Given Acme: its owner, and Dev (a developer) and Vi (a viewer) added by the owner."""
    owner, owner_id = api.signed_up("owner@acme.test")
    org = api.post("/organizations", {"name": "Acme Corp", "slug": "acme"}, token=owner).data
    people = {"owner": owner, "owner_id": owner_id, "org": org["id"], "added": []}
    for role in ("developer", "viewer"):
        token, user_id = api.signed_up(f"{role}@acme.test")
        added = api.post(f"/organizations/{org['id']}/members", {"email": f"{role}@acme.test", "role": role},
                         token=owner)
        assert added.status == 201, added.body
        people[role], people[f"{role}_id"] = token, user_id
        people["added"].append(added.headers["X-Request-ID"])
    return people


def _trail(api: Api, acme: dict[str, Any], query: str = "", token: str | None = None) -> Any:
    return api.get(f"/organizations/{acme['org']}/audit{query}", token=token or acme["owner"])


def _three_mutations(api: Api, acme: dict[str, Any]) -> list[str]:
    """Dev creates a module and edits it, the owner creates another: their request ids, in order."""
    done = [api.post("/modules", {"name": "user"}, token=acme["developer"], org="acme"),
            api.patch("/modules/user", {"description": "Users"}, token=acme["developer"], org="acme"),
            api.post("/modules", {"name": "billing"}, token=acme["owner"], org="acme")]
    assert [r.status for r in done] == [201, 200, 201], [r.body for r in done]
    return [r.headers["X-Request-ID"] for r in done]


def test_admins_read_who_did_what_to_which_resource_newest_first(api: Api, acme: dict[str, Any]) -> None:
    # Given three mutations by two users (after the owner added two members)
    ids = _three_mutations(api, acme)
    # When the owner reads the trail
    reply = _trail(api, acme)
    assert reply.status == 200, reply.body
    records = reply.data["records"]
    # Then every mutation is there, newest first, each with its request id
    assert [r["request_id"] for r in records] == ids[::-1] + acme["added"][::-1]
    newest, edit = records[0], records[1]
    assert newest["action"] == "POST /modules" and newest["actor"]["user_id"] == acme["owner_id"]
    assert (edit["action"], edit["path"], edit["resource"], edit["status"]) == (
        "PATCH /modules/{name}", "/modules/user", {"name": "user"}, 200)
    assert edit["actor"] == {"user_id": acme["developer_id"], "api_token_id": None}
    assert all(r["organization"] == acme["org"] for r in records)
    assert all(r["at"].endswith("Z") for r in records) and records[0]["at"] >= records[-1]["at"]
    assert reply.data["pagination"] == {"limit": 20, "has_more": False, "next_cursor": None}


def test_filters_by_actor_and_action(api: Api, acme: dict[str, Any]) -> None:
    ids = _three_mutations(api, acme)
    by_dev = _trail(api, acme, f"?actor={acme['developer_id']}").data["records"]
    assert [r["request_id"] for r in by_dev] == [ids[1], ids[0]]
    creates = _trail(api, acme, "?action=POST%20/modules").data["records"]
    assert [r["request_id"] for r in creates] == [ids[2], ids[0]]
    both = _trail(api, acme, f"?actor={acme['developer_id']}&action=POST%20/modules").data["records"]
    assert [r["request_id"] for r in both] == [ids[0]]


def test_pages_follow_the_cursor(api: Api, acme: dict[str, Any]) -> None:
    ids = _three_mutations(api, acme)
    expected = ids[::-1] + acme["added"][::-1]
    seen, cursor = [], None
    for _ in range(3):
        page = _trail(api, acme, "?limit=2" + (f"&cursor={cursor}" if cursor else "")).data
        seen += [r["request_id"] for r in page["records"]]
        cursor = page["pagination"]["next_cursor"]
        assert page["pagination"]["has_more"] is (cursor is not None)
        if cursor is None:
            break
    assert seen == expected
    # A cursor is for its own listing only, and a bad limit is a clear 400
    first = _trail(api, acme, "?limit=2").data["pagination"]["next_cursor"]
    assert _trail(api, acme, f"?limit=2&action=POST%20/modules&cursor={first}").code == "INVALID_CURSOR"
    bad = _trail(api, acme, "?limit=0")
    assert bad.status == 400 and bad.body["error"]["validation_errors"][0]["field"] == "limit"


def test_each_stored_record_expires_after_the_retention_period(api: Api, acme: dict[str, Any],
                                                               aws_env: dict[str, str]) -> None:
    _three_mutations(api, acme)
    items = boto3.client("dynamodb", region_name="us-east-1").query(
        TableName=aws_env["SPOKE_TABLE_NAME"], KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.audit_partition(acme["org"])}})["Items"]
    assert len(items) == 5
    ninety_days = 90 * 24 * 3600
    for item in items:
        remaining = int(item["expires_at_epoch"]["N"]) - time.time()
        assert ninety_days - 3600 < remaining <= ninety_days


def test_only_admins_and_owners_read_it(api: Api, acme: dict[str, Any]) -> None:
    _three_mutations(api, acme)
    for role in ("developer", "viewer"):
        refused = _trail(api, acme, token=acme[role])
        assert (refused.status, refused.code) == (403, "FORBIDDEN"), refused.body
    stranger, _ = api.signed_up("stranger@example.com")
    hidden = _trail(api, acme, token=stranger)
    assert (hidden.status, hidden.code) == (404, "ORGANIZATION_NOT_FOUND")
    assert api.get(f"/organizations/{acme['org']}/audit").status == 401
    # An admin reads it
    admin, _ = api.signed_up("admin@acme.test")
    assert api.post(f"/organizations/{acme['org']}/members", {"email": "admin@acme.test", "role": "admin"},
                    token=acme["owner"]).status == 201
    assert _trail(api, acme, token=admin).status == 200


def test_the_default_organizations_mutations_are_logged_not_stored(api: Api, acme: dict[str, Any],
                                                                   aws_env: dict[str, str], capsys) -> None:
    capsys.readouterr()
    created = api.post("/modules", {"name": "shared"}, token=acme["developer"])
    assert created.status == 201
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"level"')]
    [audit] = [line["audit"] for line in lines if "audit" in line]
    assert (audit["organization"], audit["action"], audit["actor"]) == ("default", "POST /modules",
                                                                          acme["developer_id"])
    assert api.get("/organizations/default/audit", token=acme["developer"]).status == 403


@pytest.fixture
def audit_store_down() -> Iterator[list[str]]:
    """The audit item's PutItem fails (the table is unreachable for it); every other call works."""
    failed: list[str] = []

    def fail(params: dict[str, Any], **_: Any) -> None:
        if params.get("Item", {}).get("PK", {}).get("S", "").startswith("AUDIT#"):
            failed.append(params["Item"]["SK"]["S"])
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "PutItem")

    client = aws.client("dynamodb")
    client.meta.events.register("before-parameter-build.dynamodb.PutItem", fail, unique_id="audit-fault")
    try:
        yield failed
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb.PutItem", unique_id="audit-fault")


def test_a_failing_store_neither_fails_the_mutation_nor_loses_the_record(
        api: Api, acme: dict[str, Any], audit_store_down: list[str], capsys) -> None:
    capsys.readouterr()
    # When a module is created while the audit item cannot be written
    created = api.post("/modules", {"name": "orders"}, token=acme["developer"], org="acme")
    # Then the create succeeded and is readable
    assert created.status == 201, created.body
    assert api.get("/modules/orders", token=acme["developer"], org="acme").status == 200
    assert len(audit_store_down) == 1
    # And the whole record is in an ERROR line of the log
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"level"')]
    [error] = [line for line in lines if line["level"] == "ERROR" and "audit" in line]
    assert error["audit"]["request_id"] == created.headers["X-Request-ID"]
    assert (error["audit"]["action"], error["audit"]["actor"], error["audit"]["organization"]) == (
        "POST /modules", acme["developer_id"], acme["org"])
    # And the trail simply lacks it (nothing half-written)
    trail = _trail(api, acme).data["records"]
    assert created.headers["X-Request-ID"] not in [r["request_id"] for r in trail]
