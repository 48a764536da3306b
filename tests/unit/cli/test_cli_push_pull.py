"""`spoke push`, `pull`, `generate` against a scripted registry: what is published, what lands on disk, and
that nothing unverified (or outside the target directory) is ever written."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.unit.cli.scripted import Cli
from tests.unit.client.fakes import BASE, S3, Server, envelope, error

USER = b'syntax = "proto3";\r\npackage user.v1;\r\n// Zo\xc3\xab\r\nmessage User { string id = 1; }\r\n'
TYPES = b'syntax = "proto3";\npackage user.v1;\nmessage Email { string address = 1; }\n'
FILES = {"user/v1/user.proto": USER, "user/v1/types.proto": TYPES}


def module_dir(root: Path, yaml: str = "module: user\ndescription: Users\ndependencies: [common@v1.0.0]\n") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "spoke.yaml").write_text(yaml)
    for path, data in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    (root / "README.md").write_text("not published")
    return root


def module_json(versions: list[str]) -> httpx.Response:
    return envelope({"name": "user", "versions": versions, "latest_version": versions[-1] if versions else None})


def published(version: str) -> httpx.Response:
    return envelope({"module": "user", "version": version, "files": sorted(FILES)}, 201)


def entry(path: str, data: bytes) -> dict[str, object]:
    return {"path": path, "size": len(data), "checksum": f"sha256:{hashlib.sha256(data).hexdigest()}"}


def version_json(version: str, files: dict[str, bytes]) -> httpx.Response:
    return envelope({"module": "user", "version": version, "files": [entry(p, d) for p, d in files.items()]})


def parts(request: httpx.Request) -> dict[str, list[bytes]]:
    """A multipart body's fields and files, by name (values in order)."""
    content_type = request.headers["content-type"]
    boundary = content_type.split("boundary=")[1].encode()
    found: dict[str, list[bytes]] = {}
    for chunk in request.content.split(b"--" + boundary)[1:-1]:
        head, _, body = chunk.partition(b"\r\n\r\n")
        name = head.split(b'name="')[1].split(b'"')[0].decode()
        filename = head.split(b'filename="')[1].split(b'"')[0] if b'filename="' in head else None
        found.setdefault(name, []).append((filename + b"=" if filename else b"") + body[:-2])
    return found


# -- push -------------------------------------------------------------------------------------------
def test_push_creates_a_missing_module_then_publishes_the_directory(cli: Cli, registry: Server,
                                                                    tmp_path: Path) -> None:
    # Given a module directory and a registry without that module
    source = module_dir(tmp_path / "src")
    registry.on("GET", f"{BASE}/modules/user", error(404, "MODULE_NOT_FOUND", "no such module"))
    registry.on("POST", f"{BASE}/modules", envelope({"name": "user", "description": "Users"}, 201))
    registry.on("POST", f"{BASE}/modules/user/versions", published("v1.0.0"))
    # When pushing it
    result = cli("push", str(source), "--version", "v1.0.0")
    # Then the module was created with spoke.yaml's description, and the .proto files published by relative path
    assert result.exit_code == 0, result.output
    assert "created module user" in result.stderr
    assert result.stdout.strip() == "pushed user@v1.0.0 (2 files)"
    assert json.loads(registry.sent("POST", f"{BASE}/modules")[0].content) == {"name": "user",
                                                                              "description": "Users"}
    body = parts(registry.sent("POST", f"{BASE}/modules/user/versions")[0])
    assert body["version"] == [b"v1.0.0"] and body["description"] == [b"Users"]
    assert body["dependency"] == [b"common@v1.0.0"]
    assert sorted(body["file"]) == sorted(p.encode() + b"=" + d for p, d in FILES.items())


def test_push_bump_publishes_after_the_highest_release(cli: Cli, registry: Server, tmp_path: Path) -> None:
    source = module_dir(tmp_path / "src", "module: user\norganization: acme\n")
    registry.on("GET", f"{BASE}/modules/user", module_json(["v1.2.3", "v1.10.0", "v2.0.0-rc.1"]))
    registry.on("POST", f"{BASE}/modules/user/versions", published("v1.11.0"))
    result = cli("push", str(source), "--bump", "minor", "--json", "--description", "More fields")
    assert result.exit_code == 0, result.output
    request = registry.sent("POST", f"{BASE}/modules/user/versions")[0]
    assert parts(request)["version"] == [b"v1.11.0"] and parts(request)["description"] == [b"More fields"]
    assert request.headers["x-organization-id"] == "acme"  # spoke.yaml's organization
    assert json.loads(result.stdout)["version"] == "v1.11.0"
    assert [r for r in registry.requests if r.url == f"{BASE}/modules"] == []  # it existed: not created again


def test_push_needs_exactly_one_of_version_and_bump(cli: Cli, registry: Server, tmp_path: Path) -> None:
    source = module_dir(tmp_path / "src")
    for args in ([], ["--version", "v1.0.0", "--bump", "patch"]):
        result = cli("push", str(source), *args)
        assert result.exit_code == 1
        assert result.stderr.startswith("error: VERSION_REQUIRED: ")
    assert registry.requests == []


def test_push_of_a_directory_without_matching_files_says_so(cli: Cli, registry: Server, tmp_path: Path) -> None:
    source = module_dir(tmp_path / "src", "module: user\ninclude: ['*.thrift']\n")
    result = cli("push", str(source), "--version", "v1.0.0")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: NO_FILES: ")
    assert registry.requests == []


def test_push_shows_the_servers_validation_errors(cli: Cli, registry: Server, tmp_path: Path) -> None:
    source = module_dir(tmp_path / "src")
    registry.on("GET", f"{BASE}/modules/user", module_json(["v1.0.0"]))
    refused = httpx.Response(422, json={"data": None, "error": {
        "code": "VALIDATION_ERROR", "message": "Compilation failed", "details": {},
        "validation_errors": [{"file": "user/v1/user.proto", "line": 3, "column": 1, "message": "Expected ';'"}]},
        "meta": {"request_id": "req-7"}})
    registry.on("POST", f"{BASE}/modules/user/versions", refused)
    result = cli("push", str(source), "--version", "v1.1.0")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error: VALIDATION_ERROR: Compilation failed",
                                          "  user/v1/user.proto:3:1: Expected ';'", "request id: req-7"]


# -- pull -------------------------------------------------------------------------------------------
def test_pull_latest_writes_every_file_byte_for_byte(cli: Cli, registry: Server, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Given v1.1.0 as the highest release, and a server without the proto archive (one GET per file)
    monkeypatch.chdir(tmp_path)
    registry.on("GET", f"{BASE}/modules/user", module_json(["v1.0.0", "v1.1.0", "v2.0.0-beta"]))
    registry.on("GET", f"{BASE}/modules/user/versions/v1.1.0", version_json("v1.1.0", FILES))
    registry.on("GET", f"{BASE}/modules/user/versions/v1.1.0/download/proto",
                error(400, "UNKNOWN_LANGUAGE", "Unknown language 'proto'"))
    for path, data in FILES.items():
        registry.on("GET", f"{BASE}/modules/user/versions/v1.1.0/files/{path}",
                    httpx.Response(200, content=data, headers={"ETag": f'"{hashlib.sha256(data).hexdigest()}"'}))
    # When pulling `user` (latest) without a directory
    result = cli("pull", "user")
    # Then ./user holds the files exactly
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "pulled user@v1.1.0 (2 files) -> user"
    assert {p: (tmp_path / "user" / p).read_bytes() for p in FILES} == FILES


def test_pull_uses_the_proto_archive_when_the_server_has_it(cli: Cli, registry: Server, tmp_path: Path) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for path, data in FILES.items():
            zipped.writestr(path, data)
        zipped.writestr("spoke-manifest.json", "{}")
    data = archive.getvalue()
    registry.on("GET", f"{BASE}/modules/user/versions/v1.0.0", version_json("v1.0.0", FILES))
    registry.on("GET", f"{BASE}/modules/user/versions/v1.0.0/download/proto", envelope(
        {"url": f"{S3}/user.zip", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}))
    registry.on("GET", f"{S3}/user.zip", httpx.Response(200, content=data))
    result = cli("pull", "user@v1.0.0", str(tmp_path / "out"), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"] == sorted(FILES)
    assert sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file()) == ["types.proto", "user.proto"]
    assert registry.sent("GET", f"{BASE}/modules/user/versions/v1.0.0/files/") == []


def test_pull_writes_nothing_when_a_file_does_not_match_its_checksum(cli: Cli, registry: Server,
                                                                     tmp_path: Path) -> None:
    registry.on("GET", f"{BASE}/modules/user/versions/v1.0.0", version_json("v1.0.0", FILES))
    registry.on("GET", f"{BASE}/modules/user/versions/v1.0.0/download/proto",
                error(400, "UNKNOWN_LANGUAGE", "Unknown language 'proto'"))
    registry.on("GET", f"{BASE}/modules/user/versions/v1.0.0/files/user/v1/user.proto",
                httpx.Response(200, content=USER))
    registry.on("GET", f"{BASE}/modules/user/versions/v1.0.0/files/user/v1/types.proto",
                httpx.Response(200, content=TYPES + b"tampered"))  # no ETag: only the listing catches it
    result = cli("pull", "user@v1.0.0", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: SIZE_MISMATCH: user/v1/types.proto") or \
        result.stderr.startswith("error: CHECKSUM_MISMATCH: user/v1/types.proto")
    assert not (tmp_path / "out").exists()


def test_pull_refuses_a_path_that_climbs_out_of_the_directory(cli: Cli, registry: Server, tmp_path: Path) -> None:
    evil = {"../../evil.proto": b"x"}
    registry.on("GET", f"{BASE}/modules/user/versions/v1.0.0", version_json("v1.0.0", evil))
    registry.on("GET", f"{BASE}/modules/user/versions/v1.0.0/download/proto",
                error(400, "UNKNOWN_LANGUAGE", "Unknown language 'proto'"))
    registry.on("GET", f"{BASE}/modules/user/versions/v1.0.0/files/../../evil.proto", httpx.Response(200, content=b"x"))
    registry.on("GET", f"{BASE}/modules/user/versions/v1.0.0/files/..%2F..%2Fevil.proto",
                httpx.Response(200, content=b"x"))
    result = cli("pull", "user@v1.0.0", str(tmp_path / "a" / "b"))
    assert result.exit_code == 1
    assert not (tmp_path / "evil.proto").exists()


def test_pull_of_a_module_without_a_release_says_so(cli: Cli, registry: Server, tmp_path: Path) -> None:
    registry.on("GET", f"{BASE}/modules/user", module_json(["v1.0.0-rc.1"]))
    result = cli("pull", "user@latest", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: NO_RELEASE: ")


@pytest.mark.parametrize("reference", ["@v1.0.0", "user@", ""])
def test_pull_explains_a_malformed_reference(cli: Cli, registry: Server, reference: str) -> None:
    result = cli("pull", reference)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: INVALID_REFERENCE: ")
    assert registry.requests == []


# -- generate ---------------------------------------------------------------------------------------
def python_zip() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("user/v1/user_pb2.py", "# generated\n")
        zipped.writestr("requirements.txt", "protobuf\n")
    return archive.getvalue()


def test_generate_waits_for_compilation_then_unpacks_each_language(cli: Cli, registry: Server,
                                                                   tmp_path: Path) -> None:
    # Given a compilation still running, then done
    data = python_zip()
    pending = envelope({"language": "python", "status": "running"}, 202)
    ready = envelope({"url": f"{S3}/py.zip", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    registry.on("GET", f"{BASE}/modules/user/versions/v1.0.0/download/python", pending, ready)
    registry.on("GET", f"{S3}/py.zip", httpx.Response(200, content=data))
    # When generating Python into out/
    result = cli("generate", "user@v1.0.0", "--lang", "python", "-o", str(tmp_path / "out"))
    # Then it waited (without a real sleep), and out/python holds the package
    assert result.exit_code == 0, result.output
    assert len(cli.sleeps) == 1
    assert (tmp_path / "out/python/user/v1/user_pb2.py").read_text() == "# generated\n"
    assert result.stdout.strip() == f"generated user@v1.0.0 python (2 files) -> {tmp_path / 'out/python'}"
    assert "authorization" not in registry.sent("GET", S3)[0].headers  # the presigned URL never sees the token


def test_generate_unpacks_nothing_when_the_archive_is_not_the_announced_one(cli: Cli, registry: Server,
                                                                           tmp_path: Path) -> None:
    data = python_zip()
    registry.on("GET", f"{BASE}/modules/user/versions/v1.0.0/download/python", envelope(
        {"url": f"{S3}/py.zip", "size": len(data), "sha256": "0" * 64}))
    registry.on("GET", f"{S3}/py.zip", httpx.Response(200, content=data))
    result = cli("generate", "user@v1.0.0", "--lang", "python", "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: CHECKSUM_MISMATCH: ")
    assert not (tmp_path / "out" / "python").exists()


def test_generate_gives_up_after_the_timeout(cli: Cli, registry: Server, tmp_path: Path) -> None:
    registry.on("GET", f"{BASE}/modules/user/versions/v1.0.0/download/go",
                envelope({"language": "go", "status": "running"}, 202))
    result = cli("generate", "user@v1.0.0", "--lang", "go", "-o", str(tmp_path / "out"), "--timeout", "1")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: DOWNLOAD_TIMEOUT: ")
    assert sum(cli.sleeps) == pytest.approx(1.0)
    assert not (tmp_path / "out" / "go").exists()


def test_progress_bars_on_a_terminal_stay_off_stdout(cli: Cli, registry: Server, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # Given stderr is a terminal (progress shown)
    monkeypatch.setattr("spoke_cli.output.progress_enabled", lambda json_output: not json_output)
    data = python_zip()
    registry.on("GET", f"{BASE}/modules/user/versions/v1.0.0/download/python",
                envelope({"language": "python", "status": "running"}, 202),
                envelope({"url": f"{S3}/py.zip", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}))
    registry.on("GET", f"{S3}/py.zip", httpx.Response(200, content=data))
    # When generating
    result = cli("generate", "user@v1.0.0", "--lang", "python", "-o", str(tmp_path / "out"))
    # Then stdout holds only the result line (the bar went to stderr)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"generated user@v1.0.0 python (2 files) -> {tmp_path / 'out/python'}"]
