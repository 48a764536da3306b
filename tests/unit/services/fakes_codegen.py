"""A GeneratorPort with protoc releases: it records each job and answers ZIPs that name their release."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RELEASES = ("36.2", "3.21.12")  # newest first; the first is the default


@dataclass
class ReleaseOutput:
    zip_bytes: bytes
    ok: bool = True
    error: str | None = None
    notes: tuple[str, ...] = ()


@dataclass
class ReleaseResult:
    outputs: dict[str, ReleaseOutput]


@dataclass
class ReleasesGenerator:
    """Each ZIP's bytes name its language and release, as real output differs from release to release."""
    calls: list[dict[str, Any]] = field(default_factory=list)
    notes: tuple[str, ...] = ()

    def versions(self) -> dict[str, str]:
        return {"protoc": RELEASES[0]}

    def default_release(self) -> str:
        return RELEASES[0]

    def catalog(self, languages: list[str]) -> dict[str, Any]:
        return {"default": RELEASES[0],
                "releases": [{"release": r, "default": r == RELEASES[0], "editions": r != "3.21.12",
                              "runtimes": {name: r for name in languages}} for r in RELEASES],
                "grpc": {name: {"plugin": f"{name}-plugin", "available": True, "version": "1.0"}
                         for name in languages}}

    def generate(self, files: dict[str, bytes], dependency_files: dict[str, bytes], languages: list[str],
                 **options: Any) -> ReleaseResult:
        self.calls.append({"languages": list(languages), **options})
        release = options.get("protoc_release") or RELEASES[0]
        return ReleaseResult({name: ReleaseOutput(f"PK {name} {release}".encode(), notes=self.notes)
                              for name in languages})
