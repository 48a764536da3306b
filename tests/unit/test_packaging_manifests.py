"""What a module's ZIP tells about its dependencies and how it installs: manifest entries, go.mod requires,
pyproject.toml and pom.xml (pure functions of the names, versions and generated files)."""
from __future__ import annotations

import tomllib
from xml.etree import ElementTree

import pytest

from chalicelib.adapters.codegen.packaging import (
    GoRequire,
    build_manifest,
    go_requires,
    go_work_example,
    python_layout,
    render_go_mod,
    render_pom,
    render_pyproject,
)
from chalicelib.domain.packages import (
    DependencyPackage,
    PackageInfo,
    download_path,
    go_module_version,
    maven_version,
    pep440_version,
    python_distribution,
)

COMMON = DependencyPackage("common", "v1.0.0", ("acme/common/v1/money.proto",), direct=True)
TYPES = DependencyPackage("base.types", "v2.1.0-rc.1", ("base/types.proto",), direct=False)
ORDERS = PackageInfo("acme", "orders", "v1.2.0", (COMMON, TYPES))
POM = "{http://maven.apache.org/POM/4.0.0}"


@pytest.mark.parametrize(("version", "expected"), [
    ("v1.2.3", "1.2.3"), ("v1.2.3-rc.1", "1.2.3rc1"), ("v1.2.3-beta", "1.2.3b0"), ("v1.2.3-alpha.2", "1.2.3a2"),
    ("v1.2.3-nightly.5", "1.2.3.dev0+nightly.5"), ("v1.2.3+build.7", "1.2.3+build.7")])
def test_versions_become_pep440_versions_that_keep_pre_releases_below_the_release(version: str, expected: str
                                                                                    ) -> None:
    from packaging.version import Version

    # Given a published semantic version, when it names a Python distribution
    # Then it is the PEP 440 spelling, and a pre-release still sorts before its release
    assert pep440_version(version) == expected
    assert (Version(expected) < Version("1.2.3")) == ("-" in version)


def test_names_follow_each_ecosystems_rules() -> None:
    assert python_distribution("acme", "Common.Types_x") == "spoke-acme-common-types-x"   # PEP 503
    assert go_module_version("v1.2.3-rc.1+build.5") == "v1.2.3-rc.1"                       # Go refuses +build
    assert maven_version("v1.2.3-rc.1") == "1.2.3-rc.1"
    assert download_path("common", "v1.0.0+b.1", "go") == "/modules/common/versions/v1.0.0%2Bb.1/download/go"
    assert download_path("common", "v1.0.0", "java", "3.21.12") == \
        "/modules/common/versions/v1.0.0/download/java?protoc=3.21.12"


@pytest.mark.parametrize("language", ["go", "python", "java", "cpp", "csharp", "ruby", "php", "objc", "kotlin"])
def test_every_languages_manifest_names_the_dependency_zips_to_unpack_beside_it(language: str) -> None:
    # Given orders, which depends on common directly and on base.types through it
    manifest = build_manifest(module="orders", version="v1.2.0", language=language, protoc_version="36.2",
                              plugins={}, generated={}, sources={}, runtime=[], package=ORDERS)
    # Then its manifest lists both ZIPs, for the same language, with their API download paths
    assert manifest["dependencies"] == [
        {"module": "base.types", "version": "v2.1.0-rc.1", "language": language, "direct": False,
         "download_path": f"/modules/base.types/versions/v2.1.0-rc.1/download/{language}"},
        {"module": "common", "version": "v1.0.0", "language": language, "direct": True,
         "download_path": f"/modules/common/versions/v1.0.0/download/{language}"}]


def test_go_mod_requires_each_dependency_module_and_says_how_to_resolve_it() -> None:
    # Given the import paths of orders' closure: common under its own registry-derived module path
    import_paths = {"acme/orders/v1/orders.proto": "spoke.local/gen/go/acme/orders/acme/orders/v1",
                    "acme/common/v1/money.proto": "spoke.local/gen/go/acme/common/acme/common/v1",
                    "base/types.proto": "spoke.local/gen/go/acme/base.types/base"}
    # When go.mod's requires are derived
    requires, notes = go_requires(ORDERS, import_paths, "spoke.local/gen/go/acme/orders")
    text = render_go_mod("spoke.local/gen/go/acme/orders", "1.36.6", "v1.64.0", requires=requires)
    # Then each dependency's module path is required at its version as Go spells it, the indirect one so marked
    assert notes == []
    assert "\tspoke.local/gen/go/acme/common v1.0.0\n" in text
    assert "\tspoke.local/gen/go/acme/base.types v2.1.0-rc.1 // indirect\n" in text
    assert "\tgoogle.golang.org/protobuf v1.36.6\n" in text and "\tgoogle.golang.org/grpc v1.64.0\n" in text
    # And replace directives point at the directories the ZIPs unpack into side by side; so does a go.work
    assert "\nreplace spoke.local/gen/go/acme/common => ../common\n" in text
    assert go_work_example("orders", "spoke.local/gen/go/acme/orders", "v1.2.0", requires) == (
        "go 1.21\n\nuse (\n\t./base.types\n\t./common\n\t./orders\n)\n\nreplace (\n"
        "\tspoke.local/gen/go/acme/base.types v2.1.0-rc.1 => ./base.types\n"
        "\tspoke.local/gen/go/acme/common v1.0.0 => ./common\n"
        "\tspoke.local/gen/go/acme/orders v1.2.0 => ./orders\n)\n")


def test_a_dependency_without_its_own_go_module_is_not_required_and_the_manifest_says_why() -> None:
    shared = {"acme/common/v1/money.proto": "github.com/acme/protos/acme/common/v1",
              "base/types.proto": "example.com/elsewhere/types"}
    requires, notes = go_requires(ORDERS, shared, "github.com/acme/protos")
    assert requires == []
    assert any("base.types" in n and "no go.mod" in n for n in notes)
    assert any("common shares this module's Go module path" in n for n in notes)
    # Without dependencies go.mod is what it was: no requires, no hints
    assert "replace" not in render_go_mod("x.example/m", "1.28.1")


def test_go_requires_render_sorted_and_once() -> None:
    text = render_go_mod("a.example/m", "1.28.1", requires=[GoRequire("z.example/z", "v1.0.0", "z"),
                                                             GoRequire("b.example/b", "v0.1.0", "b")])
    block = text.split("require (\n", 1)[1].split(")", 1)[0].splitlines()
    assert block == ["\tb.example/b v0.1.0", "\tgoogle.golang.org/protobuf v1.28.1", "\tz.example/z v1.0.0"]


def test_pyproject_installs_the_generated_namespace_packages_and_depends_on_the_dependency_distributions() -> None:
    generated = ["acme/orders/v1/orders_pb2.py", "acme/orders/v1/orders_pb2_grpc.py", "top_pb2.py"]
    runtime = [{"ecosystem": "pypi", "requirement": "protobuf>=6.31.1,<7"},
               {"ecosystem": "pypi", "requirement": "grpcio>=1.73.0"}]
    text, notes = render_pyproject(ORDERS, generated, runtime)
    project = tomllib.loads(text)
    assert project["build-system"]["build-backend"] == "setuptools.build_meta"
    assert project["project"]["name"] == "spoke-acme-orders" and project["project"]["version"] == "1.2.0"
    assert project["project"]["dependencies"] == ["grpcio>=1.73.0", "protobuf>=6.31.1,<7",
                                                  "spoke-acme-base-types==2.1.0rc1", "spoke-acme-common==1.0.0"]
    # Every directory on the way is a package (no __init__.py: PEP 420), a root file a module
    assert project["tool"]["setuptools"]["packages"] == ["acme", "acme.orders", "acme.orders.v1"]
    assert project["tool"]["setuptools"]["py-modules"] == ["top_pb2"]
    assert notes == []


def test_directories_python_cannot_import_are_left_out_with_a_note() -> None:
    assert python_layout(["my-dir/x_pb2.py", "ok/y_pb2.py"]) == (["ok"], [], ["my-dir"])
    _, notes = render_pyproject(ORDERS, ["my-dir/x_pb2.py"], [])
    assert notes and "my-dir" in notes[0]


def _pom_dependencies(text: str) -> list[tuple[str, str, str]]:
    root = ElementTree.fromstring(text)
    return [(d.findtext(f"{POM}groupId") or "", d.findtext(f"{POM}artifactId") or "", d.findtext(f"{POM}version") or "")
            for d in root.iter(f"{POM}dependency")]


def test_pom_has_the_runtime_the_grpc_stubs_and_the_dependency_modules_artifacts() -> None:
    runtime = [{"ecosystem": "maven", "package": "com.google.protobuf:protobuf-java", "version": "4.31.1"}]
    generated = {"acme/orders/v1/Orders.java": b"class Orders {}",
                 "acme/orders/v1/OrdersServiceGrpc.java": b"@javax.annotation.Generated(\"by gRPC\")"}
    text, notes = render_pom(ORDERS, runtime, generated, {"protoc-gen-grpc-java": "1.73.0"})
    root = ElementTree.fromstring(text)
    assert (root.findtext(f"{POM}groupId"), root.findtext(f"{POM}artifactId"), root.findtext(f"{POM}version")) == \
        ("spoke.acme", "orders", "1.2.0")
    assert _pom_dependencies(text) == [
        ("com.google.protobuf", "protobuf-java", "4.31.1"), ("io.grpc", "grpc-stub", "1.73.0"),
        ("io.grpc", "grpc-protobuf", "1.73.0"), ("javax.annotation", "javax.annotation-api", "1.3.2"),
        ("spoke.acme", "base.types", "2.1.0-rc.1"), ("spoke.acme", "common", "1.0.0")]
    assert notes == []


def test_pom_without_services_has_no_grpc_and_an_unknown_grpc_version_is_said() -> None:
    runtime = [{"ecosystem": "maven", "package": "com.google.protobuf:protobuf-java", "version": "3.21.12"}]
    plain, _ = render_pom(PackageInfo("acme", "common", "v1.0.0"), runtime, {"a/A.java": b""}, {})
    assert _pom_dependencies(plain) == [("com.google.protobuf", "protobuf-java", "3.21.12")]
    _, notes = render_pom(ORDERS, runtime, {"a/AGrpc.java": b""}, {})
    assert notes and "grpc-stub" in notes[0]
