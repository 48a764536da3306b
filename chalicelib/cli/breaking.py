"""`spoke breaking NEW --against OLD`: a drop-in for `buf breaking` in CI.

NEW and OLD are directories of .proto files (compiled with protoc, laid out by each one's own buf.yaml /
buf.work.yaml, see inputs.py) or FileDescriptorSet images (`.binpb`, as `buf build -o` or `protoc
--descriptor_set_out` write). The `breaking` section of a buf.yaml configures the rules, found like buf
does: `--config`, else NEW's own buf.yaml (a workspace module's), else (for an image) buf.yaml in the
current directory; without any, buf's v1 default rules apply. A v2 buf.yaml's `policies:` (policy files,
relative to the current directory as in buf) run their own `breaking` rules too. `--against-config` lays
out OLD. `--path`/`--exclude-path` restrict both sides to some files (named relative to NEW, or as
findings show them); `--exclude-imports` drops imports; `--limit-to-input-files` keeps only OLD's files
that NEW has. `check()` is the one run shared by this argparse entry and the `spoke` CLI
(spoke_cli/breaking.py, which adds `spoke://` registry versions). Exit codes follow buf: 0 no findings,
100 findings, 1 errors.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from chalicelib.domain.breaking import BreakingConfig, Finding, check_breaking
from chalicelib.domain.breaking.config import BreakingPolicy, policy_from_document
from chalicelib.domain.breaking.formats import render
from chalicelib.domain.errors import DomainError

from .compile_dir import CompileError
from .inputs import (
    InputError,
    Layout,
    Source,
    find_buf_yaml,
    image_source,
    layout_of,
    limited_to,
    load_input,
    read_config_option,
    read_yaml,
    restrict,
    without_imports,
)

__all__ = ["EXIT_ERROR", "EXIT_FINDINGS", "EXIT_OK", "ERROR_FORMATS", "AgainstInput", "InputError", "Layout",
           "Source", "check", "config_from_document", "image_source", "layout_of", "load_input", "register", "run"]

EXIT_OK, EXIT_ERROR, EXIT_FINDINGS = 0, 1, 100
ERROR_FORMATS = ("text", "json", "msvs", "junit", "github-actions", "gitlab-code-quality")  # as `buf breaking`


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "breaking",
        help="Verify no breaking changes have been made (like `buf breaking`).",
        description="Check NEW for breaking changes against OLD, with buf's rules and buf.yaml configuration.",
    )
    parser.add_argument("input", metavar="NEW", help="directory of .proto files or a .binpb image")
    parser.add_argument("--against", required=True, metavar="OLD", help="directory or .binpb image to compare to")
    parser.add_argument("--error-format", choices=ERROR_FORMATS, default="text",
                        help="text (path:line:column:message), json (one object per line), msvs, junit, "
                             "github-actions, gitlab-code-quality: as buf prints them")
    parser.add_argument("--config", help="buf.yaml file, or its contents as YAML/JSON, to read `breaking` from")
    parser.add_argument("--against-config", help="buf.yaml file or contents laying out OLD (roots, excludes, modules)")
    parser.add_argument("--path", action="append", default=[], metavar="PATH",
                        help="check only these files or directories (repeatable)")
    parser.add_argument("--exclude-path", action="append", default=[], metavar="PATH",
                        help="leave these files or directories out of the check (repeatable)")
    parser.add_argument("--exclude-imports", action="store_true", help="leave imports out of the check")
    parser.add_argument("--limit-to-input-files", action="store_true",
                        help="compare only the files NEW has (OLD's other files are not reported deleted)")
    parser.set_defaults(handler=run)


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


def _v2_roots(document: Mapping[str, Any]) -> tuple[str, ...]:
    modules = document.get("modules")
    if str(document.get("version")) != "v2" or not isinstance(modules, list) or not modules:
        return (".",)
    return tuple(os.path.normpath(str(m.get("path", "."))) if isinstance(m, dict) else "." for m in modules)


def _relative_ignores(config: BreakingConfig, roots: tuple[str, ...]) -> BreakingConfig:
    return replace(config, ignore=_module_relative(config.ignore, roots),
                   ignore_only={rule: _module_relative(paths, roots) for rule, paths in config.ignore_only.items()})


def _policies(document: Mapping[str, Any], roots: tuple[str, ...], base: Path) -> tuple[BreakingPolicy, ...]:
    """buf.yaml v2 `policies:`: each local policy file (relative to `base`, the current directory, as buf
    reads it) with the entry's own ignores."""
    entries = document.get("policies")
    if entries is None:
        return ()
    if str(document.get("version")) != "v2" or not isinstance(entries, list):
        raise InputError("policies must be a list of {policy, ignore, ignore_only} in a v2 buf.yaml")
    policies = []
    for entry in entries:
        name = entry.get("policy") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            raise InputError("each entry of policies must name a policy file: - policy: path/to/policy.yaml")
        path = base / name
        if not path.is_file():
            raise InputError(f'could not read local policy config "{name}": open {name}: no such file or directory')
        policy = policy_from_document(name, read_yaml(path.read_text(), name), entry)
        policies.append(BreakingPolicy(name, _relative_ignores(policy.config, roots)))
    return tuple(policies)


def config_from_document(document: dict[str, Any], policy_base: Path | None = None) -> BreakingConfig:
    """The top-level `breaking` section (a single v2 module's own `breaking` section wins, as in buf) and
    the v2 `policies`, whose files are read relative to `policy_base` (default: the current directory)."""
    roots = _v2_roots(document)
    modules = document.get("modules")
    module = modules[0] if isinstance(modules, list) and len(modules) == 1 else None
    if str(document.get("version")) == "v2" and isinstance(module, dict) and isinstance(module.get("breaking"), dict):
        config = BreakingConfig.from_buf_yaml(module["breaking"], "v2")
    else:
        config = BreakingConfig.from_buf_yaml_document(document)
    config = _relative_ignores(config, roots)
    return replace(config, policies=_policies(document, roots, policy_base or Path.cwd()))


def _declares_layout(document: Mapping[str, Any]) -> bool:
    return bool(document.get("build") or document.get("modules"))


def load_config(new_location: str, config_option: str | None, layout: Layout | None = None) -> BreakingConfig:
    if config_option:
        return config_from_document(read_config_option(config_option, "--config"))
    if layout is not None and layout.document is not None:
        return config_from_document(layout.document)
    new_path = Path(new_location)
    config_file = find_buf_yaml(new_path if new_path.is_dir() else Path.cwd())
    if config_file is not None:
        return config_from_document(read_yaml(config_file.read_text(), str(config_file)))
    return BreakingConfig(use=[], version="v1")  # buf without any buf.yaml: v1 default rules


def write_findings(findings: list[Finding], error_format: str, source: Source, out: TextIO) -> None:
    out.write(render(findings, error_format, source.prefix, section="breaking"))


def _module_paths(paths: Sequence[str], new_location: str, layout: Layout | None) -> list[str]:
    """`--path` values as the files are named in the images: relative to the NEW directory (and to its
    module), whether given that way or as shown in findings (with the directory in front)."""
    if not paths:
        return []
    base = os.path.normpath(new_location)
    relative = []
    for path in paths:
        normalized = os.path.normpath(path)
        if base != "." and normalized.startswith(base + "/"):
            normalized = normalized[len(base) + 1:]
        relative.append(normalized)
    roots = layout.roots if layout is not None else (".",)
    found = _module_relative(relative, roots)
    return found if found or roots == (".",) else relative


AgainstInput = str | Callable[[], Source]


def check(new_location: str, against: AgainstInput, *, config: str | None = None, error_format: str = "text",
          paths: Sequence[str] = (), exclude_paths: Sequence[str] = (), imports: Sequence[bytes] = (),
          against_config: str | None = None, exclude_imports: bool = False, limit_to_input_files: bool = False,
          out: TextIO | None = None, err: TextIO | None = None) -> int:
    """The whole `spoke breaking` run, shared by the argparse entry and the `spoke` CLI: `against` is a
    location (directory or image) or a loader (e.g. a registry version's stored descriptor set);
    `imports`: descriptor sets the NEW directory's sources may import (its registry dependencies).
    Prints findings to `out` in `error_format`, a `Failure: ...` to `err`; returns buf's exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        new_path = Path(new_location)
        config_document = read_config_option(config, "--config") if config else None
        layout = None
        if new_path.is_dir():
            layout = layout_of(new_path, config_document if config_document and _declares_layout(config_document)
                               else None)
        breaking_config = load_config(new_location, config, layout)
        new = load_input(new_location, imports, layout_document(config_document))
        if callable(against):
            old = against()
        else:
            against_document = read_config_option(against_config, "--against-config") if against_config else None
            old = load_input(against, imports, against_document)
        targeted = _module_paths(paths, new_location, layout)
        excluded = _module_paths(exclude_paths, new_location, layout)
        new, old = restrict(new, targeted, excluded), restrict(old, targeted, excluded)
        if exclude_imports:
            new, old = without_imports(new), without_imports(old)
        if (paths or exclude_paths) and not new.fds.file:
            raise InputError("no .proto files were targeted. This can occur if no .proto files are found in your "
                             "input, --path points to files that do not exist, or --exclude-path excludes all files."
                             if new.kind == "directory" else "image contains no files")
        if limit_to_input_files:
            old = limited_to(old, [file.name for file in new.fds.file], with_imports=not exclude_imports)
        findings = sorted((finding for unit_config, new_unit, old_unit in _units(new, old, breaking_config, config)
                           for finding in check_breaking(new_unit.fds, old_unit.fds, unit_config)),
                          key=Finding.sort_key)
    except (InputError, CompileError, DomainError) as error:
        message = error.message if isinstance(error, DomainError) else str(error)
        err.write(f"Failure: {message}\n")
        return EXIT_ERROR
    write_findings(findings, error_format, new, out)
    return EXIT_FINDINGS if findings else EXIT_OK


def _units(new: Source, old: Source, config: BreakingConfig,
           config_option: str | None) -> list[tuple[BreakingConfig, Source, Source]]:
    """What to compare with which rules: the whole inputs, or, when both are directories of several modules
    (a v2 `modules:` list, a buf.work.yaml), module by module in order, each with its own configuration
    (unless --config gives one for all), as buf compares one image per module."""
    if new.layout is None or old.layout is None:
        return [(config, new, old)]
    new_names, old_names = new.layout.module_names, old.layout.module_names
    if len(new_names) != len(old_names):
        raise InputError(f"input contained {len(new_names)} images, whereas against contained {len(old_names)} "
                         "images")
    if len(new_names) == 1:
        return [(config, new, old)]
    documents = {module.name: module.document for module in new.layout.modules}
    units = []
    for new_name, old_name in zip(new_names, old_names, strict=True):
        document = documents.get(new_name)
        unit_config = config if config_option or document is None else config_from_document(dict(document))
        units.append((unit_config, new.module(new_name), old.module(old_name)))
    return units


def layout_document(config_document: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """`--config` lays out NEW only when it declares a layout (build roots/excludes, modules)."""
    return config_document if config_document and _declares_layout(config_document) else None


def run(args: Any, out: TextIO | None = None, err: TextIO | None = None) -> int:
    return check(args.input, args.against, config=args.config, error_format=args.error_format,
                 paths=getattr(args, "path", None) or (), exclude_paths=getattr(args, "exclude_path", None) or (),
                 against_config=getattr(args, "against_config", None),
                 exclude_imports=bool(getattr(args, "exclude_imports", False)),
                 limit_to_input_files=bool(getattr(args, "limit_to_input_files", False)), out=out, err=err)
