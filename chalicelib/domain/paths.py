"""Upload paths: protoc import paths, confined to the version's own tree.

A path is refused rather than silently rewritten, so what a user uploads is what they import.
"""
from __future__ import annotations

import re

from chalicelib.domain.errors import InvalidPath

MAX_PATH_LENGTH = 512
_ALLOWED = re.compile(r"^[A-Za-z0-9_.\-/]+$")


def validate_proto_path(path: object) -> str:
    if not isinstance(path, str) or path == "":
        raise InvalidPath("A file needs a path (the upload's filename), e.g. acme/v1/user.proto")
    shown = path.replace("\x00", "\\0")
    details = {"path": shown}
    if "\x00" in path:
        raise InvalidPath(f"Path '{shown}' contains a NUL byte", details=details)
    if "\\" in path:
        raise InvalidPath(f"Path '{shown}' contains a backslash: use '/' between directories", details=details)
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        raise InvalidPath(f"Path '{shown}' is absolute: paths are relative to the module root", details=details)
    segments = path.split("/")
    if ".." in segments:
        raise InvalidPath(f"Path '{shown}' leaves the module with '..'", details=details)
    if any(s in ("", ".") for s in segments):
        raise InvalidPath(f"Path '{shown}' has an empty or '.' directory", details=details)
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidPath(f"Path '{shown[:60]}...' is longer than {MAX_PATH_LENGTH} characters", details=details)
    if not _ALLOWED.match(path):
        raise InvalidPath(
            f"Path '{shown}' may only contain letters, digits, '_', '-', '.' and '/'", details=details
        )
    if not path.endswith(".proto") or segments[-1] == ".proto":
        raise InvalidPath(f"'{shown}' is not a .proto file", details=details)
    return path
