"""Invariants under concurrent requests, over real HTTP against the local stack.

Each invariant is a condition of the write itself (a transaction on the organization's counters),
so requests racing each other cannot both pass a check and then both act:
- two owners leaving at once: one leaves, the other is refused 422 LAST_OWNER;
- concurrent webhook creates stop exactly at SPOKE_WEBHOOK_MAX_PER_ORG (20).
"""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from tests.e2e.conftest import PASSWORD

TIMEOUT = 30  # seconds per request: every request is bounded
TRIALS = 6
LIMIT = 20  # SPOKE_WEBHOOK_MAX_PER_ORG, the default


def call(method: str, url: str, token: str, org: str | None = None, body: Any = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", **({"X-Organization-ID": org} if org else {})}
    return requests.request(method, url, json=body, headers=headers, timeout=TIMEOUT)


def user(api_url: str) -> dict[str, str]:
    """A fresh signed-in user: token, id and email."""
    email = f"race-{uuid.uuid4().hex[:12]}@example.com"
    assert requests.post(f"{api_url}/auth/register", json={"email": email, "password": PASSWORD},
                         timeout=TIMEOUT).status_code == 201
    login = requests.post(f"{api_url}/auth/login", json={"email": email, "password": PASSWORD}, timeout=TIMEOUT)
    assert login.status_code == 200, login.text
    data = login.json()["data"]
    return {"token": data["token"], "id": data["user"]["id"], "email": email}


def at_once(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run every call on its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call_: Callable[[], requests.Response]) -> requests.Response:
        barrier.wait(timeout=TIMEOUT)
        return call_()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_two_owners_leaving_at_once_leave_one_owner(api_url: str) -> None:
    for trial in range(TRIALS):
        # Given an organization with exactly two owners
        first, second = user(api_url), user(api_url)
        created = call("POST", f"{api_url}/organizations", first["token"],
                       body={"name": "Race", "slug": f"race-{uuid.uuid4().hex[:8]}"})
        assert created.status_code == 201, created.text
        org = created.json()["data"]["id"]
        added = call("POST", f"{api_url}/organizations/{org}/members", first["token"], org,
                     {"email": second["email"], "role": "owner"})
        assert added.status_code == 201, added.text
        # When both leave at the same moment
        replies = at_once([
            lambda who=who: call("DELETE", f"{api_url}/organizations/{org}/members/{who['id']}", who["token"], org)
            for who in (first, second)])
        # Then exactly one left and the other was refused as the last owner
        statuses = sorted(r.status_code for r in replies)
        assert statuses == [204, 422], f"trial {trial}: {[r.text for r in replies]}"
        refused = next(r for r in replies if r.status_code == 422)
        assert refused.json()["error"]["code"] == "LAST_OWNER"
        # And the organization still has one owner, who can see it
        stayed = first if replies[0].status_code == 422 else second
        members = call("GET", f"{api_url}/organizations/{org}/members", stayed["token"], org)
        assert members.status_code == 200, members.text
        assert [m["role"] for m in members.json()["data"]["members"]] == ["owner"], members.text


def test_concurrent_webhook_creates_stop_at_the_limit(api_url: str) -> None:
    # Given an organization with 12 webhooks
    owner = user(api_url)
    created = call("POST", f"{api_url}/organizations", owner["token"],
                   body={"name": "Hooks race", "slug": f"hooks-{uuid.uuid4().hex[:8]}"})
    assert created.status_code == 201, created.text
    org = created.json()["data"]["id"]

    def create(i: int) -> requests.Response:
        return call("POST", f"{api_url}/webhooks", owner["token"], org,
                    {"url": f"http://127.0.0.1:9/hook-{i}", "events": ["*"], "secret": "race-secret-0123456789abcdef"})

    for i in range(12):
        assert create(i).status_code == 201
    # When 15 more are created at once
    replies = at_once([lambda i=i: create(100 + i) for i in range(15)])
    # Then exactly 8 were accepted, 7 refused with WEBHOOK_LIMIT_REACHED, and the organization has 20
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [201] * (LIMIT - 12) + [422] * (15 - (LIMIT - 12)), [r.text for r in replies]
    assert {r.json()["error"]["code"] for r in replies if r.status_code == 422} == {"WEBHOOK_LIMIT_REACHED"}
    listed = call("GET", f"{api_url}/webhooks", owner["token"], org)
    assert len(listed.json()["data"]["webhooks"]) == LIMIT
    # And deleting one makes room for exactly one more
    doomed = listed.json()["data"]["webhooks"][0]["id"]
    assert call("DELETE", f"{api_url}/webhooks/{doomed}", owner["token"], org).status_code == 204
    again = sorted(r.status_code for r in at_once([lambda i=i: create(200 + i) for i in range(3)]))
    assert again == [201, 422, 422]
