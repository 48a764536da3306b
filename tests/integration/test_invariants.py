"""Invariants that span items live in conditional writes, so no interleaving of requests breaks them.

The races are made deterministic here: a botocore hook runs a second request in the middle of the
first, after it has read everything it reads and just before its transaction reaches DynamoDB (the
moment a check-then-act design loses). tests/e2e/test_races.py runs the same races over real HTTP.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from chalicelib import wiring
from chalicelib.adapters import aws
from tests.integration.api import Api, Reply


@pytest.fixture
def meanwhile() -> Iterator[Callable[[Callable[[], Reply]], list[Reply]]]:
    """`meanwhile(other)`: the next transaction the application sends first lets `other` run to its end."""
    events = aws.client("dynamodb").meta.events
    pending: list[Callable[[], Reply]] = []
    done: list[Reply] = []

    def interleave(**_: Any) -> None:
        if pending:
            done.append(pending.pop()())  # the other request's own transactions pass straight through

    events.register("before-call.dynamodb.TransactWriteItems", interleave, unique_id="meanwhile")

    def arm(other: Callable[[], Reply]) -> list[Reply]:
        pending.append(other)
        return done

    yield arm
    events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="meanwhile")


@pytest.fixture
def two_owners(api: Api) -> dict[str, Any]:
    """Given an organization with two owners, A and B."""
    a_token, a_id = api.signed_up()
    b_email = f"{uuid.uuid4().hex[:10]}@example.com"
    b_token, b_id = api.signed_up(b_email)
    org = api.post("/organizations", {"name": "Two", "slug": f"two-{uuid.uuid4().hex[:6]}"}, token=a_token)
    assert org.status == 201, org.body
    org_id = org.data["id"]
    assert api.post(f"/organizations/{org_id}/members", {"email": b_email, "role": "owner"},
                    token=a_token).status == 201
    return {"org": org_id, "a": (a_token, a_id), "b": (b_token, b_id)}


def owners(api: Api, org: str, token: str) -> list[str]:
    reply = api.get(f"/organizations/{org}/members", token=token, org=org)
    assert reply.status == 200, reply.body
    return [m["user_id"] for m in reply.data["members"] if m["role"] == "owner"]


def leave(api: Api, org: str, who: tuple[str, str]) -> Reply:
    return api.delete(f"/organizations/{org}/members/{who[1]}", token=who[0], org=org)


def test_two_owners_leaving_at_once_keep_one(api: Api, two_owners: dict[str, Any], meanwhile: Any) -> None:
    org, a, b = two_owners["org"], two_owners["a"], two_owners["b"]
    # When A leaves, and B leaves while A's removal is about to be written
    during = meanwhile(lambda: leave(api, org, b))
    first = leave(api, org, a)
    # Then B left, and A, the last owner, was refused
    assert [r.status for r in during] == [204]
    assert (first.status, first.code) == (422, "LAST_OWNER")
    assert owners(api, org, a[0]) == [a[1]]
    assert api.get(f"/organizations/{org}", token=a[0]).data["member_count"] == 1


def test_the_last_owner_stays_in_an_organization_from_before_the_owner_count(
        api: Api, two_owners: dict[str, Any], aws_env: dict[str, str]) -> None:
    org, a, b = two_owners["org"], two_owners["a"], two_owners["b"]
    # Given the organization's item has no owner_count (written before it existed)
    boto3.client("dynamodb", region_name="us-east-1").update_item(
        TableName=aws_env["SPOKE_TABLE_NAME"], Key={"PK": {"S": f"ORG#{org}"}, "SK": {"S": "META"}},
        UpdateExpression="REMOVE owner_count")
    # When one owner leaves, then the other tries
    assert leave(api, org, b).status == 204
    last = leave(api, org, a)
    # Then the count was taken from the members on first need: one left, the last one stays
    assert (last.status, last.code) == (422, "LAST_OWNER")
    assert owners(api, org, a[0]) == [a[1]]


def test_an_owner_added_to_an_organization_from_before_the_owner_count_is_counted(
        api: Api, two_owners: dict[str, Any], aws_env: dict[str, str]) -> None:
    org, a, b = two_owners["org"], two_owners["a"], two_owners["b"]
    boto3.client("dynamodb", region_name="us-east-1").update_item(
        TableName=aws_env["SPOKE_TABLE_NAME"], Key={"PK": {"S": f"ORG#{org}"}, "SK": {"S": "META"}},
        UpdateExpression="REMOVE owner_count")
    # When a third owner joins, then two of the three leave
    c_email = f"{uuid.uuid4().hex[:10]}@example.com"
    c = api.signed_up(c_email)
    assert api.post(f"/organizations/{org}/members", {"email": c_email, "role": "owner"}, token=a[0],
                    org=org).status == 201
    assert leave(api, org, b).status == 204
    assert leave(api, org, c).status == 204
    # Then the third removal is the last owner's, refused
    assert leave(api, org, a).code == "LAST_OWNER"


def test_a_member_who_is_not_an_owner_leaves_freely(api: Api, two_owners: dict[str, Any]) -> None:
    org, a = two_owners["org"], two_owners["a"]
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    dev = api.signed_up(email)
    assert api.post(f"/organizations/{org}/members", {"email": email, "role": "developer"}, token=a[0],
                    org=org).status == 201
    assert leave(api, org, dev).status == 204
    again = api.delete(f"/organizations/{org}/members/{dev[1]}", token=a[0], org=org)
    assert (again.status, again.code) == (404, "MEMBER_NOT_FOUND")


@pytest.fixture
def team(api: Api, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Given an organization allowed 2 webhooks."""
    monkeypatch.setenv("SPOKE_WEBHOOK_MAX_PER_ORG", "2")
    monkeypatch.setenv("SPOKE_WEBHOOK_ALLOW_LOOPBACK", "true")
    wiring.reset()
    token, _ = api.signed_up()
    org = api.post("/organizations", {"name": "Hooks", "slug": f"hooks-{uuid.uuid4().hex[:6]}"}, token=token)
    assert org.status == 201
    return {"token": token, "org": org.data["id"]}


def create_webhook(api: Api, team: dict[str, str]) -> Reply:
    return api.post("/webhooks", {"url": f"http://127.0.0.1:9/{uuid.uuid4().hex[:6]}", "events": ["*"],
                                  "secret": "limit-secret-0123456789abcdef"}, token=team["token"], org=team["org"])


def listed(api: Api, team: dict[str, str]) -> int:
    return len(api.get("/webhooks", token=team["token"], org=team["org"]).data["webhooks"])


def test_a_webhook_created_meanwhile_counts_against_the_limit(api: Api, team: dict[str, str],
                                                              meanwhile: Any) -> None:
    # Given one webhook of the two allowed
    assert create_webhook(api, team).status == 201
    # When a second is created while a third is about to be written
    during = meanwhile(lambda: create_webhook(api, team))
    third = create_webhook(api, team)
    # Then the one that committed first got the last place, and the other was refused
    assert [r.status for r in during] == [201]
    assert (third.status, third.code) == (422, "WEBHOOK_LIMIT_REACHED")
    assert listed(api, team) == 2


def test_deleting_a_webhook_frees_its_place(api: Api, team: dict[str, str]) -> None:
    hooks = [create_webhook(api, team).data for _ in range(2)]
    assert create_webhook(api, team).code == "WEBHOOK_LIMIT_REACHED"
    assert api.delete(f"/webhooks/{hooks[0]['id']}", token=team["token"], org=team["org"]).status == 204
    assert api.delete(f"/webhooks/{hooks[0]['id']}", token=team["token"], org=team["org"]).status == 404
    assert create_webhook(api, team).status == 201
    assert create_webhook(api, team).code == "WEBHOOK_LIMIT_REACHED"


def test_the_limit_holds_for_an_organization_from_before_the_webhook_count(
        api: Api, team: dict[str, str], aws_env: dict[str, str]) -> None:
    # Given two webhooks, and the organization's item without webhook_count (written before it existed)
    hooks = [create_webhook(api, team).data for _ in range(2)]
    boto3.client("dynamodb", region_name="us-east-1").update_item(
        TableName=aws_env["SPOKE_TABLE_NAME"], Key={"PK": {"S": f"ORG#{team['org']}"}, "SK": {"S": "META"}},
        UpdateExpression="REMOVE webhook_count")
    # Then a third is refused (the count is taken from the webhooks on first need)
    assert create_webhook(api, team).code == "WEBHOOK_LIMIT_REACHED"
    # And a deletion frees a place as before
    assert api.delete(f"/webhooks/{hooks[0]['id']}", token=team["token"], org=team["org"]).status == 204
    assert create_webhook(api, team).status == 201
    assert listed(api, team) == 2
