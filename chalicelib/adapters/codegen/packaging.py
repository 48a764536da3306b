"""Pure helpers: Go import plans, deterministic ZIPs, manifests and the runtime each output needs."""
from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import re
import zipfile
from dataclasses import dataclass
from typing import Iterable, Mapping


from chalicelib.domain.go_paths import GoPrefix, go_import_path_problem, go_package_name
from chalicelib.adapters.protoc import check_input_name
from chalicelib.adapters.codegen.languages import (ERROR_LIMIT, GRPC_GO_SUPPORT_PACKAGE, MANIFEST_SCHEMA, RUNTIME_MAJOR,
                                                   ZIP_DATE)


# --- pure helpers (unit-tested) --------------------------------------------------------------------

@dataclass(frozen=True)
class GoImportPlan:
    import_paths: dict[str, str]         # every file that has one → its Go import path
    mappings: dict[str, str]             # files without go_package → the path given by the prefix (M flags)
    missing: tuple[str, ...]             # files with neither
    invalid: tuple[str, ...] = ()        # "file: why": import paths Go refuses (e.g. go_package "../../x")


def go_import_plan(go_packages: Mapping[str, str | None], prefix: str | GoPrefix | None,
                   proto_packages: Mapping[str, str] | None = None,
                   file_prefixes: Mapping[str, GoPrefix] | None = None) -> GoImportPlan:
    """go_packages: {proto file: its go_package option or None}, for the files and all their imports.

    A file without go_package goes under `<prefix>/<its directory>`: its own entry in `file_prefixes` (a
    dependency's files, under that module's prefix), else `prefix` (a plain string: a module's own
    go_package_prefix). Files under a derived prefix (the registry's) get the Go package name buf's
    managed mode gives from proto_packages ({file: proto package}; `user.v1` -> `userv1`) when the files
    that share their import path agree on one proto package; others keep protoc-gen-go's default name."""
    own = GoPrefix(prefix) if isinstance(prefix, str) else prefix
    import_paths, mappings, missing, invalid, named = {}, {}, [], [], set()
    for name in sorted(go_packages):
        option = go_packages[name]
        chosen = (file_prefixes or {}).get(name, own)
        if option:
            import_paths[name] = option.split(";", 1)[0]
            problem = go_import_path_problem(import_paths[name])
            if problem:
                invalid.append(f"{name}: go_package \"{option[:80]}\" is not a Go import path ({problem})")
        elif chosen is not None and chosen.path.strip().rstrip("/"):
            root, directory = chosen.path.strip().rstrip("/"), posixpath.dirname(name)
            mappings[name] = import_paths[name] = f"{root}/{directory}" if directory else root
            if chosen.derived:
                named.add(name)
        else:
            missing.append(name)
    if named:
        mappings = _named_mappings(mappings, proto_packages or {}, named)
    return GoImportPlan(import_paths, mappings, tuple(missing), tuple(invalid))


def _named_mappings(mappings: Mapping[str, str], proto_packages: Mapping[str, str], named: set[str]
                    ) -> dict[str, str]:
    """`path;name` for the `named` files whose import path's files share one proto package (protoc-gen-go
    refuses one Go package with two names, so a path whose files disagree keeps its default name)."""
    by_path: dict[str, set[str]] = {}
    for file_name, path in mappings.items():
        by_path.setdefault(path, set()).add(proto_packages.get(file_name, ""))
    result = dict(mappings)
    for file_name in named:
        path = mappings[file_name]
        if len(by_path[path]) == 1:
            result[file_name] = f"{path};{go_package_name(next(iter(by_path[path])), path)}"
    return result


def go_m_flags(mappings: Mapping[str, str], option: str = "go_opt") -> list[str]:
    """protoc arguments mapping files to Go import paths: --go_opt=Mfile=path, sorted."""
    return [f"--{option}=M{name}={mappings[name]}" for name in sorted(mappings)]


def go_module_root(own_files: Iterable[str], import_paths: Mapping[str, str]) -> str | None:
    """The module path under which source-relative output compiles as is: every file's import path must
    be <root>/<dir of the file>. None when they disagree."""
    roots = set()
    for name in own_files:
        directory, path = posixpath.dirname(name), import_paths.get(name)
        if path is None:
            return None
        if not directory:
            roots.add(path)
        elif path.endswith("/" + directory) and len(path) > len(directory) + 1:
            roots.add(path[: -len(directory) - 1])
        else:
            return None
    return roots.pop() if len(roots) == 1 else None


def render_go_mod(module_path: str, protobuf_version: str, grpc_version: str | None = None,
                  go_version: str = "1.19") -> str:
    requires = [f"\tgoogle.golang.org/protobuf {_go_version(protobuf_version)}"]
    if grpc_version:
        requires.insert(0, f"\tgoogle.golang.org/grpc {_go_version(grpc_version)}")
    return f"module {module_path}\n\ngo {go_version}\n\nrequire (\n" + "\n".join(requires) + "\n)\n"


def _go_version(version: str) -> str:
    return version if version.startswith("v") else f"v{version}"


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


def trim_error(text: str, roots: Iterable[str] = (), limit: int = ERROR_LIMIT) -> str:
    """protoc's stderr without the private directories' paths, cut to about `limit` characters."""
    for root in sorted((r for r in roots if r), key=len, reverse=True):
        text = text.replace(root.rstrip(os.sep) + os.sep, "").replace(root, ".")
    text = text.strip() or "failed with no message"
    if len(text) > limit:
        text = text[:limit].rstrip() + "\n... (truncated)"
    return text


def _search(pattern: str, generated: Mapping[str, bytes], suffix: str) -> str | None:
    regex = re.compile(pattern.encode())
    for path in sorted(generated):
        if path.endswith(suffix):
            match = regex.search(generated[path])
            if match:
                return match.group(1).decode()
    return None


def _table_version(language: str, protoc_version: str) -> str:
    return f"{RUNTIME_MAJOR[language]}.{protoc_version}"


def runtime_requirements(language: str, generated: Mapping[str, bytes], protoc_version: str,
                         plugin_versions: Mapping[str, str]) -> list[dict[str, str]]:
    """What consumers need to build/run the generated code, from the gencode's own version markers
    where it has them (source "gencode"), else from the plugin's version or the table above."""
    def entry(ecosystem, package, version, requirement, source, note=""):
        item = {"ecosystem": ecosystem, "package": package, "version": version,
                "requirement": requirement, "source": source}
        if note:
            item["note"] = note
        return item

    def major(version: str) -> int:
        return int(version.split(".", 1)[0])

    if language in ("python", "pyi"):
        found = _search(r"# Protobuf Python Version: ([0-9][0-9.]*)", generated, "_pb2.py")
        version, source = (found, "gencode") if found else (_table_version("python", protoc_version), "table")
        items = [entry("pypi", "protobuf", version, f"protobuf>={version},<{major(version) + 1}", source)]
        grpc = _search(r"GRPC_GENERATED_VERSION = '([0-9.]+)'", generated, "_pb2_grpc.py")
        if grpc:
            items.append(entry("pypi", "grpcio", grpc, f"grpcio>={grpc}", "gencode"))
        return items
    if language == "go":
        protobuf = plugin_versions.get("protoc-gen-go") or _search(r"protoc-gen-go v([0-9.]+)", generated, ".pb.go")
        items = [entry("go", "google.golang.org/protobuf", _go_version(protobuf or "1.28.1"),
                       f"google.golang.org/protobuf {_go_version(protobuf or '1.28.1')}", "plugin")]
        support = _search(r"grpc\.SupportPackageIsVersion(\d+)", generated, "_grpc.pb.go")
        if support:
            minimum = GRPC_GO_SUPPORT_PACKAGE.get(int(support))
            items.insert(0, entry("go", "google.golang.org/grpc", minimum or "",
                                  f"google.golang.org/grpc {minimum}" if minimum else "google.golang.org/grpc",
                                  "gencode", f"needs grpc.SupportPackageIsVersion{support}"))
        return items
    if language in ("java", "kotlin"):
        found = _search(r"// Protobuf Java Version: ([0-9][0-9.]*)", generated, ".java")
        version, source = (found, "gencode") if found else (_table_version("java", protoc_version), "table")
        items = [entry("maven", "com.google.protobuf:protobuf-java", version,
                       f"com.google.protobuf:protobuf-java:{version}", source)]
        if language == "kotlin":
            items.append(entry("maven", "com.google.protobuf:protobuf-kotlin", version,
                               f"com.google.protobuf:protobuf-kotlin:{version}", source))
        return items
    if language == "cpp":
        found = _search(r"// Protobuf C\+\+ Version: ([0-9][0-9.]*)", generated, ".pb.h")
        version, source = (found, "gencode") if found else (_table_version("cpp", protoc_version), "table")
        return [entry("c++", "protobuf", version, f"protobuf=={version}", source,
                      "the C++ runtime must be exactly this version")]
    if language == "csharp":
        version = _table_version("csharp", protoc_version)
        return [entry("nuget", "Google.Protobuf", version, f"Google.Protobuf >= {version}", "table")]
    if language == "ruby":
        version = _table_version("ruby", protoc_version)
        return [entry("rubygems", "google-protobuf", version,
                      f"google-protobuf >= {version}, < {major(version) + 1}", "table")]
    if language == "php":
        version = _table_version("php", protoc_version)
        return [entry("composer", "google/protobuf", version, f"google/protobuf ^{version}", "table")]
    if language == "objc":
        version = _table_version("objc", protoc_version)
        gencode = _search(r"GOOGLE_PROTOBUF_OBJC_VERSION < (\d+)", generated, ".pbobjc.h")
        note = f"the library must define GOOGLE_PROTOBUF_OBJC_VERSION >= {gencode}" if gencode else ""
        return [entry("cocoapods", "Protobuf", version, f"Protobuf >= {version}", "table", note)]
    return []


def build_manifest(*, module: str, version: str, language: str, protoc_version: str,
                   plugins: Mapping[str, str], generated: Mapping[str, bytes], sources: Mapping[str, bytes],
                   runtime: list[dict[str, str]], extras: Iterable[str] = (), notes: Iterable[str] = (),
                   go: Mapping[str, object] | None = None) -> dict[str, object]:
    manifest: dict[str, object] = {
        "schema": MANIFEST_SCHEMA,
        "module": module,
        "version": version,
        "language": language,
        "generator": {"protoc": protoc_version, "plugins": dict(sorted(plugins.items()))},
        "sources": [{"path": path, "sha256": hashlib.sha256(sources[path]).hexdigest()} for path in sorted(sources)],
        "files": [{"path": path, "sha256": hashlib.sha256(generated[path]).hexdigest(), "size": len(generated[path])}
                  for path in sorted(generated)],
        "extras": sorted(extras),
        "runtime": runtime,
        "notes": list(notes),
    }
    if go is not None:
        manifest["go"] = dict(go)
    return manifest


def manifest_bytes(manifest: Mapping[str, object]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def check_proto_paths(files: Iterable[str]) -> None:
    """The same rule run_protoc applies to its inputs (relative .proto paths that cannot become options)."""
    for name in files:
        check_input_name(name)
