"""Semantic versions (semver.org 2.0.0) and a sort key that orders them in DynamoDB.

DynamoDB sorts string keys byte by byte, so `sort_key_for` encodes precedence into ASCII:
fixed-width numbers, numeric pre-release identifiers below alphanumeric ones, a release above
all of its pre-releases, and build metadata left out (it has no precedence, so `1.0.0+a` and
`1.0.0+b` are the same version and the second is refused as existing).
"""
from __future__ import annotations

from dataclasses import dataclass

import semver

from chalicelib.domain.errors import InvalidVersion

MAX_VERSION_LENGTH = 128  # the whole spelling, pre-release and build metadata included
_MAX_NUMBER = 10**10 - 1
_WIDTH = 10
_SEPARATOR = "!"  # below every character an identifier may contain ('-', digits, letters)
PRERELEASE_SEPARATOR = _SEPARATOR  # only a pre-release's sort key holds it
_RELEASE = "~"  # above every character: a release sorts after its pre-releases
LATEST = "latest"  # the alias readers may use for a version: the highest release (pre-releases excluded)


def is_latest(text: object) -> bool:
    """The `latest` alias, exactly so spelled (case-sensitive: `Latest` is just an invalid version)."""
    return text == LATEST


def is_release_key(sort_key: str) -> bool:
    """A release's sort key ends with the release marker; a pre-release's never does (its identifiers
    follow a separator), so `latest` can skip pre-releases by their key alone."""
    return sort_key.endswith(_RELEASE)


@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: str | None
    build: str | None

    @property
    def name(self) -> str:
        """Canonical spelling, as the contract writes versions: `v1.2.3-rc.1+build.5`."""
        text = f"v{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += f"-{self.prerelease}"
        if self.build:
            text += f"+{self.build}"
        return text

    @property
    def sort_key(self) -> str:
        return sort_key_for(self)


def parse_version(text: object) -> Version:
    if not isinstance(text, str) or not text.strip():
        raise InvalidVersion("Version is required as text, e.g. v1.0.0")
    raw = text.strip()
    if raw == LATEST:
        raise InvalidVersion("'latest' is an alias only for reading (the highest release): a published version "
                             "and a dependency must be pinned, e.g. v1.2.3 or common@v1.2.3",
                             details={"version": raw})
    if len(raw) > MAX_VERSION_LENGTH:
        raise InvalidVersion(f"Version '{raw[:40]}...' is {len(raw)} characters long; at most {MAX_VERSION_LENGTH} "
                             "are allowed, pre-release and build metadata included",
                             details={"version": raw[:40] + "...", "max_length": MAX_VERSION_LENGTH})
    candidate = raw[1:] if raw[:1] in ("v", "V") else raw
    try:
        parsed = semver.Version.parse(candidate)
    except (ValueError, TypeError):
        raise InvalidVersion(
            f"'{raw}' is not a semantic version: use MAJOR.MINOR.PATCH with an optional leading 'v', "
            "pre-release and build metadata, e.g. v1.2.3 or 1.2.3-rc.1+build.5",
            details={"version": raw},
        ) from None
    numbers = [parsed.major, parsed.minor, parsed.patch]
    numbers += [int(p) for p in (parsed.prerelease or "").split(".") if p.isdigit()]
    if any(n > _MAX_NUMBER for n in numbers):
        raise InvalidVersion(f"'{raw}' has a number above {_MAX_NUMBER}", details={"version": raw})
    return Version(parsed.major, parsed.minor, parsed.patch, parsed.prerelease, parsed.build)


def _identifier_key(identifier: str) -> str:
    if identifier.isdigit():
        return "0" + str(int(identifier)).zfill(_WIDTH)
    return "1" + identifier


def sort_key_for(version: Version) -> str:
    key = ".".join(str(n).zfill(_WIDTH) for n in (version.major, version.minor, version.patch))
    if not version.prerelease:
        return key + _RELEASE
    return key + _SEPARATOR + _SEPARATOR.join(_identifier_key(i) for i in version.prerelease.split("."))
