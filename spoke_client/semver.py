"""Just enough semver for a client: which published version is `latest`, and what `--bump` makes next.

The server orders versions; the client only needs to tell releases from pre-releases and compare
releases (major, minor, patch), which needs no dependency.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

BUMPS = ("major", "minor", "patch")
_SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$")


def release_triple(version: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of a release; None for a pre-release or anything not semver."""
    match = _SEMVER.match(version.strip())
    if match is None or match.group(4) is not None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def highest_release(versions: Iterable[str]) -> str | None:
    """The highest release among `versions` (what `latest` names); pre-releases never count."""
    releases = [(triple, v) for v in versions if (triple := release_triple(v)) is not None]
    return max(releases)[1] if releases else None


def bump(highest: str | None, part: str) -> str:
    """The version after `highest` (a release, or None: then bumped from v0.0.0)."""
    if part not in BUMPS:
        raise ValueError(f"bump must be one of {', '.join(BUMPS)}, not {part!r}")
    major, minor, patch = release_triple(highest) if highest else (0, 0, 0)  # type: ignore[misc]
    if part == "major":
        return f"v{major + 1}.0.0"
    if part == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"
