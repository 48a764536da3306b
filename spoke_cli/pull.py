"""`spoke pull` (a version's sources) and `spoke generate` (its compiled code), written under a directory.

Every byte written was verified first (sha256 of each source file, size and sha256 of each archive), and
no path from the server may land outside the target directory.
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import typer

from spoke_cli.config import CliError, client_from, options
from spoke_cli.output import count, print_json, progress, say
from spoke_client import LATEST, IntegrityError, SpokeClient

DEFAULT_TIMEOUT = 300.0


def parse_reference(text: str) -> tuple[str, str]:
    """`user@v1.0.0`, `user@latest` or `user` (latest) as (module, version)."""
    module, at, version = text.strip().partition("@")
    if not module or (at and not version.strip()):
        raise CliError("INVALID_REFERENCE", f"{text!r}: expected MODULE@VERSION (e.g. user@v1.0.0, user@latest) "
                       "or MODULE")
    return module, version.strip() or LATEST


def safe_target(root: Path, relative: str) -> Path:
    """Where `relative` goes under root; an absolute path or one climbing out (`..`) is refused."""
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or pure.parts[0].endswith(":"):
        raise IntegrityError(None, "UNSAFE_PATH", f"refusing to write {relative!r}: it would land outside {root}")
    return root.joinpath(*pure.parts)


def write_files(root: Path, files: Mapping[str, bytes]) -> None:
    """Each file written beside its final name then renamed, so an interrupted pull leaves no half file."""
    targets = {path: safe_target(root, path) for path in files}  # every path checked before any write
    for path, target in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.parent / f".{target.name}.part"
        temporary.write_bytes(files[path])
        os.replace(temporary, target)


def unpack(archive: Path, root: Path) -> int:
    """Extracts a ZIP under root (member paths checked first); returns how many files it held."""
    with zipfile.ZipFile(archive) as zipped:
        members = [m for m in zipped.infolist() if not m.is_dir()]
        files = {m.filename: m for m in members}
        for name in files:
            safe_target(root, name)
        write_files(root, {name: zipped.read(info) for name, info in files.items()})
    return len(members)


def pull(ctx: typer.Context,
         reference: str = typer.Argument(..., metavar="MODULE[@VERSION]",
                                         help="e.g. user@v1.0.0; `user` or `user@latest`: the highest release."),
         directory: Path | None = typer.Argument(None, metavar="[DIR]", help="Where to write (default ./MODULE).",
                                                    file_okay=False)) -> None:
    """Download a version's files into DIR, each verified against its sha256."""
    opts = options(ctx)
    module, version = parse_reference(reference)
    target = directory or Path(module)
    with client_from(opts) as client, progress(opts.json) as bar:
        concrete = client.resolve_version(module, version)
        task = bar.add_task(f"pulling {module}@{concrete}", total=None)
        record, files = client.version_files(module, concrete,
                                             progress=lambda done, total: bar.update(task, completed=done,
                                                                                     total=total))
    write_files(target, files)
    if opts.json:
        print_json({"module": module, "version": record.version, "directory": str(target),
                    "files": sorted(files)})
        return
    say(f"pulled {module}@{record.version} ({count(len(files), 'file')}) -> {target}")


def _generate_one(client: SpokeClient, module: str, version: str, language: str, out: Path, timeout: float,
                  json_output: bool) -> dict[str, Any]:
    destination = out / language
    with progress(json_output, counted=False) as bar, tempfile.TemporaryDirectory(prefix="spoke-") as scratch:
        task = bar.add_task(f"{module}@{version} {language}: waiting for compilation", total=None)

        def waiting(status: Mapping[str, Any], elapsed: float) -> None:
            bar.update(task, description=f"{module}@{version} {language}: {status.get('status', 'pending')}")

        archive = Path(scratch) / f"{language}.zip"  # written only once its size and sha256 match
        client.download(module, version, language, archive, deadline=timeout, progress=waiting)
        bar.update(task, description=f"{module}@{version} {language}: unpacking")
        files = unpack(archive, destination)
        size = archive.stat().st_size
    return {"language": language, "directory": str(destination), "files": files, "bytes": size}


def generate(ctx: typer.Context,
             reference: str = typer.Argument(..., metavar="MODULE[@VERSION]", help="e.g. user@v1.0.0 or user@latest."),
             lang: str = typer.Option(..., "--lang", "-l", help="Comma-separated languages, e.g. go,python "
                                      "(GET /languages lists them)."),
             out: Path = typer.Option(Path("gen"), "--out", "-o", help="Output directory; each language goes to "
                                      "OUT/<lang>/.", file_okay=False),
             timeout: float = typer.Option(DEFAULT_TIMEOUT, "--timeout", min=1,
                                           help="Seconds to wait for each language's compilation.")) -> None:
    """Download compiled code (waiting for the compilation), verify its size and sha256, unpack it."""
    opts = options(ctx)
    module, version = parse_reference(reference)
    languages = [part.strip() for part in lang.split(",") if part.strip()]
    if not languages:
        raise CliError("LANGUAGE_REQUIRED", "--lang names no language (e.g. --lang go,python)")
    results = []
    with client_from(opts) as client:
        concrete = client.resolve_version(module, version)
        for language in dict.fromkeys(languages):
            result = _generate_one(client, module, concrete, language, out, timeout, opts.json)
            results.append(result)
            if not opts.json:
                files = count(result["files"], "file")
                say(f"generated {module}@{concrete} {language} ({files}) -> {result['directory']}")
    if opts.json:
        print_json({"module": module, "version": concrete, "languages": results})


def register(app: typer.Typer) -> None:
    app.command("pull")(pull)
    app.command("generate")(generate)
