"""Schemas nobody here wrote: the breaking suite's seeded generator (tests/unit/breaking/generative:
proto2, proto3 and editions files, nested messages, oneofs, maps, enums with aliases, services and
streaming, extensions, options and features) linted by buf and by spoke with every v2 rule.

A few seeds run here; `python -m tests.unit.lint.test_generated_schemas FIRST LAST` runs a range and
prints any difference. When this was written, every seed of 0-299 agreed except those whose schema buf's
compiler rejects and protoc accepts (seed 106: a closed enum in an implicit-presence field), where buf
prints a COMPILE finding and spoke lints.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from tests.unit.breaking.generative.generate import Generator
from tests.unit.breaking.generative.render import render

from .harness import Outputs, report_seeds, run_buf, run_spoke

SEEDS = range(6)
CONFIG = ("version: v2\nlint:\n  use: [STANDARD, COMMENTS, UNARY_RPC, STABLE_PACKAGE_NO_IMPORT_UNSTABLE, "
          "PACKAGE_NO_IMPORT_CYCLE]\n")


def lint_both(seed: int, work: Path) -> tuple[Outputs, Outputs]:
    module = work / "module"
    module.mkdir()
    for path, text in render(Generator(random.Random(seed)).schema()).items():
        (module / path).parent.mkdir(parents=True, exist_ok=True)
        (module / path).write_text(text)
    (module / "buf.yaml").write_text(CONFIG)
    return run_buf(module, work, ("json",)), run_spoke(module, ("json",))


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_schemas_are_linted_like_buf(seed: int, tmp_path: Path) -> None:
    theirs, ours = lint_both(seed, tmp_path)
    assert theirs.exit_code == 100  # the generator's names and shapes always break some rule
    assert (ours.stdout, ours.exit_code) == (theirs.stdout, theirs.exit_code)


if __name__ == "__main__":
    report_seeds(lint_both, int(sys.argv[1]), int(sys.argv[2]), "json")
