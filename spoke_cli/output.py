"""How the CLI talks: results on stdout (rich tables, or JSON with --json), everything else on stderr.

Scripts read stdout; people read stderr's progress and errors. Progress bars show only when stderr
is a terminal and the output is not JSON.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from spoke_cli.config import CliError
from spoke_client import SpokeError


def stdout() -> Console:
    """Built per call: tests (CliRunner) swap sys.stdout between invocations."""
    return Console(file=sys.stdout, soft_wrap=True, highlight=False)


def stderr() -> Console:
    return Console(file=sys.stderr, soft_wrap=True, highlight=False)


def say(message: str) -> None:
    """One line of human output on stdout (no markup interpretation: names may hold brackets)."""
    stdout().print(message, markup=False)


def note(message: str) -> None:
    """A side remark on stderr (e.g. "created module user"), out of the way of --json."""
    stderr().print(message, markup=False)


def count(n: int, noun: str) -> str:
    """`1 file`, `2 files`."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None) -> None:
    view = Table(*columns, title=title, show_lines=False)
    for row in rows:
        view.add_row(*("" if cell is None else str(cell) for cell in row))
    stdout().print(view)


def report_error(error: BaseException) -> None:
    """`error: CODE: message` (and the request id the server gave, for support) on stderr."""
    console = stderr()
    if isinstance(error, SpokeError):
        console.print(f"error: {error.code}: {error.message}", markup=False)
        for item in error.validation_errors[:20]:
            where = item.get("file") or item.get("field") or ""
            line = f":{item['line']}" if item.get("line") else ""
            column = f":{item['column']}" if item.get("column") else ""
            console.print(f"  {where}{line}{column}: {item.get('message', '')}", markup=False)
        if error.request_id:
            console.print(f"request id: {error.request_id}", markup=False)
    elif isinstance(error, CliError):
        console.print(f"error: {error.code}: {error.message}", markup=False)
    else:
        console.print(f"error: {type(error).__name__}: {error}", markup=False)


def progress_enabled(json_output: bool) -> bool:
    return not json_output and sys.stderr.isatty()


@contextmanager
def progress(json_output: bool, *, counted: bool = True, in_bytes: bool = False) -> Iterator[Progress]:
    """A rich Progress on stderr; disabled (every call a no-op) when it would only be noise. `counted`: a
    bar of items done; `in_bytes`: a bar of bytes sent, with the speed."""
    columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
    if in_bytes:
        columns += [BarColumn(), DownloadColumn(), TransferSpeedColumn()]
    elif counted:
        columns += [BarColumn(), MofNCompleteColumn()]
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=Console(file=sys.stderr), transient=True,
                  disable=not progress_enabled(json_output)) as bar:
        yield bar
