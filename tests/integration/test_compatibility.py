"""Compatibility: the contract's check between stored versions, and the policy enforced on publish."""
from __future__ import annotations

import pytest

from tests.integration.api import Api

V1 = 'syntax = "proto3";\npackage user.v1;\nmessage User {\n  string id = 1;\n  string email = 2;\n}\n'
V1_1 = ('syntax = "proto3";\npackage user.v1;\nmessage User {\n  string id = 1;\n  string email = 2;\n'
        '  string phone_number = 3;\n}\n')
V2 = 'syntax = "proto3";\npackage user.v1;\nmessage User {\n  string id = 1;\n}\n'


@pytest.fixture
def token(api: Api) -> str:
    token = api.signed_up()[0]
    api.module(token, "user")
    assert api.publish(token, "user", "v1.0.0", files={"user.proto": V1}).status == 201
    return token


def test_an_additive_change_is_compatible_with_a_warning(api: Api, token: str) -> None:
    published = api.publish(token, "user", "v1.1.0", files={"user.proto": V1_1})
    assert published.status == 201 and published.data["checked_against"] == ["v1.0.0"]
    reply = api.post("/modules/user/compatibility/check", {"version1": "v1.0.0", "version2": "v1.1.0"}, token=token)
    assert reply.status == 200
    assert reply.data["compatible"] is True and reply.data["breaking_changes"] == []
    assert reply.data["warnings"] == ["Field 'phone_number' added to User message"]


def test_a_breaking_publish_is_refused_with_the_findings(api: Api, token: str) -> None:
    # When a minor version deletes a field under the default policy (FILE, BACKWARD)
    reply = api.publish(token, "user", "v1.1.0", files={"user.proto": V2})
    # Then it is refused with buf's rule, position and a message, and nothing is stored
    assert (reply.status, reply.code) == (409, "BREAKING_CHANGE")
    details = reply.body["error"]["details"]
    assert details["against"] == "v1.0.0"
    [finding] = details["breaking_changes"]
    assert finding["rule"] == "FIELD_NO_DELETE" and finding["category"] == "FILE"
    assert (finding["file"], finding["line"], finding["column"]) == ("user.proto", 3, 1)
    assert "email" in finding["message"]
    assert api.get("/modules/user").data["versions"] == ["v1.0.0"]


def test_a_new_major_may_break_and_the_check_explains_it(api: Api, token: str) -> None:
    published = api.publish(token, "user", "v2.0.0", files={"user.proto": V2})
    assert published.status == 201 and published.data["checked_against"] == []
    reply = api.post("/modules/user/compatibility/check", {"version1": "v1.0.0", "version2": "v2.0.0"},
                     token=token).data
    assert reply["compatible"] is False
    assert [c["rule"] for c in reply["breaking_changes"]] == ["FIELD_NO_DELETE"]
    wire_only = api.post("/modules/user/compatibility/check",
                         {"version1": "v1.0.0", "version2": "v2.0.0", "use": ["WIRE"]}, token=token).data
    assert [(c["rule"], c["category"]) for c in wire_only["breaking_changes"]] == [
        ("FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED", "WIRE")]


def test_policy_is_set_on_create_and_patch_and_shown(api: Api, token: str) -> None:
    created = api.post("/modules", {"name": "strict", "compatibility": {
        "mode": "BACKWARD_TRANSITIVE", "use": ["WIRE_JSON"], "allow_breaking_major": False}}, token=token)
    assert created.status == 201
    assert created.data["compatibility"] == {"mode": "BACKWARD_TRANSITIVE", "use": ["WIRE_JSON"], "except": [],
                                             "allow_breaking_major": False}
    assert api.publish(token, "strict", "v1.0.0", files={"user.proto": V1}).status == 201
    refused = api.publish(token, "strict", "v2.0.0", files={"user.proto": V2})
    assert (refused.status, refused.code) == (409, "BREAKING_CHANGE")
    patched = api.patch("/modules/strict", {"compatibility": {"mode": "NONE"}}, token=token)
    assert patched.data["compatibility"]["mode"] == "NONE"
    assert api.publish(token, "strict", "v2.0.0", files={"user.proto": V2}).status == 201
    assert api.get("/modules/user").data["compatibility"]["use"] == ["FILE"]


@pytest.mark.parametrize("policy,field", [({"mode": "SIDEWAYS"}, "compatibility.mode"),
                                          ({"use": ["NOT_A_RULE"]}, None), ({"colour": "red"}, "compatibility.colour")])
def test_a_bad_policy_is_refused(api: Api, token: str, policy: dict, field: str | None) -> None:
    reply = api.patch("/modules/user", {"compatibility": policy}, token=token)
    assert reply.status == 400, reply.body
    if field:
        assert reply.body["error"]["validation_errors"][0]["field"] == field
    else:
        assert reply.code == "UNKNOWN_RULE"


def test_check_needs_two_existing_versions(api: Api, token: str) -> None:
    missing = api.post("/modules/user/compatibility/check", {"version1": "v1.0.0", "version2": "v9.0.0"},
                       token=token)
    assert (missing.status, missing.code) == (404, "VERSION_NOT_FOUND")
    absent = api.post("/modules/user/compatibility/check", {"version1": "v1.0.0"}, token=token)
    assert (absent.status, absent.code) == (400, "VALIDATION_ERROR")


def test_checks_cost_cpu_so_they_need_a_signed_in_caller(api: Api, token: str) -> None:
    # Given a public module in the default organization, When an anonymous caller asks for a check
    anonymous = api.post("/modules/user/compatibility/check", {"version1": "v1.0.0", "version2": "v1.0.0"})
    # Then it is refused before any work, while reading the module stays open
    assert (anonymous.status, anonymous.code) == (401, "UNAUTHORIZED")
    assert api.get("/modules/user").status == 200
