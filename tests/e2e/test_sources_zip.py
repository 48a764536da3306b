"""Over real HTTP (`chalice local`, as `make run` serves it): `latest`, HEAD on files, and the sources ZIP
and descriptor set followed through their 302 to the presigned S3 URL."""
from __future__ import annotations

import hashlib
import io
import json
import socket
import zipfile
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
import requests
from google.protobuf import descriptor_pb2

USER = 'syntax = "proto3";\npackage user.v1;\n// Zoë — non-ASCII\nmessage User { string id = 1; }\n'
USER_V2 = USER.replace("string id = 1;", "string id = 1; string name = 2;")
TAGS = 'syntax = "proto3";\npackage user.v1;\nmessage Tag { string key = 1; }\n'


@pytest.fixture
def module(api_url: str, token: str, unique: Callable[[str], str]) -> str:
    """Given a module with v1.0.0, v1.1.0 and a pre-release above them."""
    name = unique("src")
    auth = {"Authorization": f"Bearer {token}"}
    assert requests.post(f"{api_url}/modules", json={"name": name}, headers=auth, timeout=30).status_code == 201
    for version, user in (("v1.0.0", USER), ("v1.1.0", USER_V2), ("v2.0.0-rc.1", USER_V2)):
        reply = requests.post(f"{api_url}/modules/{name}/versions", headers=auth, timeout=60, json={
            "version": version, "files": {"user/v1/user.proto": user, "user/v1/tags.proto": TAGS}})
        assert reply.status_code == 201, reply.text
    return name


def test_head_answers_the_get_headers_without_a_body_and_keeps_the_connection(api_url: str, module: str) -> None:
    path = f"{api_url}/modules/{module}/versions/latest/files/user/v1/user.proto"
    with requests.Session() as session:
        got = session.get(path, timeout=30)
        head = session.head(path, timeout=30)
        # Then HEAD carries GET's status and headers, and no body
        assert got.status_code == head.status_code == 200
        assert got.content == USER_V2.encode()
        assert head.content == b""
        assert head.headers["Content-Length"] == got.headers["Content-Length"] == str(len(USER_V2.encode()))
        for name in ("ETag", "Content-Type", "Cache-Control", "X-Checksum-SHA256", "X-Spoke-Version"):
            assert head.headers[name] == got.headers[name], name
        assert head.headers["X-Spoke-Version"] == "v1.1.0"
        # And with the ETag, a 304
        assert session.head(path, headers={"If-None-Match": got.headers["ETag"]}, timeout=30).status_code == 304
        # And an error answered to HEAD has no body either: the same connection serves the next request
        assert session.head(path.replace("user.proto", "nothing.proto"), timeout=30).status_code == 404
        assert session.get(path, timeout=30).content == USER_V2.encode()


def test_head_writes_no_body_on_the_wire(api_url: str, module: str) -> None:
    # Given a raw HEAD followed by a GET on one connection (a client that trusts Content-Length)
    url = urlsplit(api_url)
    target = f"/modules/{module}/versions/v1.0.0/files/user/v1/user.proto"
    request = (f"HEAD {target} HTTP/1.1\r\nHost: {url.netloc}\r\n\r\n"
               f"GET /health HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection((url.hostname, url.port), timeout=30) as conn:
        conn.sendall(request)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    # Then the second response starts right after the first one's headers
    head, _, rest = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Content-Length: " + str(len(USER.encode())).encode() in head
    assert rest.startswith(b"HTTP/1.1 200"), rest[:80]


def test_the_sources_zip_follows_the_302_and_matches_what_json_announced(api_url: str, module: str) -> None:
    base = f"{api_url}/modules/{module}/versions/latest/download/proto"
    # When a client asks where the ZIP is, then follows the redirect as a browser would
    announced = requests.get(base, headers={"Accept": "application/json"}, timeout=60)
    assert announced.status_code == 200, announced.text
    data = announced.json()["data"]
    redirect = requests.get(base, allow_redirects=False, timeout=60)
    followed = requests.get(base, timeout=60)
    # Then the 302 names the concrete version, and the bytes are what JSON said
    assert redirect.status_code == 302 and redirect.headers["X-Spoke-Version"] == "v1.1.0"
    assert followed.status_code == 200
    assert len(followed.content) == data["size"] and hashlib.sha256(followed.content).hexdigest() == data["sha256"]
    archive = zipfile.ZipFile(io.BytesIO(followed.content))
    assert archive.namelist() == ["user/v1/tags.proto", "user/v1/user.proto", "spoke.manifest.json"]
    assert archive.read("user/v1/user.proto") == USER_V2.encode()
    manifest = json.loads(archive.read("spoke.manifest.json"))
    assert manifest["module"] == module and manifest["version"] == "v1.1.0"


def test_the_descriptor_set_follows_the_302(api_url: str, module: str) -> None:
    reply = requests.get(f"{api_url}/modules/{module}/versions/v1.0.0/download/descriptor_set", timeout=60)
    assert reply.status_code == 200
    names = {f.name for f in descriptor_pb2.FileDescriptorSet.FromString(reply.content).file}
    assert names == {"user/v1/user.proto", "user/v1/tags.proto"}
