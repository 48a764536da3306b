"""The `spoke` app: global options, the error contract, and every command module registered.

Command modules each expose `register(app)`. Errors from the server or the CLI print
`error: CODE: message` on stderr and exit 1, whatever command raised them.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from spoke_cli import auth, breaking, inspect, lint, pull, push
from spoke_cli.config import CliError, GlobalOptions
from spoke_cli.output import report_error
from spoke_client import SpokeError

if TYPE_CHECKING:  # recent typer vendors click: TyperGroup's methods take its Context, not click.Context
    from typer import _click

# Global options may come after the command too (`spoke whoami --json`): they move to the front.
GLOBAL_FLAGS = frozenset({"--json"})
GLOBAL_VALUED = frozenset({"--url", "--org"})


def hoist_global_options(args: Sequence[str]) -> list[str]:
    """Moves --url/--org/--json found anywhere before `--` to the front, where the root group parses them."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        name = arg.split("=", 1)[0]
        if arg in GLOBAL_FLAGS:
            front.append(arg)
        elif name in GLOBAL_VALUED and "=" in arg:
            front.append(arg)
        elif arg in GLOBAL_VALUED and index + 1 < len(args):
            front.extend(args[index:index + 2])
            index += 1
        else:
            rest.append(arg)
        index += 1
    return front + rest


class SpokeGroup(TyperGroup):
    """The root group: hoists global options, and turns any SpokeError/CliError into the error contract."""

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(args))

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (SpokeError, CliError) as error:
            report_error(error)
            raise typer.Exit(1) from None


app = typer.Typer(cls=SpokeGroup, name="spoke", no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Spoke protobuf schema registry: push, pull, generate, check.",
                  context_settings={"help_option_names": ["-h", "--help"]})


@app.callback()
def root(ctx: typer.Context,
         url: str | None = typer.Option(None, "--url", envvar="SPOKE_URL", show_envvar=True,
                                           help="Registry URL (else the saved login's, else http://localhost:8080)."),
         org: str | None = typer.Option(None, "--org", envvar="SPOKE_ORG", show_envvar=True,
                                           help="Organization id or slug (else spoke.yaml's, else the default)."),
         json_output: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout.")) -> None:
    """Global options (also accepted after the command). SPOKE_TOKEN overrides the saved login."""
    given = ctx.obj if isinstance(ctx.obj, GlobalOptions) else GlobalOptions()  # tests pass one with a transport
    given.url, given.org, given.json = url or None, org or None, json_output
    ctx.obj = given


for _module in (auth, push, pull, inspect, breaking, lint):
    _module.register(app)


def main(argv: Sequence[str] | None = None) -> None:
    """Console script `spoke`."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=args, prog_name="spoke")
    except SystemExit as exit_:
        # click exits 2 on a usage error; `buf breaking` (and so `spoke breaking`) exits 1 on every error
        raise SystemExit(1 if exit_.code == 2 else exit_.code) from None


if __name__ == "__main__":
    main()
