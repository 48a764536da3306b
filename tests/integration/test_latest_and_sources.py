"""What clients read besides pinned versions: `latest`, HEAD on files, the sources as a ZIP and the
stored descriptor set (download/proto, download/descriptor_set)."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest
from google.protobuf import descriptor_pb2

from chalicelib.adapters import aws, keys
from chalicelib.domain.models import DEFAULT_ORG_ID
from chalicelib.domain.versions import parse_version
from tests.integration.api import Api

COMMON = b'syntax = "proto3";\npackage common.v1;\nmessage Money { int64 units = 1; }\n'
USER_V1 = b'syntax = "proto3";\npackage user.v1;\nimport "common/v1/money.proto";\n' \
          b'message User { string id = 1; common.v1.Money balance = 2; }\n'
USER_V2 = USER_V1.replace(b"string id = 1;", b"string id = 1; string name = 3;")
TYPES = b'syntax = "proto3";\npackage user.v1;\nmessage Tag { string key = 1; }\n'


class S3Puts:
    """PutObject calls of the application, by key."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def before_call(self, params: dict[str, Any], **_: Any) -> None:
        self.keys.append(urlparse(params.get("url_path", "")).path)


@pytest.fixture
def s3_puts(aws_env: dict[str, str]) -> Iterator[S3Puts]:
    puts = S3Puts()
    # Clients copy the session's handlers when they are created: register before the first request.
    aws.session().events.register("before-call.s3.PutObject", puts.before_call)
    yield puts


@pytest.fixture
def token(api: Api) -> str:
    token = api.signed_up()[0]
    api.module(token, "common")
    api.module(token, "user")
    assert api.publish(token, "common", "v1.0.0", files={"common/v1/money.proto": COMMON.decode()}).status == 201
    return token


def _publish(api: Api, token: str, version: str, user: bytes = USER_V1) -> None:
    reply = api.post("/modules/user/versions", {
        "version": version, "description": f"user {version}", "dependencies": ["common@v1.0.0"],
        "files": {"user/v1/user.proto": user.decode(), "user/v1/types.proto": TYPES.decode()}}, token=token)
    assert reply.status == 201, reply.body


def _s3_object(aws_env: dict[str, str], url: str) -> bytes:
    """What a presigned URL points at, read from moto's bucket (the key is the URL's path)."""
    key = urlparse(url).path.lstrip("/").removeprefix(aws_env["SPOKE_BUCKET_NAME"] + "/")
    s3 = boto3.client("s3", region_name="us-east-1")
    return s3.get_object(Bucket=aws_env["SPOKE_BUCKET_NAME"], Key=key)["Body"].read()


# --- latest --------------------------------------------------------------------------------------

def test_latest_is_the_highest_release_and_ignores_pre_releases(api: Api, token: str) -> None:
    # Given two releases and, above them, pre-releases of the next one
    _publish(api, token, "v1.0.0")
    _publish(api, token, "v1.1.0", USER_V2)
    for pre in ("v2.0.0-alpha", "v2.0.0-rc.1", "v2.0.0-rc.2"):
        _publish(api, token, pre, USER_V2)
    # When each read route is asked for `latest`
    version = api.get("/modules/user/versions/latest")
    dependencies = api.get("/modules/user/versions/latest/dependencies")
    file = api.get("/modules/user/versions/latest/files/user/v1/user.proto")
    # Then each answers for v1.1.0, names it in the body and in X-Spoke-Version
    assert version.status == 200 and version.data["version"] == "v1.1.0"
    assert dependencies.data == {"module": "user", "version": "v1.1.0",
                                 "dependencies": [{"module": "common", "version": "v1.0.0"}]}
    assert file.status == 200 and file.raw == USER_V2
    for reply in (version, dependencies, file):
        assert reply.headers["X-Spoke-Version"] == "v1.1.0"
    # And a pinned read carries no such header
    assert "X-Spoke-Version" not in api.get("/modules/user/versions/v1.1.0").headers


def test_latest_follows_a_new_release(api: Api, token: str) -> None:
    _publish(api, token, "v1.0.0")
    assert api.get("/modules/user/versions/latest").data["version"] == "v1.0.0"
    _publish(api, token, "v1.0.1", USER_V2)
    assert api.get("/modules/user/versions/latest").data["version"] == "v1.0.1"


def test_latest_with_only_pre_releases_is_a_clear_404(api: Api, token: str) -> None:
    _publish(api, token, "v1.0.0-rc.1")
    reply = api.get("/modules/user/versions/latest")
    assert reply.status == 404 and reply.code == "VERSION_NOT_FOUND"
    assert reply.body["error"]["message"] == ("Module 'user' has no released version yet (latest ignores "
                                              "pre-releases)")


def test_latest_is_case_sensitive(api: Api, token: str) -> None:
    _publish(api, token, "v1.0.0")
    reply = api.get("/modules/user/versions/Latest")
    assert reply.status == 400 and reply.code == "INVALID_VERSION"


def test_latest_in_a_compatibility_check(api: Api, token: str) -> None:
    # Given v1.0.0 and a compatible v1.1.0 (the latest release)
    _publish(api, token, "v1.0.0")
    _publish(api, token, "v1.1.0", USER_V2)
    # When the check compares v1.0.0 with latest
    reply = api.post("/modules/user/compatibility/check", {"version1": "v1.0.0", "version2": "latest"},
                     token=token)
    # Then it compares against v1.1.0: compatible (a field was added)
    assert reply.status == 200, reply.body
    assert reply.data["compatible"] is True and reply.data["version2"] == "v1.1.0"


def test_latest_read_of_a_missing_module_is_module_not_found(api: Api, token: str) -> None:
    reply = api.get("/modules/nothing/versions/latest")
    assert reply.status == 404 and reply.code == "MODULE_NOT_FOUND"


@pytest.mark.parametrize("dependency", ["common@latest", {"module": "common", "version": "latest"}])
def test_a_dependency_on_latest_is_refused_it_must_be_pinned(api: Api, token: str, dependency: Any) -> None:
    reply = api.post("/modules/user/versions", {
        "version": "v1.0.0", "dependencies": [dependency],
        "files": {"user/v1/user.proto": USER_V1.decode()}}, token=token)
    assert reply.status == 400 and reply.code == "INVALID_VERSION"
    assert "must be pinned" in reply.body["error"]["message"]
    assert api.get("/modules/user/versions/v1.0.0").status == 404  # nothing was stored


def test_publishing_a_version_called_latest_is_refused(api: Api, token: str) -> None:
    reply = api.post("/modules/user/versions", {"version": "latest", "files": {"user/v1/types.proto":
                                                                              TYPES.decode()}}, token=token)
    assert reply.status == 400 and reply.code == "INVALID_VERSION"
    assert "must be pinned" in reply.body["error"]["message"]


# --- files: caching and HEAD ---------------------------------------------------------------------

def test_a_file_read_through_latest_must_be_revalidated(api: Api, token: str) -> None:
    _publish(api, token, "v1.0.0")
    pinned = api.get("/modules/user/versions/v1.0.0/files/user/v1/user.proto")
    through_alias = api.get("/modules/user/versions/latest/files/user/v1/user.proto")
    assert pinned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert through_alias.headers["Cache-Control"] == "public, no-cache"
    assert through_alias.headers["ETag"] == pinned.headers["ETag"] == f'"{hashlib.sha256(USER_V1).hexdigest()}"'


def test_a_named_organizations_files_are_never_publicly_cacheable(api: Api, token: str) -> None:
    # Given a module in a named organization
    org = api.post("/organizations", {"name": "Acme", "slug": "acme-cache"}, token=token)
    assert org.status == 201, org.body
    api.module(token, "user", org="acme-cache")
    assert api.publish(token, "user", "v1.0.0", org="acme-cache").status == 201
    # When its file is read, pinned or through latest
    for version, expected in (("v1.0.0", "private, max-age=31536000, immutable"), ("latest", "private, no-cache")):
        reply = api.get(f"/modules/user/versions/{version}/files/user.proto", token=token, org="acme-cache")
        # Then no shared cache may keep it
        assert reply.status == 200 and reply.headers["Cache-Control"] == expected


@pytest.mark.parametrize("version", ["v1.0.0", "latest"])
def test_head_on_a_file_answers_what_get_does_without_the_body(api: Api, token: str, version: str) -> None:
    _publish(api, token, "v1.0.0")
    path = f"/modules/user/versions/{version}/files/user/v1/user.proto"
    got = api.get(path)
    head = api.call("HEAD", path)
    assert head.status == got.status == 200
    assert head.raw in (b"", None)
    assert head.headers["Content-Length"] == str(len(got.raw)) == str(len(USER_V1))
    for name in ("ETag", "Content-Type", "Cache-Control", "X-Checksum-SHA256"):
        assert head.headers[name] == got.headers[name], name
    assert head.headers.get("X-Spoke-Version") == got.headers.get("X-Spoke-Version")


def test_head_with_if_none_match_is_a_304(api: Api, token: str) -> None:
    _publish(api, token, "v1.0.0")
    path = "/modules/user/versions/v1.0.0/files/user/v1/user.proto"
    etag = api.get(path).headers["ETag"]
    head = api.call("HEAD", path, headers={"If-None-Match": etag})
    assert head.status == 304 and head.raw in (b"", None) and head.headers["ETag"] == etag


def test_head_on_a_missing_file_is_a_404(api: Api, token: str) -> None:
    _publish(api, token, "v1.0.0")
    head = api.call("HEAD", "/modules/user/versions/v1.0.0/files/user/v1/nothing.proto")
    assert head.status == 404


def test_head_reads_no_file_bytes(api: Api, token: str, aws_env: dict[str, str]) -> None:
    # Given a published version, and a record of the application's S3 reads
    _publish(api, token, "v1.0.0")
    reads: list[str] = []
    aws.client("s3").meta.events.register("before-call.s3.GetObject", lambda **kw: reads.append("get"),
                                          unique_id="head-reads")
    try:
        # When a file is HEADed
        assert api.call("HEAD", "/modules/user/versions/v1.0.0/files/user/v1/user.proto").status == 200
    finally:
        aws.client("s3").meta.events.unregister("before-call.s3.GetObject", unique_id="head-reads")
    # Then no byte of the pack was read (a small version's manifest is in its item)
    assert reads == []


# --- download/proto ------------------------------------------------------------------------------

def test_proto_download_is_a_zip_of_the_sources_with_a_manifest(api: Api, token: str,
                                                                aws_env: dict[str, str]) -> None:
    _publish(api, token, "v1.0.0")
    # When the sources are asked for as JSON
    reply = api.get("/modules/user/versions/v1.0.0/download/proto", headers={"Accept": "application/json"})
    assert reply.status == 200, reply.body
    data = reply.data
    assert data["version"] == "v1.0.0" and data["format"] == "proto"
    assert set(data) >= {"url", "size", "sha256", "expires_at", "expires_in"}
    # Then the URL holds a ZIP of that size and sha256
    body = _s3_object(aws_env, data["url"])
    assert len(body) == data["size"] and hashlib.sha256(body).hexdigest() == data["sha256"]
    archive = zipfile.ZipFile(io.BytesIO(body))
    # With the files under their paths, in order, and the manifest
    assert archive.namelist() == ["user/v1/types.proto", "user/v1/user.proto", "spoke.manifest.json"]
    assert archive.read("user/v1/user.proto") == USER_V1 and archive.read("user/v1/types.proto") == TYPES
    assert json.loads(archive.read("spoke.manifest.json")) == {
        "module": "user", "version": "v1.0.0",
        "files": [{"path": "user/v1/types.proto", "size": len(TYPES), "sha256": hashlib.sha256(TYPES).hexdigest()},
                  {"path": "user/v1/user.proto", "size": len(USER_V1),
                   "sha256": hashlib.sha256(USER_V1).hexdigest()}],
        "dependencies": [{"module": "common", "version": "v1.0.0"}]}
    # And every entry has the fixed timestamp and mode, no extra fields
    for info in archive.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0) and info.external_attr >> 16 == 0o100644
        assert info.extra == b"" and info.comment == b""


def test_proto_download_redirects_to_the_presigned_url(api: Api, token: str) -> None:
    _publish(api, token, "v1.0.0")
    reply = api.get("/modules/user/versions/latest/download/proto")
    assert reply.status == 302
    assert "artifacts/sha256/" in reply.headers["Location"]
    assert reply.headers["X-Spoke-Version"] == "v1.0.0"


def test_proto_zip_is_built_once_and_then_served_at_once(s3_puts: S3Puts, api: Api, token: str) -> None:
    # Given a published version
    _publish(api, token, "v1.0.0")
    before = len(s3_puts.keys)
    # When its sources are downloaded three times
    first = api.get("/modules/user/versions/v1.0.0/download/proto", headers={"Accept": "application/json"})
    written = s3_puts.keys[before:]
    again = [api.get(f"/modules/user/versions/{v}/download/proto", headers={"Accept": "application/json"})
             for v in ("v1.0.0", "latest")]
    # Then the ZIP was written once, by the first
    assert len(written) == 1 and "artifacts/sha256/" in written[0]
    assert len(s3_puts.keys) == before + 1
    assert {r.data["sha256"] for r in again} == {first.data["sha256"]}


def test_proto_zip_is_deterministic(api: Api, token: str, aws_env: dict[str, str]) -> None:
    # Given a version whose sources ZIP was built, and then forgotten (as if never built)
    _publish(api, token, "v1.0.0")
    first = api.get("/modules/user/versions/v1.0.0/download/proto", headers={"Accept": "application/json"}).data
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(aws_env["SPOKE_TABLE_NAME"])
    table.update_item(Key=keys.version_key(DEFAULT_ORG_ID, "user", parse_version("v1.0.0").sort_key),
                      UpdateExpression="REMOVE source_archive")
    # When it is built again
    second = api.get("/modules/user/versions/v1.0.0/download/proto", headers={"Accept": "application/json"}).data
    # Then the rebuilt ZIP has the same bytes
    assert second["sha256"] == first["sha256"] and second["size"] == first["size"]
    assert _s3_object(aws_env, second["url"]) == _s3_object(aws_env, first["url"])


def test_a_failed_record_of_the_zip_leaves_the_version_readable(api: Api, token: str,
                                                               aws_env: dict[str, str]) -> None:
    # Given a version, and DynamoDB refusing the UpdateItem that records the ZIP
    _publish(api, token, "v1.0.0")

    def refuse(**_: Any) -> None:
        raise RuntimeError("DynamoDB is unavailable")

    events = aws.client("dynamodb").meta.events
    events.register("before-call.dynamodb.UpdateItem", refuse, unique_id="refuse-archive")
    try:
        failed = api.get("/modules/user/versions/v1.0.0/download/proto", headers={"Accept": "application/json"})
    finally:
        events.unregister("before-call.dynamodb.UpdateItem", unique_id="refuse-archive")
    # Then that request fails plainly, and the version is intact: read, and its sources downloaded, after
    assert failed.status == 500 and failed.code == "INTERNAL_ERROR"
    assert api.get("/modules/user/versions/v1.0.0/files/user/v1/user.proto").raw == USER_V1
    after = api.get("/modules/user/versions/v1.0.0/download/proto", headers={"Accept": "application/json"})
    assert after.status == 200
    assert zipfile.ZipFile(io.BytesIO(_s3_object(aws_env, after.data["url"]))).read("user/v1/user.proto") == USER_V1


def test_proto_of_a_missing_version_is_a_404(api: Api, token: str) -> None:
    reply = api.get("/modules/user/versions/v9.9.9/download/proto")
    assert reply.status == 404 and reply.code == "VERSION_NOT_FOUND"


# --- download/descriptor_set ---------------------------------------------------------------------

def test_descriptor_set_download_is_the_stored_descriptor_set(api: Api, token: str,
                                                              aws_env: dict[str, str]) -> None:
    _publish(api, token, "v1.0.0")
    reply = api.get("/modules/user/versions/latest/download/descriptor_set",
                    headers={"Accept": "application/json"})
    assert reply.status == 200, reply.body
    data = reply.data
    assert data["version"] == "v1.0.0" and data["format"] == "descriptor_set"
    body = _s3_object(aws_env, data["url"])
    assert len(body) == data["size"] and hashlib.sha256(body).hexdigest() == data["sha256"]
    # A FileDescriptorSet with the imports and source info
    parsed = descriptor_pb2.FileDescriptorSet.FromString(body)
    names = [f.name for f in parsed.file]
    assert {"common/v1/money.proto", "user/v1/user.proto", "user/v1/types.proto"} <= set(names)
    user = next(f for f in parsed.file if f.name == "user/v1/user.proto")
    assert user.source_code_info.location
    # And without Accept: JSON, a 302 to it
    redirect = api.get("/modules/user/versions/v1.0.0/download/descriptor_set")
    assert redirect.status == 302 and "descriptors/sha256/" in redirect.headers["Location"]


def test_source_downloads_are_not_languages(api: Api, token: str) -> None:
    names = [language["name"] for language in api.get("/languages").data["languages"]]
    assert "proto" not in names and "descriptor_set" not in names
    assert {"go", "python"} <= set(names)
    _publish(api, token, "v1.0.0")
    reply = api.post("/modules/user/versions/v1.0.0/compile", {"languages": ["proto"]}, token=token)
    assert reply.status == 400 and reply.code == "UNKNOWN_LANGUAGE"
