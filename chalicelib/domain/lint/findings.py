"""What a lint rule reports, in buf's shape (`buf lint --error-format json`), and buf's order."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LintFinding:
    """One lint finding: 1-based positions like buf (1:1 to 1:1 when it concerns the whole file)."""

    path: str
    start_line: int
    start_column: int
    end_line: int
    end_column: int
    type: str  # the rule ID
    message: str
    policy: str = ""  # the buf.yaml v2 policy file whose rules reported it; "" for the module's own rules

    def as_dict(self) -> dict[str, Any]:
        """The object buf prints per line with `--error-format json` (`policy` only from a policy)."""
        out: dict[str, Any] = {"path": self.path, "start_line": self.start_line, "start_column": self.start_column,
                               "end_line": self.end_line, "end_column": self.end_column, "type": self.type,
                               "message": self.message}
        if self.policy:
            out["policy"] = self.policy
        return out

    def sort_key(self) -> tuple[str, int, int, str, str, int, int]:
        """buf's order: path, start line, start column, rule, message, end line, end column; a sort on it
        is stable, so equal findings stay as run: the module's own rules, then each policy in order."""
        return (self.path, self.start_line, self.start_column, self.type, self.message,
                self.end_line, self.end_column)
