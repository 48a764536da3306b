"""BACKWARD_TRANSITIVE checks a new version against every lower one, not only the closest.

This test fails if the policy is enforced against the closest lower version alone (as BACKWARD is).
"""
from __future__ import annotations

from tests.integration.api import Api

V1 = 'syntax = "proto3";\npackage user.v1;\nmessage User {\n  string id = 1;\n  string email = 2;\n}\n'
WITHOUT_EMAIL = 'syntax = "proto3";\npackage user.v1;\nmessage User {\n  string id = 1;\n}\n'
WITH_NAME = 'syntax = "proto3";\npackage user.v1;\nmessage User {\n  string id = 1;\n  string name = 3;\n}\n'


def test_backward_transitive_refuses_a_version_that_breaks_only_an_older_one(api: Api) -> None:
    # Given v1.0.0 with an email field, and v1.1.0 without it (published while the policy was NONE)
    token, _ = api.signed_up()
    assert api.post("/modules", {"name": "user", "compatibility": {"mode": "NONE"}}, token=token).status == 201
    assert api.publish(token, "user", "v1.0.0", files={"user.proto": V1}).status == 201
    assert api.publish(token, "user", "v1.1.0", files={"user.proto": WITHOUT_EMAIL}).status == 201
    # And the module's policy is now BACKWARD_TRANSITIVE
    patched = api.patch("/modules/user", {"compatibility": {"mode": "BACKWARD_TRANSITIVE"}}, token=token)
    assert patched.status == 200, patched.body
    # When v1.2.0 adds a field: compatible with v1.1.0, but still without v1.0.0's email
    reply = api.publish(token, "user", "v1.2.0", files={"user.proto": WITH_NAME})
    # Then it is refused against v1.0.0, the older version the closest one does not represent
    assert (reply.status, reply.code) == (409, "BREAKING_CHANGE"), reply.body
    assert reply.body["error"]["details"]["against"] == "v1.0.0"
    assert [f["rule"] for f in reply.body["error"]["details"]["breaking_changes"]] == ["FIELD_NO_DELETE"]
    # And under BACKWARD the same version is accepted, checked against the closest only
    assert api.patch("/modules/user", {"compatibility": {"mode": "BACKWARD"}}, token=token).status == 200
    accepted = api.publish(token, "user", "v1.2.0", files={"user.proto": WITH_NAME})
    assert accepted.status == 201 and accepted.data["checked_against"] == ["v1.1.0"]


def test_backward_transitive_names_every_version_it_checked(api: Api) -> None:
    token, _ = api.signed_up()
    assert api.post("/modules", {"name": "user", "compatibility": {"mode": "BACKWARD_TRANSITIVE"}},
                    token=token).status == 201
    for version in ("v1.0.0", "v1.1.0"):
        assert api.publish(token, "user", version, files={"user.proto": V1}).status == 201
    reply = api.publish(token, "user", "v1.2.0", files={"user.proto": V1})
    assert reply.status == 201 and reply.data["checked_against"] == ["v1.1.0", "v1.0.0"]
