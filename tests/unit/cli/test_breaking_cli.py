"""`spoke breaking DIR --against spoke://[ORG/]MODULE@VERSION`: local sources checked against a published
version's stored descriptor set (a scripted registry here), with the output and exit codes of buf."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from typer.testing import Result

from chalicelib.cli.compile_dir import compile_directory
from chalicelib.cli.main import main as legacy_main
from tests.unit.client.fakes import BASE, S3, Server, envelope, error

USER_V1 = 'syntax = "proto3";\npackage user.v1;\n\nmessage User {\n  string id = 1;\n  string email = 2;\n}\n'
# The same message with `email` moved to another field number: a wire break.
USER_RENUMBERED = USER_V1.replace("email = 2", "email = 3")
COMMON = 'syntax = "proto3";\npackage common.v1;\n\nmessage Money {\n  int64 units = 1;\n}\n'


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    return directory


def stored_descriptor_set(tmp_path: Path, files: dict[str, str]) -> bytes:
    """What the registry stored at publish: protoc's set with imports and source info."""
    source = write(tmp_path / "published", files)
    return compile_directory(source).SerializeToString()


def publish(server: Server, module: str, version: str, files: dict[str, str], image: bytes, *,
            asked_as: str | None = None, sha256: str | None = None) -> None:
    """Script a published version: its record, its descriptor-set download and the presigned object."""
    record = {"module": module, "version": version, "description": "",
              "files": [{"path": p, "size": len(t), "checksum": "sha256:" + hashlib.sha256(t.encode()).hexdigest()}
                        for p, t in files.items()], "dependencies": []}
    server.on("GET", f"{BASE}/modules/{module}/versions/{asked_as or version}", envelope(record))
    server.on("GET", f"{BASE}/modules/{module}/versions/{version}/download/descriptor_set", envelope(
        {"url": f"{S3}/{module}-{version}.binpb", "size": len(image),
         "sha256": sha256 or hashlib.sha256(image).hexdigest(), "expires_at": "2026-01-01T01:00:00Z"}))
    server.on("GET", f"{S3}/{module}-{version}.binpb", httpx.Response(200, content=image))


def test_unchanged_sources_exit_0_silently(tmp_path: Path, server: Server, spoke: Callable[..., Result]) -> None:
    # Given user@v1.0.0 published from the same sources as the local directory
    publish(server, "user", "v1.0.0", {"user.proto": USER_V1}, stored_descriptor_set(tmp_path, {"user.proto": USER_V1}))
    write(tmp_path / "proto", {"user.proto": USER_V1})
    # When checking the directory against the published version
    result = spoke("breaking", "proto", "--against", "spoke://user@v1.0.0")
    # Then there is nothing to report
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_a_renumbered_field_exits_100_with_bufs_lines(tmp_path: Path, server: Server,
                                                      spoke: Callable[..., Result]) -> None:
    # Given user@v1.0.0 published, and a local copy where `email` moved from field 2 to field 3
    publish(server, "user", "v1.0.0", {"user.proto": USER_V1}, stored_descriptor_set(tmp_path, {"user.proto": USER_V1}))
    write(tmp_path / "proto", {"user.proto": USER_RENUMBERED})
    # When checking it, as text and as JSON
    text = spoke("breaking", "proto", "--against", "spoke://user@v1.0.0")
    as_json = spoke("breaking", "proto", "--against", "spoke://user@v1.0.0", "--error-format", "json")
    # Then both exit 100 and point at the local file, as buf would
    assert text.exit_code == 100 and as_json.exit_code == 100
    assert text.stdout.splitlines() == [
        'proto/user.proto:4:1:Previously present field "2" with name "email" on message "User" was deleted.']
    findings = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [(f["path"], f["type"]) for f in findings] == [("proto/user.proto", "FIELD_NO_DELETE")]


def test_the_same_check_as_against_the_old_directory(tmp_path: Path, server: Server,
                                                     spoke: Callable[..., Result]) -> None:
    # Given the published sources also kept as a directory
    write(tmp_path / "old", {"user.proto": USER_V1})
    publish(server, "user", "v1.0.0", {"user.proto": USER_V1}, stored_descriptor_set(tmp_path, {"user.proto": USER_V1}))
    write(tmp_path / "proto", {"user.proto": USER_RENUMBERED})
    # When checking against the registry and against the directory
    registry = spoke("breaking", "proto", "--against", "spoke://user@v1.0.0", "--error-format", "json")
    directory = spoke("breaking", "proto", "--against", "old", "--error-format", "json")
    # Then the answers are the same
    assert (registry.exit_code, registry.stdout) == (directory.exit_code, directory.stdout)


def test_the_versions_imports_are_not_checked(tmp_path: Path, server: Server, spoke: Callable[..., Result]) -> None:
    # Given a stored set that also holds a dependency's file (not one of the version's own files)
    image = stored_descriptor_set(tmp_path, {"user.proto": USER_V1, "common/money.proto": COMMON})
    publish(server, "user", "v1.0.0", {"user.proto": USER_V1}, image)
    write(tmp_path / "proto", {"user.proto": USER_V1})
    # When the local directory does not carry the dependency
    result = spoke("breaking", "proto", "--against", "spoke://user@v1.0.0")
    # Then its absence is not a deleted file
    assert (result.exit_code, result.stdout) == (0, "")


def test_latest_is_resolved_once(tmp_path: Path, server: Server, spoke: Callable[..., Result]) -> None:
    # Given latest is v1.2.0
    publish(server, "user", "v1.2.0", {"user.proto": USER_V1}, stored_descriptor_set(tmp_path, {"user.proto": USER_V1}),
            asked_as="latest")
    write(tmp_path / "proto", {"user.proto": USER_V1})
    # When checking against `spoke://user` (no version)
    result = spoke("breaking", "proto", "--against", "spoke://user")
    # Then the descriptor set of v1.2.0 itself was fetched: a publish in between cannot mix versions
    assert result.exit_code == 0, result.stderr
    assert server.sent("GET", f"{BASE}/modules/user/versions/v1.2.0/download/descriptor_set")


def test_the_organization_in_the_reference_is_sent(tmp_path: Path, server: Server,
                                                   spoke: Callable[..., Result]) -> None:
    # Given user@v1.0.0 in organization acme
    publish(server, "user", "v1.0.0", {"user.proto": USER_V1}, stored_descriptor_set(tmp_path, {"user.proto": USER_V1}))
    write(tmp_path / "proto", {"user.proto": USER_V1})
    # When naming the organization in the reference (overriding --org)
    result = spoke("--org", "other", "breaking", "proto", "--against", "spoke://acme/user@v1.0.0")
    # Then every API call names acme, and the presigned download carries no token
    assert result.exit_code == 0, result.stderr
    api_calls = [r for r in server.requests if str(r.url).startswith(BASE)]
    assert api_calls and {r.headers.get("x-organization-id") for r in api_calls} == {"acme"}
    assert all(r.headers.get("authorization") == "Bearer tok-ci" for r in api_calls)
    assert all("authorization" not in r.headers for r in server.requests if str(r.url).startswith(S3))


def test_a_corrupted_download_is_an_error_not_a_verdict(tmp_path: Path, server: Server,
                                                        spoke: Callable[..., Result]) -> None:
    # Given the stored object does not hash to what the registry announced
    image = stored_descriptor_set(tmp_path, {"user.proto": USER_V1})
    publish(server, "user", "v1.0.0", {"user.proto": USER_V1}, image, sha256="0" * 64)
    write(tmp_path / "proto", {"user.proto": USER_RENUMBERED})
    # When checking against it
    result = spoke("breaking", "proto", "--against", "spoke://user@v1.0.0")
    # Then it exits 1 naming the mismatch, and prints no findings
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: CHECKSUM_MISMATCH: ")


def test_an_unknown_version_prints_the_servers_error(tmp_path: Path, server: Server,
                                                     spoke: Callable[..., Result]) -> None:
    # Given the registry does not know user@v9.9.9
    server.on("GET", f"{BASE}/modules/user/versions/v9.9.9",
              error(404, "VERSION_NOT_FOUND", "Version 'v9.9.9' of module 'user' not found", request_id="req-404"))
    write(tmp_path / "proto", {"user.proto": USER_V1})
    # When checking against it
    result = spoke("breaking", "proto", "--against", "spoke://user@v9.9.9")
    # Then the server's code and message and the request id are on stderr, exit 1
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error: VERSION_NOT_FOUND: Version 'v9.9.9' of module 'user' not found",
                                          "request id: req-404"]


def test_local_compile_errors_come_first(tmp_path: Path, server: Server, spoke: Callable[..., Result]) -> None:
    # Given local sources protoc rejects
    write(tmp_path / "proto", {"user.proto": "syntax = \"proto3\";\nmessage User { strin id = 1; }\n"})
    # When checking them against the registry
    result = spoke("breaking", "proto", "--against", "spoke://user@v1.0.0")
    # Then protoc's error is reported like buf's Failure, without calling the registry
    assert result.exit_code == 1
    assert result.stderr.startswith("Failure: ") and "user.proto:2" in result.stderr
    assert server.requests == []


@pytest.mark.parametrize("reference", ["spoke://", "spoke://user@", "spoke:///user", "spoke://a/b/user@v1.0.0"])
def test_a_malformed_reference_says_the_expected_form(tmp_path: Path, spoke: Callable[..., Result],
                                                      reference: str) -> None:
    write(tmp_path / "proto", {"user.proto": USER_V1})
    result = spoke("breaking", "proto", "--against", reference)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: INVALID_AGAINST: ") and "spoke://[ORG/]MODULE[@VERSION]" in result.stderr


def test_global_json_means_json_lines(tmp_path: Path, server: Server, spoke: Callable[..., Result]) -> None:
    publish(server, "user", "v1.0.0", {"user.proto": USER_V1}, stored_descriptor_set(tmp_path, {"user.proto": USER_V1}))
    write(tmp_path / "proto", {"user.proto": USER_RENUMBERED})
    result = spoke("breaking", "proto", "--against", "spoke://user@v1.0.0", "--json")
    assert result.exit_code == 100
    assert json.loads(result.stdout.splitlines()[0])["type"] == "FIELD_NO_DELETE"


# -- --path and --exclude-path (the shared engine: the same through the old argparse entry) --------
TWO_FILES_OLD = {"user.proto": USER_V1, "billing/money.proto": COMMON}
TWO_FILES_NEW = {"user.proto": USER_RENUMBERED, "billing/money.proto": COMMON.replace("units = 1", "units = 2")}


@pytest.mark.parametrize("options, expected_paths", [
    ((), ["new/billing/money.proto", "new/user.proto"]),
    (("--path", "billing"), ["new/billing/money.proto"]),
    (("--path", "new/billing/money.proto"), ["new/billing/money.proto"]),
    (("--exclude-path", "billing/"), ["new/user.proto"]),
    (("--path", "billing", "--path", "user.proto"), ["new/billing/money.proto", "new/user.proto"]),
], ids=["all", "directory", "file-as-shown", "excluded", "repeated"])
def test_paths_restrict_the_check(tmp_path: Path, spoke: Callable[..., Result], capsys: pytest.CaptureFixture[str],
                                  options: tuple[str, ...], expected_paths: list[str]) -> None:
    # Given two changed files
    write(tmp_path / "old", TWO_FILES_OLD)
    write(tmp_path / "new", TWO_FILES_NEW)
    # When checking only some of them, with the new CLI and the old entry point
    result = spoke("breaking", "new", "--against", "old", "--error-format", "json", *options)
    legacy_code = legacy_main(["breaking", "new", "--against", "old", "--error-format", "json", *options])
    # Then only their findings are reported, the same way by both
    assert result.exit_code == 100
    assert sorted({json.loads(line)["path"] for line in result.stdout.splitlines()}) == expected_paths
    assert (legacy_code, capsys.readouterr().out) == (100, result.stdout)


def test_paths_matching_nothing_are_an_error(tmp_path: Path, spoke: Callable[..., Result]) -> None:
    write(tmp_path / "old", TWO_FILES_OLD)
    write(tmp_path / "new", TWO_FILES_NEW)
    result = spoke("breaking", "new", "--against", "old", "--path", "nothing/here")
    assert result.exit_code == 1
    assert result.stderr.startswith("Failure: no .proto files were targeted")


def test_spoke_yaml_names_the_breaking_config(tmp_path: Path, spoke: Callable[..., Result]) -> None:
    # Given a module whose spoke.yaml names a buf.yaml that checks only wire compatibility
    write(tmp_path / "old", {"user.proto": USER_V1})
    write(tmp_path / "new", {"user.proto": USER_V1.replace("string email = 2", "string mail = 2"),
                             "spoke.yaml": "module: user\nbreaking: rules/buf.yaml\n",
                             "rules/buf.yaml": "version: v2\nbreaking:\n  use: [WIRE]\n"})
    # When checking it without --config, then overriding it on the command line
    from_spoke_yaml = spoke("breaking", "new", "--against", "old")
    overridden = spoke("breaking", "new", "--against", "old", "--config", "version: v2\nbreaking:\n  use: [FILE]\n")
    # Then spoke.yaml's rules (a rename is wire-compatible) apply unless --config says otherwise
    assert (from_spoke_yaml.exit_code, from_spoke_yaml.stdout) == (0, ""), from_spoke_yaml.stderr
    assert overridden.exit_code == 100
    assert 'Field "2" on message "User" changed name from "email" to "mail".' in overridden.stdout


def test_spoke_yaml_naming_a_missing_config_is_an_error(tmp_path: Path, spoke: Callable[..., Result]) -> None:
    write(tmp_path / "old", {"user.proto": USER_V1})
    write(tmp_path / "new", {"user.proto": USER_V1, "spoke.yaml": "module: user\nbreaking: nope.yaml\n"})
    result = spoke("breaking", "new", "--against", "old")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: INVALID_SPOKE_YAML: ") and "nope.yaml" in result.stderr


# -- registry dependencies and a failing object store ---------------------------------------------
USER_WITH_MONEY = ('syntax = "proto3";\npackage user.v1;\n\nimport "common/money.proto";\n\n'
                   'message User {\n  string id = 1;\n  common.v1.Money balance = 2;\n}\n')


def serve_descriptor_set(server: Server, module: str, version: str, image: bytes) -> None:
    server.on("GET", f"{BASE}/modules/{module}/versions/{version}/download/descriptor_set", envelope(
        {"url": f"{S3}/{module}-{version}.binpb", "size": len(image), "sha256": hashlib.sha256(image).hexdigest()}))
    server.on("GET", f"{S3}/{module}-{version}.binpb", httpx.Response(200, content=image))


@pytest.mark.parametrize("local, expected_code", [(USER_WITH_MONEY, 0),
                                                   (USER_WITH_MONEY.replace("balance = 2", "balance = 5"), 100)])
def test_registry_dependencies_need_no_local_copy(tmp_path: Path, server: Server, spoke: Callable[..., Result],
                                                  local: str, expected_code: int) -> None:
    # Given user@v1.0.0 depends on common@v1.0.0, and the local module lists it in spoke.yaml only
    published = {"user.proto": USER_WITH_MONEY, "common/money.proto": COMMON}
    publish(server, "user", "v1.0.0", {"user.proto": USER_WITH_MONEY}, stored_descriptor_set(tmp_path, published))
    serve_descriptor_set(server, "common", "v1.0.0",
                         stored_descriptor_set(tmp_path / "dep", {"common/money.proto": COMMON}))
    write(tmp_path / "proto", {"user.proto": local, "spoke.yaml": "module: user\ndependencies: [common@v1.0.0]\n"})
    # When checking the local module against the published one
    result = spoke("breaking", "proto", "--against", "spoke://user@v1.0.0")
    # Then the import compiles from the dependency's stored set, and only user.proto is judged
    assert result.exit_code == expected_code, result.stderr
    assert all(line.startswith("proto/user.proto:") for line in result.stdout.splitlines())


def test_a_transient_object_store_failure_is_retried(tmp_path: Path, server: Server,
                                                     spoke: Callable[..., Result]) -> None:
    # Given the object store answers 503 once before serving the descriptor set
    image = stored_descriptor_set(tmp_path, {"user.proto": USER_V1})
    publish(server, "user", "v1.0.0", {"user.proto": USER_V1}, image)
    server.routes[("GET", f"{S3}/user-v1.0.0.binpb")].insert(0, httpx.Response(503, text="Slow Down"))
    write(tmp_path / "proto", {"user.proto": USER_RENUMBERED})
    # When checking against it
    result = spoke("breaking", "proto", "--against", "spoke://user@v1.0.0")
    # Then the verdict is the real one
    assert result.exit_code == 100, result.stderr
    assert len(server.sent("GET", S3)) == 2


def test_an_expired_presigned_url_is_an_error(tmp_path: Path, server: Server, spoke: Callable[..., Result]) -> None:
    # Given the object store refuses the presigned URL (S3's XML error)
    image = stored_descriptor_set(tmp_path, {"user.proto": USER_V1})
    publish(server, "user", "v1.0.0", {"user.proto": USER_V1}, image)
    server.routes[("GET", f"{S3}/user-v1.0.0.binpb")] = [httpx.Response(
        403, text="<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")]
    write(tmp_path / "proto", {"user.proto": USER_RENUMBERED})
    # When checking against it
    result = spoke("breaking", "proto", "--against", "spoke://user@v1.0.0")
    # Then it exits 1 with S3's reason, and no verdict is printed
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: AccessDenied: Request has expired")


@pytest.mark.parametrize("options", [
    ("--error-format", "github-actions"),
    ("--error-format", "junit", "--limit-to-input-files"),
    ("--error-format", "msvs", "--exclude-imports"),
    ("--against-config", "version: v1\nbuild:\n  excludes: [billing]\n"),
], ids=["github-actions", "junit-limited", "msvs-no-imports", "against-config"])
def test_bufs_other_flags_work_as_in_the_engine_entry(tmp_path: Path, spoke: Callable[..., Result],
                                                      capsys: pytest.CaptureFixture[str],
                                                      options: tuple[str, ...]) -> None:
    # Given two changed files
    write(tmp_path / "old", TWO_FILES_OLD)
    write(tmp_path / "new", TWO_FILES_NEW)
    # When checking them with buf's other flags, with the new CLI and the engine's entry point
    result = spoke("breaking", "new", "--against", "old", *options)
    legacy_code = legacy_main(["breaking", "new", "--against", "old", *options])
    # Then both report the same findings, in the same format
    assert result.exit_code == 100 and result.stdout
    assert (legacy_code, capsys.readouterr().out) == (100, result.stdout)
