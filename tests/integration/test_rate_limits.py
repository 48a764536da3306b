"""Rate limits per organization, user and address through the API (moto + chalice.test.Client), at the
contract's rates (SPOKE_PLANS unset: free 100, professional 1,000, enterprise 10,000 per hour).

The clock of `services().rate_limits` is fixed, then moved into the next hour; the source address is
chalice's local `sourceIp` (LambdaEventConverter.LOCAL_SOURCE_IP). AWS calls are counted with botocore
event hooks, and the counter store is made to fail with one.
"""
from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from chalice.local import LambdaEventConverter
from chalice.test import Client

from chalicelib import wiring
from chalicelib.adapters import aws, keys
from tests.clock import Clock
from tests.integration.api import Api, Reply

PASSWORD = "correct-horse-battery-staple"
HOUR = 3600
WINDOW_START = 1_764_493_200  # an epoch hour; the fixed clock stands 20 minutes into it
NOW = WINDOW_START + 1200
RESET = WINDOW_START + HOUR
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def api(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Iterator[Api]:
    """Given the registry at the contract's rates, its rate-limit clock fixed at NOW."""
    monkeypatch.delenv("SPOKE_PLANS")
    wiring.reset()
    wiring.services().rate_limits.clock = clock
    from app import app

    with Client(app) as client:
        yield Api(client)


def _rate(reply: Reply) -> tuple[int, int, int]:
    return tuple(int(reply.headers[name]) for name in RATE_HEADERS)  # type: ignore[return-value]


def _owner_of(api: Api, *slugs: str) -> tuple[str, dict[str, str]]:
    """A signed-up user owning an organization per slug (these requests count per address and user):
    their token and the organizations' ids by slug."""
    token, _ = api.signed_up(password=PASSWORD)
    ids = {}
    for slug in slugs:
        created = api.post("/organizations", {"name": slug.title(), "slug": slug}, token=token)
        assert created.status == 201, created.body
        ids[slug] = created.data["id"]
    return token, ids


def _counter(aws_env: dict[str, str], scope: str, window_start: int = WINDOW_START) -> int | None:
    """The stored count of one counter item, read with the test's own client (None: no such item)."""
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=aws_env["SPOKE_TABLE_NAME"],
        Key={k: {"S": v} for k, v in keys.counter_key(scope, window_start).items()},
        ConsistentRead=True).get("Item")
    return int(item["hits"]["N"]) if item else None


def test_a_free_organization_gets_100_requests_an_hour_then_429_until_the_next_hour(
        api: Api, clock: Clock, aws_env: dict[str, str]) -> None:
    # Given the owner of two free organizations
    token, ids = _owner_of(api, "acme", "beta")
    # When Acme makes 100 requests in this hour (a 404 among them)
    replies = [api.get("/modules", token=token, org="acme") for _ in range(99)]
    replies.append(api.get("/modules/missing", token=token, org="acme"))
    # Then each is answered, with the limit, what remains (99 .. 0) and the reset on every response
    assert [r.status for r in replies] == [200] * 99 + [404]
    assert [_rate(r) for r in replies] == [(100, remaining, RESET) for remaining in range(99, -1, -1)]
    # When the 101st comes (a create)
    over = api.post("/modules", {"name": "late"}, token=token, org="acme")
    # Then it is a 429 in the envelope, saying the limit, the plan and when it resets
    assert over.status == 429
    assert _rate(over) == (100, 0, RESET)
    assert over.headers["Retry-After"] == str(RESET - NOW)
    assert over.headers["X-Request-ID"] == over.body["meta"]["request_id"]
    assert over.body["data"] is None and over.code == "RATE_LIMIT_EXCEEDED"
    error = over.body["error"]
    assert "100 requests per hour" in error["message"] and "free plan" in error["message"]
    assert str(RESET) in error["message"]
    assert {k: error["details"][k] for k in ("limit", "plan", "scope", "reset")} == {
        "limit": 100, "plan": "free", "scope": "org", "reset": RESET}
    # And the other organization, and the owner in the default organization, are unaffected
    assert _rate(api.get("/modules", token=token, org="beta")) == (100, 99, RESET)
    in_default = api.get("/modules", token=token)
    assert in_default.status == 200 and int(in_default.headers["X-RateLimit-Remaining"]) < 99  # counted per user
    # And each organization's count is an item of its own (no shared partition)
    assert _counter(aws_env, f"org#{ids['acme']}") == 101
    assert _counter(aws_env, f"org#{ids['beta']}") == 1
    # When the next hour starts
    clock.now = RESET + 5
    fresh = api.get("/modules/late", token=token, org="acme")
    # Then Acme counts from zero again, and the refused create never ran
    assert _rate(fresh) == (100, 99, RESET + HOUR)
    assert fresh.status == 404 and fresh.code == "MODULE_NOT_FOUND"


def test_a_professional_organization_gets_1000_an_hour(api: Api, aws_env: dict[str, str]) -> None:
    # Given an organization the operator moved to the professional plan
    token, _ = api.signed_up(password=PASSWORD)
    org_id = api.post("/organizations", {"name": "Pro", "slug": "pro"}, token=token).data["id"]
    boto3.client("dynamodb", region_name="us-east-1").update_item(
        TableName=aws_env["SPOKE_TABLE_NAME"], Key={k: {"S": v} for k, v in keys.org_key(org_id).items()},
        UpdateExpression="SET #plan = :plan", ExpressionAttributeNames={"#plan": "plan"},
        ExpressionAttributeValues={":plan": {"S": "professional"}})
    # When it makes a request
    reply = api.get("/modules", token=token, org="pro")
    # Then its limit is the professional plan's
    assert reply.status == 200 and _rate(reply) == (1000, 999, RESET)


def test_an_organization_named_in_the_path_is_the_one_counted(api: Api) -> None:
    token, _ = _owner_of(api, "acme")
    first = api.get("/organizations/acme/members", token=token)
    second = api.get("/organizations/acme/members", token=token, org="default")  # the path wins, as in the view
    assert (first.status, _rate(first), _rate(second)) == (200, (100, 99, RESET), (100, 98, RESET))


def test_anonymous_callers_are_counted_per_source_address(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given anonymous reads from one address, up to its free-plan limit and over it
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", "203.0.113.7")
    replies = [api.get("/modules") for _ in range(101)]
    assert [_rate(r) for r in replies[:100]] == [(100, remaining, RESET) for remaining in range(99, -1, -1)]
    assert replies[100].status == 429 and replies[100].body["error"]["details"]["scope"] == "ip"
    # When another address calls
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", "198.51.100.20")
    other = api.get("/modules")
    # Then it has its own count
    assert other.status == 200 and _rate(other) == (100, 99, RESET)


def test_an_invalid_bearer_counts_as_its_address(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", "203.0.113.8")
    assert _rate(api.get("/modules")) == (100, 99, RESET)
    forged = api.get("/modules", token="not-a-token", org="acme")
    # The 401 is counted against the address and carries the headers
    assert forged.status == 401 and _rate(forged) == (100, 98, RESET)


def test_signed_in_callers_in_the_default_organization_are_counted_per_user(api: Api) -> None:
    # Given two users behind one address
    alice, _ = api.signed_up(password=PASSWORD)
    bob, _ = api.signed_up(password=PASSWORD)
    # When each reads in the default organization
    alice_first, alice_second = api.get("/modules", token=alice), api.get("/modules", token=alice)
    bob_first = api.get("/modules", token=bob)
    # Then each has a count of their own, apart from the anonymous count of their address
    assert [_rate(r)[1] for r in (alice_first, alice_second, bob_first)] == [99, 98, 99]
    assert _rate(api.get("/modules"))[1] == 95  # the address: 2 registrations and 2 logins before


def test_a_non_member_naming_an_organization_spends_their_own_budget_not_its(api: Api,
                                                                              aws_env: dict[str, str]) -> None:
    # Given Acme and a stranger
    owner, ids = _owner_of(api, "acme")
    stranger, stranger_id = api.signed_up(password=PASSWORD)
    # When the stranger sends requests naming Acme
    replies = [api.get("/modules", token=stranger, org="acme") for _ in range(3)]
    # Then they are refused as ever (404), counted per user, and Acme's count is untouched
    assert [r.status for r in replies] == [404] * 3
    assert [_rate(r)[1] for r in replies] == [99, 98, 97]
    assert _counter(aws_env, f"user#{stranger_id}") == 3
    assert _counter(aws_env, f"org#{ids['acme']}") is None


def test_health_is_not_counted_and_carries_no_rate_headers(api: Api, aws_env: dict[str, str]) -> None:
    for _ in range(3):
        health = api.get("/health")
        assert health.status == 200
        assert not any(h.lower().startswith("x-ratelimit") for h in health.headers)
    assert _counter(aws_env, "ip#127.0.0.1") is None
    assert _rate(api.get("/modules")) == (100, 99, RESET)


def test_a_failing_counter_store_lets_requests_through_without_rate_headers(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    # Given a signed-in owner, and a counter store that then fails (a network error on COUNTER# updates)
    token, _ = _owner_of(api, "acme")
    refused: list[str] = []

    def fail_counters(params: dict[str, Any], **_: Any) -> None:
        if b"COUNTER#" in params["body"]:
            refused.append(json.loads(params["body"])["Key"]["PK"]["S"])
            raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    events = aws.client("dynamodb").meta.events  # the application's client (created by the calls above)
    events.register("before-call.dynamodb.UpdateItem", fail_counters, unique_id="fail-counters")
    try:
        with caplog.at_level(logging.WARNING, logger="spoke.rate_limits"):
            created = api.post("/modules", {"name": "user"}, token=token, org="acme")
            read = api.get("/modules/user", token=token, org="acme")
    finally:
        events.unregister("before-call.dynamodb.UpdateItem", unique_id="fail-counters")
    # Then the requests are answered as usual, the write is whole, and no rate header is made up
    assert (created.status, read.status) == (201, 200)
    assert read.data["name"] == "user"
    assert not any(h.lower().startswith("x-ratelimit") for r in (created, read) for h in r.headers)
    # And each failure was logged as a warning naming the scope
    assert len(refused) == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("org#org-" in w for w in warnings)
    # And once the store is back, counting resumes where it was
    assert _rate(api.get("/modules/user", token=token, org="acme"))[1] == 99


class Calls:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def before_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        body = params.get("body")
        pk = ""
        if isinstance(body, bytes) and body[:1] == b"{":
            pk = ((json.loads(body).get("Key") or {}).get("PK") or {}).get("S", "")
        self.seen.append((model.name, pk))


def test_a_request_costs_exactly_one_more_dynamodb_call(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                                       clock: Clock) -> None:
    """The same requests, each on a cold container (every cache empty), without and with rate limits:
    the difference is the counter's UpdateItem and nothing else (authentication and membership are
    read once, by the middleware, and reused by the view)."""
    from app import app
    from chalicelib.api import middleware

    monkeypatch.delenv("SPOKE_PLANS")
    calls = Calls()
    aws.session().events.register("before-call.*.*", calls.before_call)
    with Client(app) as client:
        api = Api(client)
        owner, _ = _owner_of(api, "acme")
        stranger, _ = api.signed_up(password=PASSWORD)
        api.module(owner, "user", org="acme")
        names = itertools.count()
        requests = {
            "member reads in a named org": lambda: api.get("/modules/user", token=owner, org="acme"),
            "member writes in a named org": lambda: api.post("/modules", {"name": f"m{next(names)}"}, token=owner,
                                                             org="acme"),
            "member lists the org's members": lambda: api.get("/organizations/acme/members", token=owner),
            "non-member names the org": lambda: api.get("/modules/user", token=stranger, org="acme"),
            "signed in, default org": lambda: api.get("/modules", token=owner),
            "anonymous": lambda: api.get("/modules"),
            "invalid bearer": lambda: api.get("/modules", token="nope"),
        }

        def cold(request: Any, counted: bool) -> tuple[int, list[tuple[str, str]]]:
            wiring.reset()
            if counted:
                wiring.services().rate_limits.clock = clock
            else:
                with monkeypatch.context() as off:  # the same middleware, counting nothing
                    off.setattr(middleware, "rate_scope", lambda request: None)
                    wiring.services().rate_limits = _NoCount()  # type: ignore[assignment]
                    calls.seen.clear()
                    return request().status, list(calls.seen)
            calls.seen.clear()
            return request().status, list(calls.seen)

        for name, request in requests.items():
            status_off, without = cold(request, counted=False)
            status_on, with_limits = cold(request, counted=True)
            assert status_on == status_off, name
            extra = list(with_limits)
            for call in without:
                assert call in extra, (name, without, with_limits)
                extra.remove(call)
            assert [(op, pk.split("#")[0]) for op, pk in extra] == [("UpdateItem", "COUNTER")], name


class _NoCount:
    def hit(self, scope: Any) -> None:
        return None


def test_chalices_own_errors_keep_the_rate_headers(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an address with one request counted
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", "203.0.113.9")
    assert _rate(api.get("/modules"))[1] == 99
    # When Chalice itself refuses the next one (a content type no route takes), answered in our envelope
    refused = api.post("/modules", raw=b"name=x", headers={"Content-Type": "text/plain"})
    # Then it is counted and says so
    assert refused.status == 415 and refused.code == "UNSUPPORTED_MEDIA_TYPE"
    assert _rate(refused) == (100, 98, RESET)
