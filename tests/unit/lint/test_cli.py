"""`spoke lint`: exit codes and failures like buf's, the default input, images, and inline --config."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from chalicelib.cli.compile_dir import compile_directory
from chalicelib.cli.main import main

from .harness import CORPUS, buf


def buf_lint(cwd: Path, *args: str) -> tuple[int, str, str]:
    proc = subprocess.run([buf(), "lint", *args], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ, NO_COLOR="1", BUF_CACHE_DIR=str(cwd / ".bufcache")))
    return proc.returncode, proc.stdout, proc.stderr


def spoke_lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["lint", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_clean_module_exits_0_and_prints_nothing(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(CORPUS / "clean_all_rules", workdir / "mod")
    assert spoke_lint(capsys, "mod") == (0, "", "")


def test_findings_exit_100_with_the_input_directory_in_front(workdir: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    # Given a module in a subdirectory, When both tools lint it from outside, Then paths carry the directory.
    shutil.copytree(CORPUS / "naming", workdir / "mod")
    buf_code, buf_out, _ = buf_lint(workdir, "mod", "--error-format", "json")
    code, out, err = spoke_lint(capsys, "mod", "--error-format", "json")
    assert buf_code == 100 and '"path":"mod/acme/names/v1/names.proto"' in buf_out
    assert (code, out, err) == (buf_code, buf_out, "")


def test_the_default_input_is_the_current_directory(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(CORPUS / "enums", workdir / "mod")
    monkeypatch.chdir(workdir / "mod")
    buf_code, buf_out, _ = buf_lint(workdir / "mod")
    assert spoke_lint(capsys) == (buf_code, buf_out, "")


@pytest.mark.parametrize("case", ["imports", "field_required"])
def test_an_image_is_linted_like_buf_lints_it(workdir: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    # Given a `buf build` image (it marks imports, unused imports and missing syntax), When linted, Then alike
    shutil.copytree(CORPUS / case, workdir / "mod")
    subprocess.run([buf(), "build", "mod", "-o", "image.binpb"], check=True, cwd=workdir,
                   env=dict(os.environ, BUF_CACHE_DIR=str(workdir / ".bufcache")))
    config = '{"version":"v2","lint":{"use":["STANDARD"]}}'
    buf_code, buf_out, _ = buf_lint(workdir, "image.binpb", "--config", config)
    code, out, err = spoke_lint(capsys, "image.binpb", "--config", config)
    assert buf_code == 100
    assert (code, out, err) == (buf_code, buf_out, "")


def test_a_protoc_image_is_linted_whole_like_buf(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a protoc image (its files are not marked as imports), When linted, Then every file is, as buf does
    shutil.copytree(CORPUS / "imports", workdir / "mod")
    image = compile_directory(workdir / "mod")
    (workdir / "image.binpb").write_bytes(image.SerializeToString())
    config = '{"version":"v2","lint":{"use":["PACKAGE_VERSION_SUFFIX","IMPORT_USED"]}}'
    buf_code, buf_out, _ = buf_lint(workdir, "image.binpb", "--config", config)
    assert "google/protobuf/empty.proto" in buf_out
    assert spoke_lint(capsys, "image.binpb", "--config", config) == (buf_code, buf_out, "")


def test_an_inline_config_replaces_the_directorys_buf_yaml(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(CORPUS / "naming", workdir / "mod")
    monkeypatch.chdir(workdir / "mod")
    config = "version: v1\nlint:\n  use: [MESSAGE_PASCAL_CASE]\n"
    buf_code, buf_out, _ = buf_lint(workdir / "mod", ".", "--config", config)
    assert buf_code == 100
    assert spoke_lint(capsys, ".", "--config", config) == (buf_code, buf_out, "")


@pytest.mark.parametrize(("config", "expected"), [
    ('{"version":"v2","lint":{"use":["NOPE"]}}', 'Failure: "NOPE" is not a known rule or category ID\n'),
    ('{"version":"v2","lint":{"allow_comment_ignores":true}}', None),
    ('{"version":"v1","lint":{"disallow_comment_ignores":true}}', None),
    ('{"version":"v2","lint":{"use":"MINIMAL"}}', None),
    ('{"version":"v2","lint":{"ignore":["/abs"]}}', None),
    ('{"version":"v2","lint":{"use":["IMPORT_NO_WEAK"]}}', None),
])
def test_a_config_buf_rejects_exits_1(workdir: Path, capsys: pytest.CaptureFixture[str], config: str,
                                      expected: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(CORPUS / "enums", workdir / "mod")
    monkeypatch.chdir(workdir / "mod")
    buf_code, _, buf_err = buf_lint(workdir / "mod", ".", "--config", config)
    code, out, err = spoke_lint(capsys, ".", "--config", config)
    assert buf_code == code == 1 and out == ""
    assert err.startswith("Failure: ")
    if expected is not None:
        assert err == expected == buf_err.splitlines(keepends=True)[-1]


def test_an_unknown_error_format_exits_1_like_buf(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(CORPUS / "enums", workdir / "mod")
    buf_code, _, buf_err = buf_lint(workdir, "mod", "--error-format", "msvc")
    code, out, err = spoke_lint(capsys, "mod", "--error-format", "msvc")
    assert (code, out) == (buf_code, "") == (1, "")
    assert err == buf_err.splitlines(keepends=True)[-1]


def test_a_missing_input_exits_1(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = spoke_lint(capsys, "nowhere")
    assert (code, out) == (1, "") and err.startswith("Failure: ")


def test_sources_that_do_not_compile_are_compile_findings_like_buf(workdir: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # Given a file with a syntax error, When linted, Then like buf: COMPILE findings at the error, exit 100
    (workdir / "broken").mkdir()
    (workdir / "broken" / "a.proto").write_text('syntax = "proto3";\nmessage {\n')
    buf_code, buf_out, _ = buf_lint(workdir, "broken", "--error-format", "json")
    code, out, err = spoke_lint(capsys, "broken", "--error-format", "json")
    assert code == buf_code == 100 and err == ""
    assert [line.split(',"end_line"')[0] for line in out.splitlines()][0] == (
        '{"path":"broken/a.proto","start_line":2,"start_column":9')  # protoc's own words follow
    assert '"type":"COMPILE"' in out and '"type":"COMPILE"' in buf_out


def test_a_path_that_selects_nothing_is_an_error(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(CORPUS / "enums", workdir / "mod")
    code, out, err = spoke_lint(capsys, "mod", "--path", "mod/nothing")
    assert (code, out) == (1, "") and "no .proto files were targeted" in err


@pytest.mark.parametrize("flag", ["--path", "--exclude-path"])
def test_a_module_directory_given_as_a_path_is_an_error_like_buf(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                                flag: str, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(CORPUS / "v2_modules", workdir / "mod")
    monkeypatch.chdir(workdir / "mod")
    buf_code, _, buf_err = buf_lint(workdir / "mod", ".", flag, "other")
    code, out, err = spoke_lint(capsys, ".", flag, "other")
    assert (code, out, err) == (buf_code, "", buf_err.splitlines(keepends=True)[-1]) == (1, "", err)


def test_a_missing_policy_file_exits_1_like_buf(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(CORPUS / "policies", workdir / "mod")
    (workdir / "mod" / "pol" / "empty.yaml").unlink()
    monkeypatch.chdir(workdir / "mod")
    buf_code, _, buf_err = buf_lint(workdir / "mod")
    assert spoke_lint(capsys) == (buf_code, "", buf_err.splitlines(keepends=True)[-1])


@pytest.mark.parametrize(("case", "location", "config"), [
    ("v2_modules", "proto", None),             # a module of the workspace above: its own lint configuration
    ("v2_modules", "other", None),
    ("v2_modules", "proto/acme", None),        # inside a module: buf wants the module and --path
    ("config_v1_default", "acme/cfg", None),
    ("workspace_v1", "vendor", None),          # a buf.work.yaml directory: laid out by its own buf.yaml
    ("workspace_v1", "proto/acme", None),
    ("naming", "acme/names", '{"version":"v2","lint":{"use":["BASIC"]}}'),  # --config: its workspace is here
])
def test_an_input_inside_a_workspace_is_seen_as_buf_sees_it(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch, case: str,
                                                            location: str, config: str | None) -> None:
    shutil.copytree(CORPUS / case, workdir / "ws")
    monkeypatch.chdir(workdir / "ws")
    args = (location, "--config", config) if config else (location,)
    buf_code, buf_out, buf_err = buf_lint(workdir / "ws", *args)
    code, out, err = spoke_lint(capsys, *args)
    assert (code, out) == (buf_code, buf_out)
    assert err == (buf_err.splitlines(keepends=True)[-1] if buf_code == 1 else "")
