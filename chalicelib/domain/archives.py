"""Reading a module archive (.zip or .tar.gz) into (path, bytes) pairs, safely and without touching a disk.

Archives come from anyone with an upload grant, so they are hostile until read: every bound is checked
while decompressing (never trusting sizes an archive declares), only regular files and directories are
accepted (no symbolic or hard links, devices, FIFOs or sparse files), and every name is judged before
its bytes are read. What comes out is the same list a multipart upload gives, so `validate_upload`
then applies the one path grammar of the registry (duplicates and case collisions included).

Names are the file paths exactly: no top-level directory is stripped. The only rewrite is that a
leading `./` (what `tar -C dir -czf x.tar.gz .` writes) is dropped, and the `./` directory entry itself
is skipped.
"""
from __future__ import annotations

import io
import stat
import struct
import tarfile
import zipfile
import zlib
from dataclasses import dataclass

from chalicelib.domain.errors import ArchiveTooLarge, InvalidArchive
from chalicelib.domain.paths import shown_path

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
GZIP_MAGIC = b"\x1f\x8b"
RATIO_FLOOR_BYTES = 64 * 1024   # an entry (zip) or stream (tar.gz) this small is never judged by its ratio
_CHUNK = 64 * 1024
# What the standard library's readers raise on damaged input (a hostile archive is a 400, never a 500).
_UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, zlib.error, EOFError, ValueError,
               NotImplementedError, OSError, IndexError, KeyError, OverflowError, struct.error)


@dataclass(frozen=True)
class ArchiveLimits:
    """The bounds of one archive: entries (files and directories), uncompressed bytes in all, and the
    compression ratio of any zip entry or of the whole gzip stream (zip bombs)."""
    max_entries: int = 10_000
    max_total_bytes: int = 64 * 1024 * 1024
    max_ratio: int = 200

    def __post_init__(self) -> None:
        if self.max_entries < 1 or self.max_total_bytes < 1 or self.max_ratio < 1:
            raise ValueError(f"archive limits must be positive: {self}")


def archive_format(data: bytes) -> str | None:
    """'zip', 'tar.gz' or None, from the first bytes (the file name a client chose is never trusted)."""
    if data.startswith(ZIP_MAGIC):
        return "zip"
    if data.startswith(GZIP_MAGIC):
        return "tar.gz"
    return None


def read_archive(data: bytes, limits: ArchiveLimits) -> list[tuple[str, bytes]]:
    """Every regular file of the archive as (path, bytes), in archive order; raises InvalidArchive or
    ArchiveTooLarge before reading any more than the limits allow."""
    kind = archive_format(data)
    if kind == "zip":
        return _read_zip(data, limits)
    if kind == "tar.gz":
        return _read_tar_gz(data, limits)
    raise InvalidArchive("The upload is neither a .zip nor a .tar.gz archive", details={"reason": "format"})


# --- names -------------------------------------------------------------------------------------------

def _entry_name(raw: str) -> str | None:
    """The path an entry stands for, or None for the archive root itself. Absolute names, '..' and
    backslashes are refused here, whatever the entry is (a directory too)."""
    name = raw
    while name.startswith("./"):
        name = name[2:]
    if name in ("", "."):
        return None
    shown = shown_path(raw)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise InvalidArchive(f"Archive entry '{shown}' has an absolute name", details={"entry": shown,
                                                                                       "reason": "absolute"})
    if "\\" in name:
        raise InvalidArchive(f"Archive entry '{shown}' has a backslash in its name: use '/' between directories",
                             details={"entry": shown, "reason": "backslash"})
    if ".." in name.split("/"):
        raise InvalidArchive(f"Archive entry '{shown}' leaves the archive with '..'",
                             details={"entry": shown, "reason": "traversal"})
    if "\x00" in name:
        raise InvalidArchive(f"Archive entry '{shown}' has a NUL byte in its name",
                             details={"entry": shown, "reason": "nul"})
    return name


def _refuse_kind(raw: str, kind: str) -> InvalidArchive:
    shown = shown_path(raw)
    return InvalidArchive(f"Archive entry '{shown}' is a {kind}: only regular files and directories are accepted",
                          details={"entry": shown, "reason": kind.replace(" ", "_")})


class _Budget:
    """Counts entries and uncompressed bytes against the limits, raising the moment one is passed."""

    def __init__(self, limits: ArchiveLimits, archive_bytes: int) -> None:
        self.limits = limits
        self.archive_bytes = archive_bytes
        self.entries = 0
        self.total = 0

    def too_many_entries(self) -> ArchiveTooLarge:
        return ArchiveTooLarge(f"The archive has more than {self.limits.max_entries} entries",
                               details={"limit": "entries", "max_entries": self.limits.max_entries})

    def entry(self) -> None:
        self.entries += 1
        if self.entries > self.limits.max_entries:
            raise self.too_many_entries()

    def bytes(self, count: int) -> None:
        self.total += count
        if self.total > self.limits.max_total_bytes:
            raise ArchiveTooLarge(f"The archive holds more than {self.limits.max_total_bytes} bytes uncompressed",
                                  details={"limit": "uncompressed_bytes",
                                           "max_uncompressed_bytes": self.limits.max_total_bytes})

    def ratio(self, uncompressed: int, compressed: int, what: str) -> None:
        if uncompressed > RATIO_FLOOR_BYTES and uncompressed > self.limits.max_ratio * max(compressed, 1):
            raise ArchiveTooLarge(f"{what} expands more than {self.limits.max_ratio} times: refused as a "
                                  "decompression bomb", details={"limit": "compression_ratio",
                                                                 "max_ratio": self.limits.max_ratio})


# --- zip ---------------------------------------------------------------------------------------------

_ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}


def _read_zip(data: bytes, limits: ArchiveLimits) -> list[tuple[str, bytes]]:
    try:
        return _read_zip_entries(data, limits)
    except _UNREADABLE as error:
        raise InvalidArchive(f"The .zip archive cannot be read: {type(error).__name__}: {str(error)[:200]}",
                             details={"reason": "corrupt"}) from None


def _read_zip_entries(data: bytes, limits: ArchiveLimits) -> list[tuple[str, bytes]]:
    budget = _Budget(limits, len(data))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:  # the central directory says so: refuse before reading any entry
            raise budget.too_many_entries()
        files: list[tuple[str, bytes]] = []
        for info in infos:
            budget.entry()
            name = _entry_name(info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise _refuse_kind(info.filename, "symbolic link")
            if mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise _refuse_kind(info.filename, "device or special file")
            if info.filename.endswith("/") or stat.S_ISDIR(mode):
                continue
            if name is None:
                raise InvalidArchive("An archive entry has an empty name", details={"reason": "empty_name"})
            if info.flag_bits & 0x1:
                raise InvalidArchive(f"Archive entry '{shown_path(name)}' is encrypted",
                                     details={"entry": shown_path(name), "reason": "encrypted"})
            if info.compress_type not in _ZIP_METHODS:
                raise InvalidArchive(f"Archive entry '{shown_path(name)}' uses a compression other than "
                                     "stored or deflate", details={"entry": shown_path(name),
                                                                   "reason": "compression"})
            # What the archive declares first (cheap), then what decompression really yields.
            budget.ratio(info.file_size, min(info.compress_size, len(data)), f"Archive entry '{shown_path(name)}'")
            if budget.total + info.file_size > limits.max_total_bytes:
                budget.bytes(info.file_size)
            files.append((name, _read_zip_entry(archive, info, name, budget)))
        return files


def _read_zip_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: _Budget) -> bytes:
    chunks, size = [], 0
    try:
        with archive.open(info) as stream:
            while True:
                chunk = stream.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                budget.bytes(len(chunk))
                budget.ratio(size, min(info.compress_size, budget.archive_bytes), f"Archive entry '{shown_path(name)}'")
                chunks.append(chunk)
    except _UNREADABLE as error:
        raise InvalidArchive(f"Archive entry '{shown_path(name)}' cannot be read: {type(error).__name__}",
                             details={"entry": shown_path(name), "reason": "corrupt"}) from None
    return b"".join(chunks)


# --- tar.gz ------------------------------------------------------------------------------------------

class _BoundedGunzip(io.RawIOBase):
    """A gzip stream (one member or several, as `cat a.gz b.gz` makes) decompressed on demand, within the
    byte and ratio budget: a bomb stops at the first chunk past a bound, never after inflating it all."""

    def __init__(self, data: bytes, budget: _Budget) -> None:
        self._data = data
        self._offset = 0          # bytes of `data` handed to the decompressor so far
        self._budget = budget
        self._inflate = zlib.decompressobj(wbits=31)
        self._pending = b""
        self._produced = 0
        # The tar stream carries headers and padding besides file bytes (1 KiB an entry at most, pax aside).
        self._stream_limit = budget.limits.max_total_bytes + 1024 * budget.limits.max_entries + 1024 * 1024

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        while not self._pending:
            if self._inflate.eof:
                self._offset -= len(self._inflate.unused_data)   # back to just after this member
                if not self._data.startswith(GZIP_MAGIC, self._offset):
                    return               # the end (trailing bytes that are no gzip member are ignored, as gzip does)
                self._inflate = zlib.decompressobj(wbits=31)
            if self._inflate.unconsumed_tail:
                piece = self._inflate.unconsumed_tail
            elif self._offset < len(self._data):
                piece = self._data[self._offset:self._offset + _CHUNK]
                self._offset += len(piece)
            else:
                raise InvalidArchive("The .tar.gz archive ends in the middle of its gzip stream",
                                     details={"reason": "corrupt"})
            try:
                self._pending = self._inflate.decompress(piece, _CHUNK)
            except zlib.error as error:
                raise InvalidArchive(f"The .tar.gz archive cannot be decompressed: {error}",
                                     details={"reason": "corrupt"}) from None
            self._produced += len(self._pending)
            self._budget.ratio(self._produced, self._offset, "The .tar.gz archive")
            if self._produced > self._stream_limit:
                self._budget.bytes(self._budget.limits.max_total_bytes + 1)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        self._fill()
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


def _read_tar_gz(data: bytes, limits: ArchiveLimits) -> list[tuple[str, bytes]]:
    budget = _Budget(limits, len(data))
    files: list[tuple[str, bytes]] = []
    stream = io.BufferedReader(_BoundedGunzip(data, budget), buffer_size=_CHUNK)
    try:
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                budget.entry()
                name = _entry_name(member.name)
                if member.issym():
                    raise _refuse_kind(member.name, "symbolic link")
                if member.islnk():
                    raise _refuse_kind(member.name, "hard link")
                if member.ischr() or member.isblk() or member.isfifo():
                    raise _refuse_kind(member.name, "device or special file")
                if member.issparse():
                    raise _refuse_kind(member.name, "sparse file")
                if member.isdir():
                    continue
                if not member.isreg():
                    raise _refuse_kind(member.name, "special entry")
                if name is None:
                    raise InvalidArchive("An archive entry has an empty name", details={"reason": "empty_name"})
                budget.bytes(member.size)
                handle = archive.extractfile(member)
                content = handle.read(member.size) if handle is not None else b""
                if len(content) != member.size:
                    raise InvalidArchive(f"Archive entry '{shown_path(name)}' is cut short",
                                         details={"entry": shown_path(name), "reason": "corrupt"})
                files.append((name, content))
    except _UNREADABLE as error:
        raise InvalidArchive(f"The .tar.gz archive cannot be read: {type(error).__name__}: {str(error)[:200]}",
                             details={"reason": "corrupt"}) from None
    return files
