"""`spoke breaking DIR --against OLD`: buf's breaking rules, with the registry as a possible OLD side.

OLD is a directory, a `.binpb` image, or `spoke://[ORG/]MODULE[@VERSION]`: the stored descriptor set of a
published version (what the registry compiled at publish time), so CI can check local changes against
what consumers already use without keeping old sources around. The engine and the output are those of
`chalicelib/cli/breaking.py` (buf's error formats, each input's own buf.yaml / buf.work.yaml, policies,
--against-config, --exclude-imports, --limit-to-input-files; exit 0 / 100 / 1).
"""
from __future__ import annotations

import dataclasses
import enum
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from spoke_cli.config import SPOKE_YAML, CliError, GlobalOptions, ModuleConfig, client_from, load_module_config, options

if TYPE_CHECKING:  # the engine (protobuf, yaml) loads only when a check runs: `spoke --help` stays fast
    from chalicelib.cli.breaking import Source

SCHEME = "spoke://"
LATEST = "latest"


class ErrorFormat(str, enum.Enum):
    """buf breaking's --error-format values (formats.render prints them byte for byte as buf)."""

    text = "text"
    json = "json"
    msvs = "msvs"
    junit = "junit"
    github_actions = "github-actions"
    gitlab_code_quality = "gitlab-code-quality"


@dataclass(frozen=True)
class RegistryRef:
    """A published version named as `spoke://[ORG/]MODULE[@VERSION]` (no version means latest)."""

    organization: str | None
    module: str
    version: str

    def __str__(self) -> str:
        org = f"{self.organization}/" if self.organization else ""
        return f"{SCHEME}{org}{self.module}@{self.version}"


def parse_registry_ref(text: str) -> RegistryRef:
    """`spoke://acme/user@v1.0.0`, `spoke://user@latest`, `spoke://user`; a CliError says what is wrong."""
    rest = text[len(SCHEME):] if text.startswith(SCHEME) else text
    head, at, version = rest.partition("@")
    org, slash, module = head.rpartition("/")
    usage = f"{text!r}: expected spoke://[ORG/]MODULE[@VERSION], e.g. spoke://user@v1.0.0"
    if not module or (slash and not org) or "/" in org or (at and not version.strip()):
        raise CliError("INVALID_AGAINST", usage)
    return RegistryRef(org or None, module, version.strip() or LATEST if at else LATEST)


def module_config(directory: Path) -> ModuleConfig | None:
    """DIR/spoke.yaml when DIR is a module directory that has one (a CliError when it is invalid)."""
    return load_module_config(directory) if (directory / SPOKE_YAML).is_file() else None


def organization_for(opts: GlobalOptions, module: ModuleConfig | None,
                     ref: RegistryRef | None = None) -> str | None:
    """The ORG in a spoke:// reference wins; then --org/SPOKE_ORG; then DIR/spoke.yaml's organization."""
    if ref is not None and ref.organization:
        return ref.organization
    return opts.org or (module.organization if module else None)


def registry_source(opts: GlobalOptions, ref: RegistryRef, module: ModuleConfig | None = None) -> Source:
    """The version's stored descriptor set, sha256-verified, restricted to the version's own files (its
    imports, dependencies and well-known types, are not checked, as buf leaves an image's imports out)."""
    from chalicelib.cli.breaking import image_source

    scoped = dataclasses.replace(opts, org=organization_for(opts, module, ref))
    with client_from(scoped) as client:
        version = client.get_version(ref.module, ref.version)
        data = client.descriptor_set(ref.module, version.version)  # the resolved version: `latest` may move
    own = [f.path for f in version.files]
    return image_source(data, f"{SCHEME}{ref.module}@{version.version}", only=own or None)


def dependency_sets(opts: GlobalOptions, module: ModuleConfig | None) -> list[bytes]:
    """The stored descriptor sets of spoke.yaml's `dependencies` (each with its own imports), so local
    sources that import a registry dependency compile without a copy of it."""
    if module is None or not module.dependencies:
        return []
    scoped = dataclasses.replace(opts, org=organization_for(opts, module))
    with client_from(scoped) as client:
        return [client.descriptor_set(*dependency.split("@", 1)) for dependency in module.dependencies]


def breaking_config_of(directory: Path, module: ModuleConfig | None) -> str | None:
    """The buf.yaml spoke.yaml names under `breaking` (relative to DIR), so `spoke breaking` checks what
    `spoke push` checks; None leaves buf's discovery (DIR/buf.yaml, else buf's defaults)."""
    if module is None or module.breaking is None:
        return None
    path = directory / module.breaking
    if not path.is_file():
        raise CliError("INVALID_SPOKE_YAML", f"{directory / SPOKE_YAML}: `breaking` names {path}, which does not exist")
    return str(path)


def breaking(
    ctx: typer.Context,
    new: str = typer.Argument(..., metavar="DIR", help="Directory of .proto files (or a .binpb image) to check; "
                                                       "its spoke.yaml, if any, gives dependencies and rules."),
    against: str = typer.Option(..., "--against", metavar="OLD",
                                help="A directory, a .binpb image, or spoke://[ORG/]MODULE[@VERSION] "
                                     "(a published version; `latest` or no version: the highest release)."),
    config: str | None = typer.Option(None, "--config", help="buf.yaml file, or its contents as YAML/JSON, to "
                                         "read `breaking` from (else spoke.yaml's `breaking`, else DIR/buf.yaml)."),
    error_format: ErrorFormat | None = typer.Option(None, "--error-format", case_sensitive=False,
                                                       help="text (path:line:column:message), json (one object "
                                                            "per line), msvs, junit, github-actions or "
                                                            "gitlab-code-quality, as buf prints them; --json means "
                                                            "json."),
    path: list[str] = typer.Option([], "--path", help="Check only these files or directories (repeatable)."),
    exclude_path: list[str] = typer.Option([], "--exclude-path",
                                           help="Leave these files or directories out (repeatable)."),
    against_config: str | None = typer.Option(None, "--against-config",
                                              help="buf.yaml file or contents laying out an OLD directory (its "
                                                   "roots, excludes, modules); else OLD's own buf.yaml."),
    exclude_imports: bool = typer.Option(False, "--exclude-imports", help="Leave imports out of the check."),
    limit_to_input_files: bool = typer.Option(False, "--limit-to-input-files",
                                              help="Compare only the files DIR has: OLD's other files are not "
                                                   "reported as deleted."),
) -> None:
    """Check DIR for breaking changes against OLD with buf's rules. Exit 0: none; 100: findings; 1: error."""
    from chalicelib.cli.breaking import AgainstInput, check

    opts = options(ctx)
    fmt = error_format.value if error_format is not None else ("json" if opts.json else "text")
    directory = Path(new)
    module = module_config(directory) if directory.is_dir() else None
    old: AgainstInput = against
    if against.startswith(SCHEME):
        ref = parse_registry_ref(against)
        old = lambda: registry_source(opts, ref, module)  # noqa: E731  (runs once DIR compiled)
    code = check(new, old, config=config or breaking_config_of(directory, module), error_format=fmt, paths=path,
                 exclude_paths=exclude_path, imports=dependency_sets(opts, module), against_config=against_config,
                 exclude_imports=exclude_imports, limit_to_input_files=limit_to_input_files,
                 out=sys.stdout, err=sys.stderr)
    sys.stdout.flush()
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Adds `spoke breaking` to the app."""
    app.command("breaking")(breaking)
