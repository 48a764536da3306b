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

from .harness import CORPUS, all_cases, build_image, directory_case_args, directory_cases, policy_files, tool

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


@pytest.mark.parametrize("case", [c.name for c in all_cases()])
def test_directory_inputs_match_buf_on_the_corpus(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The drop-in promise: same directories, same buf.yaml, same output as `buf breaking`, case by case.

    buf compiles directories with its own compiler; protoc's spans are aligned with it where they differ.
    """
    monkeypatch.chdir(tmp_path)
    copy_case(case, tmp_path)
    for policy in policy_files(CORPUS / case):  # named by buf.yaml `policies:`, read from the current directory
        shutil.copy(policy, tmp_path / policy.name)
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


@pytest.mark.parametrize("case", [c.name for c in directory_cases()])
def test_each_input_is_laid_out_by_its_own_configuration_like_buf(
        case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Directory cases: NEW and OLD keep their own buf.yaml / buf.work.yaml (v1beta1 roots and excludes, v1
    excludes, v2 modules, workspaces) or get --config / --against-config; same output as buf, byte for byte."""
    # Given the case's directories as they are (with their own configuration files)
    shutil.copytree(CORPUS / case, tmp_path / case)
    monkeypatch.chdir(tmp_path / case)
    args = ("new", "--against", "old", "--error-format", "json", *directory_case_args(CORPUS / case))
    # When buf and spoke check them the same way
    buf_code, buf_out = run_buf(tmp_path / case, *args)
    code, out, err = run_spoke(capsys, *args)
    # Then they agree on every byte and the exit code
    assert err == ""
    assert (code, out) == (buf_code, buf_out)


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def buf_image(source: Path, out: Path, *paths: str) -> None:
    """`buf build` of some files of a directory: the files they import are in the image, marked as imports."""
    command = [tool("buf"), "build", ".", "-o", str(out), "--config", '{"version":"v2"}']
    for path in paths:
        command += ["--path", path]
    subprocess.run(command, check=True, capture_output=True, cwd=source,
                   env=dict(BUF_ENV, BUF_CACHE_DIR=str(out.parent / ".bufcache")))


def message(name: str, package: str, fields: str, imports: str = "") -> str:
    return f'syntax = "proto3";\npackage {package};\n{imports}message {name} {{ {fields} }}\n'


A_IMPORTS = 'import "google/protobuf/timestamp.proto";\nimport "dep/d.proto";\n'
A_FIELDS = "google.protobuf.Timestamp t = 1; dep.D d = 2;"


@pytest.mark.parametrize("flags", [(), ("--exclude-imports",)], ids=["with-imports", "exclude-imports"])
def test_exclude_imports_leaves_an_images_imports_out_like_buf(
        workdir: Path, capsys: pytest.CaptureFixture[str], flags: tuple[str, ...]) -> None:
    # Given images of a.proto whose import dep/d.proto lost a field (buf marks dep/d.proto as an import)
    for side, dep_fields in (("old", "string x = 1; string y = 2;"), ("new", "string x = 1;")):
        write_tree(workdir / side, {"a.proto": message("A", "a", A_FIELDS, A_IMPORTS),
                                    "dep/d.proto": message("D", "dep", dep_fields)})
        buf_image(workdir / side, workdir / f"{side}.binpb", "a.proto")
    args = ("new.binpb", "--against", "old.binpb", "--error-format", "json", *flags)
    # When checked with and without --exclude-imports
    buf_code, buf_out = run_buf(workdir, *args)
    code, out, _ = run_spoke(capsys, *args)
    # Then the import's deleted field is reported only without the flag, as buf does
    assert (buf_code, "dep/d.proto" in buf_out) == ((0, False) if flags else (100, True))
    assert (code, out) == (buf_code, buf_out)


LIMIT_OLD = {"a.proto": message("A", "a", "string x = 1; string y = 2;"),
             "b.proto": message("B", "a", "string x = 1; string y = 2;"),
             "c/c.proto": message("C", "c", "string x = 1; string y = 2;")}
LIMIT_NEW = {"a.proto": message("A", "a", "string x = 1;"), "c/c.proto": message("C", "c", "string x = 1;")}


@pytest.mark.parametrize("flags", [
    ("--limit-to-input-files",),
    ("--limit-to-input-files", "--path", "a.proto"),
    ("--limit-to-input-files", "--exclude-path", "a.proto"),
    ("--limit-to-input-files", "--exclude-path", "c"),
    ("--exclude-path", "a.proto"),
    ("--path", "a.proto"),
], ids=lambda flags: " ".join(flags))
def test_limit_to_input_files_and_paths_match_buf(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                  flags: tuple[str, ...]) -> None:
    # Given b.proto deleted and a field deleted in each remaining file
    write_tree(workdir / "old", LIMIT_OLD)
    write_tree(workdir / "new", LIMIT_NEW)
    for side in ("old", "new"):
        buf_image(workdir / side, workdir / f"{side}.binpb")
    args = ("new.binpb", "--against", "old.binpb", *flags)
    # When checked with the flags
    buf_code, buf_out = run_buf(workdir, *args)
    code, out, _ = run_spoke(capsys, *args)
    # Then spoke reports what buf reports (with --limit-to-input-files, b.proto is not reported deleted)
    assert (code, out) == (buf_code, buf_out)
    assert ("b.proto" in out) is not ("--limit-to-input-files" in flags or "--path" in flags)


def test_a_path_the_input_lacks_is_an_error_like_buf(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(workdir / "old", LIMIT_OLD)
    write_tree(workdir / "new", LIMIT_NEW)
    for side in ("old", "new"):
        buf_image(workdir / side, workdir / f"{side}.binpb")
    code, out, err = run_spoke(capsys, "new.binpb", "--against", "old.binpb", "--path", "b.proto")
    assert (code, out, err) == (1, "", "Failure: image contains no files\n")


@pytest.mark.parametrize("config", [
    "version: v2\nbreaking:\n  use: [WIRE]\n  except: [FIELD_WIRE_COMPATIBLE_TYPE]\n",
    '{"version": "v1", "breaking": {"use": ["FILE"], "ignore_only": {"FIELD_SAME_TYPE": ["a.proto"]}}}',
    "file:buf-config.yaml",
    "file:buf-config.json",
], ids=["inline-yaml", "inline-json", "yaml-file", "json-file"])
def test_config_is_a_file_or_inline_yaml_or_json_like_buf(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                          config: str) -> None:
    # Given images and a configuration given inline or as a file
    copy_case("field_same_type_scalars", workdir)
    for side in ("old", "new"):
        build_image(workdir / side, workdir / f"{side}.binpb")
    (workdir / "buf-config.yaml").write_text("version: v1\nbreaking:\n  use: [WIRE_JSON]\n")
    (workdir / "buf-config.json").write_text('{"version": "v2", "breaking": {"use": ["FIELD_SAME_TYPE"]}}')
    value = config.removeprefix("file:")
    args = ("new.binpb", "--against", "old.binpb", "--error-format", "json", "--config", value)
    # When buf and spoke read it
    buf_code, buf_out = run_buf(workdir, *args)
    code, out, _ = run_spoke(capsys, *args)
    # Then the same rules ran
    assert (code, out) == (buf_code, buf_out)


def test_directories_with_different_module_counts_are_refused_like_buf(workdir: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # Given a three-module workspace checked against a plain directory
    case = CORPUS / "input_v2_module_configs"
    shutil.copytree(case / "new", workdir / "new")
    shutil.copytree(case / "old", workdir / "old")
    (workdir / "old" / "buf.yaml").unlink()
    # When both tools compare them
    proc = subprocess.run([tool("buf"), "breaking", "new", "--against", "old"], capture_output=True, text=True,
                          cwd=workdir, env=dict(BUF_ENV, BUF_CACHE_DIR=str(workdir / ".bufcache")))
    code, out, err = run_spoke(capsys, "new", "--against", "old")
    # Then both refuse, with buf's words
    assert (code, out, err) == (proc.returncode, proc.stdout, proc.stderr) == (
        1, "", "Failure: input contained 3 images, whereas against contained 1 images\n")


@pytest.mark.parametrize("policy, message", [
    ("version: v1\nbreaking:\n  use: [WIRE]\n", "v1 is not supported"),
    ("version: v2\nbreaking:\n  use: [WIRE]\n  ignore: [a.proto]\n", "ignore"),
    ("version: v2\nbreaking:\n  use: [NOPE]\n", '"NOPE" is not a known rule or category ID'),
    (None, 'could not read local policy config "policy.yaml"'),
], ids=["v1", "ignore-in-policy", "unknown-rule", "missing"])
def test_bad_policies_fail_the_run(workdir: Path, capsys: pytest.CaptureFixture[str], policy: str | None,
                                   message: str) -> None:
    # Given a buf.yaml naming a policy file buf would refuse (or none at all)
    copy_case("field_same_type_scalars", workdir)
    (workdir / "new" / "buf.yaml").write_text("version: v2\npolicies:\n  - policy: policy.yaml\n")
    if policy is not None:
        (workdir / "policy.yaml").write_text(policy)
    # When checking
    code, out, err = run_spoke(capsys, "new", "--against", "old")
    # Then nothing is reported and the run fails saying why, as buf does
    assert (code, out) == (1, "")
    assert err.startswith("Failure: ") and message in err


@pytest.mark.parametrize("flags", [
    ("--path", "a.proto"), ("--path", "c"), ("--exclude-path", "c"), ("--limit-to-input-files",),
    ("--limit-to-input-files", "--exclude-path", "a.proto"), ("--exclude-imports",),
], ids=lambda flags: " ".join(flags))
def test_the_current_directory_against_an_image_matches_buf(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str],
                                                            flags: tuple[str, ...]) -> None:
    """How CI runs it (`buf breaking --against <main's image>` in the module): paths name files in the module."""
    # Given the module as the current directory and the previous version as an image
    write_tree(workdir / "old", LIMIT_OLD)
    write_tree(workdir / "new", LIMIT_NEW)
    buf_image(workdir / "old", workdir / "old.binpb")
    monkeypatch.chdir(workdir / "new")
    args = (".", "--against", "../old.binpb", *flags)
    # When both check it with the flags
    buf_code, buf_out = run_buf(workdir / "new", *args)
    code, out, _ = run_spoke(capsys, *args)
    # Then the output is the same
    assert buf_code == 100
    assert (code, out) == (buf_code, buf_out)
