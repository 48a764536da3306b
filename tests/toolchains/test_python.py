"""Python, two ways a user consumes it:
- Spoke's Python ZIPs (the default protoc) pip-install into a fresh virtualenv, their dependencies
  (protobuf, grpcio from PyPI, and common's package) resolved as their pyproject.toml states;
- the closure ZIP (`?with_dependencies=true`) for protoc 3.21.12, unpacked on PYTHONPATH, runs on
  Debian's own python3-protobuf 3.21.12 and python3-grpcio 1.51.1: for that release the stubs come from
  Debian's grpc_python_plugin (grpcio-tools' stubs would refuse a grpcio older than grpcio-tools)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.toolchains.commands import debian_version, run
from tests.toolchains.protos import COMMON, ORDERS
from tests.toolchains.registry import DEBIAN_PROTOC, Registry

PROGRAM = Path(__file__).parent / "programs" / "orders_demo.py"
DEBIAN_PYTHON = "/usr/bin/python3"
DEMO_OUTPUT = ["round-trip ok", "unary ok", "server-streaming ok: [o-0 o-1 o-2]"]


@pytest.fixture(scope="module")
def archives(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Given both modules' Python ZIPs as downloaded files."""
    root = tmp_path_factory.mktemp("python-zips")
    for module in (COMMON, ORDERS):
        (root / f"{module}.zip").write_bytes(registry.content(module, "python"))
    return {module: root / f"{module}.zip" for module in (COMMON, ORDERS)}


def test_the_zips_pip_install_into_a_fresh_venv_and_a_program_calls_both_rpcs(archives: dict[str, Path],
                                                                             tmp_path: Path) -> None:
    # Given a fresh virtualenv with nothing but pip
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    python = str(venv / "bin" / "python")
    # When both ZIPs are pip-installed (common's package satisfies orders' requirement on it)
    run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         str(archives[COMMON]), str(archives[ORDERS])], timeout=600)
    # Then the installed packages are the modules', and a program outside the ZIPs' directory imports
    # them, round-trips an order and calls the unary and the server-streaming RPC
    installed = run([python, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"])
    assert {"spoke-default-common==1.0.0", "spoke-default-orders==1.0.0"} <= set(installed.lower().split())
    output = run([python, str(PROGRAM)], cwd=tmp_path, timeout=120)
    assert output.splitlines() == DEMO_OUTPUT


def test_the_closure_zip_for_protoc_3_21_12_runs_on_debians_python_protobuf(registry: Registry,
                                                                            tmp_path: Path) -> None:
    # Given orders' Python closure ZIP for protoc 3.21.12: both modules' code in one tree
    closure = tmp_path / "closure"
    registry.unpack(ORDERS, "python", closure, protoc=DEBIAN_PROTOC, with_dependencies=True)
    assert (closure / "acme" / "common" / "v1" / "common_pb2.py").is_file()
    assert debian_version("python3-protobuf") == DEBIAN_PROTOC
    assert debian_version("python3-grpcio") == "1.51.1"
    # When Debian's Python (its runtimes, no virtualenv) runs the program with the tree on PYTHONPATH
    output = run([DEBIAN_PYTHON, str(PROGRAM)], cwd=tmp_path, timeout=120,
                 env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(closure), "PYTHONNOUSERSITE": "1"})
    # Then the message survived the wire and both RPCs answered through Debian's grpcio
    assert output.splitlines() == DEMO_OUTPUT
    # And the manifest names the grpcio the stubs were made for: the plugin's, Debian's 1.51.1
    manifest = json.loads((closure / "spoke-modules" / ORDERS / "spoke-manifest.json").read_text())
    grpcio = {item["package"]: item for item in manifest["runtime"]}["grpcio"]
    assert (grpcio["version"], grpcio["requirement"], grpcio["source"]) == ("1.51.1", "grpcio>=1.51.1", "plugin")
    stubs = (closure / "acme" / "orders" / "v1" / "orders_pb2_grpc.py").read_text()
    assert "GRPC_GENERATED_VERSION" not in stubs and "class OrdersStub" in stubs
