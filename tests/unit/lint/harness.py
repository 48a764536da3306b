"""Runs one lint corpus case through the real `buf lint` and through `spoke lint`, for differential tests.

A case is a directory (tests/unit/lint/corpus/<case>/) of .proto files with an optional buf.yaml (or
buf.work.yaml), linted in place as `buf lint` in that directory would: buf compiles with its own
compiler, we with protoc, so positions, messages, order and exit code must agree for real inputs.
"""
from __future__ import annotations

import contextlib
import difflib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from chalicelib.cli.lint import EXIT_FINDINGS, EXIT_OK, render_findings, run_lint

CORPUS = Path(__file__).parent / "corpus"
BIN_DIR = Path(sys.executable).parent
FORMATS = ("text", "json", "msvs", "junit", "github-actions", "gitlab-code-quality", "config-ignore-yaml")


def buf() -> str:
    """buf from the virtualenv (buf-bin in requirements-dev.txt), else from PATH."""
    candidate = BIN_DIR / "buf"
    found = str(candidate) if candidate.exists() else shutil.which("buf")
    if found is None:
        raise RuntimeError("buf not found: install requirements-dev.txt (buf-bin)")
    return found


@contextlib.contextmanager
def inside(directory: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous)


@dataclass
class Outputs:
    """What a tool printed on stdout per error format, and its exit code."""

    stdout: dict[str, str]
    exit_code: int


def run_buf(case: Path, work: Path, formats: tuple[str, ...], args: tuple[str, ...] = ()) -> Outputs:
    env = dict(os.environ, BUF_CACHE_DIR=str(work / "bufcache"), NO_COLOR="1")
    stdout: dict[str, str] = {}
    code = 0
    for error_format in formats:
        proc = subprocess.run([buf(), "lint", ".", "--error-format", error_format, *args],
                              capture_output=True, text=True, cwd=case, env=env)
        if proc.returncode not in (0, 100):
            raise RuntimeError(f"buf lint failed on {case.name} (exit {proc.returncode}): {proc.stderr}")
        stdout[error_format], code = proc.stdout, proc.returncode
    return Outputs(stdout, code)


def run_spoke(case: Path, formats: tuple[str, ...], paths: tuple[str, ...] = (),
              exclude_paths: tuple[str, ...] = ()) -> Outputs:
    with inside(case):
        findings, source = run_lint(".", paths=paths, exclude_paths=exclude_paths)
    stdout = {f: render_findings(findings, f, source) for f in formats}
    return Outputs(stdout, EXIT_FINDINGS if findings else EXIT_OK)


def all_cases() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_dir())


if __name__ == "__main__":  # python -m tests.unit.lint.harness [case ...]: show differences
    import difflib
    import tempfile

    names = sys.argv[1:]
    cases = [CORPUS / n for n in names] if names else all_cases()
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            theirs = run_buf(case, Path(tmp), ("text",))
            ours = run_spoke(case, ("text",))
            if theirs.stdout != ours.stdout or theirs.exit_code != ours.exit_code:
                bad += 1
                print(f"=== {case.name}: buf exit {theirs.exit_code}, ours {ours.exit_code}")
                sys.stdout.writelines(difflib.unified_diff(theirs.stdout["text"].splitlines(True),
                                                           ours.stdout["text"].splitlines(True), "buf", "spoke"))
            elif names:
                print(f"=== {case.name}: OK\n{theirs.stdout['text']}")
    print(f"{len(cases) - bad}/{len(cases)} cases agree")


def report_seeds(lint_both: Callable[[int, Path], tuple[Outputs, Outputs]], first: int, last: int,
                 error_format: str) -> None:
    """A longer run than the tests' (`python -m tests.unit.lint.test_... FIRST LAST`): each seed whose output
    differs from buf's is printed as a diff of `error_format`, then how many agreed."""
    differing = 0
    for seed in range(first, last):
        with tempfile.TemporaryDirectory() as tmp:
            theirs, ours = lint_both(seed, Path(tmp))
        if ours.stdout != theirs.stdout:
            differing += 1
            print(f"seed {seed}:")
            sys.stdout.writelines(difflib.unified_diff(theirs.stdout[error_format].splitlines(True),
                                                       ours.stdout[error_format].splitlines(True), "buf", "spoke",
                                                       n=0))
    print(f"{last - first - differing}/{last - first} seeds agree")

