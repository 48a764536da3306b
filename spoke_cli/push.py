"""`spoke push [DIR]`: publish DIR's .proto files as a new version of the module its spoke.yaml names."""
from __future__ import annotations

import io
from enum import Enum
from pathlib import Path

import typer

from spoke_cli.config import CliError, ModuleConfig, client_from, load_module_config, options
from spoke_cli.output import count, note, print_json, progress, say
from spoke_client import Conflict, NotFound, SpokeClient
from spoke_client.semver import highest_release

EXIT_BREAKING = 100  # as `spoke breaking` and buf: findings, not an error


class Bump(str, Enum):
    patch = "patch"
    minor = "minor"
    major = "major"


def collect_files(directory: Path, include: tuple[str, ...], exclude: tuple[str, ...]) -> dict[str, bytes]:
    """The files to publish, keyed by their path relative to DIR (with `/`): what `include` globs match
    and `exclude` globs do not. Read as bytes: the registry stores them byte for byte."""
    root = directory.resolve()

    def matching(patterns: tuple[str, ...]) -> set[Path]:
        found: set[Path] = set()
        for pattern in patterns:
            if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
                raise CliError("INVALID_SPOKE_YAML", f"glob {pattern!r} must stay inside {directory}")
            found.update(p for p in root.glob(pattern) if p.is_file())
        return found

    chosen = sorted(matching(include) - matching(exclude))
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in chosen}


def _ensure_module(client: SpokeClient, config: ModuleConfig, json_output: bool) -> bool:
    """Creates the module unless it exists; True when it did (a concurrent creator is fine too)."""
    try:
        client.get_module(config.module)
        return False
    except NotFound as error:
        if error.code not in ("MODULE_NOT_FOUND", "NOT_FOUND"):
            raise
    try:
        client.create_module(config.module, config.description)
    except Conflict:
        return False
    if not json_output:
        note(f"created module {config.module}")
    return True


def _check_breaking(client: SpokeClient, directory: Path, config: ModuleConfig) -> None:
    """With `breaking: buf.yaml`, the local files are checked against the latest release before anything
    is published (buf's rules, the buf.yaml's `breaking` section); findings stop the push."""
    import sys

    from chalicelib.cli.breaking import check, image_source  # protoc and the engine: only when configured

    config_path = directory / str(config.breaking)
    if not config_path.is_file():
        raise CliError("INVALID_SPOKE_YAML", f"{directory / 'spoke.yaml'}: breaking: {config.breaking} does not "
                       "exist")
    latest = highest_release(client.get_module(config.module).versions)
    if latest is None:
        return  # nothing published yet: nothing to break
    against = f"{config.module}@{latest}"
    findings, failure = io.StringIO(), io.StringIO()
    own = [entry.path for entry in client.get_version(config.module, latest).files]
    data = client.descriptor_set(config.module, latest)
    # Only the version's own files: its imports are not checked (as buf leaves an image's imports out).
    # The dependencies' stored sets, so sources importing them compile without a local copy.
    imports = [client.descriptor_set(*dependency.split("@", 1)) for dependency in config.dependencies]
    code = check(str(directory), lambda: image_source(data, against, only=own or None), config=str(config_path),
                 imports=imports, out=findings, err=failure)
    if code == 0:
        return
    sys.stderr.write(findings.getvalue() or failure.getvalue())
    if code == EXIT_BREAKING:
        note(f"error: BREAKING_CHANGES: the files break {against} (rules from {config_path}); nothing was pushed")
        raise typer.Exit(EXIT_BREAKING)
    raise CliError("BREAKING_CHECK_FAILED", f"could not check against {against}: "
                   f"{failure.getvalue().strip() or 'see above'}")


def push(ctx: typer.Context,
         directory: Path = typer.Argument(Path("."), help="Module directory holding spoke.yaml.",
                                          file_okay=False),
         version: str | None = typer.Option(None, "--version", "-v", help="Version to publish, e.g. v1.2.0."),
         bump: Bump | None = typer.Option(None, "--bump", help="Publish the next patch/minor/major after the "
                                             "highest release (from v0.0.0 when there is none)."),
         description: str | None = typer.Option(None, "--description", "-d",
                                                   help="Version description (default: spoke.yaml's)."),
         create: bool = typer.Option(False, "--create", help="Accepted for scripts; a missing module is always "
                                     "created.")) -> None:
    """Publish DIR (its spoke.yaml: module, organization, dependencies, include/exclude, breaking) as a new
    version. Large sets go through the presigned upload automatically."""
    del create  # the module is created whenever it is missing
    opts = options(ctx)
    if (version is None) == (bump is None):
        raise CliError("VERSION_REQUIRED", "give exactly one of --version V or --bump patch|minor|major")
    config = load_module_config(directory)
    files = collect_files(directory, config.include, config.exclude)
    if not files:
        raise CliError("NO_FILES", f"no files in {directory} match include {list(config.include)}"
                       + (f" minus exclude {list(config.exclude)}" if config.exclude else ""))
    with client_from(opts, organization=config.organization) as client:
        _ensure_module(client, config, opts.json)
        if config.breaking:
            _check_breaking(client, directory, config)
        target = version or client.next_version(config.module, bump.value if bump else "patch")
        with progress(opts.json, in_bytes=True) as bar:  # bytes of the archive when it goes through the upload
            task = bar.add_task(f"pushing {config.module}@{target} ({count(len(files), 'file')})", total=None)
            published = client.publish(config.module, target, files,
                                       description=description or config.description,
                                       dependencies=list(config.dependencies) or None,
                                       progress=lambda sent, total: bar.update(task, completed=sent, total=total))
    if opts.json:
        print_json(dict(published.raw))
        return
    total = published.file_count or len(published.files) or len(files)
    say(f"pushed {config.module}@{published.version or target} ({count(total, 'file')})")


def register(app: typer.Typer) -> None:
    app.command("push")(push)
