"""Pure helpers: Go import plans, deterministic ZIPs, manifests and the runtime each output needs."""
from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from chalicelib.adapters.codegen.languages import (
    ERROR_LIMIT,
    GRPC_GO_SUPPORT_PACKAGE,
    MANIFEST_SCHEMA,
    RUNTIME_MAJOR,
)
from chalicelib.adapters.protoc import check_input_name
from chalicelib.domain.go_paths import GoPrefix, go_import_path_problem, go_package_name
from chalicelib.domain.packages import (
    PackageInfo,
    dependency_entries,
    go_module_version,
    go_work_directory,
    maven_artifact,
    maven_group,
    maven_version,
    pep440_version,
    python_distribution,
)
from chalicelib.domain.zips import GO_WORK_VERSION, render_go_work
from chalicelib.domain.zips import deterministic_zip as _deterministic_zip

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


@dataclass(frozen=True)
class GoRequire:
    """A dependency module's Go module, required by the go.mod of a module that imports its code."""
    path: str            # its go.mod's module path
    version: str         # the module version as a Go version: v1.2.3
    directory: str       # where its ZIP is unpacked beside this one's (the closure ZIP's layout)
    indirect: bool = False


def render_go_mod(module_path: str, protobuf_version: str, grpc_version: str | None = None,
                  go_version: str = GO_WORK_VERSION, requires: Sequence[GoRequire] = ()) -> str:
    """go.mod: the runtime modules and every dependency module of the closure (indirect: only a dependency's
    dependency). Spoke's modules are not on a Go proxy: a go.work beside the unpacked ZIPs resolves them
    (written in the closure ZIP; the replace lines say the same for one module alone)."""
    lines = {"google.golang.org/protobuf": f"\tgoogle.golang.org/protobuf {_go_version(protobuf_version)}"}
    if grpc_version:
        lines["google.golang.org/grpc"] = f"\tgoogle.golang.org/grpc {_go_version(grpc_version)}"
    for require in requires:
        lines.setdefault(require.path, f"\t{require.path} {require.version}" + (" // indirect" if require.indirect
                                                                               else ""))
    text = f"module {module_path}\n\ngo {go_version}\n\nrequire (\n" + "\n".join(
        lines[path] for path in sorted(lines)) + "\n)\n"
    if requires:
        text += ("\n// Spoke's modules are on no Go module proxy: each is read from its Go ZIP unpacked beside "
                 "this one,\n"
                 "// in the directory named after its module (the layout of the ZIP downloaded with\n"
                 "// ?with_dependencies=true, whose go.work says the same).\n")
        text += "".join(f"replace {r.path} => ../{r.directory}\n" for r in sorted(requires, key=lambda r: r.path))
    return text


def go_requires(package: PackageInfo, import_paths: Mapping[str, str], own_root: str | None
                ) -> tuple[list[GoRequire], list[str]]:
    """(the go.mod requires of each dependency module, notes): a dependency's module path is the one its own
    go.mod declares (its files' common root, as go_module_root finds it), so both ZIPs agree."""
    requires: list[GoRequire] = []
    notes: list[str] = []
    for dependency in sorted(package.dependencies, key=lambda d: d.module):
        files = [f for f in dependency.files if f in import_paths]
        root = go_module_root(files, import_paths) if files and len(files) == len(dependency.files) else None
        if root is None:
            notes.append(f"{dependency.module} {dependency.version} has no go.mod (its files' Go import paths do "
                         "not share one module root): its Go code is not required in go.mod")
        elif root == own_root:
            notes.append(f"{dependency.module} shares this module's Go module path {root}: unpack its Go ZIP into "
                         "the same directory")
        else:
            requires.append(GoRequire(root, go_module_version(dependency.version),
                                      go_work_directory(dependency.module), not dependency.direct))
    return requires, notes


def go_work_example(module: str, module_path: str, version: str, requires: Sequence[GoRequire]) -> str:
    """The go.work that builds this module's ZIP unpacked beside its dependencies' (each in its module's name),
    as the closure ZIP writes it."""
    own = (module_path, go_module_version(version), go_work_directory(module))
    return render_go_work([own[2], *(r.directory for r in requires)],
                          [own, *((r.path, r.version, r.directory) for r in requires)])


def _pyproject_list(items: Sequence[str]) -> str:
    return "[" + "".join(f"\n    {json.dumps(item)}," for item in items) + ("\n]" if items else "]")


def python_layout(generated: Iterable[str]) -> tuple[list[str], list[str], list[str]]:
    """(packages, top-level modules, skipped directories) of the generated .py files: every directory on the
    way is a package (PEP 420 namespace packages: protoc writes no __init__.py), so setuptools ships all."""
    packages: set[str] = set()
    modules: set[str] = set()
    skipped: set[str] = set()
    for path in generated:
        if not path.endswith(".py"):
            continue
        directory, name = posixpath.split(path[:-3])
        parts = directory.split("/") if directory else []
        if not all(part.isidentifier() for part in parts):
            skipped.add(directory)
        elif parts:
            packages.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        else:
            modules.add(name)
    return sorted(packages), sorted(modules), sorted(skipped)


def render_pyproject(package: PackageInfo, generated: Iterable[str], runtime: Sequence[Mapping[str, str]]
                     ) -> tuple[str, list[str]]:
    """(pyproject.toml of the Python ZIP, notes): setuptools from PyPI builds it; it depends on the runtime
    (protobuf, grpcio when stubs exist) and on each dependency module's distribution at its version."""
    packages, modules, skipped = python_layout(generated)
    requirements = sorted({item["requirement"] for item in runtime if item.get("ecosystem") == "pypi"})
    requirements += [f"{python_distribution(package.org_slug, d.module)}=={pep440_version(d.version)}"
                     for d in sorted(package.dependencies, key=lambda d: d.module)]
    text = ('[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
            "[project]\n"
            f"name = {json.dumps(python_distribution(package.org_slug, package.module))}\n"
            f"version = {json.dumps(pep440_version(package.version))}\n"
            f"description = {json.dumps(f'Code generated by Spoke from {package.module} {package.version}')}\n"
            'requires-python = ">=3.8"\n'
            f"dependencies = {_pyproject_list(requirements)}\n\n"
            "[tool.setuptools]\n"
            f"packages = {_pyproject_list(packages)}\n"
            f"py-modules = {_pyproject_list(modules)}\n"
            "include-package-data = false\n")
    notes = [f"not importable in Python, left out of pyproject.toml: {', '.join(skipped)}"] if skipped else []
    return text, notes


def render_pom(package: PackageInfo, runtime: Sequence[Mapping[str, str]], generated: Mapping[str, bytes],
               plugins: Mapping[str, str]) -> tuple[str, list[str]]:
    """(pom.xml of the Java ZIP, notes): protobuf-java at the runtime version; grpc-stub and grpc-protobuf when
    the ZIP has gRPC stubs (*Grpc.java); the dependency modules' artifacts; the sources are the ZIP's root."""
    notes: list[str] = []
    dependencies: list[tuple[str, str, str, str]] = []      # (groupId, artifactId, version, scope)
    for item in runtime:
        if item.get("ecosystem") == "maven" and ":" in item.get("package", "") and item.get("version"):
            group, artifact = item["package"].split(":", 1)
            dependencies.append((group, artifact, item["version"], ""))
    stubs = [path for path in generated if path.endswith("Grpc.java")]
    if stubs and not any(group == "io.grpc" for group, *_ in dependencies):
        version = next((v for name, v in sorted(plugins.items()) if "grpc" in name and "java" in name and v), None)
        if version:
            dependencies += [("io.grpc", "grpc-stub", version, ""), ("io.grpc", "grpc-protobuf", version, "")]
        else:
            notes.append("gRPC stubs need io.grpc:grpc-stub and io.grpc:grpc-protobuf: their version is unknown")
    if any(b"javax.annotation.Generated" in generated[path] for path in stubs):
        dependencies.append(("javax.annotation", "javax.annotation-api", "1.3.2", "provided"))
    dependencies += [(maven_group(package.org_slug), maven_artifact(d.module), maven_version(d.version), "")
                     for d in sorted(package.dependencies, key=lambda d: d.module)]
    rendered = "".join(
        "    <dependency>\n"
        f"      <groupId>{escape(group)}</groupId>\n      <artifactId>{escape(artifact)}</artifactId>\n"
        f"      <version>{escape(version)}</version>\n" + (f"      <scope>{scope}</scope>\n" if scope else "")
        + "    </dependency>\n" for group, artifact, version, scope in dependencies)
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<project xmlns="http://maven.apache.org/POM/4.0.0" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">\n'
            "  <modelVersion>4.0.0</modelVersion>\n"
            f"  <groupId>{escape(maven_group(package.org_slug))}</groupId>\n"
            f"  <artifactId>{escape(maven_artifact(package.module))}</artifactId>\n"
            f"  <version>{escape(maven_version(package.version))}</version>\n"
            "  <packaging>jar</packaging>\n"
            f"  <description>Code generated by Spoke from {escape(package.module)} {escape(package.version)}"
            "</description>\n"
            "  <properties>\n    <maven.compiler.source>8</maven.compiler.source>\n"
            "    <maven.compiler.target>8</maven.compiler.target>\n"
            "    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>\n  </properties>\n"
            f"  <dependencies>\n{rendered}  </dependencies>\n"
            "  <build>\n    <sourceDirectory>.</sourceDirectory>\n  </build>\n</project>\n")
    return text, notes


def _go_version(version: str) -> str:
    return version if version.startswith("v") else f"v{version}"


def deterministic_zip(entries: Mapping[str, bytes]) -> bytes:
    """A ZIP of {path: content} that depends on nothing else (domain/zips.py, shared with the closure ZIP)."""
    return _deterministic_zip(entries)


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
        elif plugin_versions.get("grpc_python_plugin") and any(p.endswith("_pb2_grpc.py") for p in generated):
            grpc = plugin_versions["grpc_python_plugin"]
            items.append(entry("pypi", "grpcio", grpc, f"grpcio>={grpc}", "plugin"))
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
                   go: Mapping[str, object] | None = None, package: PackageInfo | None = None
                   ) -> dict[str, object]:
    """The ZIP's spoke-manifest.json. `dependencies`: every ZIP of the closure to unpack beside this one
    (module, version, language, its API download path), from `package`; `package`: the names it installs as."""
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
    manifest["dependencies"] = dependency_entries(package, language) if package is not None else []
    if package is None or not package.named:
        return manifest
    if language == "python":
        manifest["package"] = {"ecosystem": "pypi", "name": python_distribution(package.org_slug, module),
                               "version": pep440_version(version)}
    elif language in ("java", "kotlin"):
        manifest["package"] = {"ecosystem": "maven", "group_id": maven_group(package.org_slug),
                               "artifact_id": maven_artifact(module), "version": maven_version(version)}
    return manifest


def manifest_bytes(manifest: Mapping[str, object]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def check_proto_paths(files: Iterable[str]) -> None:
    """The same rule run_protoc applies to its inputs (relative .proto paths that cannot become options)."""
    for name in files:
        check_input_name(name)
