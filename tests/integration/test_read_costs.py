"""What an authenticated read costs in AWS calls, and what the in-container caches may and may not remember.

Calls are counted with botocore event hooks on the application's session (`before-call.*.*` fires
once per API call, whatever the retries do). "Another container" is played by plain, uncached
stores writing to the same table, as a second Lambda container would.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from chalicelib.adapters import aws, keys
from chalicelib.adapters.accounts_store import AccountsStore
from chalicelib.adapters.dynamo import Table, to_item
from tests.integration.api import Api

FILE = "acme/v1/user.proto"
PROTO = 'syntax = "proto3";\npackage acme.v1;\nmessage User { string id = 1; }\n'


class Calls:
    """Each AWS call of the application, as (operation, what it names: a table key's PK or an S3 key)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def before_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        body = params.get("body")
        target = ""
        if isinstance(body, (bytes, str)) and body[:1] in (b"{", "{"):
            parsed = json.loads(body)
            # A BatchGetItem names each of its keys, in order (the session check reads two at once)
            batch = [k for table in (parsed.get("RequestItems") or {}).values() for k in table.get("Keys", [])]
            target = ",".join(next(iter(key.get("PK", {}).values()), "") + "|"
                              + next(iter(key.get("SK", {}).values()), "")
                              for key in batch or [parsed.get("Key") or {}])
        elif model.name == "GetObject":
            target = params.get("url_path", "")
        self.seen.append((model.name, target))

    def during(self, request: Any) -> list[tuple[str, str]]:
        self.seen.clear()
        request()
        return list(self.seen)


@pytest.fixture
def calls(aws_env: dict[str, str]) -> Iterator[Calls]:
    counter = Calls()
    # Clients copy the session's handlers when they are created: register before the first request.
    aws.session().events.register("before-call.*.*", counter.before_call)
    yield counter


def _manifest_reads(seen: list[tuple[str, str]]) -> int:
    """S3 reads of a version's file manifest: gone once small manifests live in the version item."""
    return sum(1 for op, target in seen if op == "GetObject" and "manifests/" in target)


def _auth_reads(seen: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Reads of the token revocation, organization, slug or membership items."""
    return [(op, target) for op, target in seen
            if target.startswith(("TOKEN#", "SLUG#")) or target.endswith(("|META",)) or "|MEMBER#" in target]


@pytest.fixture
def acme(api: Api) -> dict[str, Any]:
    """Given Acme (slug `acme`) with its owner, a module `user` and its v1.0.0."""
    owner, owner_id = api.signed_up("owner@acme.test")
    org = api.post("/organizations", {"name": "Acme", "slug": "acme"}, token=owner)
    assert org.status == 201, org.body
    api.module(owner, "user", org="acme", description="Acme users")
    published = api.publish(owner, "user", "v1.0.0", {FILE: PROTO}, org="acme")
    assert published.status == 201, published.body
    return {"owner": owner, "owner_id": owner_id, "id": org.data["id"]}


def _reads(api: Api, token: str, org: str) -> dict[str, Any]:
    return {
        "GET /modules/{name}": lambda: api.get("/modules/user", token=token, org=org),
        "GET .../versions/{v}": lambda: api.get("/modules/user/versions/v1.0.0", token=token, org=org),
        "GET .../files/{path}": lambda: api.get(f"/modules/user/versions/v1.0.0/files/{FILE}", token=token,
                                                org=org),
        "GET /modules": lambda: api.get("/modules?page_size=5", token=token, org=org),
    }


@pytest.mark.parametrize("org_ref", ["slug", "id"])
def test_warm_authenticated_reads_in_a_named_org_cost_at_most_three_calls(
        api: Api, calls: Calls, acme: dict[str, Any], org_ref: str) -> None:
    # Given a signed-in owner whose token, organization and membership this container has read once
    org = "acme" if org_ref == "slug" else acme["id"]
    reads = _reads(api, acme["owner"], org)
    for read in reads.values():
        assert read().status == 200
    # When each read runs again
    seen = {label: calls.during(read) for label, read in reads.items()}
    # (each also counts itself against the rate limit: one UpdateItem, see test_rate_limits.py)
    assert all([op for op, target in s if target.startswith("COUNTER#")] == ["UpdateItem"] for s in seen.values())
    seen = {label: [(op, target) for op, target in s if not target.startswith("COUNTER#")] for label, s in seen.items()}
    # Then none of them reads the token, organization or membership again
    # (GET /modules reads the organization item for its module count: the page's total)
    assert {label: _auth_reads(s) for label, s in seen.items() if label != "GET /modules"} == {
        label: [] for label in seen if label != "GET /modules"}
    assert sorted(op for op, _ in seen["GET /modules"]) == ["GetItem", "Query"]
    # And each costs at most 3 calls (the file read: 3 besides the manifest object, until manifests
    # are stored in the version item)
    assert [op for op, _ in seen["GET /modules/{name}"]] == ["GetItem", "Query"]
    assert len(seen["GET .../versions/{v}"]) <= 3
    assert len(seen["GET .../files/{path}"]) - _manifest_reads(seen["GET .../files/{path}"]) <= 3
    assert len(seen["GET .../files/{path}"]) <= 4


def test_read_costs_do_not_grow_with_the_number_of_modules(api: Api, calls: Calls, acme: dict[str, Any]) -> None:
    # Given the reads' costs in an organization of one module (warm)
    reads = _reads(api, acme["owner"], "acme")
    for read in reads.values():
        read()
    small = {label: len(calls.during(read)) for label, read in reads.items()}
    # When the organization grows to 26 modules
    for i in range(25):
        api.module(acme["owner"], f"extra-{i:02d}", org="acme", description=f"extra module {i}")
    large = {label: len(calls.during(read)) for label, read in reads.items()}
    # Then every read costs the same
    assert large == small


def test_a_cold_container_reads_token_org_and_membership_once(api: Api, calls: Calls,
                                                              acme: dict[str, Any]) -> None:
    # Given a token this container has never checked (a fresh login) in a fresh org
    token = api.post("/auth/login", {"email": "owner@acme.test",
                                     "password": "correct-horse-battery-staple"}).data["token"]
    # When it reads a version twice
    first = calls.during(lambda: api.get("/modules/user/versions/v1.0.0", token=token, org="acme"))
    second = calls.during(lambda: api.get("/modules/user/versions/v1.0.0", token=token, org="acme"))
    # Then only the first read checks the token: one BatchGetItem of its revocation and its user's
    # sessions marker (the org and membership were read when Acme was set up)
    assert [(op, target.split("|")[0][:6]) for op, target in _auth_reads(first)] == [("BatchGetItem", "TOKEN#")]
    assert _auth_reads(second) == []


def test_logout_is_immediate_on_this_container(api: Api, acme: dict[str, Any]) -> None:
    # Given a token this container has just seen as valid
    token, _ = api.signed_up("reader@example.test")
    assert api.get("/modules", token=token).status == 200
    # When it logs out
    assert api.post("/auth/logout", token=token).status == 200
    # Then the very next request with it is refused
    again = api.get("/modules", token=token)
    assert (again.status, again.code) == (401, "UNAUTHORIZED")


def _revoke_elsewhere(aws_env: dict[str, str], token: str) -> None:
    claims = jwt.decode(token, options={"verify_signature": False})
    AccountsStore(Table(aws_env["SPOKE_TABLE_NAME"])).revoke_token(claims["jti"], int(claims["exp"]))


def test_a_logout_elsewhere_is_honoured_within_the_revocation_bound(api: Api, aws_env: dict[str, str]) -> None:
    # Given a token this container has seen as valid (cached for SPOKE_REVOCATION_CACHE_SECONDS, 5 s)
    token, _ = api.signed_up("reader@example.test")
    assert api.get("/modules", token=token).status == 200
    # When another container revokes it
    _revoke_elsewhere(aws_env, token)
    # Then this container may still accept it until its entry expires: the documented bound
    assert api.get("/modules", token=token).status == 200


def test_without_the_revocation_cache_a_logout_elsewhere_counts_at_once(
        api: Api, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the revocation cache turned off (before the first request builds the services)
    monkeypatch.setenv("SPOKE_REVOCATION_CACHE_SECONDS", "0")
    token, _ = api.signed_up("reader@example.test")
    assert api.get("/modules", token=token).status == 200
    # When another container revokes the token
    _revoke_elsewhere(aws_env, token)
    # Then it is refused at once
    assert api.get("/modules", token=token).status == 401


def _join(api: Api, owner: str, org_id: str, email: str, role: str = "viewer") -> tuple[str, str]:
    token, user_id = api.signed_up(email)
    added = api.post(f"/organizations/{org_id}/members", {"email": email, "role": role}, token=owner)
    assert added.status == 201, added.body
    return token, user_id


def test_a_member_removed_on_this_container_loses_access_at_once(api: Api, acme: dict[str, Any]) -> None:
    # Given a viewer whose membership this container has cached
    viewer, viewer_id = _join(api, acme["owner"], acme["id"], "viewer@acme.test")
    assert api.get("/modules/user", token=viewer, org="acme").status == 200
    # When an admin removes them here
    assert api.delete(f"/organizations/{acme['id']}/members/{viewer_id}", token=acme["owner"]).status == 204
    # Then their next read is refused, and the organization's member count is fresh
    gone = api.get("/modules/user", token=viewer, org="acme")
    assert (gone.status, gone.code) == (404, "ORGANIZATION_NOT_FOUND")
    assert api.get("/organizations/acme", token=acme["owner"]).data["member_count"] == 1


def test_a_member_removed_elsewhere_loses_access_within_the_bound(
        api: Api, aws_env: dict[str, str], acme: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a viewer whose membership this container has cached
    viewer, viewer_id = _join(api, acme["owner"], acme["id"], "viewer@acme.test")
    assert api.get("/modules/user", token=viewer, org="acme").status == 200
    # When another container removes them
    table = Table(aws_env["SPOKE_TABLE_NAME"])
    table.client.delete_item(TableName=table.name, Key=to_item(keys.member_key(acme["id"], viewer_id)))
    # Then this container may serve them until SPOKE_CACHE_SECONDS pass (the documented bound) ...
    assert api.get("/modules/user", token=viewer, org="acme").status == 200
    # ... and a container without the cache refuses them at once
    monkeypatch.setenv("SPOKE_CACHE_SECONDS", "0")
    from chalicelib import wiring
    wiring.reset()
    assert api.get("/modules/user", token=viewer, org="acme").status == 404


def test_a_new_member_is_admitted_at_once(api: Api, acme: dict[str, Any]) -> None:
    # Given a user this container has refused (not a member: refusals are never cached)
    outsider, _ = api.signed_up("late@acme.test")
    assert api.get("/modules/user", token=outsider, org="acme").status == 404
    # When they are added
    added = api.post(f"/organizations/{acme['id']}/members", {"email": "late@acme.test", "role": "viewer"},
                     token=acme["owner"])
    assert added.status == 201
    # Then they read at once
    assert api.get("/modules/user", token=outsider, org="acme").status == 200


def test_a_cache_never_serves_another_organizations_data(api: Api, acme: dict[str, Any]) -> None:
    # Given Globex, owned by someone else, with a module of the same name, and Acme's owner a viewer there
    globex_owner, _ = api.signed_up("owner@globex.test")
    globex = api.post("/organizations", {"name": "Globex", "slug": "globex"}, token=globex_owner).data
    api.module(globex_owner, "user", org="globex", description="Globex users")
    both, _ = _join(api, globex_owner, globex["id"], "both@example.test")
    assert api.post(f"/organizations/{acme['id']}/members", {"email": "both@example.test", "role": "developer"},
                    token=acme["owner"]).status == 201
    # And every cache is warm for each caller and org
    for token, org in ((acme["owner"], "acme"), (globex_owner, "globex"), (both, "acme"), (both, "globex")):
        assert api.get("/modules/user", token=token, org=org).status == 200
    # When each caller reads each org again
    # Then each org answers with its own data and each caller's own role
    assert api.get("/modules/user", token=both, org="acme").data["description"] == "Acme users"
    assert api.get("/modules/user", token=both, org="globex").data["description"] == "Globex users"
    assert api.get("/organizations/acme", token=both).data["role"] == "developer"
    assert api.get("/organizations/globex", token=both).data["role"] == "viewer"
    # And no owner sees into the other's org, by slug or by id
    for token, org in ((acme["owner"], "globex"), (acme["owner"], globex["id"]),
                       (globex_owner, "acme"), (globex_owner, acme["id"])):
        refused = api.get("/modules/user", token=token, org=org)
        assert (refused.status, refused.code) == (404, "ORGANIZATION_NOT_FOUND"), (org, refused.body)
    # And a viewer stays a viewer in Globex while a developer in Acme
    assert api.post("/modules", {"name": "new-one"}, token=both, org="globex").status == 403
    assert api.post("/modules", {"name": "new-one"}, token=both, org="acme").status == 201
