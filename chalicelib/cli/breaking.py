"""`spoke breaking NEW --against OLD`: a drop-in for `buf breaking` in CI.

NEW and OLD are directories of .proto files (compiled with protoc; a buf.yaml v2 `modules` list gives the
module directories) or FileDescriptorSet images (`.binpb`, as `buf build -o` or `protoc
--descriptor_set_out` write). The `breaking` section of a buf.yaml configures the rules, found like buf
does: `--config`, else buf.yaml in the NEW directory, else (for an image) buf.yaml in the current
directory; without any, buf's v1 default rules apply. `--path`/`--exclude-path` restrict both sides to
some files (named relative to NEW, or as findings show them). `check()` is the one run shared by this
argparse entry and the `spoke` CLI (spoke_cli/breaking.py, which adds `spoke://` registry versions).
Exit codes follow buf: 0 no findings, 100 findings, 1 errors.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import yaml
from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError

from chalicelib.domain.breaking import BreakingConfig, Finding, check_breaking
from chalicelib.domain.errors import DomainError

from .compile_dir import CompileError, compile_directory, proto_files

EXIT_OK, EXIT_ERROR, EXIT_FINDINGS = 0, 1, 100
CONFIG_NAMES = ("buf.yaml", "buf.yml")


class InputError(Exception):
    """An input or configuration we cannot use; reported like buf's `Failure: ...`."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "breaking",
        help="Verify no breaking changes have been made (like `buf breaking`).",
        description="Check NEW for breaking changes against OLD, with buf's rules and buf.yaml configuration.",
    )
    parser.add_argument("input", metavar="NEW", help="directory of .proto files or a .binpb image")
    parser.add_argument("--against", required=True, metavar="OLD", help="directory or .binpb image to compare to")
    parser.add_argument("--error-format", choices=("text", "json"), default="text",
                        help="text (path:line:column:message) or json (one object per line)")
    parser.add_argument("--config", help="buf.yaml file, or its contents as YAML/JSON, to read `breaking` from")
    parser.add_argument("--path", action="append", default=[], metavar="PATH",
                        help="check only these files or directories (repeatable)")
    parser.add_argument("--exclude-path", action="append", default=[], metavar="PATH",
                        help="leave these files or directories out of the check (repeatable)")
    parser.set_defaults(handler=run)


@dataclass
class Layout:
    """How buf sees a directory: its module roots (buf.yaml v2 `modules`) and its breaking configuration."""

    roots: tuple[str, ...] = (".",)
    document: dict[str, Any] | None = None  # the parsed buf.yaml, if any
    config_path: Path | None = None


def _read_yaml(text: str, origin: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InputError(f"{origin}: invalid YAML: {error}") from error
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise InputError(f"{origin}: expected a mapping")
    return document


def find_buf_yaml(directory: Path) -> Path | None:
    for name in CONFIG_NAMES:
        if (directory / name).is_file():
            return directory / name
    return None


def layout_of(directory: Path) -> Layout:
    config_path = find_buf_yaml(directory)
    if config_path is None:
        return Layout()
    document = _read_yaml(config_path.read_text(), str(config_path))
    roots: tuple[str, ...] = (".",)
    modules = document.get("modules")
    if str(document.get("version")) == "v2" and isinstance(modules, list) and modules:
        roots = tuple(os.path.normpath(str(m.get("path", "."))) if isinstance(m, dict) else "." for m in modules)
    return Layout(roots, document, config_path)


@dataclass
class Source:
    """A compiled input and, per file, the prefix buf prints before its path."""

    fds: descriptor_pb2.FileDescriptorSet
    prefixes: dict[str, str] = field(default_factory=dict)

    def prefix(self, path: str) -> str:
        return self.prefixes.get(path, "")


def load_input(location: str, imports: Sequence[bytes] = ()) -> Source:
    """A directory compiled with protoc (its sources may import the files of `imports`, serialized
    FileDescriptorSets), or a .binpb image."""
    path = Path(location)
    if path.is_dir():
        layout = layout_of(path)
        fds = compile_directory(path, layout.roots, descriptor_set_in=imports)
        prefixes: dict[str, str] = {}
        for root in layout.roots:
            shown = os.path.normpath(os.path.join(location, root))
            prefix = "" if shown == "." else shown.rstrip("/") + "/"
            for file in proto_files(path / root):
                prefixes.setdefault(file, prefix)
        return Source(fds, prefixes)
    if not path.is_file():
        raise InputError(f"{location}: no such file or directory")
    return image_source(path.read_bytes(), location)


def image_source(data: bytes, origin: str, only: Collection[str] | None = None) -> Source:
    """A FileDescriptorSet image (a .binpb file, or a registry version's stored set) as an input;
    `only` keeps just those files, as buf leaves an image's imports out of the check."""
    fds = descriptor_pb2.FileDescriptorSet()
    try:
        fds.ParseFromString(data)
    except DecodeError as error:
        raise InputError(f"{origin}: not a FileDescriptorSet image: {error}") from error
    if only is not None:
        wanted = set(only)
        kept = [file for file in fds.file if file.name in wanted]
        del fds.file[:]
        fds.file.extend(kept)
    if not fds.file:
        raise InputError(f"{origin}: the image contains no files")
    return Source(fds)


def _module_relative(paths: list[str], roots: tuple[str, ...]) -> list[str]:
    """buf.yaml v2 ignore paths are relative to the workspace; files are relative to their module."""
    if roots == (".",):
        return paths
    result: list[str] = []
    for path in paths:
        normalized = os.path.normpath(path)
        for root in roots:
            if root == "." or normalized == root:
                result.append(normalized if root == "." else ".")
                break
            if normalized.startswith(root + "/"):
                result.append(normalized[len(root) + 1:])
                break
    return result


def config_from_document(document: dict[str, Any]) -> BreakingConfig:
    """The top-level `breaking` section; a single v2 module's own `breaking` section wins, as in buf."""
    modules = document.get("modules")
    if str(document.get("version")) != "v2" or not isinstance(modules, list) or not modules:
        return BreakingConfig.from_buf_yaml_document(document)
    roots = tuple(os.path.normpath(str(m.get("path", "."))) if isinstance(m, dict) else "." for m in modules)
    module = modules[0]
    if len(modules) == 1 and isinstance(module, dict) and isinstance(module.get("breaking"), dict):
        config = BreakingConfig.from_buf_yaml(module["breaking"], "v2")
    else:
        config = BreakingConfig.from_buf_yaml_document(document)
    return replace(
        config,
        ignore=_module_relative(config.ignore, roots),
        ignore_only={rule: _module_relative(paths, roots) for rule, paths in config.ignore_only.items()},
    )


def load_config(new_location: str, config_option: str | None) -> BreakingConfig:
    if config_option:
        config_path = Path(config_option)
        if config_path.is_file():
            return config_from_document(_read_yaml(config_path.read_text(), config_option))
        return config_from_document(_read_yaml(config_option, "--config"))
    new_path = Path(new_location)
    config_file = find_buf_yaml(new_path if new_path.is_dir() else Path.cwd())
    if config_file is not None:
        return config_from_document(_read_yaml(config_file.read_text(), str(config_file)))
    return BreakingConfig(use=[], version="v1")  # buf without any buf.yaml: v1 default rules


def write_findings(findings: list[Finding], error_format: str, source: Source, out: TextIO) -> None:
    for finding in findings:
        prefix = source.prefix(finding.path)
        if error_format == "json":
            out.write(finding.to_buf_json_line(prefix) + "\n")
        else:
            out.write(finding.to_text(prefix) + "\n")


def _module_paths(paths: Sequence[str], new_location: str) -> list[str]:
    """`--path` values as the files are named in the images: relative to the NEW directory (and to its
    buf.yaml v2 module), whether given that way or as shown in findings (with the directory in front)."""
    if not paths:
        return []
    base = os.path.normpath(new_location)
    relative = []
    for path in paths:
        normalized = os.path.normpath(path)
        if base != "." and normalized.startswith(base + "/"):
            normalized = normalized[len(base) + 1:]
        relative.append(normalized)
    new_path = Path(new_location)
    roots = layout_of(new_path).roots if new_path.is_dir() else (".",)
    found = _module_relative(relative, roots)
    return found if found or roots == (".",) else relative


def _targeted(name: str, paths: Sequence[str]) -> bool:
    return any(path == "." or name == path or name.startswith(path + "/") for path in paths)


def restrict(source: Source, paths: Sequence[str], exclude_paths: Sequence[str]) -> Source:
    """Only the files `--path` names and `--exclude-path` does not (both sides are restricted alike)."""
    if not paths and not exclude_paths:
        return source
    kept = [f for f in source.fds.file
            if (not paths or _targeted(f.name, paths)) and not _targeted(f.name, exclude_paths)]
    return Source(descriptor_pb2.FileDescriptorSet(file=kept), source.prefixes)


AgainstInput = str | Callable[[], Source]


def check(new_location: str, against: AgainstInput, *, config: str | None = None, error_format: str = "text",
          paths: Sequence[str] = (), exclude_paths: Sequence[str] = (), imports: Sequence[bytes] = (),
          out: TextIO | None = None, err: TextIO | None = None) -> int:
    """The whole `spoke breaking` run, shared by the argparse entry and the `spoke` CLI: `against` is a
    location (directory or image) or a loader (e.g. a registry version's stored descriptor set);
    `imports`: descriptor sets the NEW directory's sources may import (its registry dependencies).
    Prints findings to `out`, a `Failure: ...` to `err`; returns buf's exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        breaking_config = load_config(new_location, config)
        new = load_input(new_location, imports)
        old = against() if callable(against) else load_input(against, imports)
        targeted, excluded = _module_paths(paths, new_location), _module_paths(exclude_paths, new_location)
        new, old = restrict(new, targeted, excluded), restrict(old, targeted, excluded)
        if (paths or exclude_paths) and not new.fds.file and not old.fds.file:
            raise InputError("no .proto files were targeted: --path names no file, or --exclude-path excludes all")
        findings = check_breaking(new.fds, old.fds, breaking_config)
    except (InputError, CompileError, DomainError) as error:
        message = error.message if isinstance(error, DomainError) else str(error)
        err.write(f"Failure: {message}\n")
        return EXIT_ERROR
    write_findings(findings, error_format, new, out)
    return EXIT_FINDINGS if findings else EXIT_OK


def run(args: Any, out: TextIO | None = None, err: TextIO | None = None) -> int:
    return check(args.input, args.against, config=args.config, error_format=args.error_format,
                 paths=getattr(args, "path", None) or (), exclude_paths=getattr(args, "exclude_path", None) or (),
                 out=out, err=err)
