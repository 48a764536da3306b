"""The long generative run (`make fuzz-breaking SEEDS=2000 START=0 JOBS=2`): many seeds, every difference
kept as a corpus-shaped case (old/, new/, buf.yaml) under --keep and, with --shrink, minimised there.

A kept, shrunk case is ready to move to tests/unit/breaking/corpus/gen_<what>/ once the engine is fixed.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from .runner import SeedResult, run_seed
from .shrink import shrink


def say(text: str) -> None:
    """Print to the real stdout: another thread may be running the CLI with sys.stdout redirected."""
    stream = sys.__stdout__
    assert stream is not None
    stream.write(text + "\n")
    stream.flush()


def keep_case(result: SeedResult, work: Path, keep: Path, index: int) -> Path:
    case = keep / f"seed{result.seed}_{index}"
    shutil.rmtree(case, ignore_errors=True)
    case.mkdir(parents=True)
    for side in ("old", "new"):
        shutil.copytree(work / side, case / side)
    config = yaml.safe_load(result.differences[index].config)
    (case / "buf.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (case / "MUTATIONS.txt").write_text("\n".join(result.mutations) + "\n" + result.differences[index].explain())
    return case


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.unit.breaking.generative")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--configs", type=int, default=3, help="buf.yaml configurations per seed")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=Path("build/fuzz-breaking"))
    parser.add_argument("--shrink", action="store_true", help="minimise every kept case")
    args = parser.parse_args(argv)
    started = time.monotonic()
    differences = findings = 0
    rules: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        def one(seed: int) -> tuple[SeedResult | None, str]:
            try:
                return run_seed(seed, Path(tmp) / str(seed), args.configs), ""
            except Exception as error:  # noqa: BLE001 - a crash in one seed is reported, the run goes on
                return None, f"seed {seed}: {type(error).__name__}: {error}"

        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            seeds = range(args.start, args.start + args.seeds)
            for seed, (result, error) in zip(seeds, pool.map(one, seeds), strict=True):
                if result is None:
                    differences += 1
                    say(f"ERROR {error}")
                    continue
                findings += result.findings
                rules |= result.rules
                work = Path(tmp) / str(seed)
                for index, difference in enumerate(result.differences):
                    differences += 1
                    case = keep_case(result, work, args.keep, index)
                    say(f"DIFFERENCE {difference.explain()}\n  kept in {case}")
                    if args.shrink and difference.what == "check_breaking":
                        shrink(case, log=say)
                        say(f"  shrunk: {case}")
                shutil.rmtree(work, ignore_errors=True)
                if (seed - args.start + 1) % 100 == 0:
                    say(f"{seed - args.start + 1} seeds done, {differences} differences, "
                          f"{time.monotonic() - started:.0f} s")
    elapsed = time.monotonic() - started
    print(f"{args.seeds} seeds ({args.start}..{args.start + args.seeds - 1}), {args.configs} configurations each: "
          f"{findings} findings by buf over {len(rules)} rules, {differences} differences, {elapsed:.0f} s")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
