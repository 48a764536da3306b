"""Versions: publish (multipart and JSON), semver order, immutability, files with ETags."""
from __future__ import annotations

import hashlib

import pytest

from tests.integration.api import Api, multipart

USER = b'syntax = "proto3";\npackage user.v1;\nmessage User { string id = 1; }\n'
USER_IMPORTING_TYPES = (b'syntax = "proto3";\npackage user.v1;\nimport "acme/v1/types.proto";\n'
                        b'message User { string id = 1; acme.v1.Money balance = 2; }\n')
TYPES = ('syntax = "proto3";\npackage acme.v1;\n// caf\u00e9 \u2014 non-ASCII\r\n'
         'message Money { int64 units = 1; }\n').encode()


@pytest.fixture
def token(api: Api) -> str:
    token = api.signed_up()[0]
    api.module(token, "user")
    return token


def test_publish_multipart_like_the_contract(api: Api, token: str) -> None:
    # Given the contract's curl upload: version, description and two file fields, one in a directory
    body, content_type = multipart({"version": "v1.0.0", "description": "Initial release"},
                                   [("file1", "user.proto", USER_IMPORTING_TYPES),
                                    ("file2", "acme/v1/types.proto", TYPES)])
    # When it is posted
    reply = api.call("POST", "/modules/user/versions", raw=body,
                     headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
    # Then the version exists with its files as uploaded
    assert reply.status == 201, reply.body
    assert reply.data | {"created_at": None} == {"module": "user", "version": "v1.0.0",
                                                 "description": "Initial release", "created_at": None,
                                                 "files": ["user.proto", "acme/v1/types.proto"],
                                                 "dependencies": [], "checked_against": []}
    detail = api.get("/modules/user/versions/v1.0.0").data
    assert detail["files"] == [
        {"path": "user.proto", "size": len(USER_IMPORTING_TYPES),
         "checksum": "sha256:" + hashlib.sha256(USER_IMPORTING_TYPES).hexdigest()},
        {"path": "acme/v1/types.proto", "size": len(TYPES),
         "checksum": "sha256:" + hashlib.sha256(TYPES).hexdigest()}]
    assert detail["dependencies"] == [] and detail["compiled_languages"] == []
    # And each file comes back byte for byte, nested paths included
    nested = api.get("/modules/user/versions/v1.0.0/files/acme/v1/types.proto")
    assert nested.status == 200 and nested.raw == TYPES


def test_files_carry_an_etag_and_honour_if_none_match(api: Api, token: str) -> None:
    api.publish(token, "user", "1.0.0", files={"user.proto": USER.decode()})
    first = api.get("/modules/user/versions/v1.0.0/files/user.proto")
    etag = first.headers["ETag"]
    assert etag == f'"{hashlib.sha256(USER).hexdigest()}"'
    again = api.get("/modules/user/versions/v1.0.0/files/user.proto", headers={"If-None-Match": etag})
    assert again.status == 304 and again.raw in (b"", None) and again.headers["ETag"] == etag
    other = api.get("/modules/user/versions/v1.0.0/files/user.proto", headers={"If-None-Match": '"abc"'})
    assert other.status == 200 and other.raw == USER


def test_semver_order_and_latest_is_the_highest(api: Api, token: str) -> None:
    # Given versions uploaded out of order, with both spellings, pre-releases and build metadata
    for version in ("v1.10.0", "1.2.0", "v2.0.0-rc.1", "v1.9.0", "v2.0.0-alpha", "v2.0.0-rc.1.5", "v0.1.0+build.7"):
        assert api.publish(token, "user", version).status == 201, version
    # Then the module lists them in semver precedence and latest is the highest
    module = api.get("/modules/user").data
    assert module["versions"] == ["v0.1.0+build.7", "v1.2.0", "v1.9.0", "v1.10.0", "v2.0.0-alpha",
                                  "v2.0.0-rc.1", "v2.0.0-rc.1.5"]
    assert module["latest_version"] == "v2.0.0-rc.1.5"
    api.publish(token, "user", "v2.0.0")
    assert api.get("/modules/user").data["latest_version"] == "v2.0.0"
    # And the versions list is highest first with file counts
    listed = api.get("/modules/user/versions").data["versions"]
    assert [v["version"] for v in listed][:2] == ["v2.0.0", "v2.0.0-rc.1.5"]
    assert listed[0]["file_count"] == 1
    # And a version is found by either spelling
    assert api.get("/modules/user/versions/1.10.0").data["version"] == "v1.10.0"


def test_versions_are_immutable(api: Api, token: str) -> None:
    api.publish(token, "user", "v1.0.0", files={"user.proto": USER.decode()})
    # When the same version is published again, in the other spelling or with other build metadata
    for again in ("v1.0.0", "1.0.0", "v1.0.0+rebuild"):
        reply = api.publish(token, "user", again, files={"user.proto": "syntax = \"proto3\";\n"})
        assert (reply.status, reply.code) == (409, "VERSION_EXISTS"), again
    # Then the original bytes are untouched
    assert api.get("/modules/user/versions/v1.0.0/files/user.proto").raw == USER
    assert api.get("/modules/user").data["versions"] == ["v1.0.0"]


def test_versions_list_pages_with_a_cursor(api: Api, token: str) -> None:
    for minor in range(5):
        api.publish(token, "user", f"v1.{minor}.0")
    first = api.get("/modules/user/versions?page_size=2").data
    assert [v["version"] for v in first["versions"]] == ["v1.4.0", "v1.3.0"]
    cursor = first["pagination"]["next_cursor"]
    second = api.get(f"/modules/user/versions?page_size=2&cursor={cursor}").data
    assert [v["version"] for v in second["versions"]] == ["v1.2.0", "v1.1.0"]
    assert [v["version"] for v in api.get("/modules/user/versions?page_size=2&page=3").data["versions"]] == [
        "v1.0.0"]


def test_publishing_to_an_unknown_module_is_404(api: Api, token: str) -> None:
    reply = api.publish(token, "ghost", "v1.0.0")
    assert (reply.status, reply.code) == (404, "MODULE_NOT_FOUND")
