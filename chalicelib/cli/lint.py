"""`spoke lint [INPUT]`: a drop-in for `buf lint` in CI.

INPUT (default ".") is a directory of .proto files, compiled with protoc and laid out by its own
buf.yaml / buf.work.yaml (see inputs.py), or a FileDescriptorSet image (`.binpb`). Each module is linted
with its own `lint` configuration and a v2 buf.yaml's `policies:` (found as lint_config.py says).
`--path`/`--exclude-path` restrict the linted files. Output in buf's `--error-format`s; exit codes
follow buf: 0 clean, 100 findings (sources that do not compile are COMPILE findings), 1 errors.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from google.protobuf import descriptor_pb2

from chalicelib.domain.errors import DomainError
from chalicelib.domain.lint import LintFinding, align_comments_with_buf, lint

from .compile_dir import CompileError
from .inputs import InputError, Source, load_input, read_config_option
from .lint_config import enclosing_workspace, find_units

EXIT_OK, EXIT_ERROR, EXIT_FINDINGS = 0, 1, 100
LINT_FORMATS = ("text", "json", "msvs", "junit", "github-actions", "gitlab-code-quality", "config-ignore-yaml")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "lint", help="Run linting on Protobuf files (like `buf lint`).",
        description="Lint a directory or image with buf's rules and buf.yaml `lint` configuration.")
    add_arguments(parser)
    parser.set_defaults(handler=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments `spoke lint` shares with the user CLI's `spoke lint`."""
    parser.add_argument("input", nargs="?", default=".", metavar="INPUT",
                        help="directory of .proto files (default: .) or a .binpb image")
    parser.add_argument("--error-format", default="text", metavar="FORMAT",
                        help=f"one of {', '.join(LINT_FORMATS)} (default: text)")
    parser.add_argument("--config", help="buf.yaml file, or its contents as YAML/JSON, to read `lint` from")
    parser.add_argument("--path", action="append", default=[], metavar="PATH",
                        help="lint only these files or directories (repeatable)")
    parser.add_argument("--exclude-path", action="append", default=[], metavar="PATH",
                        help="leave these files or directories out (repeatable)")


def _root_of(source: Source, location: str, name: str) -> str:
    """The module directory (relative to the input) a compiled file comes from, by its printed prefix."""
    prefix = source.prefix(name).rstrip("/")
    base = os.path.normpath(location)
    if not prefix:
        return "."
    relative = os.path.relpath(prefix, base) if base != "." else prefix
    return os.path.normpath(relative)


def _selected(name: str, paths: Sequence[str]) -> bool:
    return any(path == "." or name == path or name.startswith(path.rstrip("/") + "/") for path in paths)


def _as_file_paths(paths: Sequence[str], location: str, source: Source) -> list[str]:
    """`--path` values as files are named in the image: given relative to the input (with or without the
    module directory) or as findings print them (with the input directory in front)."""
    base = os.path.normpath(location)
    result = []
    for path in paths:
        normalized = os.path.normpath(path)
        if base != "." and normalized.startswith(base + "/"):
            normalized = normalized[len(base) + 1:]
        result.append(normalized)
        for prefix in {p.rstrip("/") for p in source.prefixes.values() if p}:
            root = os.path.relpath(prefix, base) if base != "." else prefix
            if normalized.startswith(root + "/"):
                result.append(normalized[len(root) + 1:])
    return result


def run_lint(location: str, *, config: str | None = None, paths: Sequence[str] = (),
             exclude_paths: Sequence[str] = (), imports: Sequence[bytes] = ()) -> tuple[list[LintFinding], Source]:
    """Compile or read the input and lint its own files, module by module; findings in buf's order."""
    enclosed = enclosing_workspace(location, config)
    units = enclosed.units if enclosed else find_units(location, config)
    roots = {unit.root for unit in units} - {"."}
    for flag, given, problem in (("--path", paths, "specify this module path directly as an input"),
                                 ("--exclude-path", exclude_paths, "this flag cannot be used to specify module "
                                                                   "directories")):
        for path in given:
            if os.path.normpath(os.path.relpath(path, location) if location != "." else path) in roots:
                raise InputError(f'module "{os.path.normpath(path)}" was specified with {flag}, {problem}')
    if enclosed:
        layout: dict[str, Any] | None = enclosed.layout
    else:  # --config lays the input out too
        layout = read_config_option(config, "--config") if config else None
    source = load_input(location, imports, config=layout)
    # An image that does not mark its imports (protoc's) is linted whole, as buf does.
    own = source.own if source.own is not None else frozenset(f.name for f in source.fds.file)
    selected = _as_file_paths(paths, location, source) if paths else []
    excluded = _as_file_paths(exclude_paths, location, source) if exclude_paths else []
    targets = {name for name in own
               if (not paths or _selected(name, selected)) and not _selected(name, excluded)}
    if (paths or exclude_paths) and not targets:
        raise InputError("no .proto files were targeted: --path names no file, or --exclude-path excludes all")
    if source.kind == "directory":  # buf compiles the sources itself: its comments, not protoc's
        align_comments_with_buf(source.fds, {name: Path(source.prefix(name) + name).read_text(errors="replace")
                                             for name in targets})
    findings: list[LintFinding] = []
    by_root = {unit.root: unit for unit in units}
    grouped: dict[str, set[str]] = {}
    for name in targets:
        root = _root_of(source, location, name) if source.prefixes else "."
        grouped.setdefault(root if root in by_root else units[0].root, set()).add(name)
    infer = source.kind == "directory"
    for root, names in grouped.items():
        unit = by_root[root]
        findings.extend(lint(source.fds, unit.config, targets=names, infer_unmarked=infer))
        for policy in unit.policies:
            findings.extend(replace(finding, policy=policy.name)
                            for finding in lint(source.fds, policy.config, targets=names, infer_unmarked=infer))
    findings.sort(key=lambda f: (source.prefix(f.path) + f.path, *f.sort_key()[1:]))  # buf sorts printed paths
    return findings, source


_PROTOC_ERROR = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<column>\d+): (?P<message>.*)$")


def compile_errors(text: str, location: str) -> list[LintFinding]:
    """protoc's errors as buf reports a source that does not compile: COMPILE findings (exit 100), paths
    as buf prints them (the input directory in front). The messages are protoc's, not buf's compiler's."""
    base = Path(location).resolve()
    findings = []
    for line in text.splitlines():
        match = _PROTOC_ERROR.match(line)
        if match is None or match["message"].startswith("warning:"):
            continue
        path = match["path"]
        if os.path.isabs(path) and Path(path).is_relative_to(base):
            path = os.path.normpath(os.path.join(location, os.path.relpath(path, base)))
        row, column = int(match["line"]), int(match["column"])
        findings.append(LintFinding(path, row, column, row, column, "COMPILE", match["message"]))
    return findings


def render_findings(findings: Sequence[LintFinding], error_format: str, source: Source) -> str:
    """Everything buf prints on stdout for these findings in `error_format`."""
    from chalicelib.domain.breaking.formats import render

    return render(findings, error_format, source.prefix, section="lint")


def check(location: str = ".", *, config: str | None = None, error_format: str = "text", paths: Sequence[str] = (),
          exclude_paths: Sequence[str] = (), imports: Sequence[bytes] = (), out: TextIO | None = None,
          err: TextIO | None = None) -> int:
    """The whole `spoke lint` run, shared by the argparse entry and the user CLI; returns buf's exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    if error_format not in LINT_FORMATS:
        err.write(f'Failure: --error-format: invalid format: "{error_format}"\n')
        return EXIT_ERROR
    try:
        findings, source = run_lint(location, config=config, paths=paths, exclude_paths=exclude_paths,
                                    imports=imports)
    except CompileError as error:
        compile_findings = compile_errors(str(error), location)
        if not compile_findings:
            err.write(f"Failure: {error}\n")
            return EXIT_ERROR
        out.write(render_findings(compile_findings, error_format, Source(descriptor_pb2.FileDescriptorSet())))
        return EXIT_FINDINGS
    except (InputError, DomainError) as error:
        message = error.message if isinstance(error, DomainError) else str(error)
        err.write(f"Failure: {message}\n")
        return EXIT_ERROR
    out.write(render_findings(findings, error_format, source))
    return EXIT_FINDINGS if findings else EXIT_OK


def run(args: Any, out: TextIO | None = None, err: TextIO | None = None) -> int:
    return check(args.input, config=args.config, error_format=args.error_format, paths=args.path or (),
                 exclude_paths=args.exclude_path or (), out=out, err=err)
