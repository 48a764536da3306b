"""Module archives (.zip, .tar.gz) are hostile until read: bounded while decompressing, no links or devices,
no name that leaves the module, and then the one path grammar of every upload."""
from __future__ import annotations

import gzip
import io
import random
import stat
import tarfile
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.archives import ArchiveLimits, archive_format, read_archive
from chalicelib.domain.errors import ArchiveTooLarge, DuplicatePath, InvalidArchive, InvalidPath
from chalicelib.domain.uploads import validate_upload

LIMITS = ArchiveLimits(max_entries=50, max_total_bytes=1024 * 1024, max_ratio=100)
PROTO = b'syntax = "proto3";\npackage acme.v1;\nmessage A { string id = 1; }\n'


def zip_of(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_gz_of(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def regular(name: str, data: bytes = PROTO) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def special(name: str, kind: bytes, target: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


def accepted(data: bytes, limits: ArchiveLimits = LIMITS) -> dict[str, bytes]:
    """What a publish would store: the archive read, then judged like any upload."""
    return {f.path: f.content for f in validate_upload(read_archive(data, limits), max_files=100)}


# --- what is accepted ------------------------------------------------------------------------------

def test_a_zip_and_a_tar_gz_of_the_same_files_give_the_same_files() -> None:
    files = [("acme/v1/a.proto", PROTO), ("acme/v1/b.proto", PROTO.replace(b"A", b"B")), ("c.proto", PROTO)]
    as_zip = zip_of(files)
    as_tar = tar_gz_of([regular(name, data) for name, data in files])
    assert archive_format(as_zip) == "zip" and archive_format(as_tar) == "tar.gz"
    assert accepted(as_zip) == accepted(as_tar) == dict(files)


def test_directories_are_skipped_and_a_leading_dot_slash_is_dropped_but_no_directory_is_stripped() -> None:
    root, directory = tarfile.TarInfo("."), tarfile.TarInfo("./acme")
    root.type = directory.type = tarfile.DIRTYPE
    data = tar_gz_of([(root, None), (directory, None), regular("./acme/v1/a.proto")])
    # Then the file keeps its directory: what a user imports is what they uploaded
    assert list(accepted(data)) == ["acme/v1/a.proto"]
    zipped = zip_of([("acme/", b""), ("acme/v1/a.proto", PROTO)])
    assert list(accepted(zipped)) == ["acme/v1/a.proto"]


def test_a_stored_zip_and_a_multi_member_gzip_are_read() -> None:
    assert list(accepted(zip_of([("a.proto", PROTO)], zipfile.ZIP_STORED))) == ["a.proto"]
    # `cat one.tar.gz more.gz`: gzip members back to back are one stream
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as archive:
        info = tarfile.TarInfo("a.proto")
        info.size = len(PROTO)
        archive.addfile(info, io.BytesIO(PROTO))
    raw = tar.getvalue()
    data = gzip.compress(raw[:700]) + gzip.compress(raw[700:])
    assert accepted(data) == {"a.proto": PROTO}


# --- bombs and bounds --------------------------------------------------------------------------------

def test_a_zip_bomb_is_refused_by_its_ratio_before_it_is_inflated() -> None:
    bomb = zip_of([("bomb.proto", b"\0" * (20 * 1024 * 1024))])
    assert len(bomb) < 64 * 1024
    with pytest.raises(ArchiveTooLarge) as refused:
        read_archive(bomb, ArchiveLimits(max_total_bytes=64 * 1024 * 1024, max_ratio=100))
    assert refused.value.details["limit"] == "compression_ratio"


def test_a_zip_whose_entries_add_up_past_the_byte_limit_is_refused() -> None:
    chunk = random.Random(0).randbytes(256 * 1024)  # 256 KiB that does not compress
    data = zip_of([(f"f{i}.proto", chunk) for i in range(5)])
    with pytest.raises(ArchiveTooLarge) as refused:
        read_archive(data, LIMITS)
    assert refused.value.details["limit"] == "uncompressed_bytes"


def test_a_tar_gz_bomb_is_refused_while_it_streams() -> None:
    bomb = tar_gz_of([regular("bomb.proto", b"\0" * (30 * 1024 * 1024))])
    assert len(bomb) < 64 * 1024
    with pytest.raises(ArchiveTooLarge) as refused:
        read_archive(bomb, ArchiveLimits(max_total_bytes=64 * 1024 * 1024, max_ratio=100))
    assert refused.value.details["limit"] == "compression_ratio"
    with pytest.raises(ArchiveTooLarge) as too_big:
        read_archive(bomb, ArchiveLimits(max_total_bytes=1024 * 1024, max_ratio=100_000))
    assert too_big.value.details["limit"] == "uncompressed_bytes"


@pytest.mark.parametrize("make", [
    lambda n: zip_of([(f"f{i}.proto", PROTO) for i in range(n)]),
    lambda n: tar_gz_of([regular(f"f{i}.proto") for i in range(n)]),
], ids=["zip", "tar.gz"])
def test_too_many_entries_are_refused(make) -> None:  # type: ignore[no-untyped-def]
    assert len(accepted(make(50))) == 50
    with pytest.raises(ArchiveTooLarge) as refused:
        read_archive(make(51), LIMITS)
    assert refused.value.details == {"limit": "entries", "max_entries": 50}


# --- links, devices, names ---------------------------------------------------------------------------

@pytest.mark.parametrize("member, reason", [
    (special("link.proto", tarfile.SYMTYPE, "/etc/passwd"), "symbolic_link"),
    (special("hard.proto", tarfile.LNKTYPE, "a.proto"), "hard_link"),
    (special("dev.proto", tarfile.CHRTYPE), "device_or_special_file"),
    (special("blk.proto", tarfile.BLKTYPE), "device_or_special_file"),
    (special("fifo.proto", tarfile.FIFOTYPE), "device_or_special_file"),
])
def test_links_and_devices_in_a_tar_are_refused(member: tuple[tarfile.TarInfo, None], reason: str) -> None:
    data = tar_gz_of([regular("a.proto"), member])
    with pytest.raises(InvalidArchive) as refused:
        read_archive(data, LIMITS)
    assert refused.value.details["reason"] == reason


def test_a_symlink_in_a_zip_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("link.proto")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(InvalidArchive) as refused:
        read_archive(buffer.getvalue(), LIMITS)
    assert refused.value.details["reason"] == "symbolic_link"


@pytest.mark.parametrize("name, reason", [
    ("../escape.proto", "traversal"), ("acme/../../escape.proto", "traversal"), ("/etc/x.proto", "absolute"),
    ("C:/x.proto", "absolute"), ("acme\\x.proto", "backslash"), ("../", "traversal"),
])
def test_names_that_leave_the_module_are_refused_in_either_format(name: str, reason: str) -> None:
    for data in (zip_of([(name, PROTO)]), tar_gz_of([regular(name)])):
        with pytest.raises(InvalidArchive) as refused:
            read_archive(data, LIMITS)
        assert refused.value.details["reason"] == reason


@pytest.mark.parametrize("name", ["README.md", "-I.proto", "google/protobuf/any.proto", "._a.proto", "a b.proto"])
def test_every_file_follows_the_upload_path_grammar(name: str) -> None:
    with pytest.raises(InvalidPath):
        accepted(zip_of([("ok.proto", PROTO), (name, PROTO)]))


@pytest.mark.parametrize("names", [["a.proto", "a.proto"], ["Acme/A.proto", "acme/a.proto"],
                                   ["x.proto", "x.proto/y.proto"]])
def test_duplicates_and_case_collisions_are_refused(names: list[str]) -> None:
    for data in (zip_of([(n, PROTO) for n in names]), tar_gz_of([regular(n) for n in names])):
        with pytest.raises(DuplicatePath):
            accepted(data)


def test_an_encrypted_entry_is_refused() -> None:
    data = bytearray(zip_of([("a.proto", PROTO)], zipfile.ZIP_STORED))
    data[6] |= 0x1                              # local header flag: encrypted
    central = data.rindex(b"PK\x01\x02")
    data[central + 8] |= 0x1                    # central directory flag, which zipfile reads
    with pytest.raises(InvalidArchive) as refused:
        read_archive(bytes(data), LIMITS)
    assert refused.value.details["reason"] == "encrypted"


@pytest.mark.parametrize("data", [b"", b"not an archive", b"PK\x03\x04garbage", b"\x1f\x8bgarbage",
                                  gzip.compress(b"not a tar at all" * 40)])
def test_what_is_not_a_readable_archive_is_invalid(data: bytes) -> None:
    with pytest.raises(InvalidArchive):
        read_archive(data, LIMITS)


def test_a_truncated_archive_is_invalid() -> None:
    data = tar_gz_of([regular(f"f{i}.proto", random.Random(i).randbytes(2048)) for i in range(5)])
    with pytest.raises(InvalidArchive):
        read_archive(data[: len(data) // 2], LIMITS)


# --- any input ---------------------------------------------------------------------------------------

VALID = [zip_of([("a/b.proto", PROTO), ("c.proto", PROTO)]), tar_gz_of([regular("a/b.proto"), regular("c.proto")])]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(VALID), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
       st.integers(0, 10_000))
def test_a_damaged_archive_is_read_or_refused_never_anything_else(base: bytes, flips: list[tuple[int, int]],
                                                                    cut: int) -> None:
    data = bytearray(base[: max(1, len(base) - cut % len(base))])
    for position, value in flips:
        data[position % len(data)] = value
    try:
        files = read_archive(bytes(data), LIMITS)
    except (InvalidArchive, ArchiveTooLarge):
        return
    assert sum(len(content) for _, content in files) <= LIMITS.max_total_bytes


def _tar(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


TAR = _tar([("a/b.proto", PROTO), ("c.proto", PROTO)])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(TAR) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_damaged_tar_headers_inside_a_sound_gzip_are_read_or_refused(flips: list[tuple[int, int]]) -> None:
    data = bytearray(TAR)
    for position, value in flips:
        data[position] = value
    try:
        files = read_archive(gzip.compress(bytes(data)), LIMITS)
    except (InvalidArchive, ArchiveTooLarge):
        return
    assert sum(len(content) for _, content in files) <= LIMITS.max_total_bytes
