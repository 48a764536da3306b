"""Differential tests: `spoke lint` and the real `buf lint` (buf-bin 1.75.0) print the same, byte for byte.

Every corpus case (tests/unit/lint/corpus/<case>/, .proto files and an optional buf.yaml / buf.work.yaml)
is linted in place by both tools: buf with its own compiler, we with protoc. Findings, positions,
messages, order and exit code must match (JSON lines); a few cases compare every error format.
Nothing is skipped: without buf or protoc these tests fail (both come with requirements-dev.txt).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.domain.lint import ALL_RULE_IDS

from .harness import FORMATS, all_cases, run_buf, run_spoke

CASES = all_cases()
FORMAT_CASES = ("clean_all_rules", "comments", "layout", "naming", "policies", "v2_modules", "workspace_v1")
# Never reported: IMPORT_NO_WEAK is deprecated without replacement (buf runs nothing for it) and
# PROTOVALIDATE needs protovalidate's buf/validate annotations, which Spoke does not check (README).
NEVER_REPORTED = {"IMPORT_NO_WEAK", "PROTOVALIDATE"}
_reported: set[str] = set()


def test_the_corpus_covers_configs_and_rules() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_findings_match_buf(case: Path, tmp_path: Path) -> None:
    # Given a corpus case, When buf and spoke lint it, Then the same JSON lines (every field, buf's order)
    # and the same exit code; the other formats render these findings (compared on FORMAT_CASES below).
    theirs = run_buf(case, tmp_path, ("json",))
    ours = run_spoke(case, ("json",))
    _reported.update(json.loads(line)["type"] for line in theirs.stdout["json"].splitlines())
    assert ours.stdout["json"] == theirs.stdout["json"]
    assert ours.exit_code == theirs.exit_code == (100 if theirs.stdout["json"] else 0)


@pytest.mark.parametrize("case", FORMAT_CASES)
def test_every_error_format_matches_buf(case: str, tmp_path: Path) -> None:
    theirs = run_buf(Path(__file__).parent / "corpus" / case, tmp_path, FORMATS)
    ours = run_spoke(Path(__file__).parent / "corpus" / case, FORMATS)
    for error_format in FORMATS:
        assert ours.stdout[error_format] == theirs.stdout[error_format], error_format


def test_every_rule_fails_in_some_case(tmp_path: Path) -> None:
    """Each rule is reported by buf (and so, by the test above, by us) in at least one case."""
    if len(_reported) < len(ALL_RULE_IDS - NEVER_REPORTED):  # run alone (e.g. with -k): compute it here
        for case in CASES:
            found = run_buf(case, tmp_path, ("json",)).stdout["json"]
            _reported.update(json.loads(line)["type"] for line in found.splitlines())
    assert sorted(ALL_RULE_IDS - NEVER_REPORTED - _reported) == []


def test_every_rule_passes_on_a_clean_module(tmp_path: Path) -> None:
    """The clean case enables every v2 rule and neither tool reports anything: each rule also passes."""
    case = Path(__file__).parent / "corpus" / "clean_all_rules"
    assert run_buf(case, tmp_path, ("text",)).stdout["text"] == ""
    ours = run_spoke(case, ("text",))
    assert (ours.stdout["text"], ours.exit_code) == ("", 0)


@pytest.mark.parametrize(("case_name", "paths", "exclude_paths"), [
    ("naming", ("acme/names/v1",), ()),
    ("naming", ("acme/names/v1/names.proto", "acme/fooBar"), ()),
    ("naming", (), ("acme/names",)),
    ("naming", ("acme",), ("acme/names/v1/BadFileName.proto",)),
    ("v2_modules", ("proto/acme/cfg",), ()),
    ("v2_modules", (), ("other/acme/oth",)),
    ("workspace_v1", ("vendor/lib",), ()),
])
def test_path_and_exclude_path_match_buf(case_name: str, paths: tuple[str, ...], exclude_paths: tuple[str, ...],
                                         tmp_path: Path) -> None:
    case = Path(__file__).parent / "corpus" / case_name
    args = (tuple(a for p in paths for a in ("--path", p))
            + tuple(a for p in exclude_paths for a in ("--exclude-path", p)))
    theirs = run_buf(case, tmp_path, ("text",), args)
    ours = run_spoke(case, ("text",), paths, exclude_paths)
    assert (ours.stdout, ours.exit_code) == (theirs.stdout, theirs.exit_code)
