"""`spoke modules ls`, `versions ls`, `compat`, `validate` against a scripted registry: what a person reads,
what a script parses (--json), and the exit codes CI branches on."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import Result

from tests.unit.client.fakes import BASE, Server, envelope, error, json_body

USER_PROTO = 'syntax = "proto3";\npackage user.v1;\nmessage User { string id = 1; }\n'


def module_json(name: str, count: int) -> dict[str, Any]:
    return {"name": name, "description": f"{name} service", "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-02T00:00:00Z", "version_count": count}


def page(key: str, items: list[Any], cursor: str | None) -> httpx.Response:
    return envelope({key: items, "pagination": {"has_more": cursor is not None, "next_cursor": cursor}})


# -- modules ls / versions ls -----------------------------------------------------------------------
def test_modules_ls_lists_every_page(server: Server, spoke: Callable[..., Result]) -> None:
    # Given two pages of modules
    def two_pages(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") == "c2":
            return page("modules", [module_json("user", 1)], None)
        return page("modules", [module_json("billing", 2)], "c2")

    server.on("GET", f"{BASE}/modules", two_pages)
    # When listing them, as a table and as JSON
    table = spoke("modules", "ls")
    as_json = spoke("modules", "ls", "--json")
    # Then both name every module of both pages
    assert table.exit_code == 0, table.stderr
    rows = [line for line in table.stdout.splitlines() if "billing" in line or "user " in line]
    assert len(rows) == 2 and "NAME" in table.stdout and "billing service" in table.stdout
    assert [(m["name"], m["version_count"]) for m in json.loads(as_json.stdout)] == [("billing", 2), ("user", 1)]
    assert server.requests[1].url.params["cursor"] == "c2"


def test_modules_ls_passes_the_query(server: Server, spoke: Callable[..., Result]) -> None:
    server.on("GET", f"{BASE}/modules", page("modules", [], None))
    result = spoke("modules", "ls", "-q", "pay")
    assert result.exit_code == 0
    assert server.requests[0].url.params["q"] == "pay"
    assert result.stdout == "" and "no modules" in result.stderr


def test_versions_ls_table_and_json(server: Server, spoke: Callable[..., Result]) -> None:
    # Given a module with two versions
    versions = [{"version": "v1.1.0", "description": "adds phone", "created_at": "2026-01-03T00:00:00Z",
                 "file_count": 2},
                {"version": "v1.0.0", "description": "first", "created_at": "2026-01-01T00:00:00Z", "file_count": 1}]
    server.on("GET", f"{BASE}/modules/user/versions", page("versions", versions, None))
    # When listing them
    table = spoke("versions", "ls", "user")
    as_json = spoke("--json", "versions", "ls", "user")
    # Then the table has one row per version, highest first, and JSON has the server's fields
    assert table.exit_code == 0, table.stderr
    assert table.stdout.index("v1.1.0") < table.stdout.index("v1.0.0") and "adds phone" in table.stdout
    assert json.loads(as_json.stdout) == versions


def test_versions_ls_of_an_unknown_module(server: Server, spoke: Callable[..., Result]) -> None:
    server.on("GET", f"{BASE}/modules/nope/versions", error(404, "MODULE_NOT_FOUND", "Module 'nope' not found"))
    result = spoke("versions", "ls", "nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: MODULE_NOT_FOUND: Module 'nope' not found")


# -- compat -----------------------------------------------------------------------------------------
BREAKING = {"rule": "FIELD_NO_DELETE", "category": "WIRE", "categories": ["FILE", "PACKAGE", "WIRE_JSON", "WIRE"],
            "file": "user.proto", "line": 4, "column": 1, "end_line": 7, "end_column": 2,
            "message": 'Previously present field "2" with name "email" on message "User" was deleted.'}


def test_compat_compatible_exits_0(server: Server, spoke: Callable[..., Result]) -> None:
    server.on("POST", f"{BASE}/modules/user/compatibility/check", envelope(
        {"compatible": True, "breaking_changes": [], "warnings": ["Field 'phone' added to User message"],
         "version1": "v1.0.0", "version2": "v1.1.0"}))
    result = spoke("compat", "user", "v1.0.0", "v1.1.0")
    assert result.exit_code == 0
    assert result.stdout.strip() == "user v1.1.0 is compatible with v1.0.0"
    assert "Field 'phone' added" in result.stderr
    assert json_body(server.requests[0]) == {"version1": "v1.0.0", "version2": "v1.1.0"}


def test_compat_breaking_exits_100_and_locates_each_change(server: Server, spoke: Callable[..., Result]) -> None:
    # Given v2 breaks v1
    report = {"compatible": False, "breaking_changes": [BREAKING], "warnings": [], "version1": "v1.0.0",
              "version2": "v2.0.0"}
    server.on("POST", f"{BASE}/modules/user/compatibility/check", envelope(report))
    # When comparing them, for a person and for a script
    table = spoke("compat", "user", "v1.0.0", "v2.0.0")
    as_json = spoke("compat", "user", "v1.0.0", "v2.0.0", "--json")
    # Then both exit 100; the table locates the change and names the rule; JSON is the server's report
    assert (table.exit_code, as_json.exit_code) == (100, 100)
    assert "user.proto:4:1" in table.stdout and "FIELD_NO_DELETE" in table.stdout
    assert "1 breaking change(s)" in table.stdout
    assert json.loads(as_json.stdout) == report


def test_compat_of_an_unknown_version_is_an_error_not_a_verdict(server: Server, spoke: Callable[..., Result]) -> None:
    server.on("POST", f"{BASE}/modules/user/compatibility/check",
              error(404, "VERSION_NOT_FOUND", "Version 'v1.1.0' of module 'user' not found"))
    result = spoke("compat", "user", "v1.0.0", "v1.1.0")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: VERSION_NOT_FOUND: ")


# -- validate ---------------------------------------------------------------------------------------
def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    return directory


def test_validate_valid_directory_sends_its_proto_files(tmp_path: Path, server: Server,
                                                        spoke: Callable[..., Result]) -> None:
    # Given a directory with two .proto files and a README
    write(tmp_path / "proto", {"user.proto": USER_PROTO, "v1/types.proto": USER_PROTO, "README.md": "# hi"})
    server.on("POST", f"{BASE}/validate", envelope({"valid": True, "errors": [], "warnings": []}))
    # When validating it
    result = spoke("validate", "proto")
    # Then the .proto files went, keyed by their path in the directory, and it exits 0
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "valid (2 files)"
    assert json_body(server.requests[0]) == {"files": {"user.proto": USER_PROTO, "v1/types.proto": USER_PROTO}}


def test_validate_invalid_prints_located_errors_and_exits_1(tmp_path: Path, server: Server,
                                                            spoke: Callable[..., Result]) -> None:
    # Given the registry finds an error at user.proto:3:16
    write(tmp_path / "proto", {"user.proto": USER_PROTO})
    errors = [{"file": "user.proto", "line": 3, "column": 16, "message": '"strin" is not defined.'}]
    server.on("POST", f"{BASE}/validate", envelope({"valid": False, "errors": errors, "warnings": []}))
    # When validating
    text = spoke("validate", "proto")
    as_json = spoke("validate", "proto", "--json")
    # Then the error is printed as the compiler locates it (from where the command ran), exit 1
    assert text.exit_code == 1 and as_json.exit_code == 1
    assert text.stdout.splitlines() == ['proto/user.proto:3:16: "strin" is not defined.']
    assert json.loads(as_json.stdout)["errors"] == errors


def test_validate_follows_spoke_yaml(tmp_path: Path, server: Server, spoke: Callable[..., Result]) -> None:
    # Given a spoke.yaml with include/exclude globs, a dependency and an organization
    write(tmp_path / "mod", {
        "spoke.yaml": "module: user\norganization: acme\ndependencies: [common@v1.0.0]\n"
                      "include: ['api/**/*.proto']\nexclude: ['api/internal/*']\n",
        "api/user.proto": USER_PROTO, "api/internal/secret.proto": USER_PROTO, "other.proto": USER_PROTO})
    server.on("POST", f"{BASE}/validate", envelope({"valid": True, "errors": [], "warnings": []}))
    # When validating the module directory
    result = spoke("validate", "mod")
    # Then only the included files go, with the dependency, in the module's organization
    assert result.exit_code == 0, result.stderr
    request = server.requests[0]
    assert json_body(request) == {"files": {"api/user.proto": USER_PROTO}, "dependencies": ["common@v1.0.0"]}
    assert request.headers["x-organization-id"] == "acme"


def test_validate_without_proto_files_says_so(tmp_path: Path, server: Server, spoke: Callable[..., Result]) -> None:
    (tmp_path / "empty").mkdir()
    result = spoke("validate", "empty")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: NO_PROTO_FILES: no .proto files under empty")
    assert server.requests == []


@pytest.mark.parametrize("command", [["modules", "ls"], ["versions", "ls"], ["compat"], ["validate"], ["breaking"]])
def test_every_command_has_help(spoke: Callable[..., Result], command: list[str]) -> None:
    result = spoke(*command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.stdout


def test_compat_rules_can_be_chosen(server: Server, spoke: Callable[..., Result]) -> None:
    # Given a check the module's own rules would fail
    server.on("POST", f"{BASE}/modules/user/compatibility/check", envelope(
        {"compatible": True, "breaking_changes": [], "warnings": [], "version1": "v1.0.0", "version2": "v2.0.0"}))
    # When asking for wire compatibility only, minus one rule
    result = spoke("compat", "user", "v1.0.0", "v2.0.0", "--use", "WIRE", "--except", "FIELD_NO_DELETE")
    # Then those rules are what the server is asked to apply
    assert result.exit_code == 0, result.stderr
    assert json_body(server.requests[0]) == {"version1": "v1.0.0", "version2": "v2.0.0", "use": ["WIRE"],
                                             "except": ["FIELD_NO_DELETE"]}


def test_compat_can_name_the_mode_to_check(server: Server, spoke: Callable[..., Result]) -> None:
    # Given a registry that finds an added field breaking when checked forward
    server.on("POST", f"{BASE}/modules/user/compatibility/check", envelope(
        {"compatible": False, "warnings": [], "version1": "v1.0.0", "version2": "v1.1.0", "directions": ["forward"],
         "breaking_changes": [{"rule": "FIELD_NO_DELETE", "file": "user.proto", "line": 3, "column": 1,
                               "message": "Previously present field \"2\" ...", "direction": "forward"}]}))
    # When asking for a forward check
    result = spoke("compat", "user", "v1.0.0", "v1.1.0", "--mode", "forward")
    # Then the mode is what the server is asked to apply, and the finding says which way it failed
    assert result.exit_code == 100, result.stderr
    assert json_body(server.requests[0]) == {"version1": "v1.0.0", "version2": "v1.1.0", "mode": "FORWARD"}
    assert "forward" in result.stdout and "FIELD_NO_DELETE" in result.stdout
