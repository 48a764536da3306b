"""The contract's "Push a Module" and "Pull a Module" curl examples, run as a user runs them.

Every request here goes through the real `curl` binary against the locally running registry,
so what is checked is what a user's shell session would see: status codes, headers and the
exact bytes written to disk.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="the curl binary is not installed")

# user.proto has CRLF line endings and non-ASCII text: only a byte-exact round trip keeps both.
USER_PROTO = (
    'syntax = "proto3";\r\n'
    "\r\n"
    "package user;\r\n"
    "\r\n"
    'import "types.proto";\r\n'
    'import "acme/v1/common.proto";\r\n'
    "\r\n"
    "// Zoë's user record — naïve façade, ☃ snowman, 日本語.\r\n"
    "message User {\r\n"
    "  string id = 1;\r\n"
    "  types.Email email = 2;\r\n"
    "  acme.v1.Audit audit = 3;\r\n"
    "}\r\n"
).encode()
TYPES_PROTO = (
    b'syntax = "proto3";\n'
    b"\n"
    b"package types;\n"
    b"\n"
    b"message Email {\n"
    b"  string address = 1;\n"
    b"}\n"
)
COMMON_PROTO = (
    b'syntax = "proto3";\n'
    b"\n"
    b"package acme.v1;\n"
    b"\n"
    b"message Audit {\n"
    b"  string created_by = 1;\n"
    b"}\n"
)


@dataclass
class CurlResult:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


def curl(*args: str, cwd: Path) -> CurlResult:
    """Runs `curl <args>` in `cwd`; status, response headers (last response) and body on stdout."""
    headers_file = cwd / ".curl-headers"
    completed = subprocess.run(
        ["curl", "--silent", "--show-error", "--noproxy", "*", "--max-time", "30",
         "--dump-header", str(headers_file), "--write-out", "%{stderr}%{http_code}", *args],
        cwd=cwd, capture_output=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    status = int(completed.stderr.decode().strip()[-3:])
    headers: dict[str, str] = {}
    for line in headers_file.read_text("latin-1").splitlines():
        name, sep, value = line.partition(":")
        if sep and not line.startswith(" "):
            headers[name.strip().lower()] = value.strip()
    headers_file.unlink()
    return CurlResult(status=status, headers=headers, body=completed.stdout)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """Given a project checkout with proto/user.proto, proto/types.proto and acme/v1/common.proto."""
    proto = tmp_path / "proto"
    proto.mkdir()
    (proto / "user.proto").write_bytes(USER_PROTO)
    (proto / "types.proto").write_bytes(TYPES_PROTO)
    (proto / "common.proto").write_bytes(COMMON_PROTO)
    return tmp_path


def create_module(api_url: str, token: str, name: str, cwd: Path) -> CurlResult:
    return curl("-X", "POST", f"{api_url}/modules",
                "-H", f"Authorization: Bearer {token}",
                "-H", "Content-Type: application/json",
                "-d", json.dumps({"name": name, "description": "User service"}), cwd=cwd)


def push_version(api_url: str, token: str, name: str, version: str, cwd: Path,
                 description: str = "Initial release") -> CurlResult:
    return curl("-X", "POST", f"{api_url}/modules/{name}/versions",
                "-H", f"Authorization: Bearer {token}",
                "-F", f"version={version}",
                "-F", f"description={description}",
                "-F", "file1=@proto/user.proto",
                "-F", "file2=@proto/types.proto",
                "-F", "file3=@proto/common.proto;filename=acme/v1/common.proto", cwd=cwd)


@pytest.fixture
def pushed(api_url: str, token: str, unique: Callable[[str], str], workdir: Path) -> str:
    """Given a module pushed with v1.0.0 exactly as in the contract's "Push a Module" example."""
    name = unique("user")
    created = create_module(api_url, token, name, workdir)
    assert created.status == 201, created.body
    uploaded = push_version(api_url, token, name, "v1.0.0", workdir)
    assert uploaded.status == 201, uploaded.body
    return name


def test_push_a_module_with_curl(api_url: str, token: str, unique: Callable[[str], str], workdir: Path) -> None:
    # Given a signed-in user and proto files on disk
    name = unique("user")

    # When they create the module with the contract's curl JSON request
    created = create_module(api_url, token, name, workdir)

    # Then the module exists, empty, in the response envelope with a request id
    assert created.status == 201, created.body
    body = created.json()
    assert body["error"] is None
    assert body["data"]["name"] == name
    assert body["data"]["description"] == "User service"
    assert body["data"]["versions"] == []
    assert body["data"]["latest_version"] is None
    assert body["meta"]["request_id"] == created.headers["x-request-id"]

    # When they upload v1.0.0 with -F file fields, one of them under a nested path
    uploaded = push_version(api_url, token, name, "v1.0.0", workdir)

    # Then the version is created holding exactly the three paths that were sent
    assert uploaded.status == 201, uploaded.body
    data = uploaded.json()["data"]
    assert data["module"] == name
    assert data["version"] == "v1.0.0"
    assert data["description"] == "Initial release"
    assert sorted(data["files"]) == ["acme/v1/common.proto", "types.proto", "user.proto"]


def test_pull_version_details_with_curl(api_url: str, pushed: str, workdir: Path) -> None:
    # Given a pushed module (see fixture), and no token: the default organization is public to read
    # When the user asks for the version details
    details = curl(f"{api_url}/modules/{pushed}/versions/v1.0.0", cwd=workdir)

    # Then every file is listed with its size and the sha256 of the bytes on the user's disk
    assert details.status == 200, details.body
    data = details.json()["data"]
    assert data["module"] == pushed
    assert data["version"] == "v1.0.0"
    assert data["description"] == "Initial release"
    local = {"user.proto": workdir / "proto/user.proto", "types.proto": workdir / "proto/types.proto",
             "acme/v1/common.proto": workdir / "proto/common.proto"}
    by_path = {f["path"]: f for f in data["files"]}
    assert set(by_path) == set(local)
    for path, source in local.items():
        content = source.read_bytes()
        assert by_path[path]["size"] == len(content), path
        assert by_path[path]["checksum"] == f"sha256:{hashlib.sha256(content).hexdigest()}", path


def test_pull_files_with_curl_are_byte_identical(api_url: str, pushed: str, workdir: Path) -> None:
    # Given a pushed module whose user.proto has CRLF line endings and non-ASCII characters
    downloads = workdir / "downloads"
    (downloads / "acme/v1").mkdir(parents=True)

    # When the user downloads the files with `curl ... -o <file>`
    user = curl(f"{api_url}/modules/{pushed}/versions/v1.0.0/files/user.proto", "-o", "user.proto",
                cwd=downloads)
    types = curl(f"{api_url}/modules/{pushed}/versions/v1.0.0/files/types.proto", "-o", "types.proto",
                 cwd=downloads)
    common = curl(f"{api_url}/modules/{pushed}/versions/v1.0.0/files/acme/v1/common.proto",
                  "-o", "acme/v1/common.proto", cwd=downloads)

    # Then each downloaded file equals the uploaded one byte for byte, with the sha256 as its ETag
    for result, downloaded, original in (
            (user, "user.proto", USER_PROTO),
            (types, "types.proto", TYPES_PROTO),
            (common, "acme/v1/common.proto", COMMON_PROTO)):
        assert result.status == 200, downloaded
        assert (downloads / downloaded).read_bytes() == original, downloaded
        assert result.headers["etag"] == f'"{hashlib.sha256(original).hexdigest()}"', downloaded
    assert b"\r\n" in (downloads / "user.proto").read_bytes()
    assert "Zoë".encode() in (downloads / "user.proto").read_bytes()


def test_if_none_match_with_the_etag_answers_304(api_url: str, pushed: str, workdir: Path) -> None:
    # Given the user already downloaded user.proto and kept its ETag
    url = f"{api_url}/modules/{pushed}/versions/v1.0.0/files/user.proto"
    first = curl(url, cwd=workdir)
    assert first.status == 200
    etag = first.headers["etag"]
    assert etag == f'"{hashlib.sha256(USER_PROTO).hexdigest()}"'

    # When they ask again with If-None-Match carrying that ETag
    again = curl(url, "-H", f"If-None-Match: {etag}", cwd=workdir)

    # Then the registry answers 304 Not Modified with no body and the same ETag
    assert again.status == 304
    assert again.body == b""
    assert again.headers["etag"] == etag

    # When the ETag they hold is a different one
    stale = curl(url, "-H", f'If-None-Match: "{hashlib.sha256(b"other").hexdigest()}"', cwd=workdir)

    # Then they get the full file
    assert stale.status == 200
    assert stale.body == USER_PROTO


def test_module_lists_versions_in_semver_order_with_highest_as_latest(
        api_url: str, token: str, unique: Callable[[str], str], workdir: Path) -> None:
    # Given a module with v1.0.0, v1.10.0 and then (published last) the lower v1.9.0
    name = unique("user")
    assert create_module(api_url, token, name, workdir).status == 201
    for version in ("v1.0.0", "v1.10.0", "v1.9.0"):
        result = push_version(api_url, token, name, version, workdir, description=f"release {version}")
        assert result.status == 201, result.body

    # When anyone reads the module
    module = curl(f"{api_url}/modules/{name}", cwd=workdir)

    # Then versions are in semantic-version order (not upload order, not string order)
    # and the latest version is the highest one, not the most recently uploaded
    assert module.status == 200, module.body
    data = module.json()["data"]
    assert data["versions"] == ["v1.0.0", "v1.9.0", "v1.10.0"]
    assert data["latest_version"] == "v1.10.0"


def test_pushing_an_existing_version_again_is_refused(api_url: str, token: str, pushed: str,
                                                      workdir: Path) -> None:
    # Given a module with v1.0.0 already pushed
    # When the user runs the same upload again
    again = push_version(api_url, token, pushed, "v1.0.0", workdir, description="Second try")

    # Then it is refused with 409 VERSION_EXISTS and the published version is unchanged
    assert again.status == 409, again.body
    assert again.json()["error"]["code"] == "VERSION_EXISTS"
    details = requests.get(f"{api_url}/modules/{pushed}/versions/v1.0.0", timeout=30).json()["data"]
    assert details["description"] == "Initial release"
