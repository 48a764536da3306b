"""API tokens for CI, who-am-I and password change, through the HTTP API on moto.

Done means: an API token with `read` scope cannot publish; a revoked token is 401 at once."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from chalicelib import wiring
from chalicelib.adapters import aws
from chalicelib.adapters.accounts_store import AccountsStore
from chalicelib.adapters.api_tokens_store import ApiTokensStore
from chalicelib.adapters.dynamo import Table
from chalicelib.domain.api_tokens import ApiToken, token_hash
from chalicelib.domain.errors import TokenLimitReached
from tests.integration.api import Api

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def acme(api: Api) -> dict[str, Any]:
    """Given Acme, owned by Ada, with a module `user` at v1.0.0."""
    owner, owner_id = api.signed_up("ada@acme.test")
    org = api.post("/organizations", {"name": "Acme", "slug": "acme"}, token=owner)
    assert org.status == 201, org.body
    api.module(owner, "user", org="acme")
    assert api.publish(owner, "user", "v1.0.0", org="acme").status == 201
    return {"owner": owner, "owner_id": owner_id, "id": org.data["id"]}


def _token(api: Api, session: str, organization: str = "acme", scopes: tuple[str, ...] = ("read",),
           **extra: Any) -> dict[str, Any]:
    reply = api.post("/auth/tokens", {"name": "ci", "organization": organization, "scopes": list(scopes), **extra},
                     token=session)
    assert reply.status == 201, reply.body
    return reply.data


def _table_items(aws_env: dict[str, str]) -> list[dict[str, Any]]:
    """Everything in the table, read with the test's own client (the application's refuses Scan)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    return client.scan(TableName=aws_env["SPOKE_TABLE_NAME"])["Items"]


@contextlib.contextmanager
def failing(operation: str, when: str = "") -> Iterator[list[str]]:
    """Make the application's DynamoDB `operation` fail (a call whose body contains `when`)."""
    failed: list[str] = []

    def fail(params: dict[str, Any], **_: Any) -> None:
        if when in params["body"].decode():
            failed.append(operation)
            raise ConnectionError(f"{operation} is unreachable")

    client = aws.client("dynamodb")
    client.meta.events.register(f"before-call.dynamodb.{operation}", fail, unique_id="token-fault")
    try:
        yield failed
    finally:
        client.meta.events.unregister(f"before-call.dynamodb.{operation}", unique_id="token-fault")


def test_a_token_is_shown_once_and_only_its_hash_is_stored(api: Api, acme: dict[str, Any],
                                                           aws_env: dict[str, str]) -> None:
    # When Ada creates a token for CI
    created = _token(api, acme["owner"], scopes=("write", "read"), expires_in_days=30)
    # Then it answers the secret once, recognisably prefixed, with what it may do and until when
    assert created["token"].startswith("spk_") and len(created["token"]) == 47
    assert created["id"].startswith("tok-") and created["name"] == "ci"
    assert created["organization"] == {"id": acme["id"], "slug": "acme"} and created["scopes"] == ["read", "write"]
    assert created["expires_at"].endswith("Z") and created["last_used_at"] is None
    # And the table holds its sha256, never the secret itself
    stored = repr(_table_items(aws_env))
    assert created["token"] not in stored and token_hash(created["token"]) in stored
    # And the list shows it without any secret
    listed = api.get("/auth/tokens", token=acme["owner"])
    assert listed.status == 200
    assert listed.data["tokens"] == [{k: v for k, v in created.items() if k != "token"}]


def test_a_read_token_reads_but_cannot_publish(api: Api, acme: dict[str, Any]) -> None:
    # Given a read token of Acme's owner
    read = _token(api, acme["owner"], scopes=("read",))["token"]
    # When it reads (no X-Organization-ID: it acts in Acme) and then publishes
    assert api.get("/modules/user/versions/v1.0.0", token=read).status == 200
    published = api.publish(read, "user", "v1.1.0")
    # Then the publish is 403 FORBIDDEN naming its scopes, and nothing was published
    assert (published.status, published.code) == (403, "FORBIDDEN")
    assert "scopes (read)" in published.body["error"]["message"]
    assert api.get("/modules/user/versions/v1.1.0", token=acme["owner"], org="acme").status == 404
    # While a write token of hers publishes
    write = _token(api, acme["owner"], scopes=("write",))["token"]
    assert api.publish(write, "user", "v1.1.0").status == 201
    # And neither manages members (that is `admin`)
    added = api.post(f"/organizations/{acme['id']}/members", {"email": "x@acme.test", "role": "viewer"}, token=write)
    assert (added.status, added.code) == (403, "FORBIDDEN")


def test_a_revoked_token_is_401_at_once(api: Api, acme: dict[str, Any]) -> None:
    # Given a token that has just worked
    created = _token(api, acme["owner"])
    assert api.get("/modules/user", token=created["token"]).status == 200
    # When Ada revokes it
    revoked = api.delete(f"/auth/tokens/{created['id']}", token=acme["owner"])
    assert revoked.status == 204 and revoked.raw in (b"", None)
    # Then its very next request is 401, and it is gone from her list
    again = api.get("/modules/user", token=created["token"])
    assert (again.status, again.code) == (401, "UNAUTHORIZED")
    assert api.get("/auth/tokens", token=acme["owner"]).data["tokens"] == []
    # And revoking it (or an unknown id) again is TOKEN_NOT_FOUND
    for unknown in (created["id"], "tok-000000000000", "nonsense"):
        reply = api.delete(f"/auth/tokens/{unknown}", token=acme["owner"])
        assert (reply.status, reply.code) == (404, "TOKEN_NOT_FOUND"), unknown


def test_a_token_acts_only_in_its_organization(api: Api, acme: dict[str, Any]) -> None:
    # Given Ada also owns Globex, and a write token for Acme
    assert api.post("/organizations", {"name": "Globex", "slug": "globex"}, token=acme["owner"]).status == 201
    token = _token(api, acme["owner"], scopes=("write",))["token"]
    # When it names Globex or the default organization
    for org in ("globex", "default"):
        reply = api.get("/modules", token=token, org=org)
        # Then it is 403 saying where it acts
        assert (reply.status, reply.code) == (403, "FORBIDDEN"), org
        assert reply.body["error"]["message"] == "This API token acts only in 'acme'"
    # While naming Acme (by slug or id) or nothing acts there
    for org in ("acme", acme["id"], None):
        assert api.get("/modules", token=token, org=org).data["pagination"]["total_items"] == 1


def test_a_token_cannot_manage_tokens_nor_the_password(api: Api, acme: dict[str, Any]) -> None:
    token = _token(api, acme["owner"], scopes=("admin",))
    for method, path, body in (("POST", "/auth/tokens", {"name": "x", "organization": "acme", "scopes": ["read"]}),
                               ("GET", "/auth/tokens", None), ("DELETE", f"/auth/tokens/{token['id']}", None),
                               ("POST", "/auth/password", {"current_password": PASSWORD, "new_password": "x" * 12}),
                               ("POST", "/auth/logout", None)):
        reply = api.call(method, path, body, token=token["token"])
        assert (reply.status, reply.code) == (403, "FORBIDDEN"), path
    anonymous = api.post("/auth/tokens", {"name": "x", "organization": "default", "scopes": ["read"]})
    assert (anonymous.status, anonymous.code) == (401, "UNAUTHORIZED")


def test_bad_token_requests_are_400_with_every_field(api: Api, acme: dict[str, Any]) -> None:
    reply = api.post("/auth/tokens", {"name": "", "scopes": ["root"], "expires_in_days": 100_000},
                     token=acme["owner"])
    assert (reply.status, reply.code) == (400, "VALIDATION_ERROR")
    assert {e["field"] for e in reply.body["error"]["validation_errors"]} == {
        "name", "organization", "scopes", "expires_in_days"}
    elsewhere = api.post("/auth/tokens", {"name": "x", "organization": "globex", "scopes": ["read"]},
                         token=acme["owner"])
    assert (elsewhere.status, elsewhere.code) == (404, "ORGANIZATION_NOT_FOUND")
    assert api.get("/auth/tokens", token=acme["owner"]).data["tokens"] == []


def test_last_use_is_recorded_and_its_failure_never_fails_the_request(api: Api, acme: dict[str, Any]) -> None:
    created = _token(api, acme["owner"])
    # Given recording the use fails (the UpdateItem of the token's lookup item)
    with failing("UpdateItem", "APITOKEN#") as failed:
        # Then the request is served all the same
        assert api.get("/modules/user", token=created["token"]).status == 200
    assert failed == ["UpdateItem"]
    assert api.get("/auth/tokens", token=acme["owner"]).data["tokens"][0]["last_used_at"] is None
    # And once it works, the list shows when it was last used
    assert api.get("/modules/user", token=created["token"]).status == 200
    assert api.get("/auth/tokens", token=acme["owner"]).data["tokens"][0]["last_used_at"].endswith("Z")


def test_a_failed_create_or_revoke_leaves_nothing_half_done(api: Api, acme: dict[str, Any],
                                                          aws_env: dict[str, str]) -> None:
    # Given the transaction of a create fails
    with failing("TransactWriteItems"):
        reply = api.post("/auth/tokens", {"name": "ci", "organization": "acme", "scopes": ["read"]},
                         token=acme["owner"])
    # Then it is a plain 500 and no item of it exists (no lookup item, no listed item, no count)
    assert (reply.status, reply.code) == (500, "INTERNAL_ERROR")
    items = _table_items(aws_env)
    assert not [i for i in items if i["PK"]["S"].startswith("APITOKEN#") or i["SK"]["S"].startswith("APITOKEN#")]
    user_item = next(i for i in items if i["PK"]["S"] == f"USER#{acme['owner_id']}" and i["SK"]["S"] == "PROFILE")
    assert "api_token_count" not in user_item
    # Given a token, when its revoke fails, then the token still works and is still listed
    created = _token(api, acme["owner"])
    with failing("TransactWriteItems"):
        assert api.delete(f"/auth/tokens/{created['id']}", token=acme["owner"]).status == 500
    assert api.get("/modules/user", token=created["token"]).status == 200
    assert [t["id"] for t in api.get("/auth/tokens", token=acme["owner"]).data["tokens"]] == [created["id"]]


def test_tokens_per_user_are_bounded_by_a_condition_and_deletes_give_room(aws_env: dict[str, str], api: Api) -> None:
    # Given a user (the store bound taken to 2 to keep the test short)
    _, user_id = api.signed_up("ci@example.test")
    store = ApiTokensStore(Table(aws_env["SPOKE_TABLE_NAME"]))

    def token(n: int) -> ApiToken:
        return ApiToken(id=f"tok-00000000000{n}", token_hash=f"{n:064x}", user_id=user_id, email="ci@example.test",
                        org_id="default", org_slug="default", name=f"t{n}", scopes=("read",),
                        created_at="2030-01-01T00:00:00Z", expires_at="2030-02-01T00:00:00Z",
                        expires_at_epoch=1_896_134_400)

    store.create(token(1), max_per_user=2)
    store.create(token(2), max_per_user=2)
    # When a third is created, then it is refused and nothing of it is stored
    with pytest.raises(TokenLimitReached):
        store.create(token(3), max_per_user=2)
    assert store.find(token(3).token_hash) is None and len(store.list_for(user_id)) == 2
    # And a delete makes room again
    store.delete(user_id, token(1).id)
    store.create(token(3), max_per_user=2)
    assert sorted(t.id for t in store.list_for(user_id)) == [token(2).id, token(3).id]


def test_who_am_i(api: Api, acme: dict[str, Any]) -> None:
    # For a session: the user, every organization with the role, no token
    me = api.get("/auth/me", token=acme["owner"])
    assert me.status == 200
    assert me.data["kind"] == "user" and me.data["token"] is None
    assert me.data["user"]["id"] == acme["owner_id"] and me.data["user"]["email"] == "ada@acme.test"
    assert [(o["slug"], o["role"], o["plan"]) for o in me.data["organizations"]] == [
        ("default", "developer", "free"), ("acme", "owner", "free")]
    # For a token: the token and only its organization
    created = _token(api, acme["owner"], scopes=("read", "write"))
    as_token = api.get("/auth/me", token=created["token"])
    assert as_token.data["kind"] == "api_token"
    assert as_token.data["token"] == {"id": created["id"], "name": "ci", "organization": created["organization"],
                                      "scopes": ["read", "write"], "expires_at": created["expires_at"]}
    assert [(o["id"], o["role"]) for o in as_token.data["organizations"]] == [(acme["id"], "owner")]
    assert api.get("/auth/me").status == 401


def test_a_password_change_ends_every_older_session_but_not_api_tokens(api: Api, acme: dict[str, Any]) -> None:
    # Given Ada signed in twice (a laptop and a phone) and a CI token
    phone = api.post("/auth/login", {"email": "ada@acme.test", "password": PASSWORD}).data["token"]
    ci = _token(api, acme["owner"])["token"]
    # When she changes her password from the laptop
    changed = api.post("/auth/password", {"current_password": PASSWORD, "new_password": "a new long passphrase"},
                       token=acme["owner"])
    # Then she gets a fresh session that works
    assert changed.status == 200, changed.body
    assert changed.data["user"]["id"] == acme["owner_id"] and changed.data["sessions_ended"] is True
    assert api.get("/modules", token=changed.data["token"], org="acme").status == 200
    # And both older sessions are 401 with the reason, at once
    for old in (acme["owner"], phone):
        reply = api.get("/modules", token=old, org="acme")
        assert (reply.status, reply.code) == (401, "UNAUTHORIZED")
        assert "password was changed" in reply.body["error"]["message"]
    # And the API token still works (documented: revoke tokens separately)
    assert api.get("/modules/user", token=ci).status == 200
    # And only the new password signs in
    assert api.post("/auth/login", {"email": "ada@acme.test", "password": PASSWORD}).status == 401
    assert api.post("/auth/login", {"email": "ada@acme.test", "password": "a new long passphrase"}).status == 200


def test_a_password_change_elsewhere_counts_within_the_revocation_bound(
        api: Api, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the revocation cache off, and a session this container has seen as valid
    monkeypatch.setenv("SPOKE_REVOCATION_CACHE_SECONDS", "0")
    token, user_id = api.signed_up("bea@example.test")
    assert api.get("/auth/me", token=token).status == 200
    # When another container changes her password (a plain store on the same table)
    AccountsStore(Table(aws_env["SPOKE_TABLE_NAME"])).change_password(
        user_id, "bea@example.test", "$argon2id$elsewhere", 2 ** 62)
    # Then the session is refused at once
    assert api.get("/auth/me", token=token).status == 401


@pytest.mark.parametrize("body, field, code", [
    ({"current_password": PASSWORD, "new_password": "short"}, "new_password", "WEAK_PASSWORD"),
    ({"current_password": PASSWORD, "new_password": "password1234"}, "new_password", "WEAK_PASSWORD"),
    ({"current_password": "not it at all", "new_password": "a new long passphrase"}, "current_password",
     "VALIDATION_ERROR"),
    ({"new_password": "a new long passphrase"}, "current_password", "VALIDATION_ERROR"),
])
def test_a_refused_password_change_changes_nothing(api: Api, body: dict[str, str], field: str, code: str) -> None:
    token, _ = api.signed_up("cy@example.test")
    reply = api.post("/auth/password", body, token=token)
    assert (reply.status, reply.code) == (400, code)
    assert [e["field"] for e in reply.body["error"]["validation_errors"]] == [field]
    assert api.get("/auth/me", token=token).status == 200
    assert api.post("/auth/login", {"email": "cy@example.test", "password": PASSWORD}).status == 200


def test_a_failed_password_change_keeps_the_old_password_and_sessions(api: Api) -> None:
    token, _ = api.signed_up("dee@example.test")
    with failing("TransactWriteItems"):
        reply = api.post("/auth/password", {"current_password": PASSWORD, "new_password": "a new long passphrase"},
                         token=token)
    assert reply.status == 500
    assert api.get("/auth/me", token=token).status == 200
    assert api.post("/auth/login", {"email": "dee@example.test", "password": PASSWORD}).status == 200


def test_register_refuses_weak_passwords_with_a_reason(api: Api) -> None:
    for password, code in (("secret123", "TOO_SHORT"), ("password1234", "COMMON_PASSWORD"), ("y" * 257, "TOO_LONG")):
        reply = api.post("/auth/register", {"email": "weak@example.test", "password": password})
        assert (reply.status, reply.code) == (400, "WEAK_PASSWORD"), password
        assert [(e["field"], e["code"]) for e in reply.body["error"]["validation_errors"]] == [("password", code)]
    assert api.post("/auth/login", {"email": "weak@example.test", "password": "secret123"}).status == 401


def test_an_account_without_a_password_never_signs_in_with_one(api: Api, aws_env: dict[str, str]) -> None:
    # Given an account made by SSO (its stored hash is no argon2 hash)
    from chalicelib.domain.models import User

    wiring.services().cached_stores[0].create_user(
        User(id="user-00000000abcd", email="sso@example.test", created_at="2030-01-01T00:00:00Z"), "!sso")
    # Then no password signs in as it, not even the marker itself
    for attempt in ("!sso", PASSWORD):
        reply = api.post("/auth/login", {"email": "sso@example.test", "password": attempt})
        assert (reply.status, reply.code) == (401, "INVALID_CREDENTIALS")
    # (the account exists: the refusal is the hash's, not a failed lookup's)
    assert wiring.services().cached_stores[0].credentials_for("sso@example.test").password_hash == "!sso"


def test_a_token_costs_one_consistent_read_and_records_its_use_once_a_minute(api: Api, acme: dict[str, Any]) -> None:
    # Given a token, and every DynamoDB call of the application naming an API token item recorded
    created = _token(api, acme["owner"])
    seen: list[tuple[str, bool]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        body = params["body"].decode()
        if "APITOKEN#" in body:
            seen.append((model.name, '"ConsistentRead": true' in body))

    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb.*", record, unique_id="token-calls")
    try:
        # When it makes three requests within a minute
        for _ in range(3):
            assert api.get("/modules/user", token=created["token"]).status == 200
    finally:
        client.meta.events.unregister("before-call.dynamodb.*", unique_id="token-calls")
    # Then each read its item once, strongly consistent, and only the first recorded the use
    assert seen == [("GetItem", True), ("UpdateItem", False), ("GetItem", True), ("GetItem", True)]


def test_a_token_sees_only_its_organization_and_cannot_found_new_ones(api: Api, acme: dict[str, Any]) -> None:
    # Given Ada is also a member of a second organization, and a write token for Acme
    assert api.post("/organizations", {"name": "Other", "slug": "other"}, token=acme["owner"]).status == 201
    token = _token(api, acme["owner"], scopes=("read", "write", "admin"))["token"]
    # When the token lists organizations, it sees Acme alone (her session sees both)
    listed = api.get("/organizations", token=token)
    assert listed.status == 200 and [o["slug"] for o in listed.data["organizations"]] == ["acme"]
    listed = api.get("/organizations", token=acme["owner"]).data["organizations"]
    assert {o["slug"] for o in listed} == {"acme", "other"}
    # And reading the other organization by its path is refused
    other = api.get("/organizations/other", token=token)
    assert (other.status, other.code) == (403, "FORBIDDEN")
    # And even an admin-scoped token cannot create an organization: only a person can
    created = api.post("/organizations", {"name": "Third", "slug": "third"}, token=token)
    assert (created.status, created.code) == (403, "FORBIDDEN")
    assert api.get("/organizations/third", token=acme["owner"]).code == "ORGANIZATION_NOT_FOUND"
