"""Compiling a version's sources with its dependencies: the registry's protoc judgement.

Used by publish and by /validate, so both refuse exactly the same inputs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.domain.dependencies import DependencyRef
from chalicelib.domain.errors import (CompileLimitExceeded, DependencyConflict, DependencyNotFound, InvalidProto,
                                     UnresolvedImport)
from chalicelib.domain.schema import CompileOutcome
from chalicelib.domain.uploads import UploadedFile
from chalicelib.services.ports import BlobsPort, RegistryPort

_IMPORT_NOT_FOUND = re.compile(r'^Import "(?P<name>[^"]+)" was not found or had errors\.$')


class CompilerPort(Protocol):
    def descriptor_set(self, files: dict[str, bytes], dependency_files: dict[str, bytes] | None = None
                       ) -> CompileOutcome: ...


@dataclass
class ResolvedDependencies:
    direct: list[dict[str, str]] = field(default_factory=list)
    closure: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)


class SchemaService:
    def __init__(self, registry: RegistryPort, blobs: BlobsPort, compiler: CompilerPort) -> None:
        self._registry = registry
        self._blobs = blobs
        self._compiler = compiler

    def resolve(self, org_id: str, refs: list[DependencyRef], own_paths: set[str]) -> ResolvedDependencies:
        """The transitive closure of the named versions and every file they bring."""
        closure: dict[str, dict[str, Any]] = {}
        for ref in refs:
            item = self._registry.get_version(org_id, ref.module, ref.version.sort_key)
            if item is None:
                raise DependencyNotFound(f"Dependency {ref.label} is not a published version of this organization",
                                         details={"module": ref.module, "version": ref.version.name})
            entries = [{"module": ref.module, "version": item["version"], "sort_key": item["sort_key"],
                        "manifest_sha256": item["manifest_sha256"]}, *item.get("resolved_dependencies", [])]
            for entry in entries:
                known = closure.setdefault(entry["module"], entry)
                if known["sort_key"] != entry["sort_key"]:
                    raise DependencyConflict(
                        f"Dependencies need two versions of '{entry['module']}': {known['version']} and "
                        f"{entry['version']}; name one version of it", details={"module": entry["module"]})
        files: dict[str, bytes] = {}
        origin: dict[str, str] = {}
        for entry in closure.values():
            label = f"{entry['module']}@{entry['version']}"
            for file in self._blobs.get_manifest(entry["manifest_sha256"]):
                path = file["path"]
                if path in own_paths:
                    raise DependencyConflict(f"'{path}' is both in this upload and in dependency {label}",
                                             details={"path": path, "dependency": label})
                if path in origin:
                    raise DependencyConflict(f"'{path}' comes from two dependencies: {origin[path]} and {label}",
                                             details={"path": path, "dependencies": [origin[path], label]})
                origin[path] = label
                files[path] = self._blobs.get_blob(file["sha256"])
        return ResolvedDependencies(direct=[r.as_dict() for r in refs],
                                    closure=sorted(closure.values(), key=lambda e: e["module"]), files=files)

    def compile(self, uploads: list[UploadedFile], dependencies: ResolvedDependencies) -> CompileOutcome:
        """protoc's verdict; an invalid set of sources raises with every error located, a run over its
        time or memory bound raises COMPILE_LIMIT_EXCEEDED (a judgement on the size, not the sources)."""
        outcome = self._compiler.descriptor_set({u.path: u.content for u in uploads}, dependencies.files)
        if outcome.limit_exceeded:
            raise CompileLimitExceeded(
                f"{outcome.limit_exceeded} while compiling these sources; they are too large or too complex "
                "to check in one request: split them into smaller modules that depend on each other",
                details={"limit": outcome.limit_exceeded})
        if outcome.ok:
            return outcome
        for error in outcome.errors:
            missing = _IMPORT_NOT_FOUND.match(error.message)
            if missing:
                raise UnresolvedImport(
                    f"{error.file}:{error.line} imports \"{missing['name']}\", which is neither in this version, "
                    "its declared dependencies nor the well-known types",
                    details={"import": missing["name"], "file": error.file, "line": error.line,
                             "errors": [e.as_dict() for e in outcome.errors]})
        raise InvalidProto(f"protoc found {len(outcome.errors)} error(s); see details.errors",
                           details={"errors": [e.as_dict() for e in outcome.errors],
                                    "warnings": [w.as_dict() for w in outcome.warnings]})
