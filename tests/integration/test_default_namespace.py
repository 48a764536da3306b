"""The default organization is shared, not up for grabs: a module there belongs to its creator.

Issue 10's hijack, replayed over the API: Bob may not PATCH Alice's policy to NONE nor publish a breaking
"latest" over her versions; Alice may; collaborators she adds may; named organizations keep their roles.
"""
from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from chalicelib.adapters import aws
from tests.integration.api import Api
from tests.integration.test_packs_and_uploads import from_upload, tar_gz, upload

PASSWORD = "correct-horse-battery-staple"
USER_V1 = 'syntax = "proto3";\npackage user.v1;\nmessage User {\n  string id = 1;\n  string email = 2;\n}\n'
USER_BREAKING = 'syntax = "proto3";\npackage user.v1;\nmessage User {\n  string id = 1;\n}\n'


def _user(api: Api, name: str) -> dict[str, str]:
    token, user_id = api.signed_up(f"{name}@example.com", password=PASSWORD)
    return {"token": token, "id": user_id, "email": f"{name}@example.com"}


@pytest.fixture
def alice(api: Api) -> dict[str, str]:
    return _user(api, "alice")


@pytest.fixture
def bob(api: Api) -> dict[str, str]:
    return _user(api, "bob")


@pytest.fixture
def published(api: Api, alice: dict[str, str]) -> dict[str, Any]:
    """Given Alice's module `user` in the default organization (BACKWARD, not even a major may break), v1.0.0."""
    created = api.post("/modules", {"name": "user", "description": "Alice's users",
                                    "compatibility": {"mode": "BACKWARD", "allow_breaking_major": False}},
                       token=alice["token"])
    assert created.status == 201, created.body
    first = api.publish(alice["token"], "user", "v1.0.0", {"user.proto": USER_V1})
    assert first.status == 201, first.body
    return api.get("/modules/user").data


def test_the_hijack_of_issue_10_is_forbidden(api: Api, alice: dict[str, str], bob: dict[str, str],
                                             published: dict[str, Any]) -> None:
    # When Bob sets Alice's policy to NONE
    patched = api.patch("/modules/user", {"compatibility": {"mode": "NONE"}}, token=bob["token"])
    # Then 403 FORBIDDEN, saying whose it is and what to do
    assert (patched.status, patched.code) == (403, "FORBIDDEN")
    assert "ask them to add you as a collaborator" in patched.body["error"]["message"]
    # When Bob publishes a breaking v2.0.0 over it
    pushed = api.publish(bob["token"], "user", "v2.0.0", {"user.proto": USER_BREAKING})
    # Then 403 FORBIDDEN as well
    assert (pushed.status, pushed.code) == (403, "FORBIDDEN")
    # And the module and its versions are exactly as Alice left them
    assert api.get("/modules/user").data == published
    assert published["compatibility"]["mode"] == "BACKWARD" and published["latest_version"] == "v1.0.0"
    assert published["owner"] == {"id": alice["id"]}
    assert [v["version"] for v in api.get("/modules/user/versions").data["versions"]] == ["v1.0.0"]
    # And Alice herself can still do both
    assert api.patch("/modules/user", {"compatibility": {"mode": "NONE"}}, token=alice["token"]).status == 200
    assert api.publish(alice["token"], "user", "v2.0.0", {"user.proto": USER_BREAKING}).status == 201
    assert api.get("/modules/user").data["latest_version"] == "v2.0.0"


def test_uploads_and_recompiles_are_writes_too(api: Api, alice: dict[str, str], bob: dict[str, str],
                                               published: dict[str, Any]) -> None:
    # When Bob asks for an upload grant, a recompile, or edits the Go prefix
    grant = api.post("/modules/user/uploads", {}, token=bob["token"])
    recompile = api.post("/modules/user/versions/v1.0.0/compile", {"languages": ["python"]}, token=bob["token"])
    prefix = api.patch("/modules/user", {"go_package_prefix": "example.com/bob"}, token=bob["token"])
    # Then each is 403 FORBIDDEN
    assert [(r.status, r.code) for r in (grant, recompile, prefix)] == [(403, "FORBIDDEN")] * 3
    # And Alice may do each
    assert api.post("/modules/user/uploads", {}, token=alice["token"]).status == 201
    assert api.post("/modules/user/versions/v1.0.0/compile", {"languages": ["python"]},
                    token=alice["token"]).status in (200, 202)
    assert api.get("/modules/user").data["go_package_prefix"] is None


def test_a_collaborator_alice_adds_may_write_until_removed(api: Api, alice: dict[str, str], bob: dict[str, str],
                                                           published: dict[str, Any]) -> None:
    # When Alice adds Bob
    added = api.post("/modules/user/collaborators", {"email": "Bob@Example.com"}, token=alice["token"])
    # Then 201 with who he is; the list (readable by anyone) shows him
    assert added.status == 201, added.body
    assert added.data["user_id"] == bob["id"] and added.data["email"] == "bob@example.com" and added.data["added_at"]
    listed = api.get("/modules/user/collaborators").data
    assert listed["owner"] == {"id": alice["id"]} and [c["user_id"] for c in listed["collaborators"]] == [bob["id"]]
    # And adding him again changes nothing (200)
    assert api.post("/modules/user/collaborators", {"email": "bob@example.com"}, token=alice["token"]).status == 200
    # And Bob may edit and publish (within Alice's policy: a breaking version is still refused)
    assert api.patch("/modules/user", {"description": "shared"}, token=bob["token"]).status == 200
    assert api.publish(bob["token"], "user", "v1.1.0", {"user.proto": USER_V1}).status == 201
    assert api.publish(bob["token"], "user", "v2.0.0", {"user.proto": USER_BREAKING}).status == 409
    # But not manage collaborators
    carol = _user(api, "carol")
    assert api.post("/modules/user/collaborators", {"email": carol["email"]}, token=bob["token"]).status == 403
    # When Alice removes him
    assert api.delete(f"/modules/user/collaborators/{bob['id']}", token=alice["token"]).status == 204
    # Then he is refused again, and removing him twice is 404
    assert api.patch("/modules/user", {"description": "mine"}, token=bob["token"]).status == 403
    gone = api.delete(f"/modules/user/collaborators/{bob['id']}", token=alice["token"])
    assert (gone.status, gone.code) == (404, "COLLABORATOR_NOT_FOUND")


def test_a_grant_from_before_a_removal_publishes_nothing(api: Api, alice: dict[str, str], bob: dict[str, str],
                                                         published: dict[str, Any]) -> None:
    # Given Bob, a collaborator, holding an upload grant with his archive posted
    api.post("/modules/user/collaborators", {"email": bob["email"]}, token=alice["token"])
    upload_id = upload(api, bob["token"], "user", tar_gz({"user.proto": USER_BREAKING}))
    # When Alice removes him and he publishes from the upload
    assert api.delete(f"/modules/user/collaborators/{bob['id']}", token=alice["token"]).status == 204
    reply = from_upload(api, bob["token"], "user", upload_id, version="v9.0.0")
    # Then it is refused and nothing was published
    assert (reply.status, reply.code) == (403, "FORBIDDEN")
    assert api.get("/modules/user").data["versions"] == ["v1.0.0"]


def test_a_collaborator_may_leave_but_not_remove_others(api: Api, alice: dict[str, str], bob: dict[str, str],
                                                        published: dict[str, Any]) -> None:
    carol = _user(api, "carol")
    for person in (bob, carol):
        api.post("/modules/user/collaborators", {"email": person["email"]}, token=alice["token"])
    assert api.delete(f"/modules/user/collaborators/{carol['id']}", token=bob["token"]).status == 403
    assert api.delete(f"/modules/user/collaborators/{bob['id']}", token=bob["token"]).status == 204
    assert [c["email"] for c in api.get("/modules/user/collaborators").data["collaborators"]] == [carol["email"]]


def test_collaborator_requests_answer_clearly(api: Api, alice: dict[str, str], published: dict[str, Any]) -> None:
    unknown = api.post("/modules/user/collaborators", {"email": "nobody@example.com"}, token=alice["token"])
    assert (unknown.status, unknown.code) == (404, "USER_NOT_FOUND")
    bad = api.post("/modules/user/collaborators", {"email": ["x"]}, token=alice["token"])
    assert (bad.status, bad.code) == (400, "VALIDATION_ERROR")
    anonymous = api.post("/modules/user/collaborators", {"email": "alice@example.com"})
    assert anonymous.status == 401
    missing = api.get("/modules/ghost/collaborators")
    assert (missing.status, missing.code) == (404, "MODULE_NOT_FOUND")
    nobody = api.delete("/modules/user/collaborators/not-a-user-id", token=alice["token"])
    assert (nobody.status, nobody.code) == (404, "COLLABORATOR_NOT_FOUND")


def test_named_organizations_keep_their_roles(api: Api, alice: dict[str, str], bob: dict[str, str]) -> None:
    # Given Acme, owned by Alice, with Bob as a developer and a module Alice created
    org = api.post("/organizations", {"name": "Acme", "slug": "acme"}, token=alice["token"])
    assert org.status == 201, org.body
    assert api.post(f"/organizations/{org.data['id']}/members", {"email": bob["email"], "role": "developer"},
                    token=alice["token"]).status == 201
    api.module(alice["token"], "billing", org="acme")
    # When Bob edits and publishes to it
    assert api.patch("/modules/billing", {"description": "by bob"}, token=bob["token"], org="acme").status == 200
    assert api.publish(bob["token"], "billing", "v1.0.0", org="acme").status == 201
    # Then both succeed, and collaborators are not a thing there (400, saying why)
    refused = api.post("/modules/billing/collaborators", {"email": bob["email"]}, token=alice["token"], org="acme")
    assert (refused.status, refused.code) == (400, "COLLABORATORS_ONLY_IN_DEFAULT")
    assert "roles govern" in refused.body["error"]["message"]


def test_a_failed_write_of_a_collaborator_leaves_nothing_behind(api: Api, alice: dict[str, str], bob: dict[str, str],
                                                               published: dict[str, Any]) -> None:
    # Given DynamoDB unreachable for the collaborator's transaction
    def unreachable(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    events = aws.client("dynamodb").meta.events  # the application's own client
    events.register("before-call.dynamodb.TransactWriteItems", unreachable, unique_id="unreachable")
    try:
        failed = api.post("/modules/user/collaborators", {"email": bob["email"]}, token=alice["token"])
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="unreachable")
    # Then a clean 500, Bob is not a collaborator and may not write
    assert (failed.status, failed.code) == (500, "INTERNAL_ERROR")
    assert "dynamodb" not in failed.body["error"]["message"].lower()
    assert api.get("/modules/user/collaborators").data["collaborators"] == []
    assert api.patch("/modules/user", {"description": "x"}, token=bob["token"]).status == 403
    # And once DynamoDB is back the same request works
    assert api.post("/modules/user/collaborators", {"email": bob["email"]}, token=alice["token"]).status == 201
