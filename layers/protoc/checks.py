"""Checks of an unpacked protoc layer: what `build.py --verify` and the layer's tests rely on.

Everything runs with nothing but PATH=<layer>/bin in the environment, so a tool that works here found
what it needs in the layer. Then it all runs again in a jail: a root directory holding nothing but the
layer (at /opt) and a static /bin/sh, no /lib, no /usr. What works there needs nothing from the system but
/bin/sh and the kernel, whatever glibc the system has (Lambda's python3.11 runtime: Amazon Linux 2, 2.26).
Standard library only, like build.py.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# A small service in proto3: every gRPC plugin must write its stubs for it.
SERVICE_PROTO = """\
syntax = "proto3";
package check.v1;
import "google/protobuf/timestamp.proto";
option java_package = "com.example.check.v1";
option java_multiple_files = true;
option php_namespace = "Check\\\\V1";
message PingRequest { string id = 1; google.protobuf.Timestamp at = 2; }
message PingReply { string id = 1; }
service Pinger {
  rpc Ping(PingRequest) returns (PingReply);
  rpc Watch(PingRequest) returns (stream PingReply);
}
"""
# The stub files each plugin writes for SERVICE_PROTO (paths under its --<name>_out directory).
GRPC_STUBS = {
    "cpp": {"check.grpc.pb.h", "check.grpc.pb.cc"},
    "java": {"com/example/check/v1/PingerGrpc.java"},
    "ruby": {"check_services_pb.rb"},
    "php": {"Check/V1/PingerClient.php"},
    "csharp": {"CheckGrpc.cs"},
    "objc": {"Check.pbrpc.h", "Check.pbrpc.m"},
    "python": {"check_pb2_grpc.py"},
}
EDITION_PROTO = """\
edition = "2023";
package check.editions;
option go_package = "example.com/check/editions";
message Item { string name = 1; int32 count = 2 [features.field_presence = IMPLICIT]; }
"""
SMALL_PROTO = """\
syntax = "proto3";
package check.small;
import "google/protobuf/duration.proto";
message Small { google.protobuf.Duration every = 1; map<string, int64> counts = 2; oneof o { string a = 3; } }
"""


class LayerCheckError(RuntimeError):
    pass


@dataclass(frozen=True)
class Jail:
    """A root directory with nothing but the layer at /opt and a static /bin/sh (see the module's doc)."""

    root: Path
    layer = Path("/opt")

    @classmethod
    def build(cls, layer: Path, shell: Path, under: Path) -> Jail:
        root = Path(tempfile.mkdtemp(prefix="jail-", dir=under))
        shutil.copytree(layer, root / "opt", copy_function=_link_or_copy)
        (root / "bin").mkdir()
        shutil.copy(shell, root / "bin" / "sh")
        (root / "bin" / "sh").chmod(0o755)
        (root / "tmp").mkdir()
        return cls(root)

    def run(self, command: list[str], cwd: Path | str | None) -> subprocess.CompletedProcess:
        inside = "/" + str(Path(cwd or self.root).relative_to(self.root))
        argv = [_system_tool("chroot"), str(self.root), "/bin/sh", "-c", 'cd "$0" && exec "$@"', inside, *command]
        if os.geteuid() != 0:  # an unprivileged user may chroot in a user namespace of its own
            argv = [_system_tool("unshare"), "--map-root-user", *argv]
        return subprocess.run(argv, capture_output=True, check=False, text=True, timeout=120,
                              env={"PATH": "/opt/bin"})


def _system_tool(name: str) -> str:
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
    if found is None:
        raise LayerCheckError(f"{name} not found: the jail check needs it (util-linux, coreutils)")
    return found


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _run(command: list[str], layer: Path, cwd: Path | str | None = None,
         jail: Jail | None = None) -> subprocess.CompletedProcess:
    if jail is not None:
        return jail.run(command, cwd)
    return subprocess.run(command, cwd=cwd, capture_output=True, check=False, text=True, timeout=120,
                          env={"PATH": str(layer / "bin")})


def tool_version(layer: Path, relative: str, jail: Jail | None = None) -> str:
    """`<tool> --version`'s last word, without a leading v (protoc: "libprotoc 36.2" -> "36.2")."""
    result = _run([str(layer / relative), "--version"], layer, jail.root if jail else None, jail)
    if result.returncode != 0:
        raise LayerCheckError(f"{relative} --version failed: {result.stderr.strip()}")
    return result.stdout.strip().split()[-1].lstrip("v")


def compile_with(layer: Path, protoc: str, proto: str, flags: list[str],
                 under: Path, jail: Jail | None = None) -> tuple[Path, subprocess.CompletedProcess]:
    """Runs the layer's `protoc` (a layer path) on one file in a new directory under `under`."""
    work = Path(tempfile.mkdtemp(prefix="compile-", dir=under))
    (work / "check.proto").write_text(proto)
    (work / "out").mkdir()
    return work, _run([str(layer / protoc), "-I.", *flags, "check.proto"], layer, cwd=work, jail=jail)


def written(directory: Path) -> set[str]:
    return {str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file()}


def grpc_stub_problems(layer: Path, plugins: dict[str, str], under: Path,
                       protoc: str = "bin/protoc", jail: Jail | None = None,
                       include: str | None = None) -> dict[str, str]:
    """{language: what went wrong} for each gRPC plugin that did not write its stubs for SERVICE_PROTO."""
    problems: dict[str, str] = {}
    for language, plugin in sorted(plugins.items()):
        work, result = compile_with(layer, protoc, SERVICE_PROTO,
                                    [f"--plugin=protoc-gen-grpc={layer / plugin}", "--grpc_out=out",
                                     *([f"-I{layer / include}"] if include else [])], under, jail)
        files = written(work / "out")
        if result.returncode != 0:
            problems[language] = f"{plugin}: {result.stderr.strip()}"
        elif not GRPC_STUBS[language] <= files:
            problems[language] = f"{plugin} wrote {sorted(files)}, not {sorted(GRPC_STUBS[language])}"
    return problems


def elf_files(layer: Path) -> list[Path]:
    return sorted(path for path in layer.rglob("*") if path.is_file() and path.read_bytes()[:4] == b"\x7fELF")


def _is_dynamic(path: Path) -> bool:
    """An ELF file with a PT_INTERP or PT_DYNAMIC program header (static binaries have neither)."""
    content = path.read_bytes()[:4096]
    phoff, = struct.unpack_from("<Q", content, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", content, 0x36)
    kinds = {struct.unpack_from("<I", content, phoff + i * phentsize)[0] for i in range(phnum)}
    return bool(kinds & {2, 3})


def linkage_problems(layer: Path, runtime: dict) -> list[str]:
    """Every dynamic file outside libc/ is a wrapped program (libexec/) or a library (lib/), and the layer's
    own loader resolves each library it needs inside the layer; every other ELF file is static."""
    loader = layer / runtime["loader"]
    library_path = ":".join(str(layer / folder) for folder in runtime["library_path"])
    own = {str(layer / folder) for folder in runtime["library_path"]}
    problems = []
    for path in elf_files(layer):
        relative = path.relative_to(layer)
        if relative.parts[0] == runtime["library_path"][0] or not _is_dynamic(path):
            continue
        if relative.parent.name not in ("libexec", "lib"):
            problems.append(f"{relative}: dynamic, so it would start with the system's loader and glibc")
            continue
        result = subprocess.run([str(loader), "--inhibit-cache", "--library-path", library_path, "--list", str(path)],
                                capture_output=True, check=False, text=True, env={})
        if result.returncode != 0 and not result.stdout:
            problems.append(f"{relative}: the layer's loader cannot list it: {result.stderr.strip()}")
        for line in result.stdout.splitlines():
            name, arrow, resolved = (part.strip() for part in line.partition("=>"))
            target = (resolved if arrow else name).split(" (")[0].strip()
            if target == "not found":
                problems.append(f"{relative}: {name} not found")
            elif target.startswith("/") and os.path.dirname(target) not in own:
                problems.append(f"{relative}: {os.path.basename(name)} from outside the layer ({target})")
    return problems


def jail_problems(layer: Path, description: dict, shell: Path, under: Path) -> list[str]:
    """Every protoc release compiles and every gRPC plugin writes its stubs (with the default protoc and
    with each Debian-built release) inside a Jail: nothing of the system's glibc can be involved."""
    jail = Jail.build(layer, shell, under)
    work = jail.root / "tmp"
    problems = []
    for release in description["releases"]:
        try:
            version = tool_version(jail.layer, release["protoc"], jail)
        except LayerCheckError as error:
            problems.append(f"in the jail: {error}")
            continue
        _, result = compile_with(jail.layer, release["protoc"], SMALL_PROTO,  # no /proc: -I as Spoke's runs do
                                 ["--cpp_out=out", f"-I{jail.layer / release['include']}"], work, jail)
        if version != release["release"] or result.returncode != 0:
            problems.append(f"in the jail: protoc {release['release']} ({version}): {result.stderr.strip()}")
    for release in description["releases"]:
        if release["default"] or release["source"].startswith("Debian"):
            for language, problem in grpc_stub_problems(jail.layer, description["grpc_plugins"], work,
                                                        release["protoc"], jail, release["include"]).items():
                problems.append(f"in the jail, gRPC {language} with protoc {release['release']}: {problem}")
    return problems


def check_layer(layer: Path, description: dict, runtime: dict, shell: Path) -> dict[str, str]:
    """Every check (`shell`: a static sh for the Jail); raises LayerCheckError naming each failure;
    returns {tool or release: version}."""
    with tempfile.TemporaryDirectory(prefix="spoke-layer-checks-") as scratch:
        return _check_layer(layer, description, runtime, shell, Path(scratch))


def _check_layer(layer: Path, description: dict, runtime: dict, shell: Path, under: Path) -> dict[str, str]:
    found = {name: tool_version(layer, f"bin/{name}") for name in ("protoc", "protoc-gen-go", "protoc-gen-go-grpc")}
    failures: list[str] = []
    for release in description["releases"]:
        version = tool_version(layer, release["protoc"])
        if version != release["release"]:
            failures.append(f"{release['protoc']} --version says {version}, not {release['release']}")
        work, result = compile_with(layer, release["protoc"], SMALL_PROTO,
                                    ["--descriptor_set_out=out/check.binpb", "--cpp_out=out", "--java_out=out"], under)
        if result.returncode != 0:
            failures.append(f"protoc {release['release']} cannot compile a file importing a well-known type: "
                            f"{result.stderr.strip()}")
        found[f"protoc=={release['release']}"] = version
    work, result = compile_with(layer, "bin/protoc", EDITION_PROTO, ["--go_out=out"], under)
    if result.returncode != 0 or "example.com/check/editions/check.pb.go" not in written(work / "out"):
        failures.append(f"protoc-gen-go cannot compile an edition 2023 file: {result.stderr.strip()}")
    for language, problem in grpc_stub_problems(layer, description["grpc_plugins"], under).items():
        failures.append(f"gRPC {language}: {problem}")
    failures += linkage_problems(layer, runtime)
    failures += jail_problems(layer, description, shell, under)
    if failures:
        raise LayerCheckError("the layer fails its checks:\n  " + "\n  ".join(failures))
    found.update({f"grpc {language}": version for language, version in description["grpc_plugin_versions"].items()})
    return found
