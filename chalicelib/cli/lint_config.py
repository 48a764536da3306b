"""Where `spoke lint` finds its configuration, as buf does: each module of the input and its `lint` section,
and a v2 buf.yaml's `policies:` (local policy files with their own `lint` rules).

`--config` (a file, or the document as YAML/JSON), else the directory's buf.work.yaml (each directory's
own buf.yaml) or buf.yaml (each v2 module's own `lint`, else the top-level one), else (for an image)
buf.yaml in the current directory; without any, buf's v1 defaults. v2 ignore paths name files with
their module directory, v1 ones relative to the module.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from chalicelib.domain.lint import InvalidLintConfig, LintConfig

from .inputs import WORK_NAMES, InputError, find_buf_yaml, read_config_option, read_yaml

_POLICY_KEYS = {"version", "name", "lint", "breaking", "plugins"}
_POLICY_LINT_KEYS = {"use", "except", "enum_zero_value_suffix", "rpc_allow_same_request_response",
                     "rpc_allow_google_protobuf_empty_requests", "rpc_allow_google_protobuf_empty_responses",
                     "service_suffix", "disable_builtin"}
_POLICY_ENTRY_KEYS = {"policy", "ignore", "ignore_only"}


@dataclass(frozen=True)
class Policy:
    """A policy file's lint rules, with its buf.yaml entry's ignores; findings name the file."""

    name: str
    config: LintConfig


@dataclass(frozen=True)
class Unit:
    """One module's files (named as in the image) and the lint configurations they are checked with."""

    root: str  # module directory relative to the input ("." for the input itself)
    config: LintConfig
    policies: tuple[Policy, ...] = ()


def _module_relative(paths: list[str], root: str) -> list[str]:
    """v2 ignore paths name files from the workspace: keep those inside `root`, relative to it."""
    if root == ".":
        return paths
    result = []
    for path in paths:
        if path == root or path == ".":
            result.append(".")
        elif path.startswith(root + "/"):
            result.append(path[len(root) + 1:])
    return result


def read_policy(entry: Any, base: Path) -> Policy:
    """One `policies:` entry: its policy file (read relative to `base`, the current directory, as buf does),
    whose `lint` section (buf's default rules without one) gets the entry's ignores."""
    name = entry.get("policy") if isinstance(entry, Mapping) else None
    if not isinstance(name, str) or not name:
        raise InputError("each entry of policies must name a policy file: - policy: path/to/policy.yaml")
    unknown = sorted(set(entry) - _POLICY_ENTRY_KEYS)
    if unknown:
        raise InvalidLintConfig(f'unknown key(s) in policies entry "{name}": {", ".join(unknown)}')
    path = base / name
    if not path.is_file():
        raise InputError(f'could not read local policy config "{name}": open {name}: no such file or directory')
    document = read_yaml(path.read_text(), name)
    if str(document.get("version", "")) != "v2":
        raise InvalidLintConfig(f'could not read policy file "{name}": only version v2 policy files are supported')
    unknown = sorted(set(document) - _POLICY_KEYS)
    section = document.get("lint") or {}
    if not isinstance(section, Mapping):
        raise InvalidLintConfig(f'could not read policy file "{name}": lint must be a mapping')
    unknown += sorted(f"lint.{key}" for key in set(section) - _POLICY_LINT_KEYS)
    if unknown:
        raise InvalidLintConfig(f'could not read policy file "{name}": unknown key(s) {", ".join(unknown)}')
    if document.get("plugins"):
        raise InvalidLintConfig(f'policy "{name}": check plugins are not supported by spoke')
    section = {**section, **{key: entry[key] for key in ("ignore", "ignore_only") if key in entry}}
    return Policy(name, LintConfig.from_buf_yaml(section, "v2"))


def _module_config(config: LintConfig, root: str) -> LintConfig:
    return replace(config, ignore=_module_relative(config.ignore, root),
                   ignore_only={rule: _module_relative(paths, root) for rule, paths in config.ignore_only.items()})


def _v2_units(document: Mapping[str, Any], base: str = ".") -> list[Unit]:
    entries = document.get("policies") or []
    if not isinstance(entries, list):
        raise InputError("policies must be a list of {policy, ignore, ignore_only} in a v2 buf.yaml")
    policies = [read_policy(entry, Path.cwd()) for entry in entries]
    top = document.get("lint")
    modules = document.get("modules")
    if not isinstance(modules, list) or not modules:
        modules = [{"path": "."}]
    units = []
    for entry in modules:
        entry = entry if isinstance(entry, Mapping) else {}
        root = os.path.normpath(str(entry.get("path", ".")))
        section = entry.get("lint") if entry.get("lint") is not None else top
        config = _module_config(LintConfig.from_buf_yaml(section, "v2"), root)
        # A policy entry's ignores, unlike the top-level ones, are relative to each module (as buf reads them).
        units.append(Unit(os.path.normpath(os.path.join(base, root)), config, tuple(policies)))
    return units


def units_of(document: Mapping[str, Any] | None, base: str = ".") -> list[Unit]:
    """The modules a buf.yaml declares, each with its lint configuration (v1 defaults without one)."""
    if document is None:
        return [Unit(base, LintConfig.from_buf_yaml(None, "v1"))]
    version = str(document.get("version", "v1beta1"))
    if version == "v2":
        return _v2_units(document, base)
    config = LintConfig.from_buf_yaml(document.get("lint"), version)
    if version == "v1beta1":
        build = document.get("build") or {}
        roots = (build.get("roots") if isinstance(build, Mapping) else None) or ["."]
        return [Unit(os.path.normpath(os.path.join(base, str(root))), config) for root in roots]
    return [Unit(base, config)]


def find_units(location: str, config_option: str | None) -> list[Unit]:
    """The lint configuration of each module of the input, found as buf does (see the module docstring)."""
    if config_option:
        return units_of(read_config_option(config_option, "--config"))
    path = Path(location)
    directory = path if path.is_dir() else Path.cwd()
    if path.is_dir():
        work = next((directory / name for name in WORK_NAMES if (directory / name).is_file()), None)
        if work is not None:
            parsed = read_yaml(work.read_text(), str(work))
            units: list[Unit] = []
            for entry in parsed.get("directories") or []:
                module_dir = os.path.normpath(str(entry))
                config_file = find_buf_yaml(directory / module_dir)
                document = read_yaml(config_file.read_text(), str(config_file)) if config_file else None
                units.extend(units_of(document, module_dir))
            return units
    config_file = find_buf_yaml(directory)
    document = read_yaml(config_file.read_text(), str(config_file)) if config_file else None
    units = units_of(document)
    return units if path.is_dir() else [Unit(".", units[0].config)]




@dataclass(frozen=True)
class Enclosed:
    """An input directory that is a v2 module of a workspace above it: its lint units (relative to the
    input) and the layout to compile it with (the module's excludes)."""

    units: list[Unit]
    layout: dict[str, Any]


def _workspace_above(directory: Path, config_option: str | None) -> tuple[Path, dict[str, Any], bool] | None:
    """The workspace buf would find for an input directory: with --config, the current directory; else the
    nearest directory above the input (up to the current directory) holding buf.work.yaml or buf.yaml.
    Returns its directory, its document and whether it is a buf.work.yaml."""
    cwd = Path.cwd().resolve()
    if config_option:
        return cwd, read_config_option(config_option, "--config"), False
    if directory != cwd and cwd not in directory.parents:
        return None
    above = list(directory.parents)
    above = above[: above.index(cwd) + 1] if cwd in above else []
    for parent in above:  # a buf.work.yaml is the workspace even above a module's own buf.yaml
        for name in WORK_NAMES:
            if (parent / name).is_file():
                return parent, read_yaml((parent / name).read_text(), str(parent / name)), True
    for parent in above:
        config_file = find_buf_yaml(parent)
        if config_file is not None:
            return parent, read_yaml(config_file.read_text(), str(config_file)), False
    return None


def enclosing_workspace(location: str, config_option: str | None) -> Enclosed | None:
    """buf's view of an input directory inside a workspace: a v2 module of it is linted with that module's
    configuration; a directory inside a module is an error (buf wants the module and --path); None when
    the input stands on its own (its own buf.yaml, or none above it)."""
    path = Path(location)
    if not path.is_dir():
        return None
    directory = path.resolve()
    found = _workspace_above(directory, config_option)
    if found is None or found[0] == directory:
        return None
    root, document, is_work = found
    relative = os.path.relpath(directory, root)
    if is_work:
        modules = [os.path.normpath(str(entry)) for entry in document.get("directories") or []]
    elif str(document.get("version")) == "v2" and isinstance(document.get("modules"), list) and document["modules"]:
        modules = [os.path.normpath(str(m.get("path", "."))) if isinstance(m, Mapping) else "."
                   for m in document["modules"]]
    else:
        modules = ["."]
    for module in modules:
        if module != "." and relative == module:
            if is_work or str(document.get("version")) != "v2":
                return None  # a buf.work.yaml directory: laid out by its own buf.yaml, as a standalone input
            return _v2_module(document, module)
        if module == "." or relative.startswith(module + "/"):
            raise InputError(f'failed to build input "{relative}" because it is contained by module at path '
                             f'"{module}" specified in your configuration, you must provide the workspace or '
                             "module as the input, and filter to this path using --path")
    return None


def _v2_module(document: Mapping[str, Any], module: str) -> Enclosed:
    """One module of a v2 workspace as the input: its unit (root ".") and its excludes, input-relative."""
    unit = next(u for u in _v2_units(document) if u.root == module)
    entry = next(m for m in document["modules"]
                 if isinstance(m, Mapping) and os.path.normpath(str(m.get("path", "."))) == module)
    excludes = _module_relative([os.path.normpath(str(e)) for e in entry.get("excludes") or []], module)
    return Enclosed([replace(unit, root=".")], {"version": "v2", "modules": [{"path": ".", "excludes": excludes}]})
