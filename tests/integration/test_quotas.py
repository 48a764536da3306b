"""Plans and quotas on moto: each of the six quotas refused at its limit (QUOTA_EXCEEDED with the quota,
the usage and the limit), atomic with the write it guards, counted per user in the default
organization (whose own item no request writes), and shown to members; the plan is the operator's."""
from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib import wiring
from chalicelib.adapters import aws
from chalicelib.domain.errors import QuotaExceeded
from chalicelib.domain.models import RequestContext
from tests.integration.api import Api, Reply
from tests.integration.outbox import relay_outbox
from tests.integration.test_webhooks_http import fake_dns
from tests.plans import UNLIMITED

PASSWORD = "correct-horse-battery-staple"
USER_PROTO = 'syntax = "proto3";\npackage user.v1;\nmessage User { string id = 1; }\n'
HOOK = {"url": "https://hooks.example.com/spoke", "events": ["*"], "secret": "whsec-0123456789abcdef0123456789"}


def plans(**free: int) -> str:
    """SPOKE_PLANS: every limit of every plan out of reach, but these of the free plan."""
    generous = {limit: UNLIMITED for limit in ("requests_per_hour", "modules", "versions_per_module", "stored_bytes",
                                               "members", "webhooks", "compiles_per_day")}
    return json.dumps({"free": {**generous, **free}, "professional": generous, "enterprise": generous})


@pytest.fixture
def limit(monkeypatch: pytest.MonkeyPatch, aws_env: dict[str, str]) -> Callable[..., None]:
    """Set the free plan's limits for this test (the services are rebuilt from the new settings)."""
    def apply(**free: int) -> None:
        monkeypatch.setenv("SPOKE_PLANS", plans(**free))
        monkeypatch.setenv("SPOKE_CACHE_SECONDS", "0")
        wiring.reset()
    return apply


def user(api: Api, email: str | None = None) -> str:
    token, _ = api.signed_up(email, password=PASSWORD)
    return token


def team(api: Api, owner: str, slug: str = "team") -> str:
    created = api.post("/organizations", {"name": slug.title(), "slug": slug}, token=owner)
    assert created.status == 201, created.body
    return created.data["id"]


def refused(reply: Reply, quota: str, usage: int, limit: int) -> None:
    assert (reply.status, reply.code) == (403, "QUOTA_EXCEEDED"), reply.body
    details = reply.body["error"]["details"]
    assert (details["quota"], details["usage"], details["limit"]) == (quota, usage, limit)


def usage_of(api: Api, token: str, org: str) -> dict[str, Any]:
    reply = api.get(f"/organizations/{org}/usage", token=token)
    assert reply.status == 200, reply.body
    return reply.data


def written_items() -> list[str]:
    """The items ("PK/SK") of every TransactWriteItems the application sends from now on (until its
    client is reset at the end of the test)."""
    seen: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        for operation in params["TransactItems"]:
            for body in operation.values():
                key = body.get("Key") or body.get("Item")
                seen.append(f"{key['PK']['S']}/{key['SK']['S']}")

    aws.client("dynamodb").meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", record,
                                                unique_id="quota-test-seen")
    return seen


# The plan is the operator's

def test_creating_an_organization_on_a_plan_is_refused_and_new_ones_are_free(api: Api) -> None:
    owner = user(api)
    # When someone asks for the enterprise plan at creation
    asked = api.post("/organizations", {"name": "Big", "slug": "big", "plan": "enterprise"}, token=owner)
    # Then it is refused clearly, and nothing was created
    assert (asked.status, asked.code) == (403, "FORBIDDEN")
    assert "operator" in asked.body["error"]["message"]
    assert api.get("/organizations/big", token=owner).status == 404
    # And without a plan the organization is on the free plan
    org_id = team(api, owner, "big")
    assert api.get(f"/organizations/{org_id}", token=owner).data["plan"] == "free"


def test_admins_rename_their_organization_and_nothing_else(api: Api) -> None:
    owner, admin, developer = user(api, "o@x.example.com"), user(api, "a@x.example.com"), user(api, "d@x.example.com")
    org_id = team(api, owner)
    for email, role in (("a@x.example.com", "admin"), ("d@x.example.com", "developer")):
        assert api.post(f"/organizations/{org_id}/members", {"email": email, "role": role}, token=owner).status == 201
    # When an admin renames it
    renamed = api.patch(f"/organizations/{org_id}", {"name": "Team Two"}, token=admin)
    # Then everyone sees the new name (slug and plan unchanged)
    assert renamed.status == 200, renamed.body
    assert (renamed.data["name"], renamed.data["slug"], renamed.data["plan"]) == ("Team Two", "team", "free")
    assert api.get("/organizations/team", token=developer).data["name"] == "Team Two"
    # And a developer may not
    assert api.patch(f"/organizations/{org_id}", {"name": "Mine"}, token=developer).status == 403
    # And nobody changes the plan, or the slug, this way
    plan = api.patch(f"/organizations/{org_id}", {"plan": "enterprise"}, token=owner)
    assert (plan.status, plan.code) == (403, "FORBIDDEN") and "operator" in plan.body["error"]["message"]
    slug = api.patch(f"/organizations/{org_id}", {"slug": "other"}, token=owner)
    assert (slug.status, slug.code) == (400, "VALIDATION_ERROR")
    assert slug.body["error"]["validation_errors"][0] | {"message": ""} == {
        "field": "slug", "code": "NOT_EDITABLE", "message": ""}
    assert api.patch(f"/organizations/{org_id}", {"name": ""}, token=owner).status == 400
    assert api.patch("/organizations/default", {"name": "Mine"}, token=owner).status == 403
    assert api.get(f"/organizations/{org_id}", token=owner).data["name"] == "Team Two"


# Each quota at its limit

def test_modules_quota_refuses_the_one_too_many(api: Api, limit: Callable[..., None]) -> None:
    limit(modules=2)
    owner = user(api)
    team(api, owner)
    for name in ("a", "b"):
        api.module(owner, name, org="team")
    # When a third module is created
    third = api.post("/modules", {"name": "c"}, token=owner, org="team")
    # Then it is refused with the quota, the usage and the limit, and does not exist
    refused(third, "modules", 2, 2)
    assert third.body["error"]["details"]["plan"] == "free"
    assert api.get("/modules/c", token=owner, org="team").status == 404
    assert usage_of(api, owner, "team")["usage"]["modules"] == 2


def test_versions_per_module_quota(api: Api, limit: Callable[..., None]) -> None:
    limit(versions_per_module=2)
    owner = user(api)
    team(api, owner)
    api.module(owner, "user", org="team")
    for version in ("v1.0.0", "v1.1.0"):
        assert api.publish(owner, "user", version, org="team").status == 201
    # When a third version is published
    third = api.publish(owner, "user", "v1.2.0", org="team")
    # Then it is refused, and the module keeps two versions
    refused(third, "versions_per_module", 2, 2)
    assert api.get("/modules/user/versions/v1.2.0", token=owner, org="team").status == 404
    # And another module still takes versions
    api.module(owner, "other", org="team")
    assert api.publish(owner, "other", "v1.0.0", org="team").status == 201


def test_stored_bytes_quota_counts_each_versions_files(api: Api, limit: Callable[..., None]) -> None:
    size = len(USER_PROTO.encode())
    limit(stored_bytes=2 * size + 10)
    owner = user(api)
    team(api, owner)
    api.module(owner, "user", org="team")
    for version in ("v1.0.0", "v1.1.0"):
        assert api.publish(owner, "user", version, org="team").status == 201
    # When a third version would pass the bytes limit
    third = api.publish(owner, "user", "v1.2.0", org="team")
    # Then it is refused with the bytes held and the limit
    refused(third, "stored_bytes", 2 * size, 2 * size + 10)
    assert usage_of(api, owner, "team")["usage"]["stored_bytes"] == 2 * size
    # And a version larger than the whole quota is refused the same way
    huge = api.publish(owner, "user", "v2.0.0", org="team", files={"user.proto": USER_PROTO + "//" + "x" * 400 + "\n"})
    refused(huge, "stored_bytes", 2 * size, 2 * size + 10)


def test_members_quota(api: Api, limit: Callable[..., None]) -> None:
    limit(members=2)
    owner = user(api)
    org_id = team(api, owner)
    user(api, "b@x.example.com")
    user(api, "c@x.example.com")
    assert api.post(f"/organizations/{org_id}/members", {"email": "b@x.example.com"}, token=owner).status == 201
    # When a third member is added to a team of two
    third = api.post(f"/organizations/{org_id}/members", {"email": "c@x.example.com"}, token=owner)
    # Then it is refused and they are not a member
    refused(third, "members", 2, 2)
    assert len(api.get(f"/organizations/{org_id}/members", token=owner).data["members"]) == 2


def test_webhooks_quota_is_the_plans(api: Api, limit: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"hooks.example.com": ["93.184.216.34"]})
    limit(webhooks=1)
    owner = user(api)
    team(api, owner)
    assert api.post("/webhooks", HOOK, token=owner, org="team").status == 201
    # When a second webhook is registered on a plan that allows one
    second = api.post("/webhooks", HOOK, token=owner, org="team")
    # Then QUOTA_EXCEEDED (not the deployment's own bound)
    refused(second, "webhooks", 1, 1)
    assert len(api.get("/webhooks", token=owner, org="team").data["webhooks"]) == 1


def test_compile_requests_per_day_count_publishes_and_recompiles(api: Api, limit: Callable[..., None]) -> None:
    limit(compiles_per_day=2)
    owner = user(api)
    team(api, owner)
    api.module(owner, "user", org="team")
    assert api.publish(owner, "user", "v1.0.0", org="team").status == 201  # one
    assert api.post("/modules/user/versions/v1.0.0/compile", {"languages": ["python"]}, token=owner,
                    org="team").status in (200, 202)  # two
    # When a third compile is asked for today, by a recompile or by a publish
    again = api.post("/modules/user/versions/v1.0.0/compile", {"languages": ["python"]}, token=owner, org="team")
    publish = api.publish(owner, "user", "v1.1.0", org="team")
    # Then both are refused, and the publish stored no version
    refused(again, "compiles_per_day", 2, 2)
    refused(publish, "compiles_per_day", 2, 2)
    assert api.get("/modules/user/versions/v1.1.0", token=owner, org="team").status == 404
    assert usage_of(api, owner, "team")["usage"]["compiles_today"] == 2


# The default organization: per user, never its shared item

def test_the_default_organization_counts_per_user_and_never_writes_its_own_item(
        api: Api, limit: Callable[..., None]) -> None:
    limit(modules=1, versions_per_module=UNLIMITED)
    alice, bob = user(api), user(api)
    written = written_items()
    # Given Alice's one module in the default organization
    api.module(alice, "alice-mod")
    assert api.publish(alice, "alice-mod", "v1.0.0").status == 201
    # When she creates a second one, her quota refuses it
    refused(api.post("/modules", {"name": "alice-two"}, token=alice), "modules", 1, 1)
    # But Bob has his own quota
    api.module(bob, "bob-mod")
    # (the shared organization's module total is added up from the table's stream, not by the requests)
    relay_outbox()
    assert api.get("/modules").data["pagination"]["total_items"] == 2
    # And each sees their own usage, on the free plan
    mine = usage_of(api, alice, "default")
    assert (mine["plan"], mine["usage"]["modules"], mine["usage"]["compiles_today"]) == ("free", 1, 1)
    assert mine["usage"]["stored_bytes"] == len(USER_PROTO.encode())
    # And no request's transaction wrote the default organization's item
    assert any(item.startswith("ORG#default#OWNER#") for item in written)  # the users' own counters
    assert "ORG#default/META" not in written


# Atomic under concurrency, and after a failure

def _context(token: str, org: str) -> RequestContext:
    services = wiring.services()
    return services.organizations.context_for("req-race", services.accounts.authenticate(token), org)


def _race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once: each has done all its work but its transaction when the first is sent.

    The sends themselves take turns: moto applies a transaction without a lock (and restores the
    whole table when one is cancelled), where DynamoDB serialises them on their items."""
    barrier = threading.Barrier(len(calls), timeout=20)
    turns = threading.Lock()
    local = threading.local()

    def hold(**_: Any) -> None:
        if getattr(local, "racing", False):
            local.racing = False
            barrier.wait()
            turns.acquire()
            local.holding = True

    def release(**_: Any) -> None:
        if getattr(local, "holding", False):
            local.holding = False
            turns.release()

    outcomes: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        local.racing = True
        try:
            outcomes[index] = calls[index]()
        except Exception as error:  # noqa: BLE001 - the outcome under test
            outcomes[index] = error

    events = aws.client("dynamodb").meta.events
    events.register("before-call.dynamodb.TransactWriteItems", hold, unique_id="quota-race")
    events.register("after-call.dynamodb.TransactWriteItems", release, unique_id="quota-race-release")
    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="quota-race")
        events.unregister("after-call.dynamodb.TransactWriteItems", unique_id="quota-race-release")
    return outcomes


def test_two_publishes_racing_for_the_last_version_slot_one_wins(api: Api, limit: Callable[..., None]) -> None:
    limit(versions_per_module=2)
    owner = user(api)
    team(api, owner)
    api.module(owner, "user", org="team")
    assert api.publish(owner, "user", "v1.0.0", org="team").status == 201
    ctx = _context(owner, "team")
    versions = wiring.services().versions
    files = [("user.proto", USER_PROTO.encode())]
    # When two versions race for the one slot left
    outcomes = _race(lambda: versions.publish(ctx, "user", "v1.1.0", "", files),
                     lambda: versions.publish(ctx, "user", "v1.2.0", "", files))
    # Then exactly one is published and the other is refused by the quota
    assert sum(isinstance(o, QuotaExceeded) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, tuple) for o in outcomes) == 1, outcomes
    listed = api.get("/modules/user/versions", token=owner, org="team").data["versions"]
    assert len(listed) == 2
    assert usage_of(api, owner, "team")["usage"]["stored_bytes"] == 2 * len(USER_PROTO.encode())


def test_two_module_creates_racing_for_the_last_slot_one_wins(api: Api, limit: Callable[..., None]) -> None:
    limit(modules=1)
    owner = user(api)
    team(api, owner)
    ctx = _context(owner, "team")
    modules = wiring.services().modules
    outcomes = _race(lambda: modules.create(ctx, "left", ""), lambda: modules.create(ctx, "right", ""))
    assert sum(isinstance(o, QuotaExceeded) for o in outcomes) == 1, outcomes
    assert api.get("/modules", token=owner, org="team").data["pagination"]["total_items"] == 1


def test_a_failed_publish_counts_nothing(api: Api, limit: Callable[..., None]) -> None:
    limit(compiles_per_day=UNLIMITED)
    owner = user(api)
    team(api, owner)
    api.module(owner, "user", org="team")
    before = usage_of(api, owner, "team")["usage"]

    def fail(**_: Any) -> None:
        raise ConnectionError("DynamoDB is unreachable")

    # When DynamoDB fails the version's transaction
    aws.client("dynamodb").meta.events.register("before-call.dynamodb.TransactWriteItems", fail, unique_id="quota-fail")
    try:
        failed = api.publish(owner, "user", "v1.0.0", org="team")
    finally:
        aws.client("dynamodb").meta.events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="quota-fail")
    # Then the publish failed, no quota moved, and the same publish then succeeds
    assert failed.status == 500
    assert usage_of(api, owner, "team")["usage"] == before
    assert api.publish(owner, "user", "v1.0.0", org="team").status == 201
    after = usage_of(api, owner, "team")["usage"]
    assert (after["stored_bytes"], after["compiles_today"]) == (len(USER_PROTO.encode()), 1)


# What members see

def test_members_read_their_plan_limits_and_usage_and_others_cannot(api: Api, limit: Callable[..., None]) -> None:
    limit(modules=5, members=10)
    owner, viewer, stranger = user(api, "o@u.example.com"), user(api, "v@u.example.com"), user(api)
    org_id = team(api, owner)
    assert api.post(f"/organizations/{org_id}/members", {"email": "v@u.example.com", "role": "viewer"},
                    token=owner).status == 201
    api.module(owner, "user", org="team")
    seen = usage_of(api, viewer, org_id)
    assert seen["plan"] == "free"
    assert (seen["limits"]["modules"], seen["limits"]["members"]) == (5, 10)
    assert set(seen["limits"]) == {"requests_per_hour", "modules", "versions_per_module", "stored_bytes", "members",
                                   "webhooks", "compiles_per_day"}
    assert seen["usage"] == {"modules": 1, "stored_bytes": 0, "members": 2, "webhooks": 0, "compiles_today": 0}
    assert api.get(f"/organizations/{org_id}/usage", token=stranger).status == 404
    assert api.get("/organizations/default/usage").status == 401

