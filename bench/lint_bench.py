"""Benchmark: `spoke lint` against `buf lint` on a large generated module.

Generates a realistic module with bench/breaking_bench.py's generator (files with messages, nested
messages, enums, maps, oneofs and services across many packages), then times each tool in its own
process, reporting wall time, CPU time (user + system: steadier than wall time on a busy machine) and
peak RSS (os.wait4 rusage) side by side:
- directory: `spoke lint DIR` (protoc + our rules) vs `buf lint DIR` (buf's compiler + its rules);
- image: both lint the same `buf build` image (rules only, no compiling).
It also checks that both report the same findings. Figures are printed, never asserted.

    .venv/bin/python bench/lint_bench.py                    # 600 files
    .venv/bin/python bench/lint_bench.py --files 2000 --repeat 3
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from breaking_bench import ROOT, generate, tool, write_module  # noqa: E402

RULES = ["STANDARD", "COMMENTS", "UNARY_RPC"]
CONFIG = {"version": "v2", "lint": {"use": RULES}}


@dataclass
class Measurement:
    seconds: float
    cpu_seconds: float
    peak_mb: float
    output: str


def measure(command: list[str], cwd: Path) -> Measurement:
    """Run one process; its wall time, CPU time and peak RSS (Linux ru_maxrss is in KiB)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as stdout:
        proc = subprocess.Popen(command, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        if code not in (0, 100):
            raise RuntimeError(f"{command[0]} failed ({code}): {stderr}")
        stdout.seek(0)
        return Measurement(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stdout.read().decode())


def spoke(*args: str) -> list[str]:
    return [sys.executable, "-m", "chalicelib.cli.main", "lint", *args]


def best(command: list[str], cwd: Path, repeat: int) -> Measurement:
    return min((measure(command, cwd) for _ in range(repeat)), key=lambda m: m.seconds)


def row(name: str, m: Measurement) -> str:
    return f"{name:<18}{m.seconds:>10.2f}{m.cpu_seconds:>10.2f}{m.peak_mb:>10.0f}{len(m.output.splitlines()):>10}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=600)
    parser.add_argument("--messages-per-file", type=int, default=6)
    parser.add_argument("--fields-per-message", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the best time is reported")
    parser.add_argument("--workdir", type=Path, help="keep the generated module and image here")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="spoke-lint-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        specs = generate(args.files, args.messages_per_file, args.fields_per_message, args.seed)
        module = workdir / "module"
        shutil.rmtree(module, ignore_errors=True)
        write_module(specs, module)
        (module / "buf.yaml").write_text(json.dumps(CONFIG))
        env = dict(os.environ, BUF_CACHE_DIR=str(workdir / "bufcache"))
        subprocess.run([tool("buf"), "build", str(module), "-o", str(workdir / "image.binpb")], check=True, env=env)
        messages = sum(len(s.messages) + sum(len(m.nested) for m in s.messages) for s in specs)
        fields = sum(len(m.fields) for s in specs for m in s.messages)
        print(f"module: {len(specs)} files, ~{messages} messages, ~{fields} fields, "
              f"{sum(len(s.services) for s in specs)} services; image "
              f"{os.path.getsize(workdir / 'image.binpb') / 1e6:.1f} MB; rules: {RULES}")
        config = json.dumps(CONFIG)
        runs = {
            "spoke lint DIR": best(spoke("--error-format", "json", str(module)), ROOT, args.repeat),
            "buf lint DIR": best([tool("buf"), "lint", "--error-format", "json", str(module)], workdir, args.repeat),
            "spoke lint IMAGE": best(spoke("--error-format", "json", "--config", config,
                                           str(workdir / "image.binpb")), ROOT, args.repeat),
            "buf lint IMAGE": best([tool("buf"), "lint", "--error-format", "json", "--config", config,
                                    str(workdir / "image.binpb")], workdir, args.repeat),
        }
        print(f"{'run':<18}{'wall s':>10}{'cpu s':>10}{'peak MB':>10}{'findings':>10}")
        for name, measurement in runs.items():
            print(row(name, measurement))
        for kind in ("DIR", "IMAGE"):
            ours, theirs = runs[f"spoke lint {kind}"], runs[f"buf lint {kind}"]
            print(f"{kind.lower()}: spoke/buf wall {ours.seconds / theirs.seconds:.2f}x, cpu "
                  f"{ours.cpu_seconds / theirs.cpu_seconds:.2f}x, peak memory "
                  f"{ours.peak_mb / theirs.peak_mb:.2f}x; identical output: {ours.output == theirs.output}")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
