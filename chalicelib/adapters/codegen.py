"""Generates code for a published version in every supported language, one ZIP per language.

Used by the compile function, which runs with the protoc Lambda layer (layers/protoc) at /opt.

How a generation runs:
1. The version's files go under one include root, its dependencies' files under another; the
   layer's well-known types are found by protoc itself (../include beside its binary).
2. One protoc pass writes the FileDescriptorSet (imports and source info included). It validates the
   sources once for every language, is the `descriptor_set` output, and tells which files have
   services and which Go import path each file has (`go_package`, else `go_package_prefix`).
3. One protoc run produces every other requested language, each into its own directory. Only the
   version's own files are inputs; dependencies are on the include path only. If that run fails, each
   language is run on its own, so one failing generator or plugin fails only its language.
   Python gRPC stubs come from grpcio-tools (`python -m grpc_tools.protoc --grpc_python_out`), a
   separate run, when grpcio-tools is importable and a file has services.
4. Each language's output is packed into a deterministic ZIP (sorted entries, fixed timestamps and
   modes) with `spoke-manifest.json` (module, version, generator versions, per-file sha256, the
   runtime the code needs) and, for Python, `requirements.txt`, for Go, `go.mod`.

Layout choices:
- Every language writes under its natural paths, relative to the ZIP's root: Python, pyi, Ruby, C++,
  Objective-C and Go beside the .proto path (`acme/shop/v1/order_pb2.py`); Java and Kotlin under their
  Java package; C# and PHP under their namespace (C# with `base_namespace=`, so that files of the same
  name in different packages do not collide).
- Go uses `paths=source_relative`: `acme/shop/v1/order.proto` gives `acme/shop/v1/order.pb.go`
  whatever its import path, one predictable file per .proto. A file without `go_package` gets the
  import path `<go_package_prefix>/<dir of the file>` (protoc `M` flags, for dependencies too), so with
  a registry-wide prefix the ZIP is a ready Go module: `go.mod` declares `module <prefix>` and
  `<prefix>/acme/shop/v1` is the package of `acme/shop/v1/*.proto`. The ZIPs of a module and of its
  dependencies unpack into one tree that is one Go module. `go.mod` is written whenever the import
  paths agree with the layout; when a file's own `go_package` does not, the manifest says so and
  lists each file's import path instead.
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from google.protobuf import descriptor_pb2

from chalicelib.adapters.protoc import find_protoc

TIMEOUT_SECONDS = 120
ERROR_LIMIT = 4096
MANIFEST_NAME = "spoke-manifest.json"
MANIFEST_SCHEMA = 1
DESCRIPTOR_SET_NAME = "descriptor_set.binpb"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
GRPC_TOOLS = "grpcio-tools"


@dataclass(frozen=True)
class Language:
    """One output. `protoc_flags` are protoc's arguments, `{out}` standing for the output directory."""
    name: str
    description: str
    protoc_flags: tuple[str, ...]
    plugin: str | None = None            # a protoc plugin binary the flags need (besides protoc)
    grpc: str | None = None              # what makes gRPC stubs: a plugin binary, or "grpcio-tools"
    grpc_flags: tuple[str, ...] = ()
    runtime_note: str = ""


LANGUAGES: dict[str, Language] = {language.name: language for language in (
    Language("go", "Go: <file>.pb.go, and <file>_grpc.pb.go for files with services; go.mod",
             ("--go_out={out}", "--go_opt=paths=source_relative"), plugin="protoc-gen-go",
             grpc="protoc-gen-go-grpc", grpc_flags=("--go-grpc_out={out}", "--go-grpc_opt=paths=source_relative"),
             runtime_note="google.golang.org/protobuf at protoc-gen-go's version; google.golang.org/grpc "
                          "for the gRPC stubs (both in go.mod)"),
    Language("python", "Python: <file>_pb2.py, and <file>_pb2_grpc.py for files with services; requirements.txt",
             ("--python_out={out}",), grpc=GRPC_TOOLS,
             runtime_note="protobuf >= the gencode version, same major; grpcio for the gRPC stubs"),
    Language("pyi", "Python type stubs: <file>_pb2.pyi", ("--pyi_out={out}",),
             runtime_note="stubs for the python output; protobuf as for python"),
    Language("java", "Java: <java_package>/<OuterClass>.java (or one file per type with java_multiple_files)",
             ("--java_out={out}",), runtime_note="com.google.protobuf:protobuf-java at the gencode version"),
    Language("kotlin", "Kotlin DSL: <OuterClass>Kt.proto.kt and <Message>Kt.kt, with the Java classes they extend",
             ("--java_out={out}", "--kotlin_out={out}"),
             runtime_note="com.google.protobuf:protobuf-kotlin (and protobuf-java) at the gencode version"),
    Language("cpp", "C++: <file>.pb.h and <file>.pb.cc", ("--cpp_out={out}",),
             runtime_note="libprotobuf of exactly the gencode version (PROTOBUF_VERSION is checked)"),
    Language("csharp", "C#: <Namespace dirs>/<File>.cs", ("--csharp_out={out}", "--csharp_opt=base_namespace="),
             runtime_note="NuGet Google.Protobuf"),
    Language("ruby", "Ruby: <file>_pb.rb", ("--ruby_out={out}",), runtime_note="gem google-protobuf"),
    Language("php", "PHP: one class per message/enum under its namespace, GPBMetadata/<File>.php per file",
             ("--php_out={out}",), runtime_note="composer google/protobuf"),
    Language("objc", "Objective-C: <File>.pbobjc.h and <File>.pbobjc.m", ("--objc_out={out}",),
             runtime_note="the Protobuf pod / library sources, GOOGLE_PROTOBUF_OBJC_VERSION checked"),
    Language("descriptor_set", f"The FileDescriptorSet ({DESCRIPTOR_SET_NAME}), imports and source info included",
             (f"--descriptor_set_out={{out}}/{DESCRIPTOR_SET_NAME}", "--include_imports", "--include_source_info"),
             runtime_note="google/protobuf/descriptor.proto FileDescriptorSet; no runtime needed"),
)}

# Runtime major version per language for protoc 36.x (the layer's pin), after protobuf.dev's
# version-support table: used only where the generated code does not state its version (it does for
# Python, Java and C++, whose headers win over this table).
RUNTIME_MAJOR = {"python": 7, "cpp": 7, "java": 4, "kotlin": 4, "csharp": 3, "ruby": 4, "php": 4, "objc": 4}
# The oldest google.golang.org/grpc that provides grpc.SupportPackageIsVersionN.
GRPC_GO_SUPPORT_PACKAGE = {7: "v1.32.0"}


# --- results ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LanguageOutput:
    language: str
    zip_bytes: bytes | None = None
    error: str | None = None
    files: tuple[str, ...] = ()          # generated files in the ZIP (manifest and extras aside)
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.zip_bytes is not None

    @property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.zip_bytes).hexdigest() if self.zip_bytes is not None else None


@dataclass(frozen=True)
class GenerationResult:
    outputs: dict[str, LanguageOutput]
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> list[str]:
        return [name for name, output in self.outputs.items() if output.ok]

    @property
    def failed(self) -> dict[str, str]:
        return {name: output.error or "" for name, output in self.outputs.items() if not output.ok}


# --- pure helpers (unit-tested) --------------------------------------------------------------------

@dataclass(frozen=True)
class GoImportPlan:
    import_paths: dict[str, str]         # every file that has one → its Go import path
    mappings: dict[str, str]             # files without go_package → the path given by the prefix (M flags)
    missing: tuple[str, ...]             # files with neither


def go_import_plan(go_packages: Mapping[str, str | None], prefix: str | None) -> GoImportPlan:
    """go_packages: {proto file: its go_package option or None}, for the files and all their imports."""
    prefix = (prefix or "").strip().rstrip("/") or None
    import_paths, mappings, missing = {}, {}, []
    for name in sorted(go_packages):
        option = go_packages[name]
        if option:
            import_paths[name] = option.split(";", 1)[0]
        elif prefix:
            directory = posixpath.dirname(name)
            mappings[name] = import_paths[name] = f"{prefix}/{directory}" if directory else prefix
        else:
            missing.append(name)
    return GoImportPlan(import_paths, mappings, tuple(missing))


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
    for name in files:
        parts = name.split("/")
        if (not name.endswith(".proto") or name.startswith("/") or "\\" in name
                or any(part in ("", ".", "..") for part in parts)):
            raise ValueError(f"not a relative .proto path: {name!r}")


# --- the generator ---------------------------------------------------------------------------------

@dataclass
class _Plan:
    """What a language needs in the protoc run, or why it cannot run."""
    flags: list[str] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    plugins: dict[str, str] = field(default_factory=dict)     # name → version, for the manifest
    python_grpc: bool = False


class CodeGenerator:
    def __init__(self, protoc_path: str | None = None, bin_dir: str | None = None,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        self._protoc = protoc_path
        self._bin_dir = os.path.abspath(bin_dir) if bin_dir else None
        self._timeout = timeout
        self._versions: dict[str, str] | None = None

    # discovery

    @property
    def protoc(self) -> str:
        """SPOKE_PROTOC_PATH, the layer's /opt/bin/protoc, PATH, beside this Python (or bin_dir/protoc)."""
        if self._protoc is None:
            candidate = os.path.join(self._bin_dir, "protoc") if self._bin_dir else None
            self._protoc = candidate if candidate and os.access(candidate, os.X_OK) else find_protoc()
        return os.path.abspath(self._protoc)  # runs happen in another working directory

    def plugin_path(self, name: str) -> str | None:
        """A plugin in bin_dir, beside protoc, on PATH, or beside this Python."""
        directories = [self._bin_dir, os.path.dirname(os.path.abspath(self.protoc))]
        for directory in directories:
            if directory:
                candidate = os.path.join(directory, name)
                if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                    return candidate
        found = shutil.which(name)
        if found:
            return found
        beside = os.path.join(os.path.dirname(sys.executable), name)
        return beside if os.path.isfile(beside) and os.access(beside, os.X_OK) else None

    def include_dir(self) -> str | None:
        """The well-known types' include root that protoc itself uses (../include or include)."""
        base = os.path.dirname(os.path.realpath(self.protoc))
        for candidate in (os.path.join(base, os.pardir, "include"), os.path.join(base, "include")):
            if os.path.isfile(os.path.join(candidate, "google", "protobuf", "descriptor.proto")):
                return os.path.normpath(candidate)
        return None

    @staticmethod
    def grpc_tools_version() -> str | None:
        """grpcio-tools' version when it is importable, else None (python gRPC stubs are then skipped)."""
        try:
            if importlib.util.find_spec("grpc_tools") is None:
                return None
            from importlib import metadata
            try:
                return metadata.version(GRPC_TOOLS)
            except metadata.PackageNotFoundError:
                from grpc_tools import grpc_version  # type: ignore[import-not-found]
                return str(grpc_version.VERSION)
        except Exception:  # noqa: BLE001 - a broken install counts as absent
            return None

    def _env(self) -> dict[str, str]:
        path = os.environ.get("PATH", "")
        directories = [d for d in (self._bin_dir, os.path.dirname(os.path.abspath(self.protoc))) if d]
        return {"PATH": os.pathsep.join([*directories, path] if path else directories)}

    def versions(self) -> dict[str, str]:
        """{"protoc": "36.2", "protoc-gen-go": "1.28.1", "protoc-gen-go-grpc": "1.0", "grpcio-tools": ...}
        for what is available."""
        if self._versions is None:
            found = {"protoc": self._tool_version(self.protoc) or ""}
            for name in ("protoc-gen-go", "protoc-gen-go-grpc"):
                path = self.plugin_path(name)
                version = self._tool_version(path) if path else None
                if version:
                    found[name] = version
            grpc_tools = self.grpc_tools_version()
            if grpc_tools:
                found[GRPC_TOOLS] = grpc_tools
            self._versions = found
        return dict(self._versions)

    def _tool_version(self, path: str) -> str | None:
        try:
            result = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30,
                                    env=self._env())
        except (OSError, subprocess.TimeoutExpired):
            return None
        words = (result.stdout or result.stderr).split()
        return words[-1].lstrip("v") if result.returncode == 0 and words else None

    # generation

    def generate(self, files: dict[str, bytes], dependency_files: dict[str, bytes], languages: list[str],
                 go_package_prefix: str | None = None, module: str = "", version: str = "") -> GenerationResult:
        requested = list(dict.fromkeys(languages))
        unknown = [name for name in requested if name not in LANGUAGES]
        if unknown:
            raise ValueError(f"unknown languages {unknown}; known: {sorted(LANGUAGES)}")
        check_proto_paths(files)
        check_proto_paths(dependency_files)
        versions = self.versions()
        if not requested:
            return GenerationResult({}, versions)
        with tempfile.TemporaryDirectory(prefix="spoke-codegen-") as work:
            return _Generation(self, work, files, dependency_files, requested, go_package_prefix,
                               module, version, versions).run()

    def _run(self, command: list[str], cwd: str, env: dict[str, str] | None = None) -> tuple[bool, str]:
        try:
            result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=self._timeout,
                                    env=env or self._env())
        except subprocess.TimeoutExpired:
            return False, f"timed out after {self._timeout:g} s"
        except OSError as error:
            return False, f"could not run {command[0]}: {error}"
        return result.returncode == 0, result.stderr


class _Generation:
    """One generate() call, in its private directory."""

    def __init__(self, generator: CodeGenerator, work: str, files: dict[str, bytes],
                 dependency_files: dict[str, bytes], requested: list[str], prefix: str | None,
                 module: str, version: str, versions: dict[str, str]) -> None:
        self.g, self.work, self.files, self.requested = generator, work, files, requested
        self.prefix, self.module, self.version, self.versions = prefix, module, version, versions
        self.src, self.deps = os.path.join(work, "src"), os.path.join(work, "deps")
        for root, tree in ((self.src, files), (self.deps, dependency_files)):
            os.makedirs(root, exist_ok=True)
            for path, content in tree.items():
                target = os.path.join(root, *path.split("/"))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as handle:
                    handle.write(content)
        self.inputs = sorted(files)
        self.include = [f"-I{self.src}", f"-I{self.deps}"]
        self.go: dict[str, object] | None = None
        self.with_services: list[str] = []                  # own files with services
        self.go_packages: dict[str, str | None] = {}        # every file → its go_package option

    def out_dir(self, language: str, fresh: bool = False) -> str:
        path = os.path.join(self.work, "out", language)
        if fresh and os.path.isdir(path):
            shutil.rmtree(path)
        os.makedirs(path, exist_ok=True)
        return path

    def error(self, text: str) -> str:
        return trim_error(text, [self.src, self.deps, self.work])

    def run(self) -> GenerationResult:
        descriptor_dir = self.out_dir("descriptor_set")
        descriptor_flags = [flag.format(out=descriptor_dir) for flag in LANGUAGES["descriptor_set"].protoc_flags]
        ok, stderr = self.g._run([self.g.protoc, *self.include, *descriptor_flags, *self.inputs], cwd=self.src)
        if not ok:
            message = self.error(stderr)
            return GenerationResult({name: LanguageOutput(name, error=message) for name in self.requested},
                                    self.versions)
        fds = descriptor_pb2.FileDescriptorSet.FromString(
            Path(descriptor_dir, DESCRIPTOR_SET_NAME).read_bytes())
        self.with_services = sorted(f.name for f in fds.file if f.name in self.files and f.service)
        self.go_packages = {f.name: (f.options.go_package if f.options.HasField("go_package") else None)
                            for f in fds.file}

        plans = {name: self.plan(name) for name in self.requested if name != "descriptor_set"}
        runnable = [name for name, plan in plans.items() if plan.error is None]
        failures: dict[str, str] = {}
        if runnable:
            ok, stderr = self.protoc_run(runnable, plans)
            if not ok:
                for name in runnable:       # find out which languages fail, and keep the others
                    alone_ok, alone_err = self.protoc_run([name], plans, fresh=True)
                    if not alone_ok:
                        failures[name] = self.error(alone_err or stderr)
        for name in runnable:
            if name not in failures and plans[name].python_grpc:
                grpc_ok, grpc_err = self.python_grpc_run()
                if not grpc_ok:
                    failures[name] = self.error("grpc_tools.protoc: " + grpc_err)

        outputs: dict[str, LanguageOutput] = {}
        for name in self.requested:
            plan = plans.get(name) or _Plan()
            if plan.error or name in failures:
                outputs[name] = LanguageOutput(name, error=plan.error or failures[name], notes=tuple(plan.notes))
            else:
                outputs[name] = self.package(name, plan)
        return GenerationResult(outputs, self.versions)

    def plan(self, name: str) -> _Plan:
        language, plan = LANGUAGES[name], _Plan()
        plan.flags = list(language.protoc_flags)
        if name == "go":
            gen_go = self.g.plugin_path("protoc-gen-go")
            if gen_go is None:
                return _Plan(error="protoc-gen-go not found (beside protoc, in bin_dir or on PATH)")
            plan.plugins["protoc-gen-go"] = self.versions.get("protoc-gen-go", "")
            go_plan = go_import_plan(self.go_packages, self.prefix)
            if go_plan.missing:
                return _Plan(error="no Go import path for " + ", ".join(go_plan.missing)
                             + ": the files have no go_package option and no go_package_prefix was given")
            plan.flags += [f"--plugin=protoc-gen-go={gen_go}", *go_m_flags(go_plan.mappings, "go_opt")]
            if self.with_services:
                gen_grpc = self.g.plugin_path("protoc-gen-go-grpc")
                if gen_grpc is None:
                    plan.notes.append("gRPC stubs not generated: protoc-gen-go-grpc not found")
                else:
                    plan.plugins["protoc-gen-go-grpc"] = self.versions.get("protoc-gen-go-grpc", "")
                    plan.flags += [*language.grpc_flags, f"--plugin=protoc-gen-go-grpc={gen_grpc}",
                                   *go_m_flags(go_plan.mappings, "go-grpc_opt")]
            own = {name_: go_plan.import_paths[name_] for name_ in self.inputs}
            root = go_module_root(self.inputs, own)
            external = sorted({path for file_name, path in go_plan.import_paths.items()
                               if file_name not in own and not path.startswith("google.golang.org/protobuf/")
                               and not (root and (path == root or path.startswith(root + "/")))})
            self.go = {"import_paths": own, "module_path": root, "paths": "source_relative",
                       "external_imports": external}
            if root is None:
                plan.notes.append("no go.mod: the files' Go import paths do not match their source-relative "
                                  "layout; place each file under its import path (go.import_paths)")
        elif name == "python" and self.with_services:
            if self.versions.get(GRPC_TOOLS):
                plan.python_grpc = True
                plan.plugins[GRPC_TOOLS] = self.versions[GRPC_TOOLS]
            else:
                plan.notes.append("gRPC stubs (*_pb2_grpc.py) not generated: grpcio-tools is not installed")
        return plan

    def protoc_run(self, names: list[str], plans: dict[str, _Plan], fresh: bool = False) -> tuple[bool, str]:
        flags: list[str] = []
        for name in names:
            out = self.out_dir(name, fresh)
            flags += [flag.replace("{out}", out) for flag in plans[name].flags]
        return self.g._run([self.g.protoc, *self.include, *flags, *self.inputs], cwd=self.src)

    def python_grpc_run(self) -> tuple[bool, str]:
        include = list(self.include)
        wkt = self.g.include_dir()
        if wkt:
            include.append(f"-I{wkt}")
        env = self.g._env()
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
        command = [sys.executable, "-m", "grpc_tools.protoc", *include,
                   f"--grpc_python_out={self.out_dir('python')}", *self.with_services]
        return self.g._run(command, cwd=self.src, env=env)

    def collect(self, name: str) -> dict[str, bytes]:
        root = self.out_dir(name)
        found = {}
        for directory, _, names in os.walk(root):
            for file_name in names:
                full = os.path.join(directory, file_name)
                found[os.path.relpath(full, root).replace(os.sep, "/")] = Path(full).read_bytes()
        return found

    def package(self, name: str, plan: _Plan) -> LanguageOutput:
        generated = self.collect(name)
        protoc_version = self.versions.get("protoc", "")
        runtime = runtime_requirements(name, generated, protoc_version, plan.plugins)
        extras: dict[str, bytes] = {}
        notes = list(plan.notes)
        if name == "python":
            extras["requirements.txt"] = "".join(f"{item['requirement']}\n" for item in runtime).encode()
        if name == "go" and self.go and self.go.get("module_path"):
            by_package = {item["package"]: item["version"] for item in runtime}
            extras["go.mod"] = render_go_mod(str(self.go["module_path"]), by_package["google.golang.org/protobuf"],
                                             by_package.get("google.golang.org/grpc") or None).encode()
            notes.append("go.mod has no go.sum: run `go mod tidy` after unpacking")
        if name == "descriptor_set":
            notes.append("includes the imported files and source info")
        clash = set(extras) & set(generated)
        if clash:
            notes.append(f"generated files named like extras kept, extras dropped: {sorted(clash)}")
            extras = {path: content for path, content in extras.items() if path not in clash}
        manifest = build_manifest(module=self.module, version=self.version, language=name,
                                  protoc_version=protoc_version, plugins=plan.plugins, generated=generated,
                                  sources=self.files, runtime=runtime, extras=extras, notes=notes,
                                  go=self.go if name == "go" else None)
        entries = {**generated, **extras, MANIFEST_NAME: manifest_bytes(manifest)}
        return LanguageOutput(name, zip_bytes=deterministic_zip(entries), files=tuple(sorted(generated)),
                              notes=tuple(notes))
