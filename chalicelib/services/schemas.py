"""Compiling a version's sources with its dependencies: the registry's protoc judgement.

Used by publish and by /validate, so both refuse exactly the same inputs. Dependencies are never read
file by file: each dependency version gives its stored FileDescriptorSet (protoc imports from it with
--descriptor_set_in) and its manifest (its own paths, for the conflict check), so the AWS calls of a
publish grow with the number of dependency versions, not with their files.
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.domain.dependencies import DependencyRef
from chalicelib.domain.errors import (
    CompileLimitExceeded,
    DependencyConflict,
    DependencyNotFound,
    InvalidProto,
    UnresolvedImport,
)
from chalicelib.domain.schema import CompileOutcome
from chalicelib.domain.uploads import UploadedFile
from chalicelib.services.ports import BlobsPort, Manifest, RegistryPort

_IMPORT_NOT_FOUND = re.compile(r'^Import "(?P<name>[^"]+)" was not found or had errors\.$')
INLINE_MANIFEST = "manifest_inline"   # the version item's copy of a small manifest (its S3 object's text)
WELL_KNOWN_PREFIX = "google/protobuf/"
_PARALLEL_READS = 16


class CompilerPort(Protocol):
    def descriptor_set(self, files: dict[str, bytes], dependency_files: dict[str, bytes] | None = None,
                       dependency_descriptors: bytes | None = None) -> CompileOutcome: ...


@dataclass
class ResolvedDependencies:
    direct: list[dict[str, str]] = field(default_factory=list)
    closure: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)   # sources, for callers that have them
    descriptor_set: bytes = b""   # every dependency file, one FileDescriptorSet (the well-known types left to protoc)


def stored_manifest(blobs: BlobsPort, item: dict[str, Any]) -> Manifest:
    """A version's manifest: the copy inline in its item when it is small, else its S3 object."""
    inline = item.get(INLINE_MANIFEST)
    return Manifest.from_text(inline) if inline else blobs.read_manifest(item["manifest_sha256"])


def inline_manifest(manifest: Manifest, max_files: int, max_bytes: int) -> str | None:
    """The manifest's text when it is small enough to live in the version item (DynamoDB items hold
    400 KB, and every read of the item pays for its size), else None."""
    if len(manifest.files) > max_files:
        return None
    text = manifest.to_text()
    return text if len(text.encode()) <= max_bytes else None


def merged_descriptor_set(descriptor_sets: list[bytes]) -> bytes:
    """One FileDescriptorSet of every file the sets name, each once; protoc's well-known types are left out
    (its own include root serves them first, whatever a stored set holds)."""
    from google.protobuf.descriptor_pb2 import FileDescriptorSet  # publish and /validate only

    merged, seen = FileDescriptorSet(), set()
    for body in descriptor_sets:
        for file in FileDescriptorSet.FromString(body).file:
            if file.name in seen or file.name.startswith(WELL_KNOWN_PREFIX):
                continue
            seen.add(file.name)
            merged.file.append(file)
    return merged.SerializeToString() if merged.file else b""


class SchemaService:
    def __init__(self, registry: RegistryPort, blobs: BlobsPort, compiler: CompilerPort) -> None:
        self._registry = registry
        self._blobs = blobs
        self._compiler = compiler

    def resolve(self, org_id: str, refs: list[DependencyRef], own_paths: set[str]) -> ResolvedDependencies:
        """The transitive closure of the named versions, their paths checked against the upload's and each
        other's, and one descriptor set of every file they bring."""
        closure: dict[str, dict[str, Any]] = {}
        items: dict[str, dict[str, Any]] = {}
        for ref in refs:
            item = self._registry.get_version(org_id, ref.module, ref.version.sort_key)
            if item is None:
                raise DependencyNotFound(f"Dependency {ref.label} is not a published version of this organization",
                                         details={"module": ref.module, "version": ref.version.name})
            items[ref.module] = item
            entries = [{"module": ref.module, "version": item["version"], "sort_key": item["sort_key"],
                        "manifest_sha256": item["manifest_sha256"],
                        "descriptor_set_sha256": item["descriptor_set_sha256"]},
                       *item.get("resolved_dependencies", [])]
            for entry in entries:
                known = closure.setdefault(entry["module"], entry)
                if known["sort_key"] != entry["sort_key"]:
                    raise DependencyConflict(
                        f"Dependencies need two versions of '{entry['module']}': {known['version']} and "
                        f"{entry['version']}; name one version of it", details={"module": entry["module"]})
        ordered = sorted(closure.values(), key=lambda e: e["module"])
        loaded = self._load(org_id, ordered, items)
        origin: dict[str, str] = {}
        for entry, (paths, _) in zip(ordered, loaded, strict=True):
            label = f"{entry['module']}@{entry['version']}"
            for path in paths:
                if path in own_paths:
                    raise DependencyConflict(f"'{path}' is both in this upload and in dependency {label}",
                                             details={"path": path, "dependency": label})
                if path in origin:
                    raise DependencyConflict(f"'{path}' comes from two dependencies: {origin[path]} and {label}",
                                             details={"path": path, "dependencies": [origin[path], label]})
                origin[path] = label
        return ResolvedDependencies(direct=[r.as_dict() for r in refs], closure=ordered,
                                    descriptor_set=merged_descriptor_set([d for _, d in loaded]))

    def _load(self, org_id: str, entries: list[dict[str, Any]], items: dict[str, dict[str, Any]]
              ) -> list[tuple[list[str], bytes]]:
        """(own paths, stored descriptor set) of each dependency version, read concurrently: a manifest
        (none when inline in an item at hand) and a descriptor set each, never a file."""
        def load(entry: dict[str, Any]) -> tuple[list[str], bytes]:
            item = items.get(entry["module"])
            if item is None and not entry.get("descriptor_set_sha256"):  # recorded before descriptor sets were
                item = self._registry.get_version(org_id, entry["module"], entry["sort_key"])
            manifest = (stored_manifest(self._blobs, item) if item is not None
                        else self._blobs.read_manifest(entry["manifest_sha256"]))
            descriptor_sha = entry.get("descriptor_set_sha256") or (item or {})["descriptor_set_sha256"]
            return [f.path for f in manifest.files], self._blobs.get_descriptor_set(descriptor_sha)

        if len(entries) <= 1:
            return [load(entry) for entry in entries]
        with ThreadPoolExecutor(max_workers=min(_PARALLEL_READS, len(entries))) as pool:
            return list(pool.map(load, entries))

    def compile(self, uploads: list[UploadedFile], dependencies: ResolvedDependencies) -> CompileOutcome:
        """protoc's verdict; an invalid set of sources raises with every error located, a run over its
        time or memory bound raises COMPILE_LIMIT_EXCEEDED (a judgement on the size, not the sources)."""
        outcome = self._compiler.descriptor_set({u.path: u.content for u in uploads}, dependencies.files,
                                                dependencies.descriptor_set or None)
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
