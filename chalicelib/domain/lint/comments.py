"""Which comment leads which declaration, as buf's compiler decides, for images compiled by protoc.

buf lint reads leading comments (COMMENT_* rules, `buf:lint:ignore`). buf compiles sources itself and
attributes two kinds of comments differently from protoc:
- a declaration starting on the line its comment ends (`/* note */ string name = 1;`) has none;
- a lone block comment after the previous token (`string a = 1; /* note */`, `message M { /* note */`)
  leads the declaration on the next line, where protoc makes it the previous one's trailing comment.
`align_comments_with_buf` rewrites protoc's leading comments accordingly, given the files' source texts.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from google.protobuf import descriptor_pb2

_BLOCK_COMMENT = re.compile(r"/\*.*?\*/")


def align_comments_with_buf(fds: descriptor_pb2.FileDescriptorSet, texts: Mapping[str, str]) -> None:
    """Rewrite, in place, the leading comments of the files whose source `texts` (path -> text) are given.
    Only leading comments change (the rest of the source info stays protoc's)."""
    for file in fds.file:
        text = texts.get(file.name)
        if text is None:
            continue
        lines = text.splitlines()
        for location in file.source_code_info.location:
            row, column = location.span[0], location.span[1]
            if row >= len(lines):
                continue
            before = lines[row][:column]
            if location.leading_comments and before.rstrip().endswith("*/"):
                location.ClearField("leading_comments")
            elif not location.leading_comments and not before.strip() and row > 0:
                donated = _trailing_block_comment(lines[row - 1])
                if donated is not None:
                    location.leading_comments = donated


def _trailing_block_comment(line: str) -> str | None:
    """The text of a single `/* ... */` ending `line` after code (not after another comment), else None."""
    stripped = line.rstrip()
    if not stripped.endswith("*/"):
        return None
    start = stripped.rfind("/*", 0, len(stripped) - 2)
    code = stripped[:start].rstrip() if start >= 0 else ""
    if code.endswith("*/"):  # two comments after the token: protoc and buf agree on those
        return None
    code = _BLOCK_COMMENT.sub(" ", code)
    if not code.strip() or "//" in code or "/*" in code:
        return None
    return stripped[start + 2:-2]
