"""`chalice local` with a deeper listen queue.

Chalice's local server keeps socketserver's default backlog of 5, so a burst of new connections
(20 clients publishing at once) gets some of them reset by the kernel. API Gateway has no such
limit; raising the backlog keeps the local stack faithful. Arguments are chalice's own.
"""
from __future__ import annotations

import sys

from chalice import local
from chalice.cli import main as chalice_main

local.ThreadedHTTPServer.request_queue_size = 128

if __name__ == "__main__":
    sys.argv = ["chalice", "local", *sys.argv[1:]]
    sys.exit(chalice_main())
