"""Publishing: small sets in one request, large ones through the presigned upload, retries safe."""
from __future__ import annotations

import io
import zipfile

import httpx
import pytest

from spoke_client import SpokeClient, SpokeError
from tests.unit.client.fakes import BASE, S3, Server, envelope, json_body

GRANT = {"upload_id": "up-1", "method": "POST", "url": f"{S3}/", "file_field": "file",
         "fields": {"key": "uploads/up-1", "policy": "p0l1cy", "x-amz-signature": "s1g"},
         "url_expires_at": "2026-01-01T00:15:00Z", "expires_at": "2026-01-01T01:00:00Z",
         "formats": ["zip", "tar.gz"], "max_bytes": 33554432}
PUBLISHED = {"module": "user", "version": "v2.0.0", "files": ["a.proto", "pkg/b.proto"], "dependencies": []}


def test_upload_flow_posts_fields_then_file_then_publishes_with_upload_id(server: Server, client: SpokeClient) -> None:
    # Given a module too big for one request body
    files: dict[str, bytes | str] = {"a.proto": b'syntax = "proto3";\n', "pkg/b.proto": 'syntax = "proto3";\n'}
    server.on("POST", f"{BASE}/modules/user/uploads", envelope(GRANT, 201))
    server.on("POST", f"{S3}/", httpx.Response(204))
    server.on("POST", f"{BASE}/modules/user/versions", envelope(PUBLISHED, 201))

    # When the user publishes it above the upload threshold
    version = client.publish("user", "v2.0.0", files, description="big", upload_threshold=10)

    # Then S3 got every policy field before the file, without the token, and the archive holds the paths exactly
    (s3,) = server.sent("POST", S3)
    assert "authorization" not in s3.headers
    body = s3.content
    positions = [body.index(f'name="{name}"'.encode()) for name in ("key", "policy", "x-amz-signature", "file")]
    assert positions == sorted(positions)
    archive = body[body.index(b"PK\x03\x04"):]
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        assert sorted(zipped.namelist()) == ["a.proto", "pkg/b.proto"]
        assert zipped.read("pkg/b.proto") == b'syntax = "proto3";\n'
    # And the publish names the upload instead of carrying the files
    (publish,) = server.sent("POST", f"{BASE}/modules/user/versions")
    assert json_body(publish) == {"version": "v2.0.0", "upload_id": "up-1", "description": "big"}
    assert publish.headers["authorization"] == "Bearer tok-123"
    assert version.version == "v2.0.0" and [f.path for f in version.files] == ["a.proto", "pkg/b.proto"]


def test_an_archive_over_max_bytes_is_refused_before_posting(server: Server, client: SpokeClient) -> None:
    # Given a grant that takes 10 bytes at most
    server.on("POST", f"{BASE}/modules/user/uploads", envelope({**GRANT, "max_bytes": 10}, 201))

    # When the user publishes through an upload, then nothing is posted to S3
    with pytest.raises(SpokeError) as raised:
        client.publish("user", "v2.0.0", {"a.proto": "syntax = \"proto3\";"}, method="upload")
    assert raised.value.code == "ARCHIVE_TOO_LARGE" and server.sent("POST", S3) == []


def test_small_sets_are_published_as_multipart_with_paths_as_filenames(server: Server, client: SpokeClient) -> None:
    # Given a small module
    server.on("POST", f"{BASE}/modules/user/versions", envelope(PUBLISHED, 201))

    # When the user publishes it with a dependency
    client.publish("user", "v2.0.0", {"pkg/b.proto": b"syntax = \"proto3\";"},
                   dependencies=[{"module": "common", "version": "v1.0.0"}])

    # Then one multipart request carries the version, the dependency and the file under its path
    (request,) = server.requests
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert b'name="version"\r\n\r\nv2.0.0' in request.content
    assert b'name="dependency"\r\n\r\ncommon@v1.0.0' in request.content
    assert b'filename="pkg/b.proto"' in request.content


def test_json_publish_sends_text_files(server: Server, client: SpokeClient) -> None:
    # Given a small module, when published as JSON, then files travel as path -> text
    server.on("POST", f"{BASE}/modules/user/versions", envelope(PUBLISHED, 201))
    client.publish("user", "v2.0.0", {"a.proto": b"syntax = \"proto3\";"}, method="json")
    assert json_body(server.requests[0]) == {"version": "v2.0.0", "files": {"a.proto": 'syntax = "proto3";'}}


def test_publish_is_retried_on_502_because_an_identical_retry_is_a_200(server: Server, client: SpokeClient,
                                                                       sleeps: list[float]) -> None:
    # Given a gateway error on the first publish (the version may or may not exist now)
    server.on("POST", f"{BASE}/modules/user/versions", httpx.Response(502, text="Bad Gateway"),
              envelope(PUBLISHED, 200))

    # When the user publishes, then the retry returns the stored version
    assert client.publish("user", "v2.0.0", {"a.proto": "x"}).version == "v2.0.0"
    assert len(server.requests) == 2 and len(sleeps) == 1
