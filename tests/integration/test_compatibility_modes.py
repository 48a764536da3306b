"""Confluent's modes through the API: FORWARD runs buf's rules the other way (the older schema checked as the
new one against the new version), FULL_TRANSITIVE both ways against every lower version of the major."""
from __future__ import annotations

import boto3
from botocore.exceptions import ClientError

from chalicelib.adapters import aws
from tests.integration.api import Api

NAME_ONLY = 'syntax = "proto3";\npackage user.v1;\nmessage User {\n  string name = 1;\n}\n'
WITH_AGE = 'syntax = "proto3";\npackage user.v1;\nmessage User {\n  string name = 1;\n  int32 age = 2;\n}\n'


def test_forward_refuses_an_added_field_and_names_the_direction(api: Api) -> None:
    # Given a module whose policy is FORWARD, at v1.0.0
    token, _ = api.signed_up()
    created = api.post("/modules", {"name": "user", "compatibility": {"mode": "FORWARD"}}, token=token)
    assert created.status == 201 and created.data["compatibility"]["mode"] == "FORWARD"
    assert api.publish(token, "user", "v1.0.0", files={"user.proto": NAME_ONLY}).status == 201
    # When v1.1.0 adds a field
    refused = api.publish(token, "user", "v1.1.0", files={"user.proto": WITH_AGE})
    # Then it is refused: v1.0.0, checked as the new schema, lacks the field (located in v1.0.0's file)
    assert (refused.status, refused.code) == (409, "BREAKING_CHANGE"), refused.body
    details = refused.body["error"]["details"]
    assert (details["against"], details["direction"]) == ("v1.0.0", "forward")
    [finding] = details["breaking_changes"]
    assert (finding["rule"], finding["direction"], finding["file"]) == ("FIELD_NO_DELETE", "forward", "user.proto")
    assert api.get("/modules/user").data["versions"] == ["v1.0.0"]
    # And a field deletion, which BACKWARD refuses, is forward compatible
    accepted = api.publish(token, "user", "v1.1.0", files={"user.proto": NAME_ONLY.replace("  string name = 1;\n", "")})
    assert accepted.status == 201 and accepted.data["checked_against"] == ["v1.0.0"]


def test_the_check_takes_a_mode_and_defaults_to_the_modules(api: Api) -> None:
    token, _ = api.signed_up()
    assert api.post("/modules", {"name": "user", "compatibility": {"mode": "NONE"}}, token=token).status == 201
    for version, text in (("v1.0.0", NAME_ONLY), ("v1.1.0", WITH_AGE)):
        assert api.publish(token, "user", version, files={"user.proto": text}).status == 201
    pair = {"version1": "v1.0.0", "version2": "v1.1.0"}
    backward = api.post("/modules/user/compatibility/check", pair, token=token).data
    assert (backward["compatible"], backward["directions"]) == (True, ["backward"])
    full = api.post("/modules/user/compatibility/check", {**pair, "mode": "FULL"}, token=token).data
    assert (full["compatible"], full["directions"]) == (False, ["backward", "forward"])
    assert [f["direction"] for f in full["breaking_changes"]] == ["forward"]
    files = api.post("/modules/user/compatibility/check", {"against": "v1.0.0", "files": {"user.proto": WITH_AGE},
                                                           "mode": "FORWARD"}, token=token).data
    assert (files["compatible"], files["directions"]) == (False, ["forward"])
    bad = api.post("/modules/user/compatibility/check", {**pair, "mode": "SIDEWAYS"}, token=token)
    assert (bad.status, bad.code) == (400, "VALIDATION_ERROR")


def test_full_transitive_checks_both_ways_against_every_lower_version(api: Api) -> None:
    # Given v1.0.0 (name) and v1.1.0 (name, age) published under NONE, then the policy FULL_TRANSITIVE
    token, _ = api.signed_up()
    assert api.post("/modules", {"name": "user", "compatibility": {"mode": "NONE"}}, token=token).status == 201
    assert api.publish(token, "user", "v1.0.0", files={"user.proto": NAME_ONLY}).status == 201
    assert api.publish(token, "user", "v1.1.0", files={"user.proto": WITH_AGE}).status == 201
    patched = api.patch("/modules/user", {"compatibility": {"mode": "FULL_TRANSITIVE"}}, token=token)
    assert patched.status == 200 and patched.data["compatibility"]["mode"] == "FULL_TRANSITIVE"
    # When v1.2.0 repeats v1.1.0: compatible both ways with v1.1.0, not forward with v1.0.0
    refused = api.publish(token, "user", "v1.2.0", files={"user.proto": WITH_AGE})
    # Then it is refused against v1.0.0, forward
    assert (refused.status, refused.code) == (409, "BREAKING_CHANGE"), refused.body
    details = refused.body["error"]["details"]
    assert (details["against"], details["direction"], details["policy"]["mode"]) == (
        "v1.0.0", "forward", "FULL_TRANSITIVE")
    # And once the policy lets a field be deleted, it is accepted, naming every version it was checked against
    assert api.patch("/modules/user", {"compatibility": {"except": ["FIELD_NO_DELETE"]}}, token=token).status == 200
    accepted = api.publish(token, "user", "v1.2.0", files={"user.proto": WITH_AGE})
    assert accepted.status == 201 and accepted.data["checked_against"] == ["v1.1.0", "v1.0.0"]


def test_an_s3_failure_midway_through_a_transitive_check_stores_nothing(api: Api, aws_env: dict[str, str]) -> None:
    # Given three versions under FULL_TRANSITIVE
    token, _ = api.signed_up()
    assert api.post("/modules", {"name": "user", "compatibility": {"mode": "FULL_TRANSITIVE"}},
                    token=token).status == 201
    for version in ("v1.0.0", "v1.1.0", "v1.2.0"):
        assert api.publish(token, "user", version, files={"user.proto": NAME_ONLY}).status == 201
    stored = _objects(aws_env)
    # And S3 failing every read after the closest version's two (its manifest and descriptor set)
    reads: list[str] = []

    def fail_midway(**_: object) -> None:
        reads.append("get")
        if len(reads) > 2:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "secret internal text"}}, "GetObject")

    events = aws.client("s3").meta.events
    events.register("before-call.s3.GetObject", fail_midway, unique_id="modes-fail")
    try:
        reply = api.publish(token, "user", "v1.3.0", files={"user.proto": NAME_ONLY})
    finally:
        events.unregister("before-call.s3.GetObject", unique_id="modes-fail")
    # Then the publish fails as a plain 500 on the second version it checks, and nothing was stored
    assert (reply.status, reply.code, len(reads)) == (500, "INTERNAL_ERROR", 3), reply.body
    assert "secret internal text" not in str(reply.body)
    assert api.get("/modules/user").data["versions"] == ["v1.0.0", "v1.1.0", "v1.2.0"]
    assert _objects(aws_env) == stored
    # And the same publish succeeds once S3 answers, checked against every lower version
    again = api.publish(token, "user", "v1.3.0", files={"user.proto": NAME_ONLY})
    assert again.status == 201 and again.data["checked_against"] == ["v1.2.0", "v1.1.0", "v1.0.0"]


def _objects(env: dict[str, str]) -> int:
    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=env["SPOKE_BUCKET_NAME"])
    return listed.get("KeyCount", 0)
