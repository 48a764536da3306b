"""What compiling .proto sources produced: a descriptor set, located errors, or a bound it went over."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CompilerMessage:
    file: str
    line: int
    column: int
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "column": self.column, "message": self.message}


@dataclass
class CompileOutcome:
    descriptor_set: bytes | None
    errors: list[CompilerMessage] = field(default_factory=list)
    warnings: list[CompilerMessage] = field(default_factory=list)
    # Set when protoc went over its time or memory bound: which bound and its value, for a person
    # (e.g. "protoc went over its time limit of 20 s"). Not an error in the sources: its own outcome.
    limit_exceeded: str | None = None

    @property
    def ok(self) -> bool:
        return self.descriptor_set is not None and not self.errors and self.limit_exceeded is None
