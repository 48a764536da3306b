"""A version's sources as one deterministic ZIP (Spoke's `buf export`): `download/proto`.

The same version always gives the same bytes, so the ZIP is stored content-addressed once and any
two builds (two first requests at once) agree: entries in path order, every timestamp 1980-01-01
00:00:00 (the ZIP epoch), one fixed mode (0644 regular file), no extra fields or comments, one
compression level. Besides the files it holds `spoke.manifest.json`: module, version, each file's
path, size and sha256, and the version's direct dependencies.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

PROTO = "proto"
DESCRIPTOR_SET = "descriptor_set"
SOURCE_DOWNLOADS = (PROTO, DESCRIPTOR_SET)  # names under download/ that are never compile languages
MANIFEST_NAME = "spoke.manifest.json"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644  # a regular file, rw-r--r--
_COMPRESS_LEVEL = 6


def source_manifest(module: str, version: str, files: Mapping[str, bytes],
                    dependencies: list[dict[str, str]]) -> bytes:
    """The manifest's bytes: sorted keys, two-space indent, a final newline."""
    body: dict[str, Any] = {
        "module": module, "version": version,
        "files": [{"path": path, "size": len(files[path]), "sha256": hashlib.sha256(files[path]).hexdigest()}
                  for path in sorted(files)],
        "dependencies": [{"module": d["module"], "version": d["version"]} for d in dependencies],
    }
    return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so external_attr carries the mode on every platform alike
    info.external_attr = _FILE_MODE << 16
    return info


def build_source_zip(module: str, version: str, files: Mapping[str, bytes],
                     dependencies: list[dict[str, str]]) -> bytes:
    """The ZIP of `files` (path -> bytes) and their manifest. A file named like the manifest cannot
    exist: published paths are .proto files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=_COMPRESS_LEVEL) as archive:
        for path in sorted(files):
            archive.writestr(_entry(path), files[path], compresslevel=_COMPRESS_LEVEL)
        archive.writestr(_entry(MANIFEST_NAME), source_manifest(module, version, files, dependencies),
                         compresslevel=_COMPRESS_LEVEL)
    return buffer.getvalue()
