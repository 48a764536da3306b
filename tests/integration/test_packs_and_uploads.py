"""A version's files are one pack in S3: publishing costs the same AWS calls at 3 files or 600, dependencies are
read from their descriptor sets, single files are ranged reads, byte for byte; versions stored before packs still
read. Large modules come as archives posted straight to S3 under an upload grant. An identical retry is a 200.
"""
from __future__ import annotations

import base64
import io
import json
import tarfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import requests

from chalicelib.adapters import aws, keys
from chalicelib.adapters.blobs import BlobStore
from chalicelib.adapters.dynamo import Table
from chalicelib.adapters.protoc import ProtocRunner, protoc_invocation, run_protoc
from chalicelib.domain.versions import parse_version
from chalicelib.services.ports import Manifest, PackedFile
from tests.integration.api import Api, multipart

INLINE_MAX_FILES = 200  # SPOKE_INLINE_MANIFEST_MAX_FILES' default


def proto(i: int, package: str = "acme.v1", prefix: str = "acme/v1") -> tuple[str, str]:
    """File i of a module: a message importing file i // 2, so the module hangs together."""
    imports = f'import "{prefix}/f{i // 2}.proto";\n' if i else ""
    parent = f"  M{i // 2} parent = 2;\n" if i else ""
    return (f"{prefix}/f{i}.proto",
            f'syntax = "proto3";\npackage {package};\n{imports}message M{i} {{\n  string id = 1;\n{parent}}}\n')


def module_files(count: int, **kw: str) -> dict[str, str]:
    return dict(proto(i, **kw) for i in range(count))


class Calls:
    """Every AWS call the application makes: (service, operation, S3 key or '', Range header or '')."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, str]] = []

    def before_call(self, event_name: str, params: dict[str, Any], **_: Any) -> None:
        _, service, operation = event_name.split(".")[:3]
        path = params.get("url_path", "") if service == "s3" else ""
        self.seen.append((service, operation, path, (params.get("headers") or {}).get("Range", "")))

    def during(self, request: Callable[[], Any]) -> tuple[Any, list[tuple[str, str, str, str]]]:
        self.seen.clear()
        result = request()
        return result, list(self.seen)


def area(path: str) -> str:
    """Which kind of object an S3 call names: packs, manifests, blobs, descriptors, uploads, artifacts."""
    return next((s for s in path.split("/") if s in ("packs", "manifests", "blobs", "descriptors", "uploads",
                                                     "artifacts")), path)


def count(seen: list[tuple[str, str, str, str]], service: str) -> Counter[str]:
    return Counter(operation for s, operation, _, _ in seen if s == service)


@pytest.fixture
def calls(aws_env: dict[str, str]) -> Iterator[Calls]:
    recorder = Calls()
    aws.session().events.register("before-call.*.*", recorder.before_call)  # before any client exists
    yield recorder


@pytest.fixture
def token(api: Api) -> str:
    return api.signed_up()[0]


def publish(api: Api, token: str, module: str, version: str, files: dict[str, str], **body: Any) -> Any:
    return api.post(f"/modules/{module}/versions", {"version": version, "files": files, **body}, token=token)


def s3_keys(aws_env: dict[str, str], prefix: str) -> list[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    listed = s3.list_objects_v2(Bucket=aws_env["SPOKE_BUCKET_NAME"], Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


# --- packs -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [3, INLINE_MAX_FILES + 50])
def test_every_file_of_a_packed_version_reads_back_byte_for_byte(api: Api, aws_env: dict[str, str], token: str,
                                                                 size: int) -> None:
    # Given a version of `size` files, one with non-ASCII text
    files = module_files(size)
    files["acme/v1/f0.proto"] = files["acme/v1/f0.proto"].replace("string id = 1;", "string id = 1; // ünïcødé ✓")
    api.module(token, "acme")
    assert publish(api, token, "acme", "v1.0.0", files).status == 201
    # Then its bytes are one pack object, and no blob per file
    assert len(s3_keys(aws_env, "packs/")) == 1 and s3_keys(aws_env, "blobs/") == []
    # And every file reads back exactly, with its sha256 as ETag, and 304 for a holder of that ETag
    listed = {f["path"]: f for f in api.get("/modules/acme/versions/v1.0.0").data["files"]}
    assert list(listed) == list(files)
    for path, text in files.items():
        reply = api.get(f"/modules/acme/versions/v1.0.0/files/{path}")
        assert reply.status == 200 and reply.raw == text.encode()
        digest = listed[path]["checksum"].removeprefix("sha256:")
        assert reply.headers["ETag"] == f'"{digest}"' and listed[path]["size"] == len(text.encode())
    held = api.get("/modules/acme/versions/v1.0.0/files/acme/v1/f1.proto",
                   headers={"If-None-Match": api.get("/modules/acme/versions/v1.0.0/files/acme/v1/f1.proto")
                            .headers["ETag"]})
    assert (held.status, held.raw) == (304, b"")
    assert api.get("/modules/acme/versions/v1.0.0/files/acme/v1/nope.proto").code == "FILE_NOT_FOUND"


def test_a_small_version_is_read_without_its_manifest_and_a_file_with_one_ranged_get(
        api: Api, calls: Calls, token: str) -> None:
    # Given a small version (its manifest inline in the version item) and a large one
    api.module(token, "small")
    api.module(token, "large")
    assert publish(api, token, "small", "v1.0.0", module_files(3)).status == 201
    assert publish(api, token, "large", "v1.0.0", module_files(INLINE_MAX_FILES + 1)).status == 201
    # When each version and one of its files are read
    _, small_version = calls.during(lambda: api.get("/modules/small/versions/v1.0.0", token=token))
    _, small_file = calls.during(lambda: api.get("/modules/small/versions/v1.0.0/files/acme/v1/f2.proto",
                                                 token=token))
    _, large_file = calls.during(lambda: api.get("/modules/large/versions/v1.0.0/files/acme/v1/f2.proto",
                                                 token=token))
    # Then the small version costs no S3 call, its file one ranged GET of the pack
    assert count(small_version, "s3") == Counter()
    assert [(op, area(path), bool(byte_range)) for s, op, path, byte_range in small_file if s == "s3"] == [
        ("GetObject", "packs", True)]
    # And the large one reads its manifest object first
    assert [(op, area(path)) for s, op, path, _ in large_file if s == "s3"] == [
        ("GetObject", "manifests"), ("GetObject", "packs")]
    assert len([call for call in small_file if call[1] != "UpdateItem"]) <= 3  # besides the rate counter


def test_publish_costs_the_same_aws_calls_at_any_number_of_files(api: Api, calls: Calls, token: str) -> None:
    # Given modules of 3, 150, 300 and 600 files
    costs = {}
    for size in (3, 150, 300, 600):
        api.module(token, f"m{size}")
        first, seen = calls.during(lambda: publish(api, token, f"m{size}", "v1.0.0", module_files(size)))
        assert first.status == 201, first.body
        # (its successor is checked against it under the default BACKWARD policy)
        later, checked = calls.during(lambda: publish(api, token, f"m{size}", "v1.1.0", module_files(size + 1)))
        assert later.status == 201 and later.data["checked_against"] == ["v1.0.0"]
        costs[size] = (count(seen, "s3"), count(seen, "dynamodb"), count(checked, "s3"), count(checked, "dynamodb"))
    # Then a publish writes three S3 objects (pack, manifest, descriptor set), whatever its size
    assert {size: cost[0] for size, cost in costs.items()} == {size: Counter(PutObject=3) for size in costs}
    # And every count is the same at 3 and 150 files (manifests inline) and at 300 and 600 (in S3)
    assert costs[3] == costs[150]
    assert costs[300] == costs[600]
    # (the check of a successor reads the older version's descriptor set and manifest: the same at any size)
    assert costs[600][2] == costs[3][2] == Counter(GetObject=2, PutObject=3)


def test_dependencies_are_read_as_descriptor_sets_whatever_their_size(api: Api, calls: Calls, token: str) -> None:
    # Given dependencies of 3, 300 and 600 files
    costs = {}
    for size in (3, 300, 600):
        api.module(token, f"dep{size}")
        assert publish(api, token, f"dep{size}", "v1.0.0",
                       module_files(size, package="dep.v1", prefix="dep/v1")).status == 201
        api.module(token, f"user{size}")
        uses = {"user/v1/user.proto": f'syntax = "proto3";\npackage user.v1;\nimport "dep/v1/f{size - 1}.proto";\n'
                                      f"message User {{ dep.v1.M{size - 1} m = 1; }}\n"}
        # When a module depending on each is published
        reply, seen = calls.during(lambda: publish(api, token, f"user{size}", "v1.0.0", uses,
                                                   dependencies=[f"dep{size}@v1.0.0"]))
        assert reply.status == 201, reply.body
        # Then no file of the dependency is read: its descriptor set (and manifest, when not inline) is
        read = [area(path) for s, op, path, _ in seen if s == "s3" and op == "GetObject"]
        assert "packs" not in read and "blobs" not in read and "descriptors" in read
        costs[size] = (count(seen, "s3"), count(seen, "dynamodb"))
    assert costs[300] == costs[600]
    assert costs[3][1] == costs[600][1]
    # And the dependent's code still sees the dependency's types
    assert api.get("/modules/user600/versions/v1.0.0/dependencies").data["dependencies"] == [
        {"module": "dep600", "version": "v1.0.0"}]


def test_a_dependency_path_conflict_is_still_found_from_manifests(api: Api, token: str) -> None:
    # Given two dependencies of 300 files (manifests in S3) that share a path
    for name in ("left", "right", "user"):
        api.module(token, name)
    assert publish(api, token, "left", "v1.0.0", module_files(300, prefix="shared")).status == 201
    assert publish(api, token, "right", "v1.0.0", {"shared/f7.proto": 'syntax = "proto3";\n'}).status == 201
    # When a version depends on both, or uploads that path itself
    both = publish(api, token, "user", "v1.0.0", {"u.proto": 'syntax = "proto3";\n'},
                   dependencies=["left@v1.0.0", "right@v1.0.0"])
    own = publish(api, token, "user", "v1.0.0", {"shared/f9.proto": 'syntax = "proto3";\n'},
                  dependencies=["left@v1.0.0"])
    # Then each is a conflict naming the path
    assert (both.status, both.code, both.body["error"]["details"]["path"]) == (400, "DEPENDENCY_CONFLICT",
                                                                               "shared/f7.proto")
    assert (own.status, own.code, own.body["error"]["details"]["path"]) == (400, "DEPENDENCY_CONFLICT",
                                                                            "shared/f9.proto")


# --- versions stored before packs --------------------------------------------------------------------

def to_old_layout(aws_env: dict[str, str], module: str, version: str) -> None:
    """Rewrite a version as the registry stored it before packs: one blob per file, a manifest without
    offsets, nothing inline in the item, and no pack at all."""
    table, blobs = Table(aws_env["SPOKE_TABLE_NAME"]), BlobStore(aws_env["SPOKE_BUCKET_NAME"])
    key = keys.version_key("default", module, parse_version(version).sort_key)
    item = table.get(key)
    assert item is not None
    manifest = (Manifest.from_text(item["manifest_inline"]) if item.get("manifest_inline")
                else blobs.read_manifest(item["manifest_sha256"]))
    contents = blobs.read_files(manifest)
    for entry in manifest.files:
        blobs.put_blob(entry.sha256, contents[entry.path])
    old = Manifest(files=tuple(PackedFile(f.path, f.size, f.sha256) for f in manifest.files))
    assert json.loads(old.to_text()) == {"files": [{"path": f.path, "size": f.size, "sha256": f.sha256}
                                                   for f in manifest.files]}
    old_sha = blobs.put_manifest(old)
    table.client.update_item(TableName=table.name, Key={k: {"S": v} for k, v in key.items()},
                             UpdateExpression="SET manifest_sha256 = :m REMOVE pack_sha256, pack_size, "
                                              "manifest_inline, checked_against",
                             ExpressionAttributeValues={":m": {"S": old_sha}})
    boto3.client("s3", region_name="us-east-1").delete_object(
        Bucket=aws_env["SPOKE_BUCKET_NAME"], Key=keys.pack_object_key(str(manifest.pack_sha256)))


def test_versions_stored_one_blob_per_file_still_read_and_serve_as_dependencies(
        api: Api, aws_env: dict[str, str], calls: Calls, token: str) -> None:
    # Given a version stored in the old layout
    files = module_files(4, package="common.v1", prefix="common/v1")
    api.module(token, "common")
    assert publish(api, token, "common", "v1.0.0", files).status == 201
    before = api.get("/modules/common/versions/v1.0.0").data
    to_old_layout(aws_env, "common", "v1.0.0")
    # Then it reads as before: the same files, each byte for byte, with the same ETag and 304
    assert api.get("/modules/common/versions/v1.0.0").data == before
    for entry in before["files"]:
        reply, seen = calls.during(lambda: api.get(f"/modules/common/versions/v1.0.0/files/{entry['path']}"))
        assert reply.raw == files[entry["path"]].encode()
        assert reply.headers["ETag"] == f'"{entry["checksum"].removeprefix("sha256:")}"'
        assert [area(path) for s, _, path, _ in seen if s == "s3"] == ["manifests", "blobs"]
    etag = f'"{before["files"][0]["checksum"].removeprefix("sha256:")}"'
    assert api.get(f"/modules/common/versions/v1.0.0/files/{before['files'][0]['path']}",
                   headers={"If-None-Match": etag}).status == 304
    # And it still serves as a dependency, and as the base of a compatibility check
    api.module(token, "user")
    uses = {"u.proto": 'syntax = "proto3";\nimport "common/v1/f3.proto";\nmessage U { common.v1.M3 m = 1; }\n'}
    assert publish(api, token, "user", "v1.0.0", uses, dependencies=["common@v1.0.0"]).status == 201
    successor = publish(api, token, "common", "v1.1.0", module_files(5, package="common.v1", prefix="common/v1"))
    assert successor.status == 201 and successor.data["checked_against"] == ["v1.0.0"]
    # And the compile function reads its sources from the blobs (one GET each), a packed version's from one GET
    old_item = Table(aws_env["SPOKE_TABLE_NAME"]).get(keys.version_key("default", "common",
                                                                       parse_version("v1.0.0").sort_key))
    blobs = BlobStore(aws_env["SPOKE_BUCKET_NAME"])
    old_files, seen = calls.during(lambda: blobs.read_files(blobs.read_manifest(old_item["manifest_sha256"])))
    assert old_files == {path: text.encode() for path, text in files.items()}
    assert count(seen, "s3") == Counter(GetObject=1 + len(files))


# --- identical retries ------------------------------------------------------------------------------

def test_an_identical_retry_answers_200_with_the_existing_version(api: Api, token: str) -> None:
    # Given a published version
    api.module(token, "acme")
    files = module_files(3)
    first = publish(api, token, "acme", "v1.0.0", files, description="first")
    assert first.status == 201
    # When exactly the same publish is sent again (files in another order, the other spelling of the version)
    again = api.post("/modules/acme/versions", {"version": "1.0.0", "description": "first",
                                                "files": dict(reversed(list(files.items())))}, token=token)
    # Then it is a 200 with the stored version, and nothing new is stored
    assert again.status == 200, again.body
    assert again.data == first.data
    assert api.get("/modules/acme").data["versions"] == ["v1.0.0"]
    # And a multipart retry of the same content is one too
    body, content_type = multipart({"version": "v1.0.0", "description": "first"},
                                   [("file", path, text.encode()) for path, text in files.items()])
    assert api.call("POST", "/modules/acme/versions", raw=body, headers={"Content-Type": content_type},
                    token=token).status == 200


@pytest.mark.parametrize("change", [
    {"files": {**module_files(3), "acme/v1/f2.proto": module_files(3)["acme/v1/f2.proto"] + "\n"}},
    {"files": module_files(2)},
    {"files": {**module_files(3), "acme/v1/extra.proto": 'syntax = "proto3";\n'}},
    {"description": "second"},
    {"dependencies": ["dep@v1.0.0"]},
    {"version": "v1.0.0+rebuild"},
])
def test_a_retry_with_other_content_stays_409(api: Api, token: str, change: dict[str, Any]) -> None:
    api.module(token, "acme")
    api.module(token, "dep")
    assert publish(api, token, "dep", "v1.0.0", {"dep.proto": 'syntax = "proto3";\n'}).status == 201
    assert publish(api, token, "acme", "v1.0.0", module_files(3), description="first").status == 201
    body = {"version": "v1.0.0", "description": "first", "files": module_files(3), **change}
    reply = api.post("/modules/acme/versions", body, token=token)
    assert (reply.status, reply.code) == (409, "VERSION_EXISTS")


def test_a_retry_that_loses_the_race_to_its_twin_also_answers_200(api: Api, token: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a version published while an identical request was still running (it saw no version at first)
    from chalicelib.wiring import services

    api.module(token, "acme")
    first = publish(api, token, "acme", "v1.0.0", module_files(3))
    registry = services().registry
    real, misses = registry.get_version, iter([None])
    monkeypatch.setattr(registry, "get_version", lambda *a, **kw: next(misses, None) or real(*a, **kw))
    # When that request reaches its write (and the transaction finds the version there)
    late = publish(api, token, "acme", "v1.0.0", module_files(3))
    # Then it gets the stored version too, not a 409
    assert late.status == 200 and late.data == first.data


# --- uploads ----------------------------------------------------------------------------------------

def tar_gz(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def zipped(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return buffer.getvalue()


def upload(api: Api, token: str, module: str, archive: bytes | None, org: str | None = None) -> str:
    """A grant, and (unless None) the archive posted to S3 the way a client does: the form fields, then the file."""
    grant = api.post(f"/modules/{module}/uploads", {}, token=token, org=org)
    assert grant.status == 201, grant.body
    if archive is not None:
        posted = requests.post(grant.data["url"], data=grant.data["fields"], files={"file": ("m", archive)},
                               timeout=30)
        assert posted.status_code in (200, 201, 204), posted.text
    return grant.data["upload_id"]


def from_upload(api: Api, token: str, module: str, upload_id: str, version: str = "v1.0.0",
                org: str | None = None, **body: Any) -> Any:
    return api.post(f"/modules/{module}/versions", {"version": version, "upload_id": upload_id, **body},
                    token=token, org=org)


def test_a_grant_is_a_presigned_post_bound_to_org_module_and_caller(api: Api) -> None:
    # Given a developer's module
    token, user_id = api.signed_up()
    api.module(token, "acme")
    # When they ask for an upload
    reply = api.post("/modules/acme/uploads", {}, token=token)
    # Then they get a POST policy for one key under uploads/, naming the org, the module and them
    assert reply.status == 201, reply.body
    data = reply.data
    key = data["fields"]["key"]
    assert key == f"uploads/default/acme/{user_id}/{data['upload_id']}"
    policy = json.loads(base64.b64decode(data["fields"]["policy"]))
    assert ["content-length-range", 1, data["max_bytes"]] in policy["conditions"]
    assert {"key": key} in policy["conditions"]
    assert data["formats"] == ["zip", "tar.gz"] and data["file_field"] == "file"
    assert data["url_expires_at"] <= data["expires_at"]


def test_publishing_a_tar_gz_upload(api: Api, calls: Calls, token: str) -> None:
    # Given 300 files posted as a .tar.gz
    api.module(token, "acme")
    files = module_files(300)
    upload_id = upload(api, token, "acme", tar_gz(files))
    # When the version is published from it
    reply, seen = calls.during(lambda: from_upload(api, token, "acme", upload_id, description="from an archive"))
    # Then it is the version of those files
    assert reply.status == 201, reply.body
    assert reply.data["files"] == list(files)
    assert api.get("/modules/acme/versions/v1.0.0/files/acme/v1/f299.proto").raw == files["acme/v1/f299.proto"].encode()
    # And the archive was read once, the version written as one pack
    assert count(seen, "s3") == Counter(GetObject=1, PutObject=3)
    # And an identical retry is a 200, another version from the same upload a 409
    assert from_upload(api, token, "acme", upload_id, description="from an archive").status == 200
    assert from_upload(api, token, "acme", upload_id, description="changed").code == "VERSION_EXISTS"
    reused = from_upload(api, token, "acme", upload_id, version="v1.1.0")
    assert (reused.status, reused.code) == (409, "UPLOAD_ALREADY_USED")


def test_publishing_a_zip_upload_with_a_dependency(api: Api, token: str) -> None:
    api.module(token, "common")
    common = {"common/m.proto": 'syntax = "proto3";\nmessage M {}\n'}
    assert publish(api, token, "common", "v1.0.0", common).status == 201
    api.module(token, "acme")
    upload_id = upload(api, token, "acme", zipped({
        "acme/": b"", "acme/a.proto": 'syntax = "proto3";\nimport "common/m.proto";\nmessage A { M m = 1; }\n'}))
    reply = from_upload(api, token, "acme", upload_id, dependencies=["common@v1.0.0"])
    assert reply.status == 201, reply.body
    assert reply.data["files"] == ["acme/a.proto"] and reply.data["dependencies"] == [
        {"module": "common", "version": "v1.0.0"}]


@pytest.mark.parametrize("archive, status, code", [
    (zipped({"../evil.proto": 'syntax = "proto3";\n'}), 400, "INVALID_ARCHIVE"),
    (zipped({"bomb.proto": b"\0" * (40 * 1024 * 1024)}), 413, "ARCHIVE_TOO_LARGE"),
    (zipped({"README.md": "# hello"}), 400, "INVALID_PATH"),
    (zipped({"A.proto": 'syntax = "proto3";\n', "a.proto": 'syntax = "proto3";\n'}), 400, "DUPLICATE_PATH"),
    (zipped({"a.proto": b"\xff\xfe"}), 400, "INVALID_FILE"),
    (zipped({"a.proto": 'syntax = "proto3";\nmessage A { B b = 1; }\n'}), 400, "INVALID_PROTO"),
    (b"just some bytes", 400, "INVALID_ARCHIVE"),
])
def test_a_hostile_or_broken_archive_is_refused_and_nothing_is_stored(
        api: Api, aws_env: dict[str, str], token: str, archive: bytes, status: int, code: str) -> None:
    api.module(token, "acme")
    reply = from_upload(api, token, "acme", upload(api, token, "acme", archive))
    assert (reply.status, reply.code) == (status, code), reply.body
    assert api.get("/modules/acme").data["versions"] == []
    assert s3_keys(aws_env, "packs/") == []


def test_upload_ids_that_cannot_be_used_have_their_own_codes(api: Api, aws_env: dict[str, str], token: str) -> None:
    # Given a module of this user, another user's module, and an organization of this user's
    other_email = "other-uploader@example.com"
    other, _ = api.signed_up(other_email)
    api.module(token, "acme")
    api.module(token, "beta")
    # (the other user may write to acme, so it is the grant, not the module's owner, that refuses them)
    assert api.post("/modules/acme/collaborators", {"email": other_email}, token=token).status == 201
    assert api.post("/organizations", {"name": "Org", "slug": "second"}, token=token).status == 201
    api.module(token, "acme", org="second")
    files = tar_gz(module_files(2))
    # Then: unknown and malformed ids
    assert from_upload(api, token, "acme", "up_" + "0" * 32).code == "UPLOAD_NOT_FOUND"
    assert from_upload(api, token, "acme", "../../etc").code == "UPLOAD_NOT_FOUND"
    # A grant used for another module, another organization, or by another user
    mine = upload(api, token, "acme", files)
    for reply in (from_upload(api, token, "beta", mine), from_upload(api, token, "acme", mine, org="second"),
                  from_upload(api, other, "acme", mine)):
        assert (reply.status, reply.code) == (403, "UPLOAD_FORBIDDEN"), reply.body
    # A grant whose archive never arrived
    empty = upload(api, token, "acme", None)
    assert (from_upload(api, token, "acme", empty).status, from_upload(api, token, "acme", empty).code) == (
        409, "UPLOAD_NOT_RECEIVED")
    # A grant whose time ran out
    Table(aws_env["SPOKE_TABLE_NAME"]).client.update_item(
        TableName=aws_env["SPOKE_TABLE_NAME"], Key={k: {"S": v} for k, v in keys.upload_key(mine).items()},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}})
    expired = from_upload(api, token, "acme", mine)
    assert (expired.status, expired.code) == (410, "UPLOAD_EXPIRED")
    # And files with an upload id is a contradiction
    both = api.post("/modules/acme/versions", {"version": "v1.0.0", "upload_id": mine, "files": {}}, token=token)
    assert (both.status, both.code) == (400, "VALIDATION_ERROR")
    assert api.get("/modules/acme").data["versions"] == []


def test_only_developers_may_ask_for_an_upload(api: Api, token: str) -> None:
    api.module(token, "acme")
    anonymous = api.post("/modules/acme/uploads", {})
    assert (anonymous.status, anonymous.code) == (401, "UNAUTHORIZED")
    org = api.post("/organizations", {"name": "Org", "slug": "second"}, token=token)
    api.module(token, "acme", org="second")
    viewer, _ = api.signed_up("viewer@example.test")
    assert api.post(f"/organizations/{org.data['id']}/members", {"email": "viewer@example.test", "role": "viewer"},
                    token=token).status == 201
    refused = api.post("/modules/acme/uploads", {}, token=viewer, org="second")
    assert (refused.status, refused.code) == (403, "FORBIDDEN")
    assert api.post("/modules/ghost/uploads", {}, token=token).code == "MODULE_NOT_FOUND"


# --- protoc reads dependencies from descriptor sets ----------------------------------------------

def test_protoc_imports_from_descriptor_sets_it_writes_itself(tmp_path: Any) -> None:
    runner = ProtocRunner()
    dependency = runner.descriptor_set({"dep/m.proto": b'syntax = "proto3";\npackage dep;\nmessage M {}\n'})
    assert dependency.ok
    uses = {"a.proto": b'syntax = "proto3";\nimport "dep/m.proto";\nmessage A { dep.M m = 1; }\n'}
    # Without the dependency the import is unresolved; with its descriptor set it compiles
    assert not runner.descriptor_set(uses).ok
    outcome = runner.descriptor_set(uses, dependency_descriptors=dependency.descriptor_set)
    assert outcome.ok, outcome.errors
    # The descriptor set files are named by run_protoc, in its own directory, as one argument
    argv, content = protoc_invocation(["/opt/bin/protoc"], "/work/x/arguments", "/opt/include", ["/work/x/src"], [],
                                      [("/work/x/src", "a.proto")], ["/work/x/imports-0.binpb"])
    assert content.decode().splitlines()[:3] == ["-I/opt/include", "-I/work/x/src",
                                                 "--descriptor_set_in=/work/x/imports-0.binpb"]
    # And nothing else can name one: not a caller's option, not a path instead of bytes, not a relative path
    with pytest.raises(ValueError):
        run_protoc([runner.protoc], well_known=runner.well_known, options=[("--descriptor_set_in", "/etc/x")])
    with pytest.raises(ValueError):
        run_protoc([runner.protoc], well_known=runner.well_known, descriptor_set_in=["/etc/passwd"])  # type: ignore[list-item]
    for bad in ("relative.binpb", "/a:b.binpb", "/a\n--plugin=x"):
        with pytest.raises(ValueError):
            protoc_invocation(["/opt/bin/protoc"], "/work/x/arguments", "/opt/include", [], [], [], [bad])


def test_a_well_known_type_in_a_dependency_descriptor_set_cannot_shadow_protocs() -> None:
    from google.protobuf import descriptor_pb2

    runner = ProtocRunner()
    evil = descriptor_pb2.FileDescriptorSet()
    evil.file.add(name="google/protobuf/timestamp.proto", package="google.protobuf", syntax="proto3").message_type.add(
        name="Timestamp").field.add(name="evil", number=1, type=9, label=1)
    uses = {"a.proto": b'syntax = "proto3";\nimport "google/protobuf/timestamp.proto";\n'
                       b"message A { google.protobuf.Timestamp at = 1; }\n"}
    outcome = runner.descriptor_set(uses, dependency_descriptors=evil.SerializeToString())
    assert outcome.ok
    timestamp = next(f for f in descriptor_pb2.FileDescriptorSet.FromString(outcome.descriptor_set).file
                     if f.name == "google/protobuf/timestamp.proto")
    assert [f.name for f in timestamp.message_type[0].field] == ["seconds", "nanos"]
