"""Runs protoc (and plugins) for every requested output; see the package docstring for how."""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf import descriptor_pb2

from chalicelib.adapters.codegen.languages import (
    DESCRIPTOR_SET_NAME,
    GRPC_TOOLS,
    LANGUAGES,
    MANIFEST_NAME,
    TIMEOUT_SECONDS,
    GenerationResult,
    LanguageOutput,
)
from chalicelib.adapters.codegen.packaging import (
    GoRequire,
    build_manifest,
    check_proto_paths,
    deterministic_zip,
    go_import_plan,
    go_m_flags,
    go_module_root,
    go_requires,
    go_work_example,
    manifest_bytes,
    render_go_mod,
    render_pom,
    render_pyproject,
    runtime_requirements,
    trim_error,
)
from chalicelib.adapters.codegen.releases import (
    EDITIONS_SINCE,
    LAYER_DESCRIPTION,
    LayerDescription,
    ProtocRelease,
    grpc_runtime,
    read_layer,
    release_catalog,
    release_key,
    release_runtime,
    supports_editions,
)
from chalicelib.adapters.protoc import (
    Option,
    ProtocInput,
    ProtocLimits,
    ProtocRun,
    find_protoc,
    find_well_known_include,
    run_protoc,
    write_source_trees,
)
from chalicelib.domain.go_paths import GoPrefix
from chalicelib.domain.packages import PackageInfo

COMPILE_MEMORY_MIB = 2048          # per process (protoc, a plugin, grpc_tools' Python); the function has 3008 MB
_EDITION = re.compile(rb'^\s*edition\s*=\s*["\']', re.MULTILINE)


def _option(template: str, out: str = "") -> Option:
    """A trusted flag template from LANGUAGES or go_m_flags ('--go_out={out}', '--include_imports',
    '--go_opt=Mfile=path') as the (flag, value) pair run_protoc renders as one argument."""
    flag, has_value, value = template.partition("=")
    return (flag, value.replace("{out}", out) if has_value else None)


# --- the generator ---------------------------------------------------------------------------------

@dataclass
class _Plan:
    """What a language needs in the protoc run, or why it cannot run."""
    flags: list[str] = field(default_factory=list)            # templates: "{out}" is the output directory
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    plugins: dict[str, str] = field(default_factory=dict)     # name → version, for the manifest
    python_grpc: bool = False
    grpc_missing: str | None = None                           # the gRPC plugin a service needed and lacked


class CodeGenerator:
    def __init__(self, protoc_path: str | None = None, bin_dir: str | None = None,
                 timeout: float = TIMEOUT_SECONDS, memory_mib: int = COMPILE_MEMORY_MIB) -> None:
        self._protoc = protoc_path
        self._bin_dir = os.path.abspath(bin_dir) if bin_dir else None
        self.limits = ProtocLimits(timeout, memory_mib)   # every run's bounds; over one fails its languages
        self._versions: dict[str, str] | None = None
        self._layer: LayerDescription | None = None
        self._release: str | None = None                  # set on the generator of a non-default release

    # the layer's releases and gRPC plugins

    def layer_root(self) -> str | None:
        """Where spoke-protoc-layer.json is: the root of the layer whose bin/ holds the default protoc."""
        for protoc in (os.path.abspath(self.protoc), os.path.realpath(self.protoc)):
            root = os.path.dirname(os.path.dirname(protoc))
            if os.path.isfile(os.path.join(root, LAYER_DESCRIPTION)):
                return root
        return None

    def layer(self) -> LayerDescription:
        if self._layer is None:
            self._layer = read_layer(self.layer_root())
        return self._layer

    def releases(self) -> list[ProtocRelease]:
        """The protoc releases the layer carries, newest first, exactly one of them the default (the
        layer's choice, else the newest); a layer that lists none has one: its bin/protoc."""
        described = sorted(self.layer().releases, key=lambda r: release_key(r.release), reverse=True)
        if not described:
            return [ProtocRelease(self.versions().get("protoc", ""), self.protoc, self.include_dir(), True)]
        default = next((r.release for r in described if r.default), described[0].release)
        return [ProtocRelease(r.release, r.protoc, r.include, r.release == default, r.source) for r in described]

    def default_release(self) -> str:
        return next(r.release for r in self.releases() if r.default)

    def release(self) -> str:
        """The release this generator runs."""
        return self._release or self.default_release()

    def for_release(self, release: str | None) -> CodeGenerator:
        """This generator (the default release), or one that runs `release`'s protoc with the same
        plugins and bounds. ValueError for a release the layer does not carry."""
        if release is None or release == self.default_release():
            return self
        found = next((r for r in self.releases() if r.release == release), None)
        if found is None:
            raise ValueError(f"unknown protoc release {release!r}; known: {[r.release for r in self.releases()]}")
        generator = CodeGenerator(found.protoc, self._bin_dir or os.path.dirname(self.protoc),
                                  self.limits.timeout_seconds, self.limits.memory_mib)
        generator._layer, generator._release = self.layer(), found.release
        return generator

    def editions_refusal(self, sources: Mapping[str, bytes]) -> str | None:
        """Why this release cannot compile `sources` (files in editions need protoc 27 or newer), or None."""
        release = self.release()
        if supports_editions(release):
            return None
        editions = sorted(name for name, content in sources.items() if _EDITION.search(content))
        if not editions:
            return None
        return (f"protoc {release} cannot compile editions (edition = \"...\" in {', '.join(editions[:5])}): "
                f"editions need protoc {EDITIONS_SINCE}.0 or newer; compile with the default release or another "
                f"one from {EDITIONS_SINCE}.x on")

    def grpc_plugin(self, language: str) -> tuple[str, str] | None:
        """(path, version) of `language`'s gRPC plugin: the layer's `grpc_plugins` entry, else a binary
        of one of its names found as plugins are; None when there is none."""
        spec = LANGUAGES[language]
        entry = self.layer().grpc_plugins.get(spec.grpc_layer_key) if spec.grpc_layer_key else None
        if entry is not None and os.path.isfile(entry.path) and os.access(entry.path, os.X_OK):
            return entry.path, entry.version
        for binary in spec.grpc_binaries:
            path = self.plugin_path(binary)
            if path:
                return path, entry.version if entry is not None else (self._tool_version(path) or "")
        return None

    def distribution_python_grpc_plugin(self) -> tuple[str, str] | None:
        """(path, version) of the layer's grpc_python_plugin when this generator runs a distribution's
        release (Debian's 3.21.12): grpcio-tools' stubs demand grpcio >= grpcio-tools, which a team on the
        distribution's runtimes (grpcio 1.51) does not have; the distribution's plugin's stubs load there."""
        release = next((r for r in self.releases() if r.release == self.release()), None)
        entry = self.layer().grpc_plugins.get("python")
        if release is None or not release.source.startswith("Debian") or entry is None:
            return None
        return (entry.path, entry.version) if os.access(entry.path, os.X_OK) else None

    def catalog(self, languages: list[str]) -> dict[str, object]:
        """/languages' view of the layer: its releases with the runtime each language then needs, and
        which gRPC stubs each language gets (a language whose plugin is missing gets messages only)."""
        grpc: dict[str, dict[str, object]] = {}
        for name in languages:
            spec = LANGUAGES.get(name)
            if spec is None or not spec.grpc:
                continue
            if spec.grpc == GRPC_TOOLS:
                version = self.grpc_tools_version() or ""
                found = bool(version)
            elif spec.grpc_protoc_name:
                plugin = self.grpc_plugin(name)
                found, version = plugin is not None, plugin[1] if plugin else ""
            else:
                found, version = self.plugin_path(spec.grpc) is not None, self.versions().get(spec.grpc, "")
            grpc[name] = {"plugin": spec.grpc, "available": found, "version": version}
            if not found:
                grpc[name]["note"] = "messages only: files with services get no gRPC stubs (their manifest says so)"
        return {"default": self.default_release(), "releases": release_catalog(self.releases(), languages),
                "grpc": grpc}

    # discovery

    @property
    def protoc(self) -> str:
        """bin_dir/protoc, else `find_protoc()`: SPOKE_PROTOC_PATH, the layer's /opt/bin/protoc, beside this
        Python, PATH."""
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
        """The well-known types' include root that protoc itself uses (../include or include); every
        run puts it first, so no source can shadow a well-known type."""
        try:
            return find_well_known_include(self.protoc)
        except RuntimeError:
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
                from grpc_tools import grpc_version
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
            found = {"protoc": self._protoc_version() or ""}
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

    def _protoc_version(self) -> str | None:
        run = self._run([self.protoc], [], [("--version", None)], [],
                        limits=ProtocLimits(30, self.limits.memory_mib))
        words = run.stdout.split()
        return words[-1].lstrip("v") if run.ok and words else None

    def _tool_version(self, path: str) -> str | None:
        """A plugin's version (`<plugin> --version`: fixed arguments, nothing from a user)."""
        try:
            result = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30,
                                    env=self._env())
        except (OSError, subprocess.TimeoutExpired):
            return None
        words = (result.stdout or result.stderr).split()
        return words[-1].lstrip("v") if result.returncode == 0 and words else None

    # generation

    def generate(self, files: dict[str, bytes], dependency_files: dict[str, bytes], languages: list[str],
                 go_package_prefix: str | None = None, module: str = "", version: str = "",
                 descriptor_set: bytes | None = None, go_default_prefix: str | None = None,
                 go_dependency_prefixes: Mapping[str, GoPrefix] | None = None,
                 package: PackageInfo | None = None, protoc_release: str | None = None) -> GenerationResult:
        """`descriptor_set`: the version's FileDescriptorSet if already built (the registry stores one at
        publish), so that protoc runs once, with every output; without it a first pass builds it.

        Go import paths of files without go_package: under `go_package_prefix` (the module's), else under
        `go_default_prefix` (the registry's, `<host>/gen/go/<org>/<module>`), whose Go packages are then
        named after their proto package as buf's managed mode does (`user.v1` -> `userv1`). A dependency's
        files without go_package: under their module's prefix, `go_dependency_prefixes` (file -> prefix).

        `package`: the names of the module and of its dependency closure (organization slug, versions, each
        dependency's files): the manifests' `dependencies`, go.mod's requires, pyproject.toml and pom.xml.

        `protoc_release`: one of releases() (None: the default); ValueError for another."""
        requested = list(dict.fromkeys(languages))
        unknown = [name for name in requested if name not in LANGUAGES]
        if unknown:
            raise ValueError(f"unknown languages {unknown}; known: {sorted(LANGUAGES)}")
        check_proto_paths(files)
        check_proto_paths(dependency_files)
        generator = self.for_release(protoc_release)
        versions = generator.versions()
        if not requested:
            return GenerationResult({}, versions)
        refusal = generator.editions_refusal({**dependency_files, **files})
        if refusal:
            return GenerationResult({name: LanguageOutput(name, error=refusal) for name in requested}, versions)
        with tempfile.TemporaryDirectory(prefix="spoke-codegen-") as work:
            return _Generation(generator, work, files, dependency_files, requested, go_package_prefix,
                               module, version, versions, go_default_prefix,
                               go_dependency_prefixes, package).run(descriptor_set)

    def _run(self, program: Sequence[str], include: Sequence[str], options: Sequence[Option],
             inputs: Sequence[ProtocInput], env: dict[str, str] | None = None,
             limits: ProtocLimits | None = None) -> ProtocRun:
        """One protoc run (`program`: protoc, or Python's grpc_tools.protoc) through run_protoc: the
        well-known types first, inputs as absolute paths, within this generator's limits."""
        well_known = self.include_dir()
        if well_known is None:
            return ProtocRun(None, stderr=f"the well-known types (google/protobuf/*.proto) were not found beside "
                                          f"{self.protoc}")
        try:
            return run_protoc(program, well_known=well_known, include=include, options=options, inputs=inputs,
                              limits=limits or self.limits, env=env or self._env(),
                              cwd=include[0] if include else None)
        except ValueError as error:      # an argument that could have become an option: nothing ran
            return ProtocRun(None, stderr=f"refused to run protoc: {error}")
        except OSError as error:
            return ProtocRun(None, stderr=f"could not run {program[0]}: {error}")


class _Generation:
    """One generate() call, in its private directory."""

    def __init__(self, generator: CodeGenerator, work: str, files: dict[str, bytes],
                 dependency_files: dict[str, bytes], requested: list[str], prefix: str | None,
                 module: str, version: str, versions: dict[str, str], default_prefix: str | None = None,
                 dependency_prefixes: Mapping[str, GoPrefix] | None = None,
                 package: PackageInfo | None = None) -> None:
        self.g, self.work, self.files, self.requested = generator, work, files, requested
        self.package_info = package or PackageInfo("", module, version)   # names for manifests and package files
        self.go_requires: list[GoRequire] = []              # go.mod's requires of the dependency modules
        self.prefix, self.module, self.version, self.versions = prefix, module, version, versions
        self.default_prefix = default_prefix if not (prefix or "").strip() else None
        self.dependency_prefixes = dict(dependency_prefixes or {})
        self.src, self.deps = write_source_trees(work, files, dependency_files)
        self.names = sorted(files)
        self.inputs: list[ProtocInput] = [(self.src, name) for name in self.names]
        self.include = [self.src, self.deps]
        self.go: dict[str, object] | None = None
        self.with_services: list[str] = []                  # own files with services
        self.go_packages: dict[str, str | None] = {}        # every file → its go_package option
        self.proto_packages: dict[str, str] = {}            # every file → its proto package

    def out_dir(self, language: str, fresh: bool = False) -> str:
        path = os.path.join(self.work, "out", language)
        if fresh and os.path.isdir(path):
            shutil.rmtree(path)
        os.makedirs(path, exist_ok=True)
        return path

    def error(self, run: ProtocRun, prefix: str = "") -> str:
        """A failed run's message for the client: the bound it went over, or protoc's trimmed stderr."""
        if run.limit_exceeded:
            return run.limit_exceeded
        return trim_error(prefix + run.stderr, [self.src, self.deps, self.work, self.g.include_dir() or ""])

    def run(self, descriptor_set: bytes | None = None) -> GenerationResult:
        descriptor_dir = self.out_dir("descriptor_set")
        if descriptor_set is not None:
            Path(descriptor_dir, DESCRIPTOR_SET_NAME).write_bytes(descriptor_set)
        else:
            descriptor_flags = [_option(flag, descriptor_dir) for flag in LANGUAGES["descriptor_set"].protoc_flags]
            run = self.g._run([self.g.protoc], self.include, descriptor_flags, self.inputs)
            if not run.ok:
                message = self.error(run)
                return GenerationResult({name: LanguageOutput(name, error=message) for name in self.requested},
                                        self.versions)
        fds = descriptor_pb2.FileDescriptorSet.FromString(
            Path(descriptor_dir, DESCRIPTOR_SET_NAME).read_bytes())
        self.with_services = sorted(f.name for f in fds.file if f.name in self.files and f.service)
        self.go_packages = {f.name: (f.options.go_package if f.options.HasField("go_package") else None)
                            for f in fds.file}
        self.proto_packages = {f.name: f.package for f in fds.file}

        plans = {name: self.plan(name) for name in self.requested if name != "descriptor_set"}
        runnable = [name for name, plan in plans.items() if plan.error is None]
        failures: dict[str, str] = {}
        if runnable:
            run = self.protoc_run(runnable, plans)
            if run.limit_exceeded:          # the sources are too big for the bounds: no language alone fits
                failures.update({name: run.limit_exceeded for name in runnable})
            elif not run.ok:
                for name in runnable:       # find out which languages fail, and keep the others
                    alone = self.protoc_run([name], plans, fresh=True)
                    if not alone.ok:
                        failures[name] = self.error(alone if alone.stderr or alone.limit_exceeded else run)
        for name in runnable:
            if name not in failures and plans[name].python_grpc:
                grpc = self.python_grpc_run()
                if not grpc.ok:
                    failures[name] = self.error(grpc, "grpc_tools.protoc: ")

        outputs: dict[str, LanguageOutput] = {}
        for name in self.requested:
            plan = plans.get(name) or _Plan()
            if plan.error or name in failures:
                # protoc's own message first, then what Spoke knows about the cause (e.g. no go_package_prefix)
                error = plan.error or "\n".join([failures[name], *plan.notes])
                outputs[name] = LanguageOutput(name, error=error, notes=tuple(plan.notes))
            else:
                outputs[name] = self.package(name, plan)
        return GenerationResult(outputs, self.versions)

    def plan(self, name: str) -> _Plan:
        language, plan = LANGUAGES[name], _Plan()
        plan.flags = list(language.protoc_flags)
        if name == "go":
            own_prefix = GoPrefix(self.default_prefix, derived=True) if self.default_prefix else self.prefix
            go_plan = go_import_plan(self.go_packages, own_prefix, self.proto_packages, self.dependency_prefixes)
            if go_plan.invalid:
                # a go_package Go would refuse must not become a go.mod module path or an import
                return _Plan(error="Go output needs valid Go import paths: " + "; ".join(go_plan.invalid[:10]))
            gen_go = self.g.plugin_path("protoc-gen-go")
            if gen_go is None:
                return _Plan(error="protoc-gen-go not found (beside protoc, in bin_dir or on PATH)")
            plan.plugins["protoc-gen-go"] = self.versions.get("protoc-gen-go", "")
            unsafe = sorted(n for n, path in go_plan.mappings.items() if "," in n or "," in path)
            if unsafe:
                # protoc joins plugin options with ',': a comma would hand protoc-gen-go an option of its own
                return _Plan(error="Go import paths cannot contain ',': " + ", ".join(
                    f"{n} -> {go_plan.mappings[n]}" for n in unsafe[:10]))
            if go_plan.missing:
                # protoc-gen-go itself refuses files without an import path; its message is the one users see.
                plan.notes.append("no Go import path for " + ", ".join(go_plan.missing)
                                  + ": no go_package option and no go_package_prefix")
            plan.flags += [f"--plugin=protoc-gen-go={gen_go}", *go_m_flags(go_plan.mappings, "go_opt")]
            if self.with_services:
                gen_grpc = self.g.plugin_path("protoc-gen-go-grpc")
                if gen_grpc is None:
                    plan.notes.append("gRPC stubs not generated: protoc-gen-go-grpc not found")
                else:
                    plan.plugins["protoc-gen-go-grpc"] = self.versions.get("protoc-gen-go-grpc", "")
                    plan.flags += [*language.grpc_flags, f"--plugin=protoc-gen-go-grpc={gen_grpc}",
                                   *go_m_flags(go_plan.mappings, "go-grpc_opt")]
            own = {name_: go_plan.import_paths[name_] for name_ in self.names if name_ in go_plan.import_paths}
            root = go_module_root(self.names, own) if len(own) == len(self.names) else None
            external = sorted({path for file_name, path in go_plan.import_paths.items()
                               if file_name not in own and not path.startswith("google.golang.org/protobuf/")
                               and not (root and (path == root or path.startswith(root + "/")))})
            self.go = {"import_paths": own, "module_path": root, "paths": "source_relative",
                       "external_imports": external}
            if root is not None and self.package_info.dependencies and self.package_info.named:
                self.go_requires, require_notes = go_requires(self.package_info, go_plan.import_paths, root)
                plan.notes += require_notes
                self.go["requires"] = [{"path": r.path, "version": r.version, "directory": r.directory}
                                       for r in self.go_requires]
                self.go["work"] = go_work_example(self.module, root, self.version, self.go_requires)
            if root is None:
                plan.notes.append("no go.mod: the files' Go import paths do not match their source-relative "
                                  "layout; place each file under its import path (go.import_paths)")
        elif language.grpc_protoc_name and self.with_services:
            found = self.g.grpc_plugin(name)
            if found is None:
                plan.grpc_missing = language.grpc
                plan.notes.append(f"gRPC stubs not generated for {', '.join(self.with_services)}: {language.grpc} "
                                  f"is not in the layer (messages only)")
            else:
                plan.plugins[str(language.grpc)] = found[1]
                plan.flags += [f"--plugin={language.grpc_protoc_name}={found[0]}", *language.grpc_flags]
        elif name == "python" and self.with_services:
            distribution_plugin = self.g.distribution_python_grpc_plugin()
            if distribution_plugin is not None:
                plan.plugins["grpc_python_plugin"] = distribution_plugin[1]
                plan.flags += [f"--plugin=protoc-gen-grpc_python={distribution_plugin[0]}", "--grpc_python_out={out}"]
            elif self.versions.get(GRPC_TOOLS):
                plan.python_grpc = True
                plan.plugins[GRPC_TOOLS] = self.versions[GRPC_TOOLS]
            else:
                plan.notes.append("gRPC stubs (*_pb2_grpc.py) not generated: grpcio-tools is not installed")
        return plan

    def protoc_run(self, names: list[str], plans: dict[str, _Plan], fresh: bool = False) -> ProtocRun:
        options: list[Option] = []
        for name in names:
            out = self.out_dir(name, fresh)
            options += [_option(flag, out) for flag in plans[name].flags]
        return self.g._run([self.g.protoc], self.include, options, self.inputs)

    def python_grpc_run(self) -> ProtocRun:
        """grpcio-tools' bundled protoc and plugin, through the same run_protoc (well-known types first)."""
        env = self.g._env()
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
        return self.g._run([sys.executable, "-m", "grpc_tools.protoc"], self.include,
                           [("--grpc_python_out", self.out_dir("python"))],
                           [(self.src, name) for name in self.with_services], env=env)

    def collect(self, name: str) -> dict[str, bytes]:
        root = self.out_dir(name)
        found = {}
        for directory, _, names in os.walk(root):
            for file_name in names:
                full = os.path.join(directory, file_name)
                found[os.path.relpath(full, root).replace(os.sep, "/")] = Path(full).read_bytes()
        return found

    def grpc_of_services_only(self, name: str, generated: dict[str, bytes]) -> dict[str, bytes]:
        """grpc_cpp_plugin writes <file>.grpc.pb.h/.cc for every input: only files with services keep them.
        grpc_csharp_plugin (1.51: no base_namespace) writes <File>Grpc.cs at the root: it goes beside its
        messages' <File>.cs when exactly one file has that name."""
        if name == "csharp":
            moved = dict(generated)
            for path in sorted(p for p in generated if "/" not in p and p.endswith("Grpc.cs")):
                beside = [p for p in generated if p.endswith("/" + path[: -len("Grpc.cs")] + ".cs")]
                target = beside[0].rsplit("/", 1)[0] + "/" + path if len(beside) == 1 else path
                if target not in moved:
                    moved[target] = moved.pop(path)
            return moved
        if name != "cpp":
            return generated
        with_services = set(self.with_services)
        return {path: content for path, content in generated.items()
                if ".grpc.pb." not in path or path.split(".grpc.pb.")[0] + ".proto" in with_services}

    def package(self, name: str, plan: _Plan) -> LanguageOutput:
        generated = self.grpc_of_services_only(name, self.collect(name))
        protoc_version = self.versions.get("protoc", "")
        release = self.g.release()
        runtime = release_runtime(name, release, generated,
                                  runtime_requirements(name, generated, protoc_version, plan.plugins))
        grpc_plugin = LANGUAGES[name].grpc if LANGUAGES[name].grpc_protoc_name else None
        if grpc_plugin in plan.plugins:
            runtime += grpc_runtime(name, grpc_plugin, plan.plugins[str(grpc_plugin)])
        extras: dict[str, bytes] = {}
        notes = list(plan.notes)
        if name == "python":
            extras["requirements.txt"] = "".join(f"{item['requirement']}\n" for item in runtime).encode()
        if name == "python" and self.package_info.named:
            pyproject, package_notes = render_pyproject(self.package_info, generated, runtime)
            extras["pyproject.toml"] = pyproject.encode()
            notes += package_notes
        if name == "java" and self.package_info.named:
            pom, package_notes = render_pom(self.package_info, runtime, generated, plan.plugins)
            extras["pom.xml"] = pom.encode()
            notes += package_notes
        if name == "go" and self.go and self.go.get("module_path"):
            by_package = {item["package"]: item["version"] for item in runtime}
            extras["go.mod"] = render_go_mod(str(self.go["module_path"]), by_package["google.golang.org/protobuf"],
                                             by_package.get("google.golang.org/grpc") or None,
                                             requires=self.go_requires).encode()
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
                                  go=self.go if name == "go" else None, package=self.package_info)
        manifest["protoc_release"] = release
        if plan.grpc_missing:
            manifest["grpc"] = {"generated": False, "plugin": plan.grpc_missing, "services": self.with_services}
        entries = {**generated, **extras, MANIFEST_NAME: manifest_bytes(manifest)}
        return LanguageOutput(name, zip_bytes=deterministic_zip(entries), files=tuple(sorted(generated)),
                              notes=tuple(notes))
