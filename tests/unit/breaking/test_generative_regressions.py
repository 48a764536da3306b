"""Differences the generative test found in configuration handling (not in findings, so not corpus cases),
kept as regressions: `spoke breaking` must accept what buf accepts and reject what buf rejects."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from .generative.runner import run_buf, run_cli
from .harness import CORPUS, build_image


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """new.binpb / old.binpb of a corpus case with findings in several files and rules."""
    for side in ("old", "new"):
        build_image(CORPUS / "mixed_file_changes" / side, tmp_path / f"{side}.binpb")
    return tmp_path


def _config(breaking: dict[str, object]) -> str:
    return json.dumps({"version": "v2", "breaking": breaking})


@pytest.mark.parametrize("breaking", [
    {"ignore": ["gen", "gen/x.proto"]},
    {"ignore": ["a/b/", "a/b/c"]},
    {"ignore": ["./a", "a//b"]},
    {"ignore_only": {"FIELD_SAME_TYPE": ["gen/alpha/v1", "gen/alpha/v1/f1.proto"]}},
], ids=["ignore", "ignore-trailing-slash", "ignore-unclean", "ignore-only"])
def test_an_ignore_path_inside_another_is_rejected_like_buf(images: Path, breaking: dict[str, object]) -> None:
    """Given ignore paths where one contains another, when both tools run, then both fail with buf's reason."""
    config = _config(breaking)
    buf_code, buf_err = run_buf(images, config, "json")
    code, err = run_cli(images, config, "json")
    assert (code, buf_code) == (1, 1)
    reason = err.strip().removeprefix("Failure: ")
    assert "which is not allowed" in reason and buf_err.strip().endswith(reason)


@pytest.mark.parametrize("breaking", [
    {"ignore": ["a.proto", "a.proto/"]},
    {"ignore": ["a.proto", "."]},
    {"ignore_only": {"FIELD_SAME_TYPE": ["a.proto"], "FILE": ["a.proto/x"]}},
], ids=["duplicates", "dot", "different-rules"])
def test_ignore_paths_buf_accepts_are_accepted(images: Path, breaking: dict[str, object]) -> None:
    config = _config({"use": ["FILE", "WIRE"], **breaking})
    assert run_cli(images, config, "json") == run_buf(images, config, "json")


def test_an_inline_config_longer_than_a_file_name_is_read_as_yaml(images: Path) -> None:
    """Given --config with an inline document longer than a file name may be, then it is read as the document
    (it used to crash on ENAMETOOLONG when tried as a file name first)."""
    config = _config({"use": ["FILE", "PACKAGE", "WIRE", "WIRE_JSON"],
                      "except": ["FILE_SAME_JAVA_PACKAGE", "FILE_SAME_GO_PACKAGE", "FILE_SAME_CSHARP_NAMESPACE",
                                 "FILE_SAME_OBJC_CLASS_PREFIX", "FILE_SAME_PHP_NAMESPACE", "FILE_SAME_RUBY_PACKAGE"]})
    assert len(config) > 255
    buf = run_buf(images, config, "json")
    assert buf[0] == 100
    assert run_cli(images, config, "json") == buf


@pytest.mark.parametrize(("builder", "flags"), [
    ("protoc", ("--limit-to-input-files",)),
    ("buf", ("--limit-to-input-files",)),
    ("buf", ("--limit-to-input-files", "--exclude-imports")),
], ids=["protoc", "buf", "buf-exclude-imports"])
def test_limit_to_input_files_keeps_what_the_old_files_import(tmp_path: Path, builder: str,
                                                              flags: tuple[str, ...]) -> None:
    """Given a file that stops importing google/protobuf/any.proto, when checked with --limit-to-input-files,
    then any.proto is still compared (buf keeps the imports of the files it targets) and reported deleted,
    exactly as buf does; with --exclude-imports too, it is not."""
    sources = {"old": 'syntax = "proto3";\npackage a;\nimport "google/protobuf/any.proto";\n'
                      "message M {\n  google.protobuf.Any payload = 1;\n  string id = 2;\n}\n",
               "new": 'syntax = "proto3";\npackage a;\nmessage M {\n  string id = 2;\n}\n'}
    for side, text in sources.items():
        (tmp_path / side).mkdir()
        (tmp_path / side / "a.proto").write_text(text)
        build_image(tmp_path / side, tmp_path / f"{side}.binpb", builder)
    config = _config({"use": ["FILE", "PACKAGE"]})

    buf = run_buf(tmp_path, config, "json", flags=flags)
    ours = run_cli(tmp_path, config, "json", flags=flags)

    assert ours == buf
    assert ("google/protobuf/any.proto" in buf[1]) == ("--exclude-imports" not in flags)


def test_a_default_written_below_its_keyword_is_positioned_like_buf(tmp_path: Path) -> None:
    """Given directory inputs where `default =` and the value are on two lines, when spoke (protoc) and buf
    (its own compiler) compile them, then FIELD_SAME_DEFAULT spans both lines, from `default`, as buf's."""
    for side, value in (("old", "1"), ("new", "2")):
        (tmp_path / side).mkdir()
        (tmp_path / side / "a.proto").write_text(
            'syntax = "proto2";\npackage a;\nmessage M {\n  optional int32 n = 1 [\n'
            f"      deprecated = true,\n      default =\n      {value}\n      ];\n}}\n")
    config = _config({"use": ["WIRE"]})

    buf = run_buf(tmp_path, config, "json", directories=True)

    assert buf[0] == 100 and '"start_line":6,"start_column":7,"end_line":7,"end_column":8' in buf[1]
    assert run_cli(tmp_path, config, "json", directories=True) == buf


def test_an_enum_moved_out_of_a_file_left_out_of_the_check_is_not_a_wire_change(tmp_path: Path) -> None:
    """Given an enum moved to another package out of a file NEW no longer has, when checked with
    --limit-to-input-files --exclude-imports (the old enum is not in the check), then like buf only
    FIELD_SAME_TYPE reports the field, not the wire rules (seed 60933)."""
    sources = {
        "old": {"e.proto": 'syntax = "proto3";\npackage x;\nenum Kind {\n  KIND_UNSPECIFIED = 0;\n}\n',
                "a.proto": 'syntax = "proto3";\npackage x;\nimport "e.proto";\nmessage M {\n  x.Kind kind = 1;\n}\n'},
        "new": {"a.proto": 'syntax = "proto3";\npackage x;\nimport "y.proto";\nmessage M {\n  y.Kind kind = 1;\n}\n',
                "y.proto": 'syntax = "proto3";\npackage y;\nenum Kind {\n  KIND_UNSPECIFIED = 0;\n}\n'},
    }
    for (side, files), builder in zip(sources.items(), ("buf", "protoc"), strict=True):
        (tmp_path / side).mkdir()
        for name, text in files.items():
            (tmp_path / side / name).write_text(text)
        build_image(tmp_path / side, tmp_path / f"{side}.binpb", builder)
    config = _config({"use": ["FILE", "WIRE"]})
    flags = ("--limit-to-input-files", "--exclude-imports")

    buf = run_buf(tmp_path, config, "json", flags=flags)

    assert buf[0] == 100 and "FIELD_SAME_TYPE" in buf[1] and "WIRE_COMPATIBLE_TYPE" not in buf[1]
    assert run_cli(tmp_path, config, "json", flags=flags) == buf


def test_an_enum_default_whose_enum_is_left_out_of_the_check_is_not_compared(tmp_path: Path) -> None:
    """Same move, proto2 with an enum default (seed 70359): buf cannot read the old default's enum and
    reports no FIELD_SAME_DEFAULT; neither may we (we used to print `Kind.0(?)`)."""
    sources = {
        "old": {"e.proto": 'syntax = "proto2";\npackage x;\nenum Kind {\n  A = 1;\n  B = 2;\n}\n',
                "a.proto": 'syntax = "proto2";\npackage x;\nimport "e.proto";\n'
                           "message M {\n  optional x.Kind kind = 1 [default = B];\n}\n"},
        "new": {"y.proto": 'syntax = "proto2";\npackage y;\nenum Kind {\n  A = 1;\n  B = 2;\n}\n',
                "a.proto": 'syntax = "proto2";\npackage x;\nimport "y.proto";\n'
                           "message M {\n  optional y.Kind kind = 1 [default = B];\n}\n"},
    }
    for (side, files), builder in zip(sources.items(), ("buf", "protoc"), strict=True):
        (tmp_path / side).mkdir()
        for name, text in files.items():
            (tmp_path / side / name).write_text(text)
        build_image(tmp_path / side, tmp_path / f"{side}.binpb", builder)
    config = _config({"use": ["FILE", "WIRE"]})
    flags = ("--limit-to-input-files", "--exclude-imports")

    buf = run_buf(tmp_path, config, "json", flags=flags)

    assert buf[0] == 100 and "FIELD_SAME_TYPE" in buf[1] and "FIELD_SAME_DEFAULT" not in buf[1]
    assert run_cli(tmp_path, config, "json", flags=flags) == buf
