"""`spoke lint [DIR]` in the user CLI: buf's lint output and exit codes, with registry dependencies
(spoke.yaml) compiled from their stored descriptor sets and never linted themselves."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx
from typer.testing import Result

from chalicelib.cli.compile_dir import compile_directory
from tests.unit.client.fakes import BASE, S3, Server, envelope

COMMON = 'syntax = "proto3";\npackage common.v1;\n\nmessage money {\n  int64 units = 1;\n}\n'
USER = ('syntax = "proto3";\n\npackage user.v1;\n\nimport "common/v1/money.proto";\n\n'
        'message User {\n  string id = 1;\n  common.v1.money balance = 2;\n}\n')


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    return directory


def test_lints_a_local_directory_like_buf(tmp_path: Path, spoke: Callable[..., Result]) -> None:
    # Given a module with a misnamed field and a buf.yaml asking for BASIC
    write(tmp_path / "proto", {"user/v1/user.proto": 'syntax = "proto3";\n\npackage user.v1;\n\n'
                                                      'message User {\n  string userId = 1;\n}\n',
                               "buf.yaml": "version: v2\nlint:\n  use: [BASIC]\n"})
    # When linting it, as text and as JSON
    text = spoke("lint", "proto")
    as_json = spoke("lint", "proto", "--json")
    # Then buf's line, with the directory in front, and exit 100
    assert (text.exit_code, text.stdout) == (100, 'proto/user/v1/user.proto:6:10:Field name "userId" should be '
                                                  'lower_snake_case, such as "user_id".\n')
    assert as_json.exit_code == 100 and as_json.stdout.startswith('{"path":"proto/user/v1/user.proto","start_line":6')


def test_a_bad_config_exits_1_with_buf_failure(tmp_path: Path, spoke: Callable[..., Result]) -> None:
    write(tmp_path, {"a.proto": 'syntax = "proto3";\n'})
    result = spoke("lint", "--config", '{"version":"v2","lint":{"use":["NOPE"]}}')
    assert result.exit_code == 1
    assert 'Failure: "NOPE" is not a known rule or category ID' in result.stderr


def test_registry_dependencies_compile_and_are_not_linted(tmp_path: Path, server: Server,
                                                           spoke: Callable[..., Result]) -> None:
    # Given a local module importing common@v1.0.0 (whose message name breaks MESSAGE_PASCAL_CASE)
    image = compile_directory(write(tmp_path / "dep", {"common/v1/money.proto": COMMON})).SerializeToString()
    server.on("GET", f"{BASE}/modules/common/versions/v1.0.0/download/descriptor_set", envelope(
        {"url": f"{S3}/common.binpb", "size": len(image), "sha256": hashlib.sha256(image).hexdigest()}))
    server.on("GET", f"{S3}/common.binpb", httpx.Response(200, content=image))
    write(tmp_path / "proto", {"user/v1/user.proto": USER, "buf.yaml": "version: v2\nlint:\n  use: [STANDARD]\n",
                               "spoke.yaml": "module: user\ndependencies: [common@v1.0.0]\n"})
    # When linting the local module
    result = spoke("lint", "proto")
    # Then it compiles, the import counts as used, and only the module's own file is judged
    assert (result.exit_code, result.stdout) == (0, ""), result.stdout + result.stderr
