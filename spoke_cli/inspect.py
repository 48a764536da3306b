"""Looking at the registry without changing it: `modules ls`, `versions ls`, `compat`, `validate`.

Each prints a rich table (or lines a compiler would print) for people and, with --json, the server's
JSON for scripts. Exit codes carry the verdict so CI needs no parsing: `compat` 0 compatible / 100
breaking (as `breaking`), `validate` 0 valid / 1 invalid.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import typer

from spoke_cli.config import DEFAULT_INCLUDE, SPOKE_YAML, CliError, client_from, load_module_config, options
from spoke_cli.output import note, print_json, say, table

EXIT_BREAKING = 100
EXIT_INVALID = 1

modules_app = typer.Typer(help="Modules of the organization.", no_args_is_help=True)
versions_app = typer.Typer(help="Published versions of a module.", no_args_is_help=True)


# -- listings ---------------------------------------------------------------------------------------
@modules_app.command("ls")
def modules_ls(ctx: typer.Context,
               query: str | None = typer.Option(None, "--query", "-q",
                                                   help="Only modules whose name or description matches.")) -> None:
    """List every module (all pages), sorted as the server sorts them."""
    opts = options(ctx)
    with client_from(opts) as client:
        modules = list(client.iter_modules(q=query))
    if opts.json:
        print_json([dict(m.raw) for m in modules])
        return
    if not modules:
        note("no modules")
        return
    table(("NAME", "VERSIONS", "UPDATED", "DESCRIPTION"),
          ((m.name, m.version_count, m.updated_at, m.description) for m in modules))


@versions_app.command("ls")
def versions_ls(ctx: typer.Context, module: str = typer.Argument(..., help="Module name.")) -> None:
    """List a module's versions, highest first (all pages)."""
    opts = options(ctx)
    with client_from(opts) as client:
        versions = list(client.iter_versions(module))
    if opts.json:
        print_json([dict(v.raw) for v in versions])
        return
    if not versions:
        note(f"{module} has no versions yet")
        return
    table(("VERSION", "FILES", "CREATED", "DESCRIPTION"),
          ((v.version, v.file_count, v.created_at, v.description) for v in versions))


# -- judgement --------------------------------------------------------------------------------------
def location(item: Mapping[str, Any], prefix: str = "") -> str:
    """`file:line:column` as compilers print it (what is known of it), so editors can jump there."""
    where = f"{prefix}{item.get('file') or item.get('path') or '<input>'}"
    for key in ("line", "column"):
        if not item.get(key):
            break
        where += f":{item[key]}"
    return where


def compat(ctx: typer.Context,
           module: str = typer.Argument(..., help="Module name."),
           version1: str = typer.Argument(..., metavar="OLD", help="The version consumers use (or `latest`)."),
           version2: str = typer.Argument(..., metavar="NEW", help="The version to judge against OLD."),
           use: list[str] = typer.Option([], "--use", metavar="RULE",
                                         help="buf rule or category IDs to check instead of the module's "
                                              "(repeatable), e.g. --use WIRE."),
           except_: list[str] = typer.Option([], "--except", metavar="RULE",
                                             help="Rule IDs to leave out (repeatable)."),
           mode: str | None = typer.Option(None, "--mode", metavar="MODE",
                                           help="BACKWARD, FORWARD or FULL (the direction(s) to check) instead "
                                                "of the module's mode.")) -> None:
    """Would NEW break users of OLD, under the module's compatibility rules? Exit 0: compatible; 100: breaking."""
    opts = options(ctx)
    with client_from(opts) as client:
        report = client.check_compatibility(module, version1, version2, use=use or None, except_=except_ or None,
                                            mode=mode)
    old, new = report.version1 or version1, report.version2 or version2
    if opts.json:
        print_json(dict(report.raw))
    elif report.compatible:
        say(f"{module} {new} is compatible with {old}")
        for warning in report.warnings:
            note(f"note: {warning}")
    else:
        table(("LOCATION", "RULE", "DIRECTION", "MESSAGE"),
              ((location(c), c.get("rule"), c.get("direction", "backward"), c.get("message"))
               for c in report.breaking_changes),
              title=f"{module} {new} breaks {old}")
        say(f"{len(report.breaking_changes)} breaking change(s)")
    if not report.compatible:
        raise typer.Exit(EXIT_BREAKING)


def collect_files(directory: Path, include: Sequence[str] = DEFAULT_INCLUDE,
                  exclude: Sequence[str] = ()) -> dict[str, bytes]:
    """The files `include` globs name under `directory` minus `exclude`'s, keyed by their path relative
    to it (how the registry names them)."""
    excluded = {p for pattern in exclude for p in directory.glob(pattern)}
    found: dict[str, bytes] = {}
    for pattern in include:
        for path in sorted(directory.glob(pattern)):
            if path.is_file() and path not in excluded:
                found.setdefault(path.relative_to(directory).as_posix(), path.read_bytes())
    return dict(sorted(found.items()))


def validate(ctx: typer.Context,
             directory: Path = typer.Argument(Path("."), metavar="DIR",
                                              help="Module directory (its spoke.yaml, if any, gives include, "
                                                   "exclude, dependencies and organization).")) -> None:
    """Compile DIR's files on the registry, storing nothing. Exit 0: valid; 1: invalid (errors as
    file:line:column: message)."""
    opts = options(ctx)
    if not directory.is_dir():
        raise CliError("NOT_A_DIRECTORY", f"{directory} is not a directory")
    module = load_module_config(directory) if (directory / SPOKE_YAML).is_file() else None
    files = collect_files(directory, module.include, module.exclude) if module else collect_files(directory)
    if not files:
        raise CliError("NO_PROTO_FILES", f"no .proto files under {directory}")
    with client_from(opts, organization=module.organization if module else None) as client:
        report = client.validate(files, list(module.dependencies) if module else None)
    if opts.json:
        print_json({"valid": report.valid, "errors": list(report.errors), "warnings": list(report.warnings),
                    "files": sorted(files)})
    else:
        prefix = "" if directory == Path(".") else f"{directory.as_posix().rstrip('/')}/"
        for error in report.errors:
            say(f"{location(error, prefix)}: {error.get('message', '')}")
        for warning in report.warnings:
            text = f"{location(warning, prefix)}: warning: {warning.get('message', '')}" \
                if isinstance(warning, Mapping) else f"warning: {warning}"
            note(text)
        if report.valid:
            say(f"valid ({len(files)} file{'s' if len(files) != 1 else ''})")
        else:
            note(f"invalid: {len(report.errors)} error(s)")
    if not report.valid:
        raise typer.Exit(EXIT_INVALID)


def register(app: typer.Typer) -> None:
    """Adds `modules ls`, `versions ls`, `compat` and `validate` to the app."""
    app.add_typer(modules_app, name="modules")
    app.add_typer(versions_app, name="versions")
    app.command("compat")(compat)
    app.command("validate")(validate)
