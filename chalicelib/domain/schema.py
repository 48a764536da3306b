"""What compiling .proto sources produced: a descriptor set, or located errors."""
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

    @property
    def ok(self) -> bool:
        return self.descriptor_set is not None and not self.errors
