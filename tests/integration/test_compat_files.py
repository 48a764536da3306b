"""Unpublished files checked against a stored version: what CI runs before it pushes.

POST /modules/{name}/compatibility/check with `{against, files, dependencies?}` (JSON) or multipart
(`against` and file fields, as publish): compiled by publish's protoc judgement, never stored.
"""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.adapters import aws
from tests.integration.api import Api, multipart

# The sources of test_compatibility (v1.0.0, the same plus a field, the same minus one) and its fixture
# `token`: a signed-in user whose module `user` is at v1.0.0.
from tests.integration.test_compatibility import V1, token  # noqa: F401
from tests.integration.test_compatibility import V1_1 as ADDED
from tests.integration.test_compatibility import V2 as DELETED

CHECK = "/modules/user/compatibility/check"


def _objects(env: dict[str, str]) -> int:
    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=env["SPOKE_BUCKET_NAME"])
    return listed.get("KeyCount", 0)


def test_a_deleted_field_is_reported_and_nothing_is_stored(api: Api, token: str, aws_env: dict[str, str]) -> None:
    stored_before = _objects(aws_env)
    # When CI checks local files that delete a field against v1.0.0
    reply = api.post(CHECK, {"against": "v1.0.0", "files": {"user.proto": DELETED}}, token=token)
    # Then the finding names buf's rule, the file and the position in the new files
    assert reply.status == 200, reply.body
    assert reply.data["compatible"] is False and reply.data["against"] == "v1.0.0"
    [finding] = reply.data["breaking_changes"]
    assert (finding["rule"], finding["category"], finding["file"], finding["line"]) == (
        "FIELD_NO_DELETE", "FILE", "user.proto", 3)
    # And nothing was published or written
    assert api.get("/modules/user").data["versions"] == ["v1.0.0"]
    assert _objects(aws_env) == stored_before


def test_an_additive_change_is_compatible_with_a_warning(api: Api, token: str) -> None:
    reply = api.post(CHECK, {"against": "v1.0.0", "files": {"user.proto": ADDED}}, token=token)
    assert reply.status == 200, reply.body
    assert (reply.data["compatible"], reply.data["breaking_changes"]) == (True, [])
    assert reply.data["warnings"] == ["Field 'phone_number' added to User message"]
    assert reply.data["use"] == ["FILE"]  # the module's policy, as nothing else was asked


def test_multipart_as_curl_sends_it_with_rules_of_the_request(api: Api, token: str) -> None:
    # Given the files as `curl -F against=v1.0.0 -F use=WIRE -F file=@user.proto`
    body, content_type = multipart({"against": "v1.0.0", "use": "WIRE"},
                                   [("file", "user.proto", DELETED.encode())])
    reply = api.call("POST", CHECK, token=token, raw=body, headers={"Content-Type": content_type})
    # Then the request's rules replace the module's policy
    assert reply.status == 200, reply.body
    assert [(c["rule"], c["category"]) for c in reply.data["breaking_changes"]] == [
        ("FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED", "WIRE")]
    assert reply.data["use"] == ["WIRE"]


def test_invalid_protos_are_refused_as_publish_refuses_them(api: Api, token: str) -> None:
    reply = api.post(CHECK, {"against": "v1.0.0", "files": {"user.proto": "syntax = \"proto3\";\nmessage {"}},
                     token=token)
    assert (reply.status, reply.code) == (400, "INVALID_PROTO")
    assert reply.body["error"]["details"]["errors"][0]["file"] == "user.proto"


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"files": {"user.proto": V1}}, 400, "VALIDATION_ERROR"),                                 # no against
    ({"against": "v9.0.0", "files": {"user.proto": V1}}, 404, "VERSION_NOT_FOUND"),
    ({"against": "v1.0.0", "files": {}}, 400, "NO_FILES"),
    ({"against": "v1.0.0", "files": {"../user.proto": V1}}, 400, None),                       # path grammar
    ({"against": "v1.0.0", "version1": "v1.0.0", "files": {"user.proto": V1}}, 400, "VALIDATION_ERROR"),
    ({"against": "v1.0.0", "files": {"user.proto": V1}, "use": ["NOT_A_RULE"]}, 400, None),
])
def test_bad_requests_get_a_clear_4xx(api: Api, token: str, body: dict, status: int, code: str | None) -> None:
    reply = api.post(CHECK, body, token=token)
    assert reply.status == status, reply.body
    assert reply.body["error"]["message"]
    if code:
        assert reply.code == code


def test_signed_in_callers_only(api: Api, token: str) -> None:
    reply = api.post(CHECK, {"against": "v1.0.0", "files": {"user.proto": V1}})
    assert (reply.status, reply.code) == (401, "UNAUTHORIZED")


def test_dependencies_default_to_those_of_the_version_checked_against(api: Api, token: str) -> None:
    # Given `orders` v1.0.0, published with dependency user@v1.0.0
    api.module(token, "orders")
    orders = 'syntax = "proto3";\npackage orders.v1;\nimport "user.proto";\nmessage Order { user.v1.User by = 1; }\n'
    published = api.post("/modules/orders/versions", {"version": "v1.0.0", "files": {"orders.proto": orders},
                                                      "dependencies": ["user@v1.0.0"]}, token=token)
    assert published.status == 201, published.body
    changed = orders.replace("by = 1", "buyer = 1")
    # When local files are checked without naming dependencies: the stored version's are used
    reply = api.post("/modules/orders/compatibility/check", {"against": "v1.0.0", "files": {"orders.proto": changed}},
                     token=token)
    assert reply.status == 200, reply.body
    assert reply.data["dependencies"] == [{"module": "user", "version": "v1.0.0"}]
    assert "FIELD_SAME_NAME" in [c["rule"] for c in reply.data["breaking_changes"]]
    # And naming them explicitly (here: none) is honoured
    none = api.post("/modules/orders/compatibility/check",
                    {"against": "v1.0.0", "files": {"orders.proto": changed}, "dependencies": []}, token=token)
    assert (none.status, none.code) == (400, "UNRESOLVED_IMPORT")


def test_latest_names_the_highest_release(api: Api, token: str) -> None:
    # Given v1.1.0 and a pre-release above it
    assert api.publish(token, "user", "v1.1.0", files={"user.proto": ADDED}).status == 201
    assert api.publish(token, "user", "v2.0.0-rc.1", files={"user.proto": DELETED}).status == 201
    # When files are checked against `latest`
    reply = api.post(CHECK, {"against": "latest", "files": {"user.proto": V1}}, token=token)
    # Then the highest release (pre-releases excluded) was the one compared
    assert reply.status == 200, reply.body
    assert reply.data["against"] == "v1.1.0"
    assert [c["rule"] for c in reply.data["breaking_changes"]] == ["FIELD_NO_DELETE"]


def test_a_failing_s3_read_is_a_plain_500_and_the_next_check_works(api: Api, token: str) -> None:
    # Given S3 failing the stored descriptor set's read
    def fail(**_: object) -> None:
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "secret internal text"}}, "GetObject")

    events = aws.client("s3").meta.events
    events.register("before-call.s3.GetObject", fail, unique_id="compat-files-fail")
    try:
        reply = api.post(CHECK, {"against": "v1.0.0", "files": {"user.proto": DELETED}}, token=token)
    finally:
        events.unregister("before-call.s3.GetObject", unique_id="compat-files-fail")
    # Then the caller gets a 500 without AWS's text, and nothing changed for the next check
    assert (reply.status, reply.code) == (500, "INTERNAL_ERROR")
    assert "secret internal text" not in str(reply.body)
    again = api.post(CHECK, {"against": "v1.0.0", "files": {"user.proto": DELETED}}, token=token)
    assert again.status == 200 and again.data["compatible"] is False
