"""Upload paths: protoc import paths, confined to the version's own tree.

One grammar makes whole classes of attack impossible rather than patching examples: a segment
starts with a letter, digit or `_` (so no path can read as a command-line option), every segment
fits a file name on any file system, the depth fits the file route, and `google/protobuf/` stays
the well-known types'. A path is refused rather than silently rewritten, so what a user uploads is
what they import.
"""
from __future__ import annotations

import re

from chalicelib.domain.errors import InvalidPath

MAX_PATH_LENGTH = 512
MAX_SEGMENT_LENGTH = 128  # well under NAME_MAX (255 bytes) on Linux, macOS and Windows
MAX_PATH_DEPTH = 12  # segments, the file name included; GET .../files/{path} serves every depth up to it
WELL_KNOWN_PREFIX = "google/protobuf/"
PATH_RULE = ("a relative path of '/'-separated segments of letters, digits, '_', '-' and '.', each starting "
             f"with a letter, digit or '_', at most {MAX_SEGMENT_LENGTH} characters a segment, "
             f"{MAX_PATH_DEPTH} segments and {MAX_PATH_LENGTH} characters, ending in .proto")
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_SHOWN = 80


def shown_path(path: str) -> str:
    """A path as error messages show it: NUL visible, bounded length."""
    text = path.replace("\x00", "\\0")
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def validate_proto_path(path: object) -> str:
    if not isinstance(path, str) or path == "":
        raise InvalidPath("A file needs a path (the upload's filename), e.g. acme/v1/user.proto")
    shown = shown_path(path)
    details = {"path": shown, "rule": PATH_RULE}

    def refuse(reason: str) -> InvalidPath:
        return InvalidPath(f"Path '{shown}' {reason}", details=details)

    if len(path) > MAX_PATH_LENGTH:
        raise refuse(f"is longer than {MAX_PATH_LENGTH} characters")
    if "\x00" in path:
        raise refuse("contains a NUL byte")
    if "\\" in path:
        raise refuse("contains a backslash: use '/' between directories")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        raise refuse("is absolute: paths are relative to the module root")
    segments = path.split("/")
    if ".." in segments:
        raise refuse("leaves the module with '..'")
    if any(s in ("", ".") for s in segments):
        raise refuse("has an empty or '.' directory")
    if len(segments) > MAX_PATH_DEPTH:
        raise refuse(f"has {len(segments)} segments; at most {MAX_PATH_DEPTH} are allowed")
    long_segment = next((s for s in segments if len(s) > MAX_SEGMENT_LENGTH), None)
    if long_segment is not None:
        raise refuse(f"has a segment of {len(long_segment)} characters; at most {MAX_SEGMENT_LENGTH} are allowed")
    bad = next((s for s in segments if not _SEGMENT.match(s)), None)
    if bad is not None:
        raise refuse(f"has the segment '{shown_path(bad)}': each segment may only contain letters, digits, "
                     "'_', '-' and '.', and must start with a letter, digit or '_'")
    if not path.endswith(".proto") or segments[-1] == ".proto":
        raise InvalidPath(f"'{shown}' is not a .proto file", details=details)
    if path.lower().startswith(WELL_KNOWN_PREFIX):
        raise refuse(f"is under '{WELL_KNOWN_PREFIX}', which belongs to protobuf's well-known types: "
                     "import them, do not upload them")
    return path
