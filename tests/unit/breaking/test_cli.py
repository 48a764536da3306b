"""`spoke breaking`: exit codes, buf.yaml discovery (v1 and v2), directory and .binpb inputs, and output
identical to `buf breaking` run the same way."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.cli.main import main

from .harness import CORPUS, build_image, tool

BUF_ENV = dict(os.environ, NO_COLOR="1")


def copy_case(name: str, target: Path) -> Path:
    for side in ("old", "new"):
        shutil.copytree(CORPUS / name / side, target / side)
    return target


def run_buf(cwd: Path, *args: str) -> tuple[int, str]:
    proc = subprocess.run([tool("buf"), "breaking", *args], capture_output=True, text=True, cwd=cwd,
                          env=dict(BUF_ENV, BUF_CACHE_DIR=str(cwd / ".bufcache")))
    assert proc.returncode in (0, 100), proc.stderr
    return proc.returncode, proc.stdout


def run_spoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["breaking", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_no_changes_exits_0(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy_case("no_changes", workdir)
    code, out, err = run_spoke(capsys, "old", "--against", "old")
    assert (code, out, err) == (0, "", "")


@pytest.mark.parametrize("error_format", ["json", "text"])
def test_directories_output_matches_buf(workdir: Path, capsys: pytest.CaptureFixture[str], error_format: str) -> None:
    copy_case("message_no_delete_nested", workdir)
    (workdir / "new" / "buf.yaml").write_text("version: v2\nbreaking:\n  use: [FILE, PACKAGE, WIRE_JSON]\n")
    buf_code, buf_out = run_buf(workdir, "new", "--against", "old", "--error-format", error_format)
    code, out, err = run_spoke(capsys, "new", "--against", "old", "--error-format", error_format)
    assert buf_code == 100 and buf_out
    assert (code, out, err) == (buf_code, buf_out, "")


def test_without_buf_yaml_uses_bufs_v1_defaults(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy_case("nested_deep_changes", workdir)
    buf_code, buf_out = run_buf(workdir, "new", "--against", "old", "--error-format", "json")
    code, out, _ = run_spoke(capsys, "new", "--against", "old", "--error-format", "json")
    assert (code, out) == (buf_code, buf_out)


@pytest.mark.parametrize("buf_yaml", [
    "version: v1\nbreaking:\n  use: [WIRE]\n  except: [FIELD_SAME_NAME]\n",
    "version: v2\nbreaking:\n  use: [WIRE_JSON]\n  ignore_only:\n    FIELD_WIRE_JSON_COMPATIBLE_TYPE: [a.proto]\n",
    "version: v2\nbreaking:\n  use: [FILE]\n  ignore: [a.proto]\n",
], ids=["v1", "v2-ignore-only", "v2-ignore"])
def test_reads_buf_yaml_in_new_directory(workdir: Path, capsys: pytest.CaptureFixture[str], buf_yaml: str) -> None:
    copy_case("field_same_type_scalars", workdir)
    (workdir / "new" / "buf.yaml").write_text(buf_yaml)
    buf_code, buf_out = run_buf(workdir, "new", "--against", "old", "--error-format", "json")
    code, out, _ = run_spoke(capsys, "new", "--against", "old", "--error-format", "json")
    assert (code, out) == (buf_code, buf_out)


@pytest.mark.parametrize("builder", ["protoc", "buf"])
def test_binpb_images_match_buf(workdir: Path, capsys: pytest.CaptureFixture[str], builder: str) -> None:
    copy_case("mixed_file_changes", workdir)
    build_image(workdir / "new", workdir / "new.binpb", builder)
    build_image(workdir / "old", workdir / "old.binpb", builder)
    config = '{"version":"v2","breaking":{"use":["FILE","PACKAGE","WIRE_JSON","WIRE"]}}'
    args = ("new.binpb", "--against", "old.binpb", "--error-format", "json", "--config", config)
    buf_code, buf_out = run_buf(workdir, *args)
    code, out, _ = run_spoke(capsys, *args)
    assert buf_code == 100
    assert (code, out) == (buf_code, buf_out)


def test_image_against_directory(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy_case("services_rpcs", workdir)
    build_image(workdir / "new", workdir / "new.binpb")
    config_file = workdir / "breaking.yaml"
    config_file.write_text("version: v2\nbreaking:\n  use: [WIRE]\n")
    code, out, _ = run_spoke(capsys, "new.binpb", "--against", "old", "--config", str(config_file))
    assert code == 100
    lines = out.splitlines()
    assert lines and all(line.startswith("a.proto:") for line in lines)
    assert any("changed from client streaming to client unary" in line for line in lines)


def test_json_lines_have_bufs_keys(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy_case("mixed_file_changes", workdir)
    code, out, _ = run_spoke(capsys, "new", "--against", "old", "--error-format", "json",
                             "--config", "version: v2\nbreaking:\n  use: [FILE]\n")
    assert code == 100
    rows = [json.loads(line) for line in out.splitlines()]
    keys = {"start_line", "start_column", "end_line", "end_column", "type", "message"}
    deleted = [row for row in rows if row["type"] == "FILE_NO_DELETE"]
    assert deleted and all(set(row) == keys for row in deleted)  # buf gives no path for deleted files
    assert rows[-1]["path"] == "new/a.proto" and set(rows[-1]) == keys | {"path"}


def test_protoc_errors_exit_1(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy_case("no_changes", workdir)
    (workdir / "new" / "broken.proto").write_text('syntax = "proto3";\nmessage Broken { string = 1; }\n')
    code, out, err = run_spoke(capsys, "new", "--against", "old")
    assert code == 1 and out == ""
    assert err.startswith("Failure: ") and "broken.proto" in err


@pytest.mark.parametrize("args, message", [
    (("new", "--against", "old", "--config", '{"version":"v2","breaking":{"use":["NOPE"]}}'),
     '"NOPE" is not a known rule or category ID'),
    (("missing", "--against", "old"), "missing: no such file or directory"),
    (("new", "--against", "garbage.binpb"), "garbage.binpb"),
    (("new", "--against", "old", "--config", "version: v2\nbreaking: [x]\n"), "breaking must be a mapping"),
])
def test_bad_inputs_exit_1(workdir: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                           message: str) -> None:
    copy_case("no_changes", workdir)
    (workdir / "garbage.binpb").write_bytes(b"\xff\xff\xff not a descriptor set")
    code, out, err = run_spoke(capsys, *args)
    assert code == 1 and out == ""
    assert message in err


def test_usage_errors_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["breaking", "new"]) == 1  # --against is required
    assert main([]) == 1


def test_console_script_is_installed(workdir: Path) -> None:
    copy_case("services_rpcs", workdir)
    script = Path(sys.executable).parent / "spoke"
    assert script.exists(), "run: .venv/bin/pip install -e . --no-deps"
    proc = subprocess.run([str(script), "breaking", "new", "--against", "old"], capture_output=True, text=True,
                          cwd=workdir)
    assert proc.returncode == 100 and "new/a.proto:" in proc.stdout


@pytest.mark.parametrize("case", [c.name for c in sorted(CORPUS.iterdir()) if (c / "new").is_dir()])
def test_directory_inputs_match_buf_on_the_corpus(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The drop-in promise: same directories, same buf.yaml, same output as `buf breaking`, case by case.

    buf compiles directories with its own compiler; protoc's spans are aligned with it where they differ.
    """
    monkeypatch.chdir(tmp_path)
    copy_case(case, tmp_path)
    config = CORPUS / case / "buf.yaml"
    (tmp_path / "new" / "buf.yaml").write_text(
        config.read_text() if config.exists() else "version: v2\nbreaking:\n  use: [FILE, PACKAGE, WIRE_JSON, WIRE]\n")
    buf_code, buf_out = run_buf(tmp_path, "new", "--against", "old", "--error-format", "json")
    code, out, err = run_spoke(capsys, "new", "--against", "old", "--error-format", "json")
    assert err == ""
    assert out.splitlines() == buf_out.splitlines()
    assert code == buf_code


@pytest.mark.parametrize("buf_yaml", [
    "version: v2\nmodules:\n  - path: proto\n    breaking:\n      use: [FILE]\n"
    "      ignore_only:\n        FIELD_SAME_DEFAULT: [proto/a.proto]\n",
    "version: v2\nmodules:\n  - path: proto\nbreaking:\n  use: [FILE, WIRE]\n  ignore: [a.proto]\n",
    "version: v2\nmodules:\n  - path: proto\nbreaking:\n  use: [FILE]\n  ignore: [proto]\n",
], ids=["module-breaking", "workspace-breaking", "ignore-module"])
def test_buf_yaml_v2_modules(workdir: Path, capsys: pytest.CaptureFixture[str], buf_yaml: str) -> None:
    """Module directories become the include roots; ignore paths are relative to the workspace."""
    for side in ("old", "new"):
        shutil.copytree(CORPUS / "mixed_file_changes" / side, workdir / side / "proto")
        (workdir / side / "buf.yaml").write_text("version: v2\nmodules:\n  - path: proto\n")
    (workdir / "new" / "buf.yaml").write_text(buf_yaml)
    buf_code, buf_out = run_buf(workdir, "new", "--against", "old", "--error-format", "json")
    code, out, _ = run_spoke(capsys, "new", "--against", "old", "--error-format", "json")
    assert (code, out) == (buf_code, buf_out)
