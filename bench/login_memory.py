"""Peak memory of 16 concurrent logins: argon2 (64 MiB each, the deployed cost) with the API's bound of
2 at once, against no bound. Each case runs in a fresh process and reports its ru_maxrss.

    .venv/bin/python bench/login_memory.py [--threads 16] [--memory-kib 65536]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, resource, sys, threading, time
from concurrent.futures import ThreadPoolExecutor
from chalicelib.adapters.passwords import Argon2Passwords

threads, memory_kib, bound = (int(a) for a in sys.argv[1:4])
passwords = Argon2Passwords(time_cost=3, memory_kib=memory_kib, max_concurrent=bound)
stored = passwords.hash("correct-horse-battery-staple")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
gate = threading.Barrier(threads)

def login(n):
    gate.wait()
    return passwords.verify(stored, "wrong guess %d" % n)

started = time.perf_counter()
with ThreadPoolExecutor(max_workers=threads) as pool:
    list(pool.map(login, range(threads)))
print(json.dumps({"bound": bound, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "before_mib": before / 1024, "seconds": time.perf_counter() - started}))
"""


def run(threads: int, memory_kib: int, bound: int) -> dict[str, float]:
    result = subprocess.run([sys.executable, "-c", CHILD, str(threads), str(memory_kib), str(bound)], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--memory-kib", type=int, default=65536)
    args = parser.parse_args()
    print(f"{args.threads} concurrent verifications, argon2id t=3 m={args.memory_kib // 1024} MiB")
    print(f"{'at once':>8} {'peak MiB':>9} {'after one hash':>15} {'seconds':>8}")
    for bound in (2, args.threads):
        figures = run(args.threads, args.memory_kib, bound)
        print(f"{bound:>8} {figures['peak_mib']:>9.0f} {figures['before_mib']:>15.0f} {figures['seconds']:>8.2f}")


if __name__ == "__main__":
    main()
