"""The engine's contract for callers with their own images (the registry): which files are linted,
imports that are absent, and findings' shape. Behaviour rule by rule is compared with buf in
test_differential.py."""
from __future__ import annotations

from pathlib import Path

from google.protobuf import descriptor_pb2

from chalicelib.cli.compile_dir import compile_directory
from chalicelib.domain.lint import LintConfig, LintFinding, align_comments_with_buf, lint

COMMON = 'syntax = "proto3";\n\npackage common.v1;\n\nmessage money {}\n'
USER = ('syntax = "proto3";\n\npackage user.v1;\n\n'
        'import "common/v1/money.proto";\nimport "google/protobuf/empty.proto";\n\n'
        "message User {\n  common.v1.money balance = 1;\n}\n")
STANDARD = LintConfig.from_buf_yaml({"use": ["STANDARD"]}, "v2")


def compiled(tmp_path: Path) -> descriptor_pb2.FileDescriptorSet:
    for name, text in {"common/v1/money.proto": COMMON, "user/v1/user.proto": USER}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return compile_directory(tmp_path)


def test_targets_name_the_files_linted_the_rest_only_resolve_names(tmp_path: Path) -> None:
    # Given an image of user.proto with its import common/v1/money.proto (whose message is misnamed)
    fds = compiled(tmp_path)
    # When only user.proto is the target
    findings = lint(fds, STANDARD, targets={"user/v1/user.proto"})
    # Then common's misnamed message is not reported, and common's import counts as used
    assert [(f.path, f.type) for f in findings] == [("user/v1/user.proto", "IMPORT_USED")]
    assert findings[0].message == 'Import "google/protobuf/empty.proto" is unused.'


def test_by_default_every_file_but_the_well_known_types_is_linted(tmp_path: Path) -> None:
    findings = lint(compiled(tmp_path), STANDARD)
    assert {f.path for f in findings} == {"common/v1/money.proto", "user/v1/user.proto"}


def test_an_import_absent_from_the_image_is_never_called_unused(tmp_path: Path) -> None:
    # Given only the module's own file, without the files it imports (as a caller that strips imports)
    fds = compiled(tmp_path)
    own = [f for f in fds.file if f.name == "user/v1/user.proto"]
    del fds.file[:]
    fds.file.extend(own)
    # Then its imports cannot be judged and are not reported
    assert [f.type for f in lint(fds, STANDARD)] == []


def test_a_finding_is_bufs_json_object() -> None:
    finding = LintFinding("a/b.proto", 3, 1, 3, 9, "MESSAGE_PASCAL_CASE", "Message name ...")
    assert finding.as_dict() == {"path": "a/b.proto", "start_line": 3, "start_column": 1, "end_line": 3,
                                 "end_column": 9, "type": "MESSAGE_PASCAL_CASE", "message": "Message name ..."}


def test_comments_are_attributed_as_buf_attributes_them(tmp_path: Path) -> None:
    # Given protoc's image of a file whose comments protoc and buf attribute differently
    text = ('syntax = "proto3";\n\npackage user.v1;\n\n// Doc.\nmessage User {\n'
            "  string id = 1; /* leads name for buf */\n  string name = 2;\n  /* inline */ string email = 3;\n}\n")
    (tmp_path / "user" / "v1").mkdir(parents=True)
    (tmp_path / "user" / "v1" / "user.proto").write_text(text)
    fds = compile_directory(tmp_path)
    comments = LintConfig.from_buf_yaml({"use": ["COMMENT_FIELD"]}, "v2")
    assert [f.message for f in lint(fds, comments)] == [
        'Field "id" should have a non-empty comment for documentation.',
        'Field "name" should have a non-empty comment for documentation.']
    # When aligned with buf's attribution, given the source text
    align_comments_with_buf(fds, {"user/v1/user.proto": text})
    # Then `name` is documented by the block comment ending the line above, and `email` is not by its inline one
    assert [f.message for f in lint(fds, comments)] == [
        'Field "id" should have a non-empty comment for documentation.',
        'Field "email" should have a non-empty comment for documentation.']
