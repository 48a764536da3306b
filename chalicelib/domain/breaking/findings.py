"""What a rule reports, in buf's shape (`buf breaking --error-format json`), and how findings are ordered."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .index import FileIdx, Span
from .text import go_json


@dataclass(frozen=True)
class Finding:
    """One breaking change, positioned in the new version (1-based lines and columns, like buf).

    `path` is empty when there is no file in the new version to point at (a deleted file or package);
    buf then reports line and column 1, as we do.
    """

    rule: str
    categories: tuple[str, ...]
    path: str
    start_line: int
    start_column: int
    end_line: int
    end_column: int
    message: str
    policy: str = ""  # the buf.yaml v2 policy file whose rules reported it ("" for the module's own rules)

    @property
    def type(self) -> str:
        """The rule ID, under the name buf's annotations use (formats.render reads `type`)."""
        return self.rule

    def to_buf_json(self, path_prefix: str = "") -> dict[str, Any]:
        """The object buf prints per line with `--error-format json` (no `path` key when there is none)."""
        out: dict[str, Any] = {}
        if self.path:
            out["path"] = path_prefix + self.path
        out.update(
            start_line=self.start_line,
            start_column=self.start_column,
            end_line=self.end_line,
            end_column=self.end_column,
            type=self.rule,
            message=self.message,
        )
        if self.policy:
            out["policy"] = self.policy
        return out

    def to_buf_json_line(self, path_prefix: str = "") -> str:
        """Exactly the line `buf breaking --error-format json` prints (Go's JSON escaping included)."""
        return go_json(self.to_buf_json(path_prefix))

    def to_text(self, path_prefix: str = "") -> str:
        """buf's default text format: `path:line:column:message` (`<input>` when there is no file)."""
        path = path_prefix + self.path if self.path else "<input>"
        suffix = f" ({self.policy})" if self.policy else ""
        return f"{path}:{self.start_line}:{self.start_column}:{self.message}{suffix}"

    def sort_key(self) -> tuple[str, int, int, str, str, int, int]:
        """buf's order: path, start line, start column, rule, message, end line, end column."""
        return (self.path, self.start_line, self.start_column, self.rule, self.message,
                self.end_line, self.end_column)


@dataclass(frozen=True)
class RawFinding:
    """A finding before ignores are applied: keeps both sides' files, since `ignore` matches either."""

    rule: str
    file: FileIdx | None  # new-version file the finding points at
    span: Span | None
    against: FileIdx | None  # old-version file of the element, for ignores
    message: str

    def finalize(self, categories: tuple[str, ...], policy: str = "") -> Finding:
        start_line, start_column, end_line, end_column = self.span or (1, 1, 1, 1)
        return Finding(
            rule=self.rule,
            categories=categories,
            path=self.file.path if self.file is not None else "",
            start_line=start_line,
            start_column=start_column,
            end_line=end_line,
            end_column=end_column,
            message=self.message,
            policy=policy,
        )
