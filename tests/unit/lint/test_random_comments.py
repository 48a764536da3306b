"""Seeded random comment placement: line and block comments (documentation, empty, `buf:lint:ignore`
lines) before, after and inside the declarations of a module, linted by buf and by spoke with STANDARD
and COMMENTS. Which comment leads which declaration is where protoc and buf's compiler differ; spoke
aligns protoc's source info with buf's (chalicelib/cli/lint.py, align_comments_with_buf).

`python -m tests.unit.lint.test_random_comments FIRST LAST` runs a range of seeds and prints differences
(seeds 0-149 agreed when this was written).
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from .harness import CORPUS, Outputs, report_seeds, run_buf, run_spoke

SEEDS = range(4)
BASE = (CORPUS / "naming" / "acme" / "names" / "v1" / "names.proto").read_text().splitlines()
RULES = ("FIELD_LOWER_SNAKE_CASE", "MESSAGE_PASCAL_CASE", "ENUM_VALUE_PREFIX", "ONEOF_LOWER_SNAKE_CASE",
         "COMMENT_FIELD", "RPC_PASCAL_CASE", "SERVICE_SUFFIX", "COMMENT_MESSAGE")


def comment(rng: random.Random, block: bool | None = None) -> str:
    body = rng.choice(["doc", "", " ", f"buf:lint:ignore {rng.choice(RULES)}",
                       f"  buf:lint:ignore {rng.choice(RULES)} why", "*"])
    return f"/* {body} */" if (rng.random() < 0.5 if block is None else block) else f"// {body}"


def decorate(seed: int) -> str:
    """The naming case's file with comments on their own lines, before code on its line, after code."""
    rng = random.Random(seed)
    out: list[str] = BASE[:3]
    for line in BASE[3:]:
        indent = line[: len(line) - len(line.lstrip())]
        roll = rng.random()
        if roll < 0.25:
            out.append(indent + comment(rng))
        elif roll < 0.3:
            out.append("")
        if line.strip() and not line.strip().startswith("}") and rng.random() < 0.15:
            line = indent + comment(rng, block=True) + " " + line.lstrip()
        if line.strip() and rng.random() < 0.2:
            line = f"{line} {comment(rng)}"
        out.append(line)
    return "\n".join(out) + "\n"


def lint_both(seed: int, work: Path) -> tuple[Outputs, Outputs]:
    module = work / "module"
    (module / "acme" / "names" / "v1").mkdir(parents=True)
    (module / "acme" / "names" / "v1" / "names.proto").write_text(decorate(seed))
    (module / "buf.yaml").write_text("version: v2\nlint:\n  use: [STANDARD, COMMENTS]\n")
    return run_buf(module, work, ("text",)), run_spoke(module, ("text",))


@pytest.mark.parametrize("seed", SEEDS)
def test_comments_lead_the_declarations_buf_says(seed: int, tmp_path: Path) -> None:
    theirs, ours = lint_both(seed, tmp_path)
    assert theirs.exit_code == 100
    assert (ours.stdout, ours.exit_code) == (theirs.stdout, theirs.exit_code)


if __name__ == "__main__":
    report_seeds(lint_both, int(sys.argv[1]), int(sys.argv[2]), "text")
