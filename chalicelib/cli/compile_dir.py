"""Compile a directory of .proto files into a FileDescriptorSet with protoc.

Every .proto under the directory is compiled with the directory as include root (as buf treats a
directory input), with imports and source info, so positions in findings point into the sources.
"""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from google.protobuf import descriptor_pb2

from chalicelib.adapters.protoc import ProtocLimits, find_protoc, find_well_known_include, run_protoc

# A local run on a developer's or CI machine: bounded, but far above the registry's request bounds.
CLI_LIMITS = ProtocLimits(timeout_seconds=600, memory_mib=8192)


class CompileError(Exception):
    """protoc is missing or rejected the sources; the message carries protoc's own diagnostics."""


def _protoc() -> tuple[str, str]:
    """The same protoc the registry uses (SPOKE_PROTOC_PATH, the layer, PATH, beside this Python), and
    its well-known types' include root."""
    try:
        protoc = find_protoc()
        return protoc, find_well_known_include(protoc)
    except RuntimeError as error:
        raise CompileError(str(error)) from None


def proto_files(directory: Path) -> list[str]:
    """All .proto files under `directory`, as sorted paths relative to it."""
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*.proto") if p.is_file())


def _excluded(path: str, excludes: Sequence[str]) -> bool:
    return any(path == exclude or path.startswith(exclude.rstrip("/") + "/") or exclude == "."
               for exclude in (os.path.normpath(e) for e in excludes))


def compile_directory(
    directory: str | os.PathLike[str], roots: Sequence[str] = (".",), limits: ProtocLimits = CLI_LIMITS,
    descriptor_set_in: Sequence[bytes] = (), excludes: Sequence[str] = (),
) -> descriptor_pb2.FileDescriptorSet:
    """Compile every .proto under each root (relative to `directory`); the roots are the include paths.
    `descriptor_set_in`: serialized sets (e.g. registry dependencies) whose files the sources may import.
    `excludes`: directories or files (relative to `directory`, as buf.yaml `excludes`) left out of the
    sources; a source may still import them.

    A plain directory has one root, itself; a buf.yaml v2 workspace lists its module directories.
    protoc runs as everywhere else (run_protoc): its own well-known types come first, so a vendored
    copy of google/protobuf/*.proto is not compiled (imports of it get protoc's own).
    """
    base = Path(directory).resolve()
    if not base.is_dir():
        raise CompileError(f"{directory}: not a directory")
    protoc, well_known = _protoc()
    include: list[str] = []
    inputs: list[tuple[str, str]] = []
    sources: dict[str, Path] = {}
    for root in roots:
        root_path = (base / root).resolve()
        if not root_path.is_dir():
            raise CompileError(f"{directory}: module directory {root} does not exist")
        include.append(str(root_path))
        for relative in proto_files(root_path):
            if _excluded(os.path.normpath(os.path.join(root, relative)), excludes):
                continue
            if os.path.isfile(os.path.join(well_known, relative)):
                continue                      # a vendored well-known type: protoc's own is used
            inputs.append((str(root_path), relative))
            sources.setdefault(relative, root_path / relative)
    if not inputs:
        raise CompileError(f"{directory}: no .proto files found")
    with tempfile.TemporaryDirectory(prefix="spoke-protoc-") as tmp:
        out = Path(tmp).resolve() / "image.binpb"
        try:
            run = run_protoc([protoc], well_known=well_known, include=include,
                             options=[("--include_imports", None), ("--include_source_info", None),
                                      ("--descriptor_set_out", str(out))],
                             inputs=inputs, limits=limits, cwd=str(base), descriptor_set_in=descriptor_set_in)
        except ValueError as error:
            raise CompileError(f"{directory}: {error}") from None
        except OSError as error:
            raise CompileError(f"could not run protoc ({protoc}): {error}") from error
        if run.limit_exceeded:
            raise CompileError(f"{run.limit_exceeded} compiling {directory}")
        if not run.ok:
            raise CompileError((run.stderr or run.stdout).strip() or f"protoc exited with {run.returncode}")
        fds = descriptor_pb2.FileDescriptorSet()
        fds.ParseFromString(out.read_bytes())
    align_source_info_with_buf(fds, sources)
    return fds


_DEFAULT_PREFIX = re.compile(r"default\s*=\s*$")
FIELD_DEFAULT, FIELD_TYPE, FIELD_TYPE_NAME = 7, 5, 6


def _default_keyword(lines: list[str], line: int, column: int) -> tuple[int, int] | None:
    """Where the `default =` before a default value at (line, column) starts: on the same line, or on the
    nearest non-blank line above when only whitespace precedes the value."""
    match = _DEFAULT_PREFIX.search(lines[line][:column])
    if match:
        return line, match.start()
    if lines[line][:column].strip():
        return None
    for previous in range(line - 1, -1, -1):
        if lines[previous].strip():
            match = _DEFAULT_PREFIX.search(lines[previous])
            return (previous, match.start()) if match else None
    return None


def align_source_info_with_buf(fds: descriptor_pb2.FileDescriptorSet, sources: dict[str, Path]) -> None:
    """Make protoc's source info point where buf's own compiler points, for the spans findings use.

    `buf breaking` on a directory compiles it with buf's compiler, whose spans differ from protoc's in two
    places that findings report: a field default (`default = 4`, where protoc marks only `4`) and a group
    field's type (the `group` keyword, where protoc marks the group's name). Only source info changes.
    """
    for file in fds.file:
        source = sources.get(file.name)
        if source is None or not file.HasField("source_code_info"):
            continue
        lines = source.read_text(errors="replace").splitlines()
        locations = file.source_code_info.location
        type_spans: dict[tuple[int, ...], list[int]] = {}
        drop: list[int] = []
        for index, location in enumerate(locations):
            path, span = tuple(location.path), list(location.span)
            if len(span) != 3 or span[0] >= len(lines):
                continue
            line = lines[span[0]]
            if path and path[-1] == FIELD_DEFAULT and len(path) >= 3 and (len(path) == 3 and path[0] == 7 or
                                                                      len(path) >= 5 and path[-3] in (2, 6)):
                start = _default_keyword(lines, span[0], span[1])
                if start is not None and start[0] == span[0]:
                    location.span[1] = start[1]
                elif start is not None:  # `default =` on an earlier line: the span now covers two lines
                    location.span[:] = [start[0], start[1], span[0], span[2]]
            elif path and path[-1] == FIELD_TYPE and line[span[1]: span[2]] == "group":
                type_spans[path[:-1]] = span
                drop.append(index)
        if type_spans:
            for location in locations:
                path = tuple(location.path)
                if path and path[-1] == FIELD_TYPE_NAME and path[:-1] in type_spans:
                    location.span[:] = type_spans[path[:-1]]
            for index in reversed(drop):
                del locations[index]
