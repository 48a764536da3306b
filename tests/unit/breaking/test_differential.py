"""Differential tests: our engine and the real `buf breaking` must report identical findings.

Every corpus case (tests/unit/breaking/corpus/<case>/{old,new}, optional buf.yaml) is compiled into images
twice, once with protoc and once with `buf build`, and both tools check the very same images. Nothing is
skipped: without buf or protoc these tests fail (both come with requirements-dev.txt).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.domain.breaking import ALL_RULE_IDS

from .harness import CaseResult, all_cases, run_case

CASES = all_cases()
_seen_rules: dict[str, set[str]] = {"protoc": set(), "buf": set()}


def _explain(result: CaseResult) -> str:
    buf_only = [f for f in result.buf if f not in result.ours]
    ours_only = [f for f in result.ours if f not in result.buf]
    lines = [f"case {result.name}: buf reported {len(result.buf)}, we reported {len(result.ours)}"]
    lines += [f"  only buf:  {f}" for f in buf_only]
    lines += [f"  only ours: {f}" for f in ours_only]
    if not buf_only and not ours_only:
        lines.append("  same findings, different order")
    return "\n".join(lines)


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 70


@pytest.mark.parametrize("builder", ["protoc", "buf"])
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_findings_match_buf(case: Path, builder: str, tmp_path: Path) -> None:
    result = run_case(case, tmp_path, builder)
    _seen_rules[builder].update(finding["type"] for finding in result.buf)
    assert result.ours == result.buf, _explain(result)
    assert result.buf_exit == (100 if result.buf else 0)


@pytest.mark.parametrize("builder", ["protoc", "buf"])
def test_every_rule_is_exercised_by_the_corpus(builder: str, tmp_path: Path) -> None:
    """At least one case makes buf report each of the 64 rules (so each rule is really compared)."""
    seen = _seen_rules[builder]
    if len(seen) < len(ALL_RULE_IDS):  # run alone (e.g. with -k): compute it here
        for case in CASES:
            seen.update(f["type"] for f in run_case(case, tmp_path / case.name, builder).buf)
    assert sorted(ALL_RULE_IDS - seen) == []
