"""C++: Spoke's C++ ZIPs for protoc 3.21.12 compile with g++ against Debian's libprotobuf 3.21.12 and
libgrpc++ 1.51.1, and a program linking them runs (round-trip, both RPCs through an in-process channel)."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.toolchains.commands import run, tool
from tests.toolchains.protos import COMMON, ORDERS
from tests.toolchains.registry import DEBIAN_PROTOC, Registry

PROGRAM = Path(__file__).parent / "programs" / "orders_demo.cc"


def _pkg_config(*arguments: str) -> list[str]:
    return run([tool("pkg-config"), *arguments, "grpc++", "protobuf"]).split()


@pytest.fixture(scope="module")
def unpacked(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Given each module's C++ ZIP for protoc 3.21.12, unpacked side by side (a directory each)."""
    root = tmp_path_factory.mktemp("cpp")
    for module in (COMMON, ORDERS):
        registry.unpack(module, "cpp", root / module, protoc=DEBIAN_PROTOC)
    return {module: root / module for module in (COMMON, ORDERS)}


def test_the_manifest_names_the_libprotobuf_and_grpc_debian_ship(unpacked: dict[str, Path]) -> None:
    manifest = json.loads((unpacked[ORDERS] / "spoke-manifest.json").read_text())
    versions = {item["package"]: item["version"] for item in manifest["runtime"]}
    assert versions["protobuf"] == run([tool("pkg-config"), "--modversion", "protobuf"]).strip() == "3.21.12"
    assert versions["grpc++"] == run([tool("pkg-config"), "--modversion", "grpc++"]).strip()


def test_every_source_compiles_and_a_program_round_trips_and_calls_both_rpcs(unpacked: dict[str, Path],
                                                                            tmp_path: Path) -> None:
    # Given both modules' .pb.cc and orders' .grpc.pb.cc, each module's directory on the include path
    sources = sorted(path for root in unpacked.values() for path in root.rglob("*.cc"))
    assert {path.name for path in sources} == {"common.pb.cc", "orders.pb.cc", "orders.grpc.pb.cc"}
    flags = ["-std=c++17", *[f"-I{root}" for root in unpacked.values()], *_pkg_config("--cflags")]

    def compile_one(source: Path) -> Path:
        run([tool("g++"), *flags, "-c", str(source), "-o", str(tmp_path / f"{source.name}.o")])
        return tmp_path / f"{source.name}.o"

    # When g++ compiles each (two at a time: this machine has two cores)
    with ThreadPoolExecutor(max_workers=2) as pool:
        objects = list(pool.map(compile_one, sources))
    # And links them with a program using the messages and the generated stub and service
    binary = tmp_path / "orders_demo"
    run([tool("g++"), *flags, str(PROGRAM), *map(str, objects), "-o", str(binary), *_pkg_config("--libs")])
    # Then it round-trips an order and calls the unary and the server-streaming RPC in-process
    output = run([str(binary)])
    assert output.splitlines() == ["round-trip ok", "unary ok", "server-streaming ok: [o-0 o-1 o-2]"]
