"""Checks of an unpacked protoc layer: what `build.py --verify` and the layer's tests rely on.

Everything runs with nothing but PATH=<layer>/bin in the environment, so a tool that works here found
what it needs in the layer (or in the few system libraries every Lambda runtime has). Standard library
only, like build.py; `ldd` and `readelf` (binutils) come from the build host.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
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


def _run(command: list[str], layer: Path, cwd: Path | str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, check=False, text=True, timeout=120,
                          env={"PATH": str(layer / "bin")})


def tool_version(layer: Path, relative: str) -> str:
    """`<tool> --version`'s last word, without a leading v (protoc: "libprotoc 36.2" -> "36.2")."""
    result = _run([str(layer / relative), "--version"], layer)
    if result.returncode != 0:
        raise LayerCheckError(f"{relative} --version failed: {result.stderr.strip()}")
    return result.stdout.strip().split()[-1].lstrip("v")


def compile_with(layer: Path, protoc: str, proto: str, flags: list[str],
                 under: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """Runs the layer's `protoc` (a layer path) on one file in a new directory under `under`."""
    work = Path(tempfile.mkdtemp(prefix="compile-", dir=under))
    (work / "check.proto").write_text(proto)
    (work / "out").mkdir()
    return work, _run([str(layer / protoc), "-I.", *flags, "check.proto"], layer, cwd=work)


def written(directory: Path) -> set[str]:
    return {str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file()}


def grpc_stub_problems(layer: Path, plugins: dict[str, str], under: Path,
                       protoc: str = "bin/protoc") -> dict[str, str]:
    """{language: what went wrong} for each gRPC plugin that did not write its stubs for SERVICE_PROTO."""
    problems: dict[str, str] = {}
    for language, plugin in sorted(plugins.items()):
        work, result = compile_with(layer, protoc, SERVICE_PROTO,
                                    [f"--plugin=protoc-gen-grpc={layer / plugin}", "--grpc_out=out"], under)
        files = written(work / "out")
        if result.returncode != 0:
            problems[language] = f"{plugin}: {result.stderr.strip()}"
        elif not GRPC_STUBS[language] <= files:
            problems[language] = f"{plugin} wrote {sorted(files)}, not {sorted(GRPC_STUBS[language])}"
    return problems


def elf_files(layer: Path) -> list[Path]:
    return sorted(path for path in layer.rglob("*") if path.is_file() and path.read_bytes()[:4] == b"\x7fELF")


def linkage_problems(layer: Path, system_libraries: list[str]) -> list[str]:
    """Each dynamic ELF's libraries (ldd, no LD_LIBRARY_PATH) resolve in the layer or are system ones."""
    problems = []
    for path in elf_files(layer):
        result = subprocess.run(["ldd", str(path)], capture_output=True, check=False, text=True,
                                env={"PATH": "/usr/bin:/bin"})
        if "not a dynamic executable" in result.stdout + result.stderr or "statically linked" in result.stdout:
            continue
        for line in result.stdout.splitlines():
            name, _, resolved = (part.strip() for part in line.partition("=>"))
            target = resolved.split(" (")[0].strip()
            if not resolved:  # linux-vdso, the loader itself
                name = os.path.basename(name.split(" (")[0])
                if name.startswith("linux-vdso") or name in system_libraries:
                    continue
                problems.append(f"{path.relative_to(layer)}: {line.strip()}")
            elif target == "not found":
                problems.append(f"{path.relative_to(layer)}: {name} not found")
            elif not Path(target).resolve().is_relative_to(layer.resolve()) and name not in system_libraries:
                problems.append(f"{path.relative_to(layer)}: {name} from the system ({target})")
    return problems


def _version_needs(path: Path) -> set[str]:
    """The symbol versions a file needs (readelf's version-needs section), e.g. {"GLIBC_2.34"}."""
    result = subprocess.run(["readelf", "-V", "--wide", str(path)], capture_output=True, check=False, text=True)
    needs = result.stdout.split("Version needs section", 1)
    return set(re.findall(r"Name: ([A-Z]+_[0-9.]+)", needs[1])) if len(needs) == 2 else set()


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def symbol_version_problems(layer: Path, max_versions: dict[str, str]) -> list[str]:
    """Files needing a newer glibc / libstdc++ than the target runtime has (max_versions per prefix)."""
    problems = []
    for path in elf_files(layer):
        for need in sorted(_version_needs(path)):
            prefix, _, version = need.partition("_")
            if prefix in max_versions and _key(version) > _key(max_versions[prefix]):
                problems.append(f"{path.relative_to(layer)} needs {need} (the runtime has {max_versions[prefix]})")
    return problems


def check_layer(layer: Path, description: dict, runtime: dict) -> dict[str, str]:
    """Every check; raises LayerCheckError naming each failure; returns {tool or release: version}."""
    with tempfile.TemporaryDirectory(prefix="spoke-layer-checks-") as scratch:
        return _check_layer(layer, description, runtime, Path(scratch))


def _check_layer(layer: Path, description: dict, runtime: dict, under: Path) -> dict[str, str]:
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
    failures += linkage_problems(layer, runtime["system_libraries"])
    failures += symbol_version_problems(layer, runtime["max_versions"])
    if failures:
        raise LayerCheckError("the layer fails its checks:\n  " + "\n  ".join(failures))
    found.update({f"grpc {language}": version for language, version in description["grpc_plugin_versions"].items()})
    return found
