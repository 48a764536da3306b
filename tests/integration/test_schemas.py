"""protoc's judgement on publish and /validate, and dependencies between modules."""
from __future__ import annotations

import pytest

from tests.integration.api import Api, multipart
from tests.integration.outbox import relay_outbox

COMMON = 'syntax = "proto3";\npackage common.v1;\nmessage Money { string currency = 1; int64 units = 2; }\n'
USER = ('syntax = "proto3";\npackage user.v1;\nimport "common/v1/money.proto";\n'
        'import "google/protobuf/timestamp.proto";\n'
        'message User { string id = 1; common.v1.Money balance = 2; google.protobuf.Timestamp seen = 3; }\n')


@pytest.fixture
def token(api: Api) -> str:
    token = api.signed_up()[0]
    for name in ("common", "user", "billing"):
        api.module(token, name)
    assert api.publish(token, "common", "v1.0.0", files={"common/v1/money.proto": COMMON}).status == 201
    return token


@pytest.mark.parametrize("source", [
    'syntax = "proto2";\nmessage A { optional int32 x = 1; required string y = 2; extensions 100 to 200; }\n',
    'syntax = "proto3";\nmessage A { map<string, int32> m = 1; oneof o { string s = 2; int64 i = 3; } }\n',
    'edition = "2023";\nmessage A { int32 x = 1 [features.field_presence = IMPLICIT]; }\n',
])
def test_proto2_proto3_and_editions_publish(api: Api, token: str, source: str) -> None:
    assert api.publish(token, "billing", "v1.0.0", files={"a.proto": source}).status == 201


def test_an_invalid_version_is_refused_with_every_error_and_nothing_is_stored(api: Api, token: str) -> None:
    # Given sources with two mistakes
    broken = 'syntax = "proto3";\nmessage A {\n  Foo f = 1;\n  int32 x = 1;\n}\n'
    # When they are published
    reply = api.publish(token, "billing", "v1.0.0", files={"billing.proto": broken})
    # Then protoc's errors come back located, and the version does not exist
    assert (reply.status, reply.code) == (400, "INVALID_PROTO")
    errors = reply.body["error"]["details"]["errors"]
    assert {(e["file"], e["line"], e["column"]) for e in errors} == {("billing.proto", 3, 3), ("billing.proto", 4, 13)}
    assert any('"Foo" is not defined' in e["message"] for e in errors)
    assert api.get("/modules/billing").data["versions"] == []
    relay_outbox()  # the totals are added up from the table's stream
    assert "spoke_versions_total 1\n" in api.get("/metrics").raw.decode()
    anonymous = api.post("/validate", {"files": {"a.proto": 'syntax = "proto3";\n'}})
    assert (anonymous.status, anonymous.code) == (401, "UNAUTHORIZED")


def test_a_dependency_resolves_imports_transitively(api: Api, token: str) -> None:
    # Given user depends on common, and billing on user
    published = api.post("/modules/user/versions", {"version": "v1.0.0", "files": {"user/v1/user.proto": USER},
                                                    "dependencies": [{"module": "common", "version": "v1.0.0"}]},
                         token=token)
    assert published.status == 201, published.body
    billing = ('syntax = "proto3";\npackage billing.v1;\nimport "user/v1/user.proto";\n'
               'import "common/v1/money.proto";\nmessage Invoice { user.v1.User to = 1; common.v1.Money total = 2; }\n')
    body, content_type = multipart({"version": "v0.1.0", "dependency": "user@v1.0.0"},
                                   [("file", "billing/v1/invoice.proto", billing.encode())])
    reply = api.call("POST", "/modules/billing/versions", raw=body,
                     headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
    assert reply.status == 201, reply.body
    # Then direct dependencies are listed on the version, the transitive set on /dependencies
    assert api.get("/modules/billing/versions/v0.1.0").data["dependencies"] == [
        {"module": "user", "version": "v1.0.0"}]
    assert api.get("/modules/billing/versions/v0.1.0/dependencies").data["dependencies"] == [
        {"module": "common", "version": "v1.0.0"}, {"module": "user", "version": "v1.0.0"}]
    # And who depends on a module is known
    assert api.get("/modules/common/dependents").data["dependents"] == [
        {"module": "user", "version": "v1.0.0", "depends_on": "v1.0.0"}]


def test_dependencies_as_a_json_list_in_a_multipart_field(api: Api, token: str) -> None:
    body, content_type = multipart({"version": "v1.0.0", "dependencies": '[{"module": "common", "version": "1.0.0"}]'},
                                   [("file", "user/v1/user.proto", USER.encode())])
    reply = api.call("POST", "/modules/user/versions", raw=body,
                     headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
    assert reply.status == 201, reply.body
    assert reply.data["dependencies"] == [{"module": "common", "version": "v1.0.0"}]


def test_an_import_without_its_dependency_names_the_import(api: Api, token: str) -> None:
    reply = api.publish(token, "user", "v1.0.0", files={"user/v1/user.proto": USER})
    assert (reply.status, reply.code) == (400, "UNRESOLVED_IMPORT")
    assert reply.body["error"]["details"]["import"] == "common/v1/money.proto"
    assert reply.body["error"]["details"]["file"] == "user/v1/user.proto"
    assert "common/v1/money.proto" in reply.body["error"]["message"]


@pytest.mark.parametrize("dependencies,code", [
    (["common@v9.9.9"], "DEPENDENCY_NOT_FOUND"),
    (["ghost@v1.0.0"], "DEPENDENCY_NOT_FOUND"),
    (["common"], "VALIDATION_ERROR"),
    (["common@v1.0.0", "common@v1.0.0"], "VALIDATION_ERROR"),
    ([{"module": "common"}], "VALIDATION_ERROR"),
])
def test_bad_dependencies_are_refused(api: Api, token: str, dependencies: list, code: str) -> None:
    reply = api.post("/modules/user/versions", {"version": "v1.0.0", "files": {"user/v1/user.proto": USER},
                                                "dependencies": dependencies}, token=token)
    assert (reply.status, reply.code) == (400, code), reply.body


def test_the_same_path_from_a_dependency_and_the_upload_is_a_conflict(api: Api, token: str) -> None:
    reply = api.post("/modules/user/versions", {"version": "v1.0.0", "files": {"common/v1/money.proto": COMMON},
                                                "dependencies": ["common@v1.0.0"]}, token=token)
    assert (reply.status, reply.code) == (400, "DEPENDENCY_CONFLICT")
    assert "common/v1/money.proto" in reply.body["error"]["message"]


def test_validate_judges_without_storing(api: Api, token: str) -> None:
    good = api.post("/validate", {"files": {"user/v1/user.proto": USER}, "dependencies": ["common@v1.0.0"]},
                    token=token)
    assert good.status == 200 and good.data == {"valid": True, "errors": [], "warnings": []}
    bad = api.post("/validate", {"files": {"a.proto": 'syntax = "proto3";\nmessage A { B b = 1; }\n'}}, token=token)
    assert bad.status == 200 and bad.data["valid"] is False
    assert bad.data["errors"] == [{"file": "a.proto", "line": 2, "column": 13, "message": '"B" is not defined.'}]
    body, content_type = multipart({}, [("file1", "a.proto", b'syntax = "proto3";\nmessage A {}\n')])
    as_multipart = api.call("POST", "/validate", raw=body, headers={"Content-Type": content_type}, token=token)
    assert as_multipart.data["valid"] is True
    relay_outbox()  # the totals are added up from the table's stream
    assert "spoke_versions_total 1\n" in api.get("/metrics").raw.decode()
    anonymous = api.post("/validate", {"files": {"a.proto": 'syntax = "proto3";\n'}})
    assert (anonymous.status, anonymous.code) == (401, "UNAUTHORIZED")


def test_the_same_path_from_two_dependencies_is_a_conflict(api: Api, token: str) -> None:
    # Given two modules that both ship common/v1/money.proto
    api.module(token, "fork")
    assert api.publish(token, "fork", "v1.0.0", files={"common/v1/money.proto": COMMON}).status == 201
    # When a version depends on both
    reply = api.post("/modules/user/versions", {"version": "v1.0.0", "files": {"user/v1/user.proto": USER},
                                                "dependencies": ["common@v1.0.0", "fork@v1.0.0"]}, token=token)
    # Then the clash is named with both origins
    assert (reply.status, reply.code) == (400, "DEPENDENCY_CONFLICT")
    assert set(reply.body["error"]["details"]["dependencies"]) == {"common@v1.0.0", "fork@v1.0.0"}


def _dense(messages: int) -> str:
    fields = " ".join(f"string f{j} = {j + 1};" for j in range(40))
    return 'syntax = "proto3";\npackage big.v1;\n' + "\n".join(f"message M{i} {{ {fields} }}" for i in range(messages))


@pytest.mark.parametrize("setting, value, bound", [
    ("SPOKE_PROTOC_TIMEOUT_SECONDS", "0.001", "protoc went over its time limit of 0.001 s"),
    ("SPOKE_PROTOC_MEMORY_MIB", "16", "protoc went over its memory limit of 16 MiB"),
])
def test_a_compile_over_its_bound_is_a_422_that_stores_nothing(api: Api, token: str, monkeypatch: pytest.MonkeyPatch,
                                                               setting: str, value: str, bound: str) -> None:
    from chalicelib import wiring

    # Given the registry's protoc runs under a tight bound
    monkeypatch.setenv(setting, value)
    wiring.reset()
    files = {"big/v1/big.proto": _dense(1500)}
    # When sources that need more are published or validated
    published = api.post("/modules/billing/versions", {"version": "v1.0.0", "files": files}, token=token)
    validated = api.post("/validate", {"files": files}, token=token)
    # Then both are a clear 422 that names the bound, and nothing is stored
    for reply in (published, validated):
        assert (reply.status, reply.code) == (422, "COMPILE_LIMIT_EXCEEDED"), reply.body
        assert reply.body["error"]["message"].startswith(bound)
        assert reply.body["error"]["details"] == {"limit": bound}
    assert api.get("/modules/billing").data["versions"] == []
    relay_outbox()  # the totals are added up from the table's stream
    assert "spoke_versions_total 1\n" in api.get("/metrics").raw.decode()


def test_an_upload_cannot_replace_a_well_known_type(api: Api, token: str) -> None:
    evil = 'syntax = "proto3";\npackage google.protobuf;\nmessage Timestamp { string evil = 1; }\n'
    for files in ({"user/v1/user.proto": USER, "google/protobuf/timestamp.proto": evil},
                  {"a.proto": 'syntax = "proto3";\n', "-Igoogle/protobuf/timestamp.proto": evil}):
        reply = api.post("/modules/user/versions", {"version": "v1.0.0", "files": files,
                                                    "dependencies": ["common@v1.0.0"]}, token=token)
        assert reply.status == 400, reply.body
    assert api.get("/modules/user").data["versions"] == []
