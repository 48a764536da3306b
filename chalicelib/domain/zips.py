"""Deterministic ZIPs, and the closure ZIP: a module's compiled ZIP with every dependency's, in one.

Pure (bytes in, bytes out), so the same stored ZIPs always give the same closure bytes: entries
sorted, 1980-01-01 timestamps, mode 0644, deflate level 6, whatever built them.

Closure layout (`?with_dependencies=true`):
- Go: each Go module stays its own directory (`<module name>/`, its ZIP unpacked as is) and a
  `go.work` at the top `use`s them all, so `go build ./...` in the module's directory resolves the
  `require`s of its go.mod from the directories beside it. Modules that share one Go module path
  (the same go_package_prefix) share one directory.
- Every other language: the generated files of all modules merge into one tree (their .proto paths
  are distinct, so are the generated paths); each module's manifest and package files (pyproject.toml,
  pom.xml, requirements.txt) move to `spoke-modules/<module>/`; Python gets one merged requirements.txt.
- `spoke-closure.json` at the top names every module, its version and the sha256 of its own ZIP.
"""
from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from chalicelib.domain.errors import ClosureConflict, ClosureTooLarge
from chalicelib.domain.packages import go_module_version

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
MANIFEST_NAME = "spoke-manifest.json"
CLOSURE_MANIFEST = "spoke-closure.json"
MODULES_DIR = "spoke-modules"
GO_WORK_VERSION = "1.21"   # the `go` line of the go.mod and go.work files Spoke writes: protobuf-go 1.36 needs 1.21


def deterministic_zip(entries: Mapping[str, bytes]) -> bytes:
    """A ZIP of {path: content} that depends on nothing else: sorted, 1980-01-01, 0644, deflate 6."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(entries):
            info = zipfile.ZipInfo(path, date_time=ZIP_DATE)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[path], compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    return buffer.getvalue()


@dataclass(frozen=True)
class ClosurePart:
    """One module's stored ZIP for the closure's language."""
    module: str
    version: str
    sha256: str
    zip_bytes: bytes


def render_go_work(directories: Sequence[str], replaces: Sequence[tuple[str, str, str]] = (),
                   go_version: str = GO_WORK_VERSION) -> str:
    """A go.work that uses each directory (relative to the go.work), sorted, and replaces each Spoke module
    (path, version, directory) at its version by its directory: Go otherwise looks a workspace
    module's required version up on a proxy once the graph has another module (Spoke's are on none)."""
    uses = "".join(f"\t./{d}\n" for d in sorted(set(directories)))
    text = f"go {go_version}\n\nuse (\n{uses})\n"
    if replaces:
        text += "\nreplace (\n" + "".join(f"\t{path} {version} => ./{directory}\n"
                                         for path, version, directory in sorted(set(replaces))) + ")\n"
    return text


def _read(part: ClosurePart, budget: list[int]) -> tuple[dict[str, bytes], dict[str, object]]:
    """The ZIP's entries and its manifest, within what is left of the closure's size budget."""
    with zipfile.ZipFile(io.BytesIO(part.zip_bytes)) as archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        budget[0] -= sum(i.file_size for i in infos)
        if budget[0] < 0:
            raise ClosureTooLarge("The dependency closure unpacks to more than this registry serves as one ZIP: "
                                  "download each module's ZIP (the manifest's dependencies list them)",
                                  details={"module": part.module})
        entries = {i.filename: archive.read(i) for i in infos
                   if not i.filename.startswith("/") and ".." not in i.filename.split("/")}
    manifest = json.loads(entries.get(MANIFEST_NAME, b"{}"))
    return entries, manifest if isinstance(manifest, dict) else {}


def _put(tree: dict[str, bytes], owners: dict[str, str], path: str, content: bytes, module: str) -> None:
    """Two modules may bring the same file only with the same bytes."""
    if path in tree and tree[path] != content:
        raise ClosureConflict(f"'{path}' is generated differently by {owners[path]} and {module}: download their "
                              "ZIPs one by one", details={"path": path, "modules": [owners[path], module]})
    tree.setdefault(path, content)
    owners.setdefault(path, module)


def _go_module_path(manifest: Mapping[str, object]) -> str | None:
    go = manifest.get("go")
    path = go.get("module_path") if isinstance(go, dict) else None
    return path if isinstance(path, str) and path else None


def _go_directories(manifests: Mapping[str, Mapping[str, object]], top: str) -> dict[str, str]:
    """{module: its directory}: its name, or, for modules sharing one Go module path, one directory (the
    top module's when it is among them: its go.mod requires the others)."""
    groups: dict[str, list[str]] = {}
    for module, manifest in manifests.items():
        groups.setdefault(_go_module_path(manifest) or f"#{module}", []).append(module)
    return {module: (top if top in group else min(group)) for group in groups.values() for module in group}


def closure_zip(language: str, top: str, parts: Sequence[ClosurePart], max_unpacked_bytes: int) -> bytes:
    """One deterministic ZIP of the closure's `parts` (the top module's among them; order is irrelevant)."""
    budget = [max_unpacked_bytes]
    read = {part.module: (part, *_read(part, budget)) for part in sorted(parts, key=lambda p: p.module)}
    directories = _go_directories({m: manifest for m, (_, _, manifest) in read.items()}, top) \
        if language == "go" else {}
    reserved = sorted(set(directories.values()) & {"go.work", CLOSURE_MANIFEST, MODULES_DIR})
    if reserved:
        raise ClosureConflict(f"Module '{reserved[0]}' is named like a file of the closure ZIP: download the ZIPs "
                              "one by one", details={"path": reserved[0], "modules": reserved})
    tree: dict[str, bytes] = {}
    owners: dict[str, str] = {}
    modules: list[dict[str, object]] = []
    requirements: set[str] = set()
    for module, (part, entries, manifest) in read.items():
        entry: dict[str, object] = {"module": module, "version": part.version, "sha256": part.sha256}
        listed = manifest.get("files")
        generated = {str(f.get("path")) for f in (listed if isinstance(listed, list) else []) if isinstance(f, dict)}
        if language == "go":
            directory = directories[module]
            entry.update(directory=directory, go_module=_go_module_path(manifest))
            for path, content in entries.items():
                if directory == module or path in generated:    # a shared directory keeps its owner's go.mod
                    _put(tree, owners, f"{directory}/{path}", content, module)
                else:
                    _put(tree, owners, f"{MODULES_DIR}/{module}/{path}", content, module)
        else:
            for path, content in entries.items():
                _put(tree, owners, path if path in generated else f"{MODULES_DIR}/{module}/{path}", content, module)
                if path == "requirements.txt":
                    requirements.update(line.strip() for line in content.decode().splitlines() if line.strip())
        modules.append(entry)
    in_work = {m: go_path for m, (_, _, manifest) in read.items()
               if language == "go" and (go_path := _go_module_path(manifest))}
    if in_work:
        tree["go.work"] = render_go_work([directories[m] for m in in_work], [
            (go_path, go_module_version(read[m][0].version), directories[m]) for m, go_path in in_work.items()
            if directories[m] == m]).encode()
    if requirements:
        tree["requirements.txt"] = "".join(f"{line}\n" for line in sorted(requirements)).encode()
    closure = {"schema": 1, "module": top, "version": read[top][0].version if top in read else "",
               "language": language, "modules": modules}
    tree[CLOSURE_MANIFEST] = (json.dumps(closure, indent=2, sort_keys=True) + "\n").encode()
    return deterministic_zip(tree)
