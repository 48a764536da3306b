"""`spoke lint [DIR]`: buf's lint rules on a local directory (or .binpb image), as `buf lint` runs them.

The engine and output are those of `chalicelib/cli/lint.py` (buf's error formats, exit 0 / 100 / 1). A
module directory's spoke.yaml `dependencies` are fetched from the registry so imports of them compile.
"""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from spoke_cli.breaking import dependency_sets, module_config
from spoke_cli.config import options


def lint(
    ctx: typer.Context,
    input_: str = typer.Argument(".", metavar="DIR", help="Directory of .proto files (default: .) or a .binpb "
                                                          "image; its spoke.yaml, if any, gives dependencies."),
    config: str | None = typer.Option(None, "--config", help="buf.yaml file, or its contents as YAML/JSON, to read "
                                                             "`lint` from (else DIR/buf.yaml, else buf's defaults)."),
    error_format: str | None = typer.Option(None, "--error-format",
                                            help="text, json, msvs, junit, github-actions, gitlab-code-quality or "
                                                 "config-ignore-yaml, as buf prints them; --json means json."),
    path: list[str] = typer.Option([], "--path", help="Lint only these files or directories (repeatable)."),
    exclude_path: list[str] = typer.Option([], "--exclude-path",
                                           help="Leave these files or directories out (repeatable)."),
) -> None:
    """Lint DIR with buf's rules and its buf.yaml `lint` section. Exit 0: clean; 100: findings; 1: error."""
    from chalicelib.cli.lint import check

    opts = options(ctx)
    fmt = error_format or ("json" if opts.json else "text")
    directory = Path(input_)
    module = module_config(directory) if directory.is_dir() else None
    code = check(input_, config=config, error_format=fmt, paths=path, exclude_paths=exclude_path,
                 imports=dependency_sets(opts, module), out=sys.stdout, err=sys.stderr)
    sys.stdout.flush()
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Adds `spoke lint` to the app."""
    app.command("lint")(lint)
