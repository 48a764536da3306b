"""Minimises a failing case by deleting files, blocks and lines of .proto text while the difference stays.

A case is a directory with old/, new/ and buf.yaml, as in the corpus. An element present on both sides
(same first line) is tried for deletion on both sides at once first, then on each side alone; a deletion
is kept when both sides still compile and buf and our engine still disagree on one of the same rules.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from ..harness import run_case

Files = dict[str, dict[str, str]]  # side -> path -> text


def differing_rules(case: Path, work: Path) -> set[str] | None:
    """Rules on which buf and our engine disagree (None: the case does not compile)."""
    try:
        result = run_case(case, work)
    except RuntimeError:
        return None
    if result.buf == result.ours:
        return set()
    buf = {json.dumps(f, sort_keys=True) for f in result.buf}
    ours = {json.dumps(f, sort_keys=True) for f in result.ours}
    rules = {json.loads(f)["type"] for f in buf ^ ours}
    return rules or {"(order)"}


def _read(case: Path) -> Files:
    return {side: {str(p.relative_to(case / side)): p.read_text() for p in sorted((case / side).rglob("*.proto"))}
            for side in ("old", "new")}


def _write(case: Path, files: Files) -> None:
    for side, texts in files.items():
        shutil.rmtree(case / side, ignore_errors=True)
        (case / side).mkdir(parents=True)
        for path, text in texts.items():
            target = case / side / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)


def _blocks(text: str) -> list[tuple[int, int]]:
    """(first, last) line indexes of every braced block, and of every single line that is not a brace."""
    lines = text.splitlines()
    out: list[tuple[int, int]] = []
    stack: list[int] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.endswith("{"):
            stack.append(index)
        elif stripped == "}" and stack:
            out.append((stack.pop(), index))
        elif stripped and not stripped.startswith(("syntax", "edition", "package")):
            out.append((index, index))
    out.sort(key=lambda span: span[0] - span[1])  # biggest first
    return out


def _delete(text: str, span: tuple[int, int]) -> str:
    lines = text.splitlines()
    return "\n".join(lines[:span[0]] + lines[span[1] + 1:]) + "\n"


def _candidates(files: Files) -> Iterator[Files]:
    for path in sorted(set(files["old"]) | set(files["new"])):  # whole files
        yield {side: {p: t for p, t in texts.items() if p != path} for side, texts in files.items()}
    for side, other in (("new", "old"), ("old", "new")):
        for path, text in files[side].items():
            for span in _blocks(text):
                head = text.splitlines()[span[0]]
                changed = {s: dict(t) for s, t in files.items()}
                changed[side][path] = _delete(text, span)
                other_text = files[other].get(path)
                if other_text is not None:
                    match = next((s for s in _blocks(other_text) if other_text.splitlines()[s[0]] == head
                                  and (s[1] > s[0]) == (span[1] > span[0])), None)
                    if match is not None:
                        both = {s: dict(t) for s, t in changed.items()}
                        both[other][path] = _delete(other_text, match)
                        yield both
                yield changed


def shrink(case: Path, budget: int = 600, log: Callable[[str], None] = print) -> Path:
    """Shrink the case in place; returns it. `budget` bounds the number of trial runs.

    After a successful deletion the candidates are recomputed but tried from the same position on, since
    the ones before it failed already (and mostly still would): linear, not quadratic, in the case size.
    """
    with tempfile.TemporaryDirectory() as tmp:
        target = differing_rules(case, Path(tmp) / "start")
        if not target:
            raise ValueError(f"{case} shows no difference to shrink")
        files, trials = _read(case), 0
        for _ in range(3):  # passes: a deletion can make an earlier candidate possible
            position, progress = 0, False
            candidates = list(_candidates(files))
            while position < len(candidates) and trials < budget:
                trials += 1
                trial = Path(tmp) / f"t{trials}"
                _write(trial, candidates[position])
                shutil.copy(case / "buf.yaml", trial / "buf.yaml")
                rules = differing_rules(trial, trial / "work")
                shutil.rmtree(trial, ignore_errors=True)
                if rules and rules & target:
                    files, progress = candidates[position], True
                    log(f"  shrunk (trial {trials}): {sum(len(t) for s in files.values() for t in s.values())} chars")
                    candidates = list(_candidates(files))
                else:
                    position += 1
            if not progress or trials >= budget:
                break
        _write(case, files)
    return case
