"""buf's --error-formats, byte for byte: `spoke breaking` against `buf breaking` on the same images, and the
shared renderer (formats.render, which `spoke lint` uses too) against `buf lint`'s own output."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from chalicelib.cli.main import main
from chalicelib.domain.breaking.formats import UnknownErrorFormat, render

from .harness import CORPUS, build_image, tool

BREAKING_FORMATS = ["text", "json", "msvs", "junit", "github-actions", "gitlab-code-quality"]


def run_buf(cwd: Path, *args: str) -> tuple[int, str]:
    proc = subprocess.run([tool("buf"), *args], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ, NO_COLOR="1", BUF_CACHE_DIR=str(cwd / ".bufcache")))
    assert proc.returncode in (0, 100), proc.stderr
    return proc.returncode, proc.stdout


@pytest.fixture
def policy_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """mixed_file_changes as images, with a buf.yaml whose own rules and two policies all report."""
    monkeypatch.chdir(tmp_path)
    for side in ("old", "new"):
        shutil.copytree(CORPUS / "mixed_file_changes" / side, tmp_path / side)
        build_image(tmp_path / side, tmp_path / f"{side}.binpb")
    (tmp_path / "wire.yaml").write_text("version: v2\nbreaking:\n  use: [WIRE]\n")
    (tmp_path / "file.yaml").write_text("version: v2\nbreaking:\n  use: [FILE, PACKAGE]\n")
    return tmp_path


@pytest.mark.parametrize("error_format", BREAKING_FORMATS)
def test_breaking_formats_match_buf_with_policies(policy_case: Path, capsys: pytest.CaptureFixture[str],
                                                  error_format: str) -> None:
    # Given a configuration whose findings come from the module's rules and from two policies
    config = ('{"version":"v2","breaking":{"use":["FILE_NO_DELETE","FIELD_SAME_DEFAULT"]},'
              '"policies":[{"policy":"wire.yaml"},{"policy":"file.yaml","ignore":["b.proto"]}]}')
    args = ("new.binpb", "--against", "old.binpb", "--error-format", error_format, "--config", config)
    # When buf and spoke print them in the same format
    buf_code, buf_out = run_buf(policy_case, "breaking", *args)
    code = main(["breaking", *args])
    out = capsys.readouterr().out
    # Then the bytes are the same (policy findings carry the policy, as buf prints it; GitLab's has no place)
    assert buf_code == 100 and ("wire.yaml" in buf_out) is (error_format != "gitlab-code-quality")
    assert (code, out) == (buf_code, buf_out)


def test_an_unknown_format_is_a_usage_error(policy_case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["breaking", "new.binpb", "--against", "old.binpb", "--error-format", "msvc"]) == 1
    with pytest.raises(UnknownErrorFormat, match='invalid format: "msvc"'):
        render([], "msvc")


@dataclass(frozen=True)
class LintAnnotation:
    """An annotation as `spoke lint` hands it to render (module-relative path)."""

    path: str
    start_line: int
    start_column: int
    end_line: int
    end_column: int
    type: str
    message: str


LINT_SOURCES = {
    "a.proto": 'syntax = "proto3";\nmessage foo { string Bar = 1; }\nenum e { X = 0; }\n',
    "sub/b.proto": 'syntax = "proto3";\npackage x.v1;\nmessage foo { string Bar = 1; }\n',
    'odd "name" & <co>.proto': 'syntax = "proto3";\npackage odd.v1;\nmessage foo {}\n',
}


@pytest.fixture
def lint_module(tmp_path: Path) -> Path:
    """A buf.yaml v2 module under proto/, so buf prints paths with `proto/` and ignores name them without."""
    for name, text in LINT_SOURCES.items():
        (tmp_path / "proto" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "proto" / name).write_text(text)
    (tmp_path / "buf.yaml").write_text("version: v2\nmodules:\n  - path: proto\n")
    return tmp_path


def lint_annotations(module: Path) -> list[LintAnnotation]:
    """buf's own lint findings (json format), turned back into annotations with module-relative paths."""
    _, out = run_buf(module, "lint", "--error-format", "json")
    rows = [json.loads(line) for line in out.splitlines()]
    return [LintAnnotation(row["path"].removeprefix("proto/"), row["start_line"], row["start_column"],
                           row["end_line"], row["end_column"], row["type"], row["message"]) for row in rows]


@pytest.mark.parametrize("error_format", [*BREAKING_FORMATS, "config-ignore-yaml"])
def test_render_matches_buf_lint_in_every_format(lint_module: Path, error_format: str) -> None:
    # Given buf lint's findings on a module (paths needing XML and JSON escapes included)
    annotations = lint_annotations(lint_module)
    assert len(annotations) > 5
    # When rendered with the module's directory as prefix
    rendered = render(annotations, error_format, lambda _path: "proto/")
    # Then it is exactly what buf lint prints in that format
    _, expected = run_buf(lint_module, "lint", "--error-format", error_format)
    assert rendered == expected


def test_nothing_to_report_prints_nothing() -> None:
    for error_format in [*BREAKING_FORMATS, "config-ignore-yaml"]:
        assert render([], error_format) == ""


def test_annotations_without_a_file_have_no_position() -> None:
    # Given a finding about a deleted file (no path, as buf gives it)
    deleted = LintAnnotation("", 1, 1, 1, 1, "FILE_NO_DELETE", 'Previously present file "b.proto" was deleted.')
    # Then each format prints buf's placeholders
    assert render([deleted], "text") == '<input>:1:1:Previously present file "b.proto" was deleted.\n'
    assert render([deleted], "github-actions") == (
        '::error file=<input>::Previously present file "b.proto" was deleted.\n')
    assert '<testcase name="FILE_NO_DELETE">' in render([deleted], "junit")
    assert render([deleted], "config-ignore-yaml") == "version: v1\nlint:\n  ignore_only:\n"
