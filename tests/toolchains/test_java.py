"""Java: Spoke's Java ZIPs for protoc 3.21.12 compile with javac against Debian's protobuf-java 3.21.12
and grpc-java 1.41.3, and a program using them runs (round-trip, both RPCs in-process)."""
from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.toolchains.commands import INSTALL_HINT, debian_version, run, tool
from tests.toolchains.protos import COMMON, ORDERS
from tests.toolchains.registry import DEBIAN_PROTOC, Registry

PROGRAM = Path(__file__).parent / "programs" / "OrdersDemo.java"
DEBIAN_JARS = Path("/usr/share/java")
MAVEN_REPO = Path("/usr/share/maven-repo")
JARS = ("protobuf", "grpc-api", "grpc-context", "grpc-core", "grpc-stub", "grpc-protobuf", "grpc-protobuf-lite",
        "guava", "geronimo-annotation-1.3-spec", "perfmark-api")


def _classpath(*extra: Path) -> str:
    jars = [DEBIAN_JARS / f"{name}.jar" for name in JARS]
    missing = [str(jar) for jar in jars if not jar.exists()]
    assert not missing, f"missing Debian jars {missing}: {INSTALL_HINT}"
    return ":".join(str(path) for path in (*extra, *jars))


@pytest.fixture(scope="module")
def unpacked(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Given each module's Java ZIP for protoc 3.21.12, unpacked in a directory of its own."""
    root = tmp_path_factory.mktemp("java")
    for module in (COMMON, ORDERS):
        registry.unpack(module, "java", root / module, protoc=DEBIAN_PROTOC)
    return {module: root / module for module in (COMMON, ORDERS)}


def test_the_manifest_names_the_protobuf_java_and_grpc_java_debian_ships(unpacked: dict[str, Path]) -> None:
    manifest = json.loads((unpacked[ORDERS] / "spoke-manifest.json").read_text())
    versions = {item["package"]: item["version"] for item in manifest["runtime"]}
    assert versions["com.google.protobuf:protobuf-java"] == debian_version("libprotobuf-java") == "3.21.12"
    assert versions["io.grpc:grpc-stub"] == debian_version("libgrpc-java")


POM = {"m": "http://maven.apache.org/POM/4.0.0"}


def _fields(element: ElementTree.Element, *names: str) -> tuple[str, ...]:
    return tuple(element.findtext(f"m:{name}", default="", namespaces=POM) for name in names)


def test_the_pom_requires_common_and_runtimes_debians_maven_repository_holds(unpacked: dict[str, Path]) -> None:
    # Given both modules' pom.xml
    common = _fields(ElementTree.parse(unpacked[COMMON] / "pom.xml").getroot(), "groupId", "artifactId", "version")
    orders = ElementTree.parse(unpacked[ORDERS] / "pom.xml").getroot()
    dependencies = [_fields(dependency, "groupId", "artifactId", "version", "scope")
                    for dependency in orders.iterfind("m:dependencies/m:dependency", POM)]
    # Then orders' requires common's artifact as common's pom names it
    assert common in [(group, artifact, version) for group, artifact, version, _ in dependencies]
    # And every runtime it needs at compile and run time is in Debian's Maven repository at that version
    runtimes = [(group, artifact, version) for group, artifact, version, scope in dependencies
                if scope != "provided" and (group, artifact, version) != common]
    assert {artifact for _, artifact, _ in runtimes} >= {"protobuf-java", "grpc-stub", "grpc-protobuf"}
    for group, artifact, version in runtimes:
        jar = MAVEN_REPO / group.replace(".", "/") / artifact / version / f"{artifact}-{version}.jar"
        assert jar.exists(), f"{group}:{artifact}:{version} is not in Debian's Maven repository ({jar})"


def test_both_modules_compile_and_a_program_round_trips_and_calls_both_rpcs(unpacked: dict[str, Path],
                                                                           tmp_path: Path) -> None:
    # Given both modules' messages, orders' grpc-java stubs, and a program using them
    sources = sorted(str(path) for root in unpacked.values() for path in root.rglob("*.java"))
    assert [name for name in sources if name.endswith("/acme/orders/v1/OrdersGrpc.java")], sources
    classes = tmp_path / "classes"
    # When javac compiles them against Debian's jars
    run([tool("javac"), "-nowarn", "-d", str(classes), "-cp", _classpath(), *sources, str(PROGRAM)])
    # Then the program round-trips an order and calls the unary and the server-streaming RPC in-process
    output = run([tool("java"), "-cp", _classpath(classes), "OrdersDemo"])
    assert output.splitlines() == ["round-trip ok", "unary ok", "server-streaming ok: [o-0, o-1, o-2]"]
