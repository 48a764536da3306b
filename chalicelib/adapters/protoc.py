"""Runs protoc to turn .proto sources into a FileDescriptorSet (imports and source info included).

Sources are written to a private temporary tree: the version's own files under one include root,
its dependencies' files under another, so protoc resolves imports exactly as consumers will.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Mapping

from chalicelib.domain.schema import CompileOutcome, CompilerMessage

_LOCATED = re.compile(r"^(?P<file>[^:\n]+?):(?P<line>\d+):(?P<column>\d+): (?P<message>.*)$")
_FILE_ONLY = re.compile(r"^(?P<file>[^:\n]+?): (?P<message>.*)$")
TIMEOUT_SECONDS = 120


def write_source_trees(work: str, files: Mapping[str, bytes], dependency_files: Mapping[str, bytes]
                       ) -> tuple[str, str]:
    """The version's files under one include root, its dependencies' under another: (own, deps)."""
    own, deps = os.path.join(work, "src"), os.path.join(work, "deps")
    for root, tree in ((own, files), (deps, dependency_files)):
        os.makedirs(root, exist_ok=True)
        for path, content in tree.items():
            target = os.path.join(root, *path.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(content)
    return own, deps


def find_protoc() -> str:
    """SPOKE_PROTOC_PATH, then the Lambda layer's /opt/bin, then PATH, then beside this Python."""
    candidates = [os.environ.get("SPOKE_PROTOC_PATH"), "/opt/bin/protoc", shutil.which("protoc"),
                  str(Path(sys.executable).with_name("protoc"))]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("protoc not found: set SPOKE_PROTOC_PATH")


def _parse(stderr: str, roots: list[str]) -> tuple[list[CompilerMessage], list[CompilerMessage]]:
    errors, warnings = [], []
    for raw in stderr.splitlines():
        line = raw.strip()
        for root in roots:
            line = line.replace(root + os.sep, "")
        if not line:
            continue
        located = _LOCATED.match(line)
        if located:
            message = CompilerMessage(located["file"], int(located["line"]), int(located["column"]),
                                    located["message"])
        else:
            bare = _FILE_ONLY.match(line)
            message = (CompilerMessage(bare["file"], 0, 0, bare["message"]) if bare
                       else CompilerMessage("", 0, 0, line))
        if message.message.startswith("warning: "):
            warnings.append(CompilerMessage(message.file, message.line, message.column,
                                          message.message.removeprefix("warning: ")))
        else:
            errors.append(message)
    return errors, warnings


class ProtocRunner:
    def __init__(self, protoc_path: str | None = None) -> None:
        self._protoc = protoc_path

    @property
    def protoc(self) -> str:
        if self._protoc is None:
            self._protoc = find_protoc()
        return self._protoc

    def version(self) -> str:
        result = subprocess.run([self.protoc, "--version"], capture_output=True, text=True, timeout=30)
        return result.stdout.strip().removeprefix("libprotoc ")

    def descriptor_set(self, files: dict[str, bytes], dependency_files: dict[str, bytes] | None = None
                       ) -> CompileOutcome:
        with tempfile.TemporaryDirectory(prefix="spoke-protoc-") as work:
            own, deps = write_source_trees(work, files, dependency_files or {})
            output = os.path.join(work, "out.binpb")
            command = [self.protoc, f"-I{own}", f"-I{deps}", "--include_imports", "--include_source_info",
                       f"--descriptor_set_out={output}", *sorted(files)]
            result = subprocess.run(command, cwd=own, capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
                                    env={"PATH": os.environ.get("PATH", "")})
            errors, warnings = _parse(result.stderr, [own, deps, work])
            if result.returncode != 0:
                return CompileOutcome(None, errors or [CompilerMessage("", 0, 0, "protoc failed")], warnings)
            with open(output, "rb") as handle:
                return CompileOutcome(handle.read(), [], warnings)
