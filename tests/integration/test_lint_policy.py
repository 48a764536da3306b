"""buf's lint in the registry through the API: /validate's warnings, a module policy's required lint at
publish (400 LINT_FAILED with the findings, nothing stored), set and cleared with PATCH."""
from __future__ import annotations

import boto3

from tests.integration.api import Api, multipart

PATH = "user/v1/user.proto"
CLEAN = 'syntax = "proto3";\npackage user.v1;\nmessage User {\n  string name = 1;\n}\n'
LINTY = 'syntax = "proto3";\npackage user.v1;\nmessage user_record {\n  string Name = 1;\n}\n'
ADDS_LINTY = CLEAN.replace("}\n", '  string Nick = 2;\n}\nmessage user_record {\n}\n')  # compatible with CLEAN


def _objects(env: dict[str, str]) -> int:
    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=env["SPOKE_BUCKET_NAME"])
    return listed.get("KeyCount", 0)


def test_validate_returns_lint_findings_as_warnings(api: Api) -> None:
    token, _ = api.signed_up()
    # When files breaking buf's STANDARD naming rules are validated
    reply = api.post("/validate", {"files": {PATH: LINTY}}, token=token)
    # Then they are valid, and the warnings name buf's rules with their positions
    assert reply.status == 200, reply.body
    assert reply.data["valid"] is True and reply.data["errors"] == []
    assert [(w["rule"], w["file"], w["line"], w["column"]) for w in reply.data["warnings"]] == [
        ("MESSAGE_PASCAL_CASE", PATH, 3, 9), ("FIELD_LOWER_SNAKE_CASE", PATH, 4, 10)]
    # And with a module named (multipart too), its lint policy applies
    api.post("/modules", {"name": "user", "compatibility": {"lint": {"except": ["MESSAGE_PASCAL_CASE"]}}},
             token=token)
    body, content_type = multipart({"module": "user"}, [("file", PATH, LINTY.encode())])
    named = api.call("POST", "/validate", raw=body, headers={"Content-Type": content_type}, token=token)
    assert [w["rule"] for w in named.data["warnings"]] == ["FIELD_LOWER_SNAKE_CASE"]
    assert api.post("/validate", {"files": {PATH: CLEAN}, "module": "nobody"}, token=token).status == 404


def test_a_policys_required_lint_refuses_a_publish_and_stores_nothing(api: Api, aws_env: dict[str, str]) -> None:
    # Given a module at v1.0.0 whose policy then requires buf's BASIC lint rules
    token, _ = api.signed_up()
    api.module(token, "user")
    assert api.publish(token, "user", "v1.0.0", files={PATH: CLEAN}).status == 201
    patched = api.patch("/modules/user", {"compatibility": {"lint": {"use": ["BASIC"]}}}, token=token)
    assert patched.status == 200, patched.body
    assert patched.data["compatibility"]["lint"] == {"use": ["BASIC"], "except": []}
    assert api.get("/modules/user", token=token).data["compatibility"]["lint"]["use"] == ["BASIC"]
    stored = _objects(aws_env)
    # When a compatible version breaking two of its rules is published
    reply = api.publish(token, "user", "v1.1.0", files={PATH: ADDS_LINTY})
    # Then it is refused with 400 LINT_FAILED and the findings, and nothing is stored
    assert (reply.status, reply.code) == (400, "LINT_FAILED"), reply.body
    details = reply.body["error"]["details"]
    assert [(f["rule"], f["line"]) for f in details["findings"]] == [
        ("FIELD_LOWER_SNAKE_CASE", 5), ("MESSAGE_PASCAL_CASE", 7)]
    assert details["total"] == 2 and details["lint"]["use"] == ["BASIC"]
    assert api.get("/modules/user").data["versions"] == ["v1.0.0"]
    assert _objects(aws_env) == stored
    # And once the lint policy is cleared, the same version is published
    cleared = api.patch("/modules/user", {"compatibility": {"lint": None}}, token=token)
    assert cleared.status == 200 and "lint" not in cleared.data["compatibility"]
    assert api.publish(token, "user", "v1.1.0", files={PATH: ADDS_LINTY}).status == 201


def test_an_unknown_lint_rule_is_refused(api: Api) -> None:
    token, _ = api.signed_up()
    reply = api.post("/modules", {"name": "user", "compatibility": {"lint": {"use": ["NO_SUCH_RULE"]}}},
                     token=token)
    assert (reply.status, reply.code) == (400, "VALIDATION_ERROR")
    assert reply.body["error"]["validation_errors"][0]["code"] == "UNKNOWN_LINT_RULE"
    assert "NO_SUCH_RULE" in reply.body["error"]["message"]
