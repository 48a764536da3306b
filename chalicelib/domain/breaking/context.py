"""Shared state and helpers of one comparison: both indexes, the findings collected, common wording."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .findings import RawFinding
from .index import FieldIdx, FileIdx, Index, MessageIdx, Span
from .text import q


class Ctx:
    """Passed to every rule: the new and old versions and where findings go."""

    def __init__(self, new: Index, old: Index) -> None:
        self.new = new
        self.old = old
        self.findings: list[RawFinding] = []

    def add(self, rule: str, file: FileIdx | None, span: Span | None, against: FileIdx | None,
            message: str) -> None:
        self.findings.append(RawFinding(rule, file, span, against, message))


def first_span(*spans: Span | None) -> Span | None:
    """buf's withBackupLocation: the first location that exists."""
    for span in spans:
        if span is not None:
            return span
    return None


def field_description(field: FieldIdx, name: str | None = None) -> str:
    """`Field "1" with name "x" on message "M"` (or `Extension ...` with the extendee)."""
    if name is None:
        name = field.full_name if field.is_extension else field.name
    name_part = f" with name {q(name)}" if name else ""
    if field.is_extension:
        return f"Extension {q(field.number)}{name_part} on message {q(field.proto.extendee.lstrip('.'))}"
    assert field.message is not None
    return f"Field {q(field.number)}{name_part} on message {q(field.message.name)}"


def deleted_element_location(
    file: FileIdx, nested_name: str, nested_messages: dict[str, MessageIdx] | None = None
) -> tuple[FileIdx, Span | None]:
    """Where to report a deleted nested element: its closest surviving enclosing message, else the file."""
    messages = file.nested_messages if nested_messages is None else nested_messages
    if "." in nested_name:
        parts = nested_name.split(".")
        for end in range(len(parts) - 1, 0, -1):
            message = messages.get(".".join(parts[:end]))
            if message is not None:
                return message.file, message.span()
    return file, None


# --- tag ranges (reserved and extension ranges) -------------------------------------------------------
MESSAGE_MAX = 536870911
MESSAGE_SET_MAX = 2147483646
ENUM_MAX = 2147483647


class Ranged(Protocol):
    file: FileIdx
    name: str

    def span(self) -> Span | None: ...


def collapse(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping and adjacent inclusive ranges."""
    result: list[list[int]] = []
    for start, end in sorted(ranges):
        if result and start <= result[-1][1] + 1:
            result[-1][1] = max(result[-1][1], end)
        else:
            result.append([start, end])
    return [(start, end) for start, end in result]


def missing(start: int, end: int, collapsed: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Parts of [start, end] that no collapsed range covers."""
    gaps: list[tuple[int, int]] = []
    cursor = start
    for range_start, range_end in collapsed:
        if range_end < cursor:
            continue
        if range_start > end:
            break
        if range_start > cursor:
            gaps.append((cursor, range_start - 1))
        cursor = max(cursor, range_end + 1)
        if cursor > end:
            break
    if cursor <= end:
        gaps.append((cursor, end))
    return gaps


def range_string(start: int, end: int, max_tag: int) -> str:
    if start == end:
        return f"[{start}]"
    if end == max_tag:
        return f"[{start},max]"
    return f"[{start},{end}]"


def check_tag_ranges(
    ctx: Ctx,
    rule: str,
    kind: str,
    element_kind: str,
    element: Ranged,
    previous: Ranged,
    previous_ranges: Sequence[tuple[int, int]],
    ranges: Sequence[tuple[int, int]],
    previous_max: int,
    max_tag: int,
) -> None:
    """Report each old range (inclusive bounds) whose values are no longer all covered."""
    if not previous_ranges:
        return
    collapsed = collapse(ranges)
    for start, end in previous_ranges:
        gaps = missing(start, end, collapsed)
        if gaps:
            removed = ", ".join(range_string(s, e, max_tag) for s, e in gaps)
            ctx.add(
                rule, element.file, element.span(), previous.file,
                f"Previously present {kind} range {q(range_string(start, end, previous_max))} on "
                f"{element_kind} {q(element.name)} is missing values: {removed} were removed.",
            )
