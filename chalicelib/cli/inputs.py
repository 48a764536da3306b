"""The inputs of `spoke breaking` as buf sees them: directories laid out by their own buf.yaml /
buf.work.yaml (or `--config` / `--against-config`), and FileDescriptorSet images.

A directory's layout says which directories are include roots and which paths are excluded:
- buf.yaml v1beta1: `build.roots` (default the directory) and `build.excludes` (relative to the directory);
- buf.yaml v1: the directory is the root, `build.excludes` relative to it;
- buf.yaml v2: `modules[].path` are the roots, `modules[].excludes` relative to the workspace;
- buf.work.yaml (v1/v1beta1 workspace): `directories` are modules, each laid out by its own buf.yaml.
Files are named relative to their root; buf prints them with the input directory and root in front.
"""
from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError

from .compile_dir import compile_directory, proto_files

CONFIG_NAMES = ("buf.yaml", "buf.yml")
WORK_NAMES = ("buf.work.yaml", "buf.work.yml")
IMAGE_FILE_EXTENSION = 8042  # buf's ImageFileExtension on each FileDescriptorProto of a `buf build` image


class InputError(Exception):
    """An input or configuration we cannot use; reported like buf's `Failure: ...`."""


def read_yaml(text: str, origin: str) -> dict[str, Any]:
    """A buf.yaml-like document (YAML, so JSON too); empty means {}."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InputError(f"{origin}: invalid YAML: {error}") from error
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise InputError(f"{origin}: expected a mapping")
    return document


def read_config_option(value: str, origin: str) -> dict[str, Any]:
    """`--config` / `--against-config`: a file name, else the document itself (YAML or JSON), as buf."""
    path = Path(value)
    try:
        is_file = path.is_file()
    except OSError:  # an inline document longer than a file name can be (ENAMETOOLONG)
        is_file = False
    if is_file:
        return read_yaml(path.read_text(), value)
    return read_yaml(value, origin)


def _find(directory: Path, names: Sequence[str]) -> Path | None:
    for name in names:
        if (directory / name).is_file():
            return directory / name
    return None


def find_buf_yaml(directory: Path) -> Path | None:
    return _find(directory, CONFIG_NAMES)


@dataclass(frozen=True)
class Module:
    """One include root of an input and the paths buf leaves out (both relative to the input directory)."""

    root: str = "."
    excludes: tuple[str, ...] = ()
    name: str = "."  # the module it is a root of (a v1beta1 module may have several roots)
    # A buf.yaml-like document with this module's own `breaking` configuration, when the input has several
    # modules (a v2 `modules:` entry, a buf.work.yaml directory's buf.yaml); None: the layout's document.
    document: Mapping[str, Any] | None = field(default=None, compare=False)


@dataclass
class Layout:
    """How buf sees a directory: its modules and the document its breaking configuration comes from."""

    modules: tuple[Module, ...] = (Module(),)
    document: dict[str, Any] | None = None  # the parsed buf.yaml holding `breaking`, if any
    config_path: Path | None = None
    workspace_relative_ignores: bool = False  # buf.yaml v2: ignores name paths with the module directory

    @property
    def roots(self) -> tuple[str, ...]:
        return tuple(module.root for module in self.modules)

    @property
    def excludes(self) -> tuple[str, ...]:
        return tuple(exclude for module in self.modules for exclude in module.excludes)

    @property
    def module_names(self) -> tuple[str, ...]:
        """The distinct modules, in order (buf builds one image per module and pairs them in order)."""
        return tuple(dict.fromkeys(module.name for module in self.modules))


def _norm(*parts: str) -> str:
    return os.path.normpath(os.path.join(*parts))


def _strings(value: Any, origin: str, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list):
        raise InputError(f"{origin}: {name} must be a list of paths")
    return [str(item) for item in value]


def modules_of(document: Mapping[str, Any], origin: str, base: str = ".") -> tuple[Module, ...]:
    """The modules a buf.yaml (any version) declares, relative to the input directory (`base` is the
    buf.yaml's directory within it)."""
    version = str(document.get("version", "v1beta1"))
    build = document.get("build") or {}
    if not isinstance(build, Mapping):
        raise InputError(f"{origin}: build must be a mapping")
    if version == "v2":
        modules = document.get("modules")
        if not isinstance(modules, list) or not modules:
            return (Module(base),)
        result = []
        shared = {key: value for key, value in document.items() if key != "modules"}
        for entry in modules:
            entry = entry if isinstance(entry, Mapping) else {}
            root = os.path.normpath(str(entry.get("path", ".")))
            module_excludes = [os.path.normpath(e) for e in _strings(entry.get("excludes"), origin, "excludes")]
            for exclude in module_excludes:
                if exclude == root:
                    raise InputError(f"decode {origin}: exclude path {q(exclude)} is equal to module directory "
                                     f"{q(root)}")
            # This module's configuration: its own `breaking`, else the workspace's (ignores stay
            # workspace-relative: naming the module directory maps them onto its files).
            own: dict[str, Any] = {**shared, "modules": [{"path": root}]}
            if isinstance(entry.get("breaking"), Mapping):
                own["breaking"] = entry["breaking"]
            result.append(Module(_norm(base, root), tuple(_norm(base, e) for e in module_excludes),
                                 _norm(base, root), own))
        return tuple(result)
    excludes = tuple(_norm(base, e) for e in _strings(build.get("excludes"), origin, "build.excludes"))
    if version == "v1beta1":
        roots = _strings(build.get("roots"), origin, "build.roots") or ["."]
        return tuple(Module(_norm(base, root), tuple(e for e in excludes if _under(e, _norm(base, root))), base,
                            document) for root in roots)
    return (Module(base, excludes, base, document),)


def q(text: str) -> str:
    return '"' + text + '"'


def _under(path: str, directory: str) -> bool:
    return directory == "." or path == directory or path.startswith(directory + "/")


def layout_of(directory: Path, document: Mapping[str, Any] | None = None) -> Layout:
    """The layout of an input directory: from `document` (`--config`/`--against-config`) if given, else its
    buf.work.yaml, else its buf.yaml, else one module, the directory itself."""
    if document is not None:
        version = str(document.get("version", "v1beta1"))
        return Layout(modules_of(document, "--config"), dict(document), None, version == "v2")
    work = _find(directory, WORK_NAMES)
    if work is not None:
        return _workspace_layout(directory, work)
    config_path = find_buf_yaml(directory)
    if config_path is None:
        return Layout()
    parsed = read_yaml(config_path.read_text(), str(config_path))
    return Layout(modules_of(parsed, str(config_path)), parsed, config_path, str(parsed.get("version")) == "v2")


def _workspace_layout(directory: Path, work: Path) -> Layout:
    """A v1 buf.work.yaml: each directory is a module with its own buf.yaml; the breaking configuration is
    the first module's that has a `breaking` section (buf checks each module with its own)."""
    parsed = read_yaml(work.read_text(), str(work))
    directories = _strings(parsed.get("directories"), str(work), "directories")
    if not directories:
        raise InputError(f"{work}: directories must name at least one module")
    modules: list[Module] = []
    chosen: tuple[dict[str, Any], Path] | None = None
    for entry in directories:
        module_dir = os.path.normpath(entry)
        config_path = find_buf_yaml(directory / module_dir)
        if config_path is None:
            modules.append(Module(module_dir, name=module_dir, document={"version": "v1"}))  # buf's v1 defaults
            continue
        module_doc = read_yaml(config_path.read_text(), str(config_path))
        modules.extend(modules_of(module_doc, str(config_path), module_dir))
        if chosen is None or ("breaking" in module_doc and "breaking" not in chosen[0]):
            chosen = (module_doc, config_path)
    document, config_path = chosen if chosen is not None else (None, None)
    return Layout(tuple(modules), document, config_path)


@dataclass
class Source:
    """A compiled input: per file, the prefix buf prints before its path, and which files are the input's
    own (the rest are imports; None when the input does not say, as for a protoc image)."""

    fds: descriptor_pb2.FileDescriptorSet
    prefixes: dict[str, str] = field(default_factory=dict)
    own: frozenset[str] | None = None
    kind: str = "image"  # "directory" or "image": buf words some errors differently
    layout: Layout | None = None  # a directory's
    module_of: dict[str, str] = field(default_factory=dict)  # a directory's own files: their module's name

    def prefix(self, path: str) -> str:
        return self.prefixes.get(path, "")

    def replace_files(self, files: Sequence[descriptor_pb2.FileDescriptorProto]) -> Source:
        return Source(descriptor_pb2.FileDescriptorSet(file=files), self.prefixes, self.own, self.kind, self.layout,
                      self.module_of)

    def module(self, name: str) -> Source:
        """The files of one module, and the imports that belong to no module (e.g. well-known types)."""
        return self.replace_files([f for f in self.fds.file if self.module_of.get(f.name, name) == name])


def load_input(location: str, imports: Sequence[bytes] = (), config: Mapping[str, Any] | None = None) -> Source:
    """A directory compiled with protoc, laid out by `config` or its own buf.yaml/buf.work.yaml (its sources
    may import the files of `imports`, serialized FileDescriptorSets), or a .binpb image."""
    path = Path(location)
    if path.is_dir():
        layout = layout_of(path, config)
        fds = compile_directory(path, layout.roots, descriptor_set_in=imports, excludes=layout.excludes)
        prefixes: dict[str, str] = {}
        module_of: dict[str, str] = {}
        for module in layout.modules:
            shown = os.path.normpath(os.path.join(location, module.root))
            prefix = "" if shown == "." else shown.rstrip("/") + "/"
            for file in proto_files(path / module.root):
                if not any(_under(_norm(module.root, file), exclude) for exclude in module.excludes):
                    prefixes.setdefault(file, prefix)
                    module_of.setdefault(file, module.name)
        return Source(fds, prefixes, frozenset(prefixes), "directory", layout, module_of)
    if not path.is_file():
        raise InputError(f"{location}: no such file or directory")
    return image_source(path.read_bytes(), location)


def _is_import(file: descriptor_pb2.FileDescriptorProto) -> bool | None:
    """buf's ImageFileExtension.is_import (field 1) on a `buf build` image file; None when absent."""
    from google.protobuf import empty_pb2
    from google.protobuf.unknown_fields import UnknownFieldSet

    fields = UnknownFieldSet(file)
    for unknown in (fields[i] for i in range(len(fields))):
        if unknown.field_number == IMAGE_FILE_EXTENSION and isinstance(unknown.data, bytes):
            extension = empty_pb2.Empty()  # a message without fields: everything in it is an unknown field
            extension.ParseFromString(unknown.data)
            inner = UnknownFieldSet(extension)
            return any(inner[i].field_number == 1 and inner[i].data == 1 for i in range(len(inner)))
    return None


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
    marks = {file.name: _is_import(file) for file in fds.file}
    own = frozenset(name for name, is_import in marks.items() if not is_import)
    return Source(fds, own=own if any(mark is not None for mark in marks.values()) else None)


def _targeted(name: str, paths: Sequence[str]) -> bool:
    return any(path == "." or name == path or name.startswith(path + "/") for path in paths)


def restrict(source: Source, paths: Sequence[str], exclude_paths: Sequence[str]) -> Source:
    """Only the files `--path` names and `--exclude-path` does not."""
    if not paths and not exclude_paths:
        return source
    return source.replace_files([f for f in source.fds.file
                                 if (not paths or _targeted(f.name, paths)) and not _targeted(f.name, exclude_paths)])


def without_imports(source: Source) -> Source:
    """`--exclude-imports`: only the input's own files (a protoc image marks none as imports)."""
    if source.own is None:
        return source
    own = source.own
    return source.replace_files([f for f in source.fds.file if f.name in own])


def limited_to(source: Source, names: Collection[str], with_imports: bool = True) -> Source:
    """`--limit-to-input-files`: the against input keeps only files the input has and, as buf targets
    paths, what they import (transitively; `with_imports=False` under --exclude-imports drops those)."""
    by_name = {file.name: file for file in source.fds.file}
    kept: set[str] = set()
    pending = [name for name in names if name in by_name]
    while pending:
        name = pending.pop()
        if name not in kept:
            kept.add(name)
            if with_imports:
                pending.extend(dependency for dependency in by_name[name].dependency if dependency in by_name)
    return source.replace_files([f for f in source.fds.file if f.name in kept])
