"""`spoke` entry point: one argparse parser, one module per subcommand."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from . import breaking, lint

# Each subcommand module provides `register(subparsers)`, which sets `handler` on its parser.
SUBCOMMANDS: tuple[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None], ...] = (breaking.register,
                                                                                             lint.register)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spoke", description="Spoke protobuf schema registry tools.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in SUBCOMMANDS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits 2 on usage errors; buf uses 1 for every error
        return 0 if exit_.code in (0, None) else 1
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 1
    return int(handler(args))


if __name__ == "__main__":
    sys.exit(main())
