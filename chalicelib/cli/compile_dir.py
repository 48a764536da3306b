"""Compile a directory of .proto files into a FileDescriptorSet with protoc.

Every .proto under the directory is compiled with the directory as include root (as buf treats a
directory input), with imports and source info, so positions in findings point into the sources.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from google.protobuf import descriptor_pb2

from chalicelib.adapters.protoc import find_protoc


class CompileError(Exception):
    """protoc is missing or rejected the sources; the message carries protoc's own diagnostics."""


def _protoc() -> str:
    """The same protoc the registry uses (SPOKE_PROTOC_PATH, the layer, PATH, beside this Python)."""
    try:
        return find_protoc()
    except RuntimeError as error:
        raise CompileError(str(error)) from None


def _well_known_include(protoc: str) -> list[str]:
    """The include/ directory shipped next to protoc's bin/, if any (google/protobuf/*.proto)."""
    for candidate in (Path(protoc).resolve().parent.parent / "include", Path(sys.executable).parent.parent / "include"):
        if (candidate / "google" / "protobuf" / "descriptor.proto").exists():
            return [f"-I{candidate}"]
    return []


def proto_files(directory: Path) -> list[str]:
    """All .proto files under `directory`, as sorted paths relative to it."""
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*.proto") if p.is_file())


def compile_directory(
    directory: str | os.PathLike[str], roots: Sequence[str] = (".",)
) -> descriptor_pb2.FileDescriptorSet:
    """Compile every .proto under each root (relative to `directory`); the roots are the include paths.

    A plain directory has one root, itself; a buf.yaml v2 workspace lists its module directories.
    """
    base = Path(directory).resolve()
    if not base.is_dir():
        raise CompileError(f"{directory}: not a directory")
    include_args: list[str] = []
    files: list[str] = []
    for root in roots:
        root_path = (base / root).resolve()
        if not root_path.is_dir():
            raise CompileError(f"{directory}: module directory {root} does not exist")
        include_args.append(f"-I{root_path}")
        files += [str(root_path / relative) for relative in proto_files(root_path)]
    if not files:
        raise CompileError(f"{directory}: no .proto files found")
    protoc = _protoc()
    with tempfile.TemporaryDirectory(prefix="spoke-protoc-") as tmp:
        out = Path(tmp) / "image.binpb"
        arguments = Path(tmp) / "arguments.txt"  # an @file keeps thousands of paths off the command line
        arguments.write_text("\n".join(files))
        command = [protoc, *include_args, *_well_known_include(protoc), "--include_imports", "--include_source_info",
                   f"--descriptor_set_out={out}", f"@{arguments}"]
        try:
            proc = subprocess.run(command, capture_output=True, text=True, cwd=base)
        except OSError as error:
            raise CompileError(f"could not run protoc ({protoc}): {error}") from error
        if proc.returncode != 0:
            raise CompileError((proc.stderr or proc.stdout).strip() or f"protoc exited with {proc.returncode}")
        fds = descriptor_pb2.FileDescriptorSet()
        fds.ParseFromString(out.read_bytes())
    sources = {}
    for root in roots:
        root_path = (base / root).resolve()
        for relative in proto_files(root_path):
            sources.setdefault(relative, root_path / relative)
    align_source_info_with_buf(fds, sources)
    return fds


_DEFAULT_PREFIX = re.compile(r"default\s*=\s*$")
FIELD_DEFAULT, FIELD_TYPE, FIELD_TYPE_NAME = 7, 5, 6


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
                match = _DEFAULT_PREFIX.search(line[: span[1]])
                if match:
                    location.span[1] = match.start()
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
