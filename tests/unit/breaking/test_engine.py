"""Engine API details not covered by the differential suite: Finding shape, additions(), formatting."""
from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from chalicelib.domain.breaking import BreakingConfig, Finding, additions, check_breaking
from chalicelib.domain.breaking.text import go_float, q

from .harness import build_image


def compile_sources(tmp_path: Path, name: str, files: dict[str, str]) -> descriptor_pb2.FileDescriptorSet:
    root = tmp_path / name
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return build_image(root, tmp_path / f"{name}.binpb")


OLD = {
    "user.proto": 'syntax = "proto3";\npackage acme.v1;\nmessage User {\n  string id = 1;\n  string email = 2;\n}\n'
                  "enum Role {\n  ROLE_UNSPECIFIED = 0;\n}\nservice UserService {\n"
                  "  rpc ListUsers(User) returns (User);\n}\n",
}
NEW = {
    "user.proto": 'syntax = "proto3";\npackage acme.v1;\nmessage User {\n  string id = 1;\n  string email = 2;\n'
                  "  string phone_number = 3;\n  oneof contact {\n    string fax = 4;\n  }\n}\nmessage Address {}\n"
                  "enum Role {\n  ROLE_UNSPECIFIED = 0;\n  ROLE_ADMIN = 1;\n}\n"
                  "enum Plan {\n  PLAN_UNSPECIFIED = 0;\n}\n"
                  "service UserService {\n  rpc ListUsers(User) returns (User);\n"
                  "  rpc GetUser(User) returns (User);\n}\n"
                  "service AuditService {}\n",
    "extra/address.proto": 'syntax = "proto3";\npackage acme.v1.extra;\nmessage Street {}\n',
}


def test_additions_lists_what_a_reviewer_wants_to_see(tmp_path: Path) -> None:
    notes = additions(compile_sources(tmp_path, "new", NEW), compile_sources(tmp_path, "old", OLD))
    assert notes[0] == "File 'extra/address.proto' added"
    assert sorted(notes) == sorted([
        "File 'extra/address.proto' added",
        "Field 'phone_number' added to User message",
        "Field 'fax' added to User message",
        "Oneof 'contact' added to User message",
        "Message 'Address' added",
        "Message 'Street' added",
        "Enum value 'ROLE_ADMIN' added to Role enum",
        "Enum 'Plan' added",
        "RPC 'GetUser' added to UserService service",
        "Service 'AuditService' added",
    ])


def test_additions_are_not_breaking(tmp_path: Path) -> None:
    new, old = compile_sources(tmp_path, "new", NEW), compile_sources(tmp_path, "old", OLD)
    assert check_breaking(new, old, BreakingConfig(use=["FILE", "PACKAGE", "WIRE_JSON", "WIRE"])) == []
    assert additions(old, old) == []


def test_finding_fields_and_buf_shapes(tmp_path: Path) -> None:
    old = compile_sources(tmp_path, "old", OLD)
    new = compile_sources(tmp_path, "new", {"user.proto": OLD["user.proto"].replace("  string email = 2;\n", "")})
    [finding] = check_breaking(new, old, BreakingConfig(use=["FIELD_NO_DELETE"]))
    assert finding == Finding(
        rule="FIELD_NO_DELETE", categories=("CSR", "FILE", "PACKAGE"), path="user.proto",
        start_line=3, start_column=1, end_line=5, end_column=2,
        message='Previously present field "2" with name "email" on message "User" was deleted.',
    )
    assert finding.to_buf_json() == {
        "path": "user.proto", "start_line": 3, "start_column": 1, "end_line": 5, "end_column": 2,
        "type": "FIELD_NO_DELETE", "message": finding.message,
    }
    assert finding.to_text("new/") == f"new/user.proto:3:1:{finding.message}"
    with pytest.raises(AttributeError):
        finding.rule = "X"  # type: ignore[misc]


def test_default_config_is_the_file_category(tmp_path: Path) -> None:
    old = compile_sources(tmp_path, "old", OLD)
    renamed = OLD["user.proto"].replace("string email = 2", "string mail = 2")
    new = compile_sources(tmp_path, "new", {"user.proto": renamed})
    assert [f.rule for f in check_breaking(new, old)] == ["FIELD_SAME_JSON_NAME", "FIELD_SAME_NAME"]
    assert check_breaking(new, old, BreakingConfig(use=["WIRE"])) == []


@pytest.mark.parametrize("value, bits, text", [
    (1.0, 64, "1"), (1000000.0, 64, "1e+06"), (123456.0, 64, "123456"), (1e-05, 64, "1e-05"),
    (0.0001, 64, "0.0001"), (-2.5, 64, "-2.5"), (float("inf"), 64, "+Inf"), (float("nan"), 32, "NaN"),
    (0.10000000149011612, 32, "0.1"), (1234567.0, 64, "1.234567e+06"),
])
def test_floats_print_like_go(value: float, bits: int, text: str) -> None:
    assert go_float(value, bits) == text


def test_strings_quote_like_go() -> None:
    assert q('a"b\\c\n\t\x01é') == '"a\\"b\\\\c\\n\\t\\x01é"'
    assert q(5) == '"5"'


def test_sets_without_their_imports_still_compare(tmp_path: Path) -> None:
    """The registry compares a version's own files only; types from missing imports must not crash rules."""
    common = 'syntax = "proto2";\npackage acme.common;\nenum Kind { KIND_A = 1; KIND_B = 2; }\nmessage Map {}\n'
    user = ('syntax = "proto2";\npackage acme.v1;\nimport "common.proto";\nimport "google/protobuf/timestamp.proto";\n'
            "message User {\n  optional acme.common.Kind kind = 1;\n  optional google.protobuf.Timestamp at = 2;\n"
            "  map<string, acme.common.Map> items = 3;\n}\n")
    changed = user.replace("optional acme.common.Kind kind = 1", "optional acme.common.Other kind = 1")
    old = compile_sources(tmp_path, "old", {"common.proto": common, "user.proto": user})
    new = compile_sources(tmp_path, "new", {"common.proto": common + "enum Other { OTHER_A = 1; }\n",
                                            "user.proto": changed})
    own_old = descriptor_pb2.FileDescriptorSet(file=[f for f in old.file if f.name == "user.proto"])
    own_new = descriptor_pb2.FileDescriptorSet(file=[f for f in new.file if f.name == "user.proto"])
    config = BreakingConfig(use=["FILE", "PACKAGE", "WIRE_JSON", "WIRE"])
    rules = sorted({f.rule for f in check_breaking(own_new, own_old, config)})
    assert rules == ["FIELD_SAME_TYPE", "FIELD_WIRE_COMPATIBLE_TYPE", "FIELD_WIRE_JSON_COMPATIBLE_TYPE"]


def test_skipping_unchanged_elements_changes_nothing(tmp_path: Path) -> None:
    """The fast path (unchanged messages, enums and services are not compared) must be invisible."""
    from chalicelib.domain.breaking.catalogue import ALL_RULE_IDS
    from chalicelib.domain.breaking.engine import run_rules
    from chalicelib.domain.breaking.index import Index

    from .harness import all_cases

    for case in all_cases():
        new = Index(build_image(case / "new", tmp_path / f"{case.name}-new.binpb"))
        old = Index(build_image(case / "old", tmp_path / f"{case.name}-old.binpb"))
        fast = run_rules(new, old, ALL_RULE_IDS)
        full = run_rules(new, old, ALL_RULE_IDS, skip_unchanged=False)
        assert sorted(map(repr, fast)) == sorted(map(repr, full)), case.name
