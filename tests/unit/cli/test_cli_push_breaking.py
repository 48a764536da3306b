"""`spoke push` with `breaking: buf.yaml` in spoke.yaml: the local files are checked against the latest
release's stored descriptor set first, and a breaking change publishes nothing."""
from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from chalicelib.cli.compile_dir import compile_directory
from tests.unit.cli.scripted import Cli
from tests.unit.client.fakes import BASE, S3, Server, envelope

USER_V1 = 'syntax = "proto3";\npackage user.v1;\n\nmessage User {\n  string id = 1;\n  string email = 2;\n}\n'
USER_RENUMBERED = USER_V1.replace("email = 2", "email = 3")
BUF_YAML = "version: v1\nbreaking:\n  use: [FILE]\n"


def source(root: Path, text: str) -> Path:
    (root / "user/v1").mkdir(parents=True, exist_ok=True)
    (root / "user/v1/user.proto").write_text(text)
    (root / "spoke.yaml").write_text("module: user\nbreaking: buf.yaml\n")
    (root / "buf.yaml").write_text(BUF_YAML)
    return root


def published_v1(registry: Server, tmp_path: Path) -> None:
    """user@v1.0.0 as the registry stored it: its record and its descriptor set behind a presigned URL."""
    image = compile_directory(source(tmp_path / "published", USER_V1)).SerializeToString()
    registry.on("GET", f"{BASE}/modules/user", envelope({"name": "user", "versions": ["v1.0.0"]}))
    registry.on("GET", f"{BASE}/modules/user/versions/v1.0.0", envelope({"module": "user", "version": "v1.0.0",
                "files": [{"path": "user/v1/user.proto", "size": len(USER_V1),
                           "checksum": "sha256:" + hashlib.sha256(USER_V1.encode()).hexdigest()}]}))
    registry.on("GET", f"{BASE}/modules/user/versions/v1.0.0/download/descriptor_set", envelope(
        {"url": f"{S3}/user.binpb", "size": len(image), "sha256": hashlib.sha256(image).hexdigest()}))
    registry.on("GET", f"{S3}/user.binpb", httpx.Response(200, content=image))


def test_a_breaking_change_stops_the_push(cli: Cli, registry: Server, tmp_path: Path) -> None:
    # Given user@v1.0.0 published, and a local copy where `email` moved to another field number
    published_v1(registry, tmp_path)
    local = source(tmp_path / "local", USER_RENUMBERED)
    # When pushing it
    result = cli("push", str(local), "--bump", "minor")
    # Then buf's finding is shown, the exit code is 100, and nothing was published
    assert result.exit_code == 100, result.output
    assert 'Previously present field "2" with name "email" on message "User" was deleted.' in result.stderr
    assert "error: BREAKING_CHANGES: " in result.stderr
    assert registry.sent("POST", f"{BASE}/modules/user/versions") == []


def test_a_compatible_change_is_pushed(cli: Cli, registry: Server, tmp_path: Path) -> None:
    published_v1(registry, tmp_path)
    local = source(tmp_path / "local", USER_V1.replace("}\n", "  string name = 3;\n}\n"))
    registry.on("POST", f"{BASE}/modules/user/versions",
                envelope({"module": "user", "version": "v1.1.0", "files": ["user/v1/user.proto"]}, 201))
    result = cli("push", str(local), "--bump", "minor")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "pushed user@v1.1.0 (1 file)"
