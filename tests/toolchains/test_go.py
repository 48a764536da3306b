"""Go: Spoke's Go ZIPs build with Debian's Go against Debian's protobuf-go and grpc-go sources.

The layer's protoc-gen-go is trixie's (editions-capable), so its runtime is trixie's
golang-google-protobuf-dev at the same version, unpacked by install_toolchains.sh, and built with
bookworm-backports' Go 1.23 (that runtime needs Go >= 1.21; bookworm's own Go is 1.19). grpc-go 1.33
and golang/protobuf 1.5 are bookworm's. There is no module proxy here, so most tests build in GOPATH
mode (each ZIP unpacked at its module path under one GOPATH); the closure ZIP's test builds in module
mode through its go.work, the third-party modules replaced by Debian's directories (and by empty
modules for those of grpc-go's go.mod graph that no package here imports and Debian does not ship).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import pytest

from tests.toolchains.commands import INSTALL_HINT, debian_version, run
from tests.toolchains.protos import COMMON, LEDGER, LEDGER_FILES, ORDERS
from tests.toolchains.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
GO = "/usr/lib/go-1.23/bin/go"
DEBIAN_GOPATH = "/usr/share/gocode"
PROTOBUF_GO = ROOT / "build" / "toolchains" / "protobuf-go"
PROGRAM = Path(__file__).parent / "programs" / "orders_demo.go.tmpl"


def _requires(go_mod: str) -> dict[str, str]:
    return dict(re.findall(r"^\s*(\S+) (v\S+)\s*$", go_mod, re.MULTILINE))


def _semver(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.lstrip("v").split("."))


@dataclass(frozen=True)
class GoPath:
    """A GOPATH whose src holds Spoke's Go ZIPs, each unpacked at its module path."""
    root: Path
    module_paths: dict[str, str] = field(default_factory=dict)

    def add(self, registry: Registry, module: str) -> str:
        staging = self.root / "staging" / module
        module_path = str(registry.unpack(module, "go", staging)["go"]["module_path"])
        target = self.root / "src" / module_path
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)
        self.module_paths[module] = module_path
        return module_path

    def go(self, *arguments: str) -> str:
        """go in GOPATH mode: the ZIPs first, then the layer-matched protobuf-go, then Debian's Go sources."""
        path = os.pathsep.join((str(self.root), str(PROTOBUF_GO / "usr" / "share" / "gocode"), DEBIAN_GOPATH))
        return run([_go(), *arguments], cwd=self.root, env=_go_env(GO111MODULE="off", GOPATH=path))


def _go() -> str:
    assert Path(GO).exists() and (PROTOBUF_GO / "VERSION").exists(), f"Go or protobuf-go missing: {INSTALL_HINT}"
    return GO


def _go_env(**settings: str) -> dict[str, str]:
    """Offline (no proxy), this Go and no other, its build cache kept between runs under build/."""
    cache = ROOT / "build" / "toolchains"
    return {**os.environ, "GOPROXY": "off", "GOFLAGS": "", "GOTOOLCHAIN": "local", "GOCACHE": str(cache / "go-build"),
            "GOMODCACHE": str(cache / "go-mod"), **settings}


def _runtime_version() -> str:
    """The protobuf-go version built against (install_toolchains.sh matched it to the layer's plugin)."""
    return "v" + (PROTOBUF_GO / "VERSION").read_text().strip().split("-")[0]


@pytest.fixture(scope="module")
def gopath(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> GoPath:
    """Given both Go ZIPs unpacked at their module paths under a fresh GOPATH."""
    gopath = GoPath(tmp_path_factory.mktemp("gopath"))
    for module in (COMMON, ORDERS):
        gopath.add(registry, module)
    return gopath


def test_go_mod_requires_common_and_the_runtimes_built_against(gopath: GoPath) -> None:
    # Given orders' go.mod as downloaded
    orders, common = gopath.module_paths[ORDERS], gopath.module_paths[COMMON]
    requires = _requires((gopath.root / "src" / orders / "go.mod").read_text())
    # Then it requires common's Go module at the version published,
    assert requires[common] == "v1.0.0"
    # exactly the protobuf-go its code was generated for, which is the one built against here,
    assert requires["google.golang.org/protobuf"] == _runtime_version()
    # and a grpc-go no newer than Debian's (the generated stubs need SupportPackageIsVersion7)
    assert _semver(requires["google.golang.org/grpc"]) <= _semver(debian_version("golang-google-grpc-dev"))


def test_both_modules_generated_code_builds(gopath: GoPath) -> None:
    # When go builds every package of both modules, orders' importing common's
    packages = [f"{gopath.module_paths[module]}/..." for module in (COMMON, ORDERS)]
    gopath.go("build", *packages)
    # Then it compiles (go vet too: the generated code is what a consumer's CI lints)
    gopath.go("vet", *packages)


def test_a_program_round_trips_an_order_and_calls_both_rpcs_in_process(gopath: GoPath) -> None:
    # Given a program using both modules' messages and orders' generated client and server
    program = gopath.root / "src" / "example.com" / "ordersdemo"
    program.mkdir(parents=True)
    (program / "main.go").write_text(Template(PROGRAM.read_text()).substitute(
        common_import=f"{gopath.module_paths[COMMON]}/acme/common/v1",
        orders_import=f"{gopath.module_paths[ORDERS]}/acme/orders/v1"))
    binary = gopath.root / "ordersdemo"
    # When it is built and run
    gopath.go("build", "-o", str(binary), "example.com/ordersdemo")
    output = run([str(binary)], cwd=gopath.root)
    # Then the message survived the wire, and both the unary and the server-streaming RPC answered
    assert output.splitlines() == ["round-trip ok", "unary ok", "server-streaming ok: [o-0 o-1 o-2]"]


def test_a_module_written_in_editions_builds(registry: Registry, tmp_path: Path) -> None:
    # Given a module in edition 2023, published and compiled
    registry.publish(LEDGER, LEDGER_FILES)
    statuses = registry.wait_compiled(LEDGER)
    assert statuses["go"]["status"] == "succeeded", statuses["go"]
    # When its Go ZIP is unpacked at its module path and built
    gopath = GoPath(tmp_path)
    gopath.go("build", f"{gopath.add(registry, LEDGER)}/...")
    # Then it compiled (go build above asserts it), generated for the runtime it was built against
    assert f"protoc-gen-go {_runtime_version()}" in next((tmp_path / "src").rglob("ledger.pb.go")).read_text()


def _offline_replacements(workspace: Path, build_dir: Path, stand_ins: Path) -> str:
    """`go build ./...` in module mode with no proxy: each module go asks for is replaced in the go.work by
    its Debian directory (copied beside a go.mod when it has none) or by an empty stand-in module. Returns
    the last build's output (a failure the caller asserts on, or "" once built)."""
    lookup = re.compile(r"(\S+)@v\S+(?:: module lookup disabled| \(replaced by [^)]*\): reading \S*go\.mod: open)")
    roots = (PROTOBUF_GO / "usr" / "share" / "gocode" / "src", Path(DEBIAN_GOPATH) / "src")
    env = _go_env(GO111MODULE="on")
    replaced: set[str] = set()
    while True:
        done = subprocess.run([_go(), "build", "./..."], cwd=build_dir, env=env, capture_output=True, text=True,
                              check=False)
        needed = lookup.search(done.stderr)
        if done.returncode == 0 or needed is None or needed.group(1) in replaced:
            return "" if done.returncode == 0 else done.stderr
        module = needed.group(1)
        replaced.add(module)
        debian = next((root / module for root in roots if (root / module / "go.mod").is_file()), None)
        if debian is None:
            debian = stand_ins / module
            source = next((root / module for root in roots if (root / module).is_dir()), None)
            if source is not None:
                shutil.copytree(source, debian, symlinks=True)
            debian.mkdir(parents=True, exist_ok=True)
            (debian / "go.mod").write_text(f"module {module}\n")
        run([_go(), "work", "edit", f"-replace={module}={debian}"], cwd=workspace, env=env)


def test_the_closure_zip_builds_in_module_mode_through_its_go_work(registry: Registry, tmp_path: Path) -> None:
    # Given orders' Go ZIP with its dependencies: a directory per Go module and a go.work using them
    workspace = tmp_path / "closure"
    registry.unpack(ORDERS, "go", workspace, with_dependencies=True)
    assert (workspace / "go.work").is_file()
    # When go builds orders in module mode, the go.work resolving common's require
    failure = _offline_replacements(workspace, workspace / ORDERS, tmp_path / "stand-ins")
    # Then it compiles: the go.mod files' requires and go lines fit the code they hold
    assert failure == ""
