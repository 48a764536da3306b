"""`make run`: the registry at http://localhost:8080 on the embedded AWS. Ctrl-C stops it all."""
from __future__ import annotations

import os
import signal
import time

from localdev.stack import running_stack


def main() -> None:
    api_port = int(os.environ.get("SPOKE_PORT", "8080"))
    aws_port = int(os.environ.get("SPOKE_AWS_PORT", "4566"))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        with running_stack(api_port=api_port, aws_port=aws_port) as stack:
            print(f"\nSpoke is running at {stack.api_url} (embedded AWS at {stack.aws_url}). Ctrl-C stops it.\n",
                  flush=True)
            while all(p.poll() is None for p in stack.processes):
                time.sleep(0.5)
            print("a process of the stack exited; stopping the rest", flush=True)
    except KeyboardInterrupt:
        print("\nstopping Spoke", flush=True)


if __name__ == "__main__":
    main()
