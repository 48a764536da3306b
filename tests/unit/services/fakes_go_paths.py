"""A GeneratorPort that records what a compile job asked of it (the Go prefixes above all)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Output:
    ok: bool = True
    zip_bytes: bytes = b"PK-fake"
    error: str | None = None


@dataclass
class _Result:
    outputs: dict[str, _Output]


@dataclass
class RecordingGenerator:
    calls: list[dict[str, Any]] = field(default_factory=list)

    def versions(self) -> dict[str, str]:
        return {}

    def generate(self, files: dict[str, bytes], dependency_files: dict[str, bytes], languages: list[str],
                 **options: Any) -> _Result:
        self.calls.append({"files": sorted(files), "languages": list(languages), **options})
        return _Result({language: _Output() for language in languages})
