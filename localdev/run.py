"""`make run`: the registry at http://localhost:8080 on the embedded AWS. Ctrl-C stops it all.

The console shows the API's requests (`chalice local`) and the worker's jobs; `--verbose` (`make run
VERBOSE=1`) adds the embedded AWS's access log, a line per AWS call, and the AWS SDK's messages.
"""
from __future__ import annotations

import argparse
import os
import signal
import time
from collections.abc import Sequence

from localdev.console import VERBOSE_VARIABLE, verbose_from_env
from localdev.stack import running_stack


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m localdev.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", default=verbose_from_env(),
                        help="also print the embedded AWS's access log and the AWS SDK's messages "
                             f"(default: {VERBOSE_VARIABLE})")
    return parser.parse_args(argv)


def stack_environment(verbose: bool) -> dict[str, str]:
    """What every process of the stack is told: they read SPOKE_VERBOSE (localdev.console). Quiet, the
    API's JSON log lines below WARNING and its EMF metric lines are off too (the developer's own
    SPOKE_LOG_LEVEL, if set, wins); chalice local's request lines and the worker's job lines stay."""
    if verbose:
        return {VERBOSE_VARIABLE: "1"}
    return {VERBOSE_VARIABLE: "0", "SPOKE_LOG_LEVEL": os.environ.get("SPOKE_LOG_LEVEL", "WARNING"),
            "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true")}


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    api_port = int(os.environ.get("SPOKE_PORT", "8080"))
    aws_port = int(os.environ.get("SPOKE_AWS_PORT", "4566"))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        with running_stack(api_port=api_port, aws_port=aws_port, environment=stack_environment(args.verbose)) as stack:
            print(f"\nSpoke is running at {stack.api_url} (embedded AWS at {stack.aws_url}). Ctrl-C stops it.",
                  flush=True)
            print(f"Web UI: {stack.api_url}/ui/", flush=True)
            if not args.verbose:
                print("The embedded AWS's access log is off: `make run VERBOSE=1` shows it.", flush=True)
            print(flush=True)
            while all(p.poll() is None for p in stack.processes):
                time.sleep(0.5)
            print("a process of the stack exited; stopping the rest", flush=True)
    except KeyboardInterrupt:
        print("\nstopping Spoke", flush=True)


if __name__ == "__main__":
    main()
