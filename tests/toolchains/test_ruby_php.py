"""Ruby and PHP: Spoke's ZIPs for protoc 3.21.12 load on Debian's google-protobuf 3.21.12 runtimes and
round-trip a message; Ruby's gRPC stubs also serve and call both RPCs (Debian's ruby-grpc 1.51.1)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.toolchains.commands import debian_version, run, tool
from tests.toolchains.protos import COMMON, ORDERS
from tests.toolchains.registry import DEBIAN_PROTOC, Registry

PROGRAMS = Path(__file__).parent / "programs"


def _unpack_both(registry: Registry, language: str, root: Path) -> list[str]:
    for module in (COMMON, ORDERS):
        registry.unpack(module, language, root / module, protoc=DEBIAN_PROTOC)
    return [str(root / module) for module in (COMMON, ORDERS)]


def _runtime(directory: str) -> dict[str, str]:
    manifest = json.loads((Path(directory) / "spoke-manifest.json").read_text())
    return {item["package"]: item["version"] for item in manifest["runtime"]}


@pytest.mark.parametrize("language", ["ruby", "php"])
def test_the_manifest_names_the_google_protobuf_debian_ships(registry: Registry, tmp_path: Path,
                                                             language: str) -> None:
    orders = _unpack_both(registry, language, tmp_path)[1]
    package, debian = {"ruby": ("google-protobuf", "ruby-google-protobuf"),
                       "php": ("google/protobuf", "php-google-protobuf")}[language]
    assert _runtime(orders)[package] == debian_version(debian) == "3.21.12"
    if language == "ruby":  # the grpc gem the services file requires; PHP's needs an extension Debian lacks
        assert _runtime(orders)["grpc"] == debian_version("ruby-grpc")


def test_ruby_round_trips_and_its_grpc_stub_calls_both_rpcs_over_loopback(registry: Registry,
                                                                         tmp_path: Path) -> None:
    # Given both modules' Ruby code, orders' services file among it
    directories = _unpack_both(registry, "ruby", tmp_path)
    assert (Path(directories[1]) / "acme" / "orders" / "v1" / "orders_services_pb.rb").is_file()
    # When a program loads them on Debian's runtime, serves Orders on 127.0.0.1 and calls it
    output = run([tool("ruby"), str(PROGRAMS / "orders_demo.rb"), *directories], timeout=60)
    # Then the message survived the wire, and both the unary and the server-streaming RPC answered
    assert output.splitlines() == ["round-trip ok", "unary ok", "server-streaming ok: [o-0 o-1 o-2]"]


def test_php_round_trips_and_every_file_including_the_grpc_client_parses(registry: Registry,
                                                                          tmp_path: Path) -> None:
    # Given both modules' PHP code, orders' gRPC client among it
    directories = _unpack_both(registry, "php", tmp_path)
    files = sorted(path for directory in directories for path in Path(directory).rglob("*.php"))
    assert "OrdersClient.php" in {path.name for path in files}
    # Then every file is valid PHP (the client needs the grpc extension Debian lacks to go further)
    for path in files:
        run([tool("php"), "-l", str(path)])
    # And a program on Debian's runtime round-trips an order of both modules' messages
    output = run([tool("php"), str(PROGRAMS / "orders_demo.php"), *directories])
    assert output.splitlines() == ["round-trip ok"]
