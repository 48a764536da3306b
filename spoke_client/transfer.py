"""Moving bytes: archiving a module for the presigned upload, and verifying what was downloaded.

Nothing here talks to the Spoke API; the presigned URLs go straight to S3, so they must never
carry the API's Authorization header (S3 would refuse a second credential, and it would leak the
token to whoever holds the URL).
"""
from __future__ import annotations

import hashlib
import io
import os
import secrets
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from spoke_client.errors import IntegrityError
from spoke_client.models import FileEntry

FileSet = Mapping[str, bytes | str]
# A fixed timestamp, so the same files always make the same archive bytes.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def as_bytes(content: bytes | str) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else bytes(content)


def as_text(path: str, content: bytes | str) -> str:
    """JSON bodies carry text; the server refuses non-UTF-8 files anyway, so say which one locally."""
    if isinstance(content, str):
        return content
    try:
        return bytes(content).decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text: {error}") from None


def zip_files(files: FileSet) -> bytes:
    """A deterministic ZIP of `files` (sorted, fixed times), paths exactly as given: the server
    takes archive paths as the file paths, stripping nothing."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, as_bytes(files[path]))
    return buffer.getvalue()


def estimated_body_bytes(files: FileSet) -> int:
    """Roughly what a multipart body of these files weighs (content plus per-part headers)."""
    return sum(len(as_bytes(content)) + len(path) + 200 for path, content in files.items())


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def normalize_sha256(value: str | None) -> str | None:
    """An ETag or checksum as bare lowercase hex: strips W/, quotes and a "sha256:" prefix."""
    if not value:
        return None
    value = value.strip().removeprefix("W/").strip('"').strip()
    return value.split(":", 1)[1].lower() if value.lower().startswith("sha256:") else value.lower()


def verify(data_size: int, digest: str, expected_size: int | None, expected_sha256: str | None,
           what: str) -> None:
    """Raise IntegrityError unless the bytes are the ones announced."""
    if expected_size is not None and data_size != expected_size:
        raise IntegrityError(None, "SIZE_MISMATCH", f"{what}: got {data_size} bytes, expected {expected_size}",
                             {"expected": expected_size, "actual": data_size})
    expected = normalize_sha256(expected_sha256)
    if expected is not None and digest != expected:
        raise IntegrityError(None, "CHECKSUM_MISMATCH", f"{what}: sha256 {digest} does not match {expected}",
                             {"expected": expected, "actual": digest})


def write_verified(chunks: Iterable[bytes], destination: str | os.PathLike[str], expected_size: int | None,
                   expected_sha256: str | None, what: str) -> Path:
    """Stream chunks to a temporary file beside `destination`, verify, then rename into place, so
    a truncated or corrupt download never appears under the final name."""
    target = Path(destination)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    # Not mkstemp: its 0600 would stick to the final file; "xb" takes the umask's usual permissions.
    temporary = target.parent / f".{target.name}.{secrets.token_hex(8)}.part"
    try:
        with open(temporary, "xb") as out:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        verify(size, digest.hexdigest(), expected_size, expected_sha256, what)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def check_entry(entry: FileEntry, content: bytes) -> None:
    """Raise IntegrityError unless `content` is the file the version lists (size and sha256)."""
    verify(len(content), sha256_hex(content), entry.size, entry.sha256, entry.path)
