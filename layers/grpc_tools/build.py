"""Builds the grpcio-tools Lambda layer ZIP, reproducibly, from the pinned PyPI wheel.

    python layers/grpc_tools/build.py --out build/layers/grpc_tools.zip [--cache-dir DIR] [--verify]

Only the compile function carries this layer: it writes the Python gRPC stubs with
`python -m grpc_tools.protoc --grpc_python_out` (grpcio-tools bundles the grpc_python plugin). The
API and the webhook functions never import it, so they do not carry its 8 MB.

Source, pinned with its sha256 in versions.json beside this file: the `grpcio-tools` wheel for
CPython 3.11 on manylinux x86_64 (Lambda's python3.11 runtime), fetched with
`pip download --no-deps --only-binary=:all: --platform ... --implementation cp --python-version 3.11
--abi cp311`. Its declared dependencies are left out on purpose: `grpc_tools.protoc` imports neither
grpcio (18 MB, the runtime the *generated* stubs need, not the generator) nor protobuf (the function
package has it) nor setuptools (only its `build_package_protos` helper does, and Python 3.11 has
importlib.resources). verify_layer proves it by running the plugin with nothing but the layer.

Layer layout (Lambda unpacks it under /opt and puts /opt/python on the functions' sys.path):
    python/grpc_tools/**                         (as in the wheel; the extension module 0755)
    python/grpcio_tools-<version>.dist-info/**    (so importlib.metadata reports the version)
    spoke-grpc-tools-layer.json                  (what went in, with sha256s)

Reproducible like the protoc layer (its deterministic_zip): sorted entries, 1980-01-01 timestamps,
fixed modes and deflate level, no directory entries, the download checked against the pin.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

if __package__ in (None, ""):  # run as a script: make `layers` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from layers.protoc.build import (
    EXECUTABLE,
    REGULAR,
    LayerBuildError,
    _checked,
    _pinned,
    deterministic_zip,
    run_cli,
    unpack_layer,
)

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
VERSIONS_FILE = HERE / "versions.json"
DEFAULT_CACHE_DIR = REPO_ROOT / "build" / "layers" / "cache"
DEFAULT_OUT = REPO_ROOT / "build" / "layers" / "grpc_tools.zip"
DESCRIPTION_NAME = "spoke-grpc-tools-layer.json"
SITE = "python"  # the layer directory Lambda's Python runtimes put on sys.path


def load_versions(path: Path = VERSIONS_FILE) -> dict:
    return json.loads(path.read_text())


def _log(message: str) -> None:
    print(message, file=sys.stderr)


def fetch_wheel(pin: dict, cache_dir: Path) -> Path:
    """The pinned grpcio-tools wheel for Lambda's platform, from the cache or `pip download`."""
    target = cache_dir / pin["filename"]
    if _checked(target, pin["sha256"]):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="spoke-layer-pip-", dir=cache_dir) as scratch:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                   "--no-deps", "--only-binary=:all:", "--implementation", "cp",
                   "--python-version", pin["python_version"], "--abi", pin["abi"]]
        for platform in pin["platforms"]:
            command += ["--platform", platform]
        command += ["--dest", scratch, f"grpcio-tools=={pin['version']}"]
        _log(f"layer: pip download grpcio-tools=={pin['version']} ({pin['abi']}, {', '.join(pin['platforms'])})")
        result = subprocess.run(command, capture_output=True, text=True)
        downloaded = Path(scratch) / pin["filename"]
        if result.returncode != 0 or not downloaded.is_file():
            found = ", ".join(sorted(p.name for p in Path(scratch).iterdir())) or "nothing"
            raise LayerBuildError(f"pip download of grpcio-tools failed (got {found}):\n{result.stdout}{result.stderr}")
        shutil.move(str(downloaded), target)
    return _pinned(target, pin["sha256"])


def wheel_entries(wheel: Path) -> dict[str, tuple[bytes, int]]:
    """{layer path: (content, mode)}: the wheel installed as pip would into site-packages, under python/."""
    entries: dict[str, tuple[bytes, int]] = {}
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            parts = PurePosixPath(info.filename).parts
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    raise LayerBuildError(f"{wheel.name}: {info.filename} would install outside site-packages")
                parts = parts[2:]
            if any(part in ("", ".", "..") for part in parts) or info.filename.startswith("/"):
                raise LayerBuildError(f"{wheel.name}: unsafe path {info.filename}")
            mode = EXECUTABLE if (info.external_attr >> 16) & 0o111 else REGULAR
            entries["/".join((SITE, *parts))] = (archive.read(info), mode)
    if f"{SITE}/grpc_tools/protoc.py" not in entries:
        raise LayerBuildError(f"{wheel.name}: unexpected layout (no grpc_tools/protoc.py)")
    return entries


def layer_entries(cache_dir: Path, versions: dict | None = None) -> dict[str, tuple[bytes, int]]:
    versions = versions or load_versions()
    pin = versions["grpcio-tools"]
    entries = wheel_entries(fetch_wheel(pin, Path(cache_dir)))
    description = {
        "layer": "spoke-grpc-tools",
        "sources": {"grpcio-tools": {"version": pin["version"], "file": pin["filename"], "sha256": pin["sha256"],
                                     "from": "PyPI"}},
        "files": {path: hashlib.sha256(content).hexdigest() for path, (content, _) in sorted(entries.items())},
    }
    entries[DESCRIPTION_NAME] = ((json.dumps(description, indent=2, sort_keys=True) + "\n").encode(), REGULAR)
    return entries


def build_layer(out_path: str | os.PathLike = DEFAULT_OUT, cache_dir: str | os.PathLike | None = None) -> Path:
    """Builds the layer ZIP at out_path (the wheel cached in cache_dir) and returns its path."""
    out = Path(out_path).resolve()
    blob = deterministic_zip(layer_entries(Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_bytes(blob)
    os.replace(partial, out)
    return out


PROBE = 'syntax = "proto3";\npackage probe.v1;\nmessage Ping {}\nservice Probe { rpc Call(Ping) returns (Ping); }\n'


def verify_layer(zip_path: str | os.PathLike) -> dict[str, str]:
    """Unpacks the layer as Lambda would and writes gRPC stubs with a Python that sees nothing but the
    standard library and the layer (`-S`: no site-packages, so neither grpcio nor protobuf); returns
    {"grpcio-tools": version}."""
    with tempfile.TemporaryDirectory(prefix="spoke-layer-check-") as scratch:
        root = unpack_layer(zip_path, Path(scratch) / "opt")
        (Path(scratch) / "probe.proto").write_text(PROBE)
        out = Path(scratch) / "out"
        out.mkdir()
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(root / SITE)}
        version = subprocess.run(
            [sys.executable, "-S", "-c", "import importlib.metadata as m, grpc_tools, sys; "
             "assert grpc_tools.__file__.startswith(sys.argv[1]), grpc_tools.__file__; "
             "print(m.version('grpcio-tools'))", str(root / SITE)],
            capture_output=True, text=True, env=env, timeout=60)
        if version.returncode != 0:
            raise LayerBuildError(f"grpc_tools does not import from the layer alone:\n{version.stderr}")
        result = subprocess.run([sys.executable, "-S", "-m", "grpc_tools.protoc", "-I.", f"--grpc_python_out={out}",
                                 "probe.proto"], cwd=scratch, capture_output=True, text=True, env=env, timeout=60)
        stubs = out / "probe_pb2_grpc.py"
        if result.returncode != 0 or not stubs.is_file() or "class ProbeStub" not in stubs.read_text():
            raise LayerBuildError(f"the layer's grpc_tools.protoc cannot write gRPC stubs:\n{result.stderr}")
        return {"grpcio-tools": version.stdout.strip()}


def main(argv: list[str] | None = None) -> int:
    return run_cli(argv, __doc__.splitlines()[0], str(DEFAULT_OUT), str(DEFAULT_CACHE_DIR), build_layer,
                   verify_layer, "unpack the layer and generate stubs with it alone")


if __name__ == "__main__":
    sys.exit(main())
