"""How a module's generated code is named as a package in each ecosystem, and where its dependencies' ZIPs are.

One place decides the names, so a module's own pyproject/pom/go.mod and the files of the modules that
depend on it always agree: the Python distribution `spoke-<org slug>-<module>` (PEP 503 normalized),
the Maven coordinates `spoke.<org slug>:<module>`, the Go module version `v1.2.3`, the PEP 440 version.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from chalicelib.domain.errors import InvalidVersion
from chalicelib.domain.versions import parse_version

_PEP503_RUN = re.compile(r"[-_.]+")
_PEP440_PRE = {"a": "a", "alpha": "a", "b": "b", "beta": "b", "c": "rc", "rc": "rc", "pre": "rc", "preview": "rc"}
_LOCAL_UNSAFE = re.compile(r"[^a-z0-9.]+")
_MAVEN_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class DependencyPackage:
    """One module of a version's dependency closure, as its generated code needs it."""
    module: str
    version: str                      # as published: v1.2.3
    files: tuple[str, ...] = ()       # its .proto paths (which Go import paths are its)
    direct: bool = True               # named by the version itself, not only by a dependency


@dataclass(frozen=True)
class PackageInfo:
    """What packaging needs beyond the generated files: the names of the module and of its closure."""
    org_slug: str
    module: str
    version: str
    dependencies: tuple[DependencyPackage, ...] = ()
    protoc_release: str | None = None   # the release a job compiled with, when it named one (download paths)

    @property
    def named(self) -> bool:
        """A module and a semantic version to name packages after (a bare generate() has neither)."""
        try:
            parse_version(self.version)
        except InvalidVersion:
            return False
        return bool(self.module)


def python_distribution(org_slug: str, module: str) -> str:
    """`spoke-<org slug>-<module>`, normalized as PEP 503 says (lowercase, runs of -_. become one -)."""
    return _PEP503_RUN.sub("-", f"spoke-{org_slug}-{module}".lower()).strip("-")


def pep440_version(version: str) -> str:
    """A semantic version as PEP 440 spells it: v1.2.3 -> 1.2.3, v1.2.3-rc.1 -> 1.2.3rc1, v1.2.3-beta ->
    1.2.3b0; another pre-release -> 1.2.3.dev0+<label> (still below 1.2.3); build metadata -> +local."""
    parsed = parse_version(version)
    text = f"{parsed.major}.{parsed.minor}.{parsed.patch}"
    local: list[str] = []
    if parsed.prerelease:
        pre = _pep440_pre(parsed.prerelease)
        if pre is None:
            text += ".dev0"
            local.append(parsed.prerelease)
        else:
            text += pre
    if parsed.build:
        local.append(parsed.build)
    if local:
        text += "+" + _LOCAL_UNSAFE.sub(".", ".".join(local).lower()).strip(".")
    return text


def _pep440_pre(prerelease: str) -> str | None:
    """alpha/beta/rc-like pre-releases (`rc.1`, `rc1`, `beta`) as PEP 440's a/b/rc N; None for others."""
    parts = prerelease.lower().split(".")
    match = re.fullmatch(r"([a-z]+)(\d*)", parts[0])
    if not match or match.group(1) not in _PEP440_PRE:
        return None
    digits, rest = match.group(2), parts[1:]
    if not digits and rest and rest[0].isdigit():
        digits, rest = rest[0], rest[1:]
    return None if rest else f"{_PEP440_PRE[match.group(1)]}{int(digits or 0)}"


def go_module_version(version: str) -> str:
    """The version as a Go module version: v1.2.3 or v1.2.3-rc.1 (Go refuses build metadata: dropped)."""
    parsed = parse_version(version)
    text = f"v{parsed.major}.{parsed.minor}.{parsed.patch}"
    return f"{text}-{parsed.prerelease}" if parsed.prerelease else text


def maven_group(org_slug: str) -> str:
    """The Maven groupId of an organization's modules: `spoke.<org slug>` (slugs are [a-z0-9-])."""
    return "spoke." + _MAVEN_UNSAFE.sub("-", org_slug)


def maven_artifact(module: str) -> str:
    return _MAVEN_UNSAFE.sub("-", module)


def maven_version(version: str) -> str:
    """The version without its leading `v`: Maven orders 1.2.3-rc.1 before 1.2.3 as semver does."""
    return version[1:] if version[:1] in ("v", "V") else version


def download_path(module: str, version: str, language: str, protoc_release: str | None = None) -> str:
    """The API path of a module version's ZIP for `language` (and the protoc release it was compiled with)."""
    path = f"/modules/{quote(module, safe='')}/versions/{quote(version, safe='')}/download/{quote(language, safe='')}"
    return f"{path}?protoc={quote(protoc_release, safe='')}" if protoc_release else path


def go_work_directory(module: str) -> str:
    """The directory a module's Go ZIP is unpacked into beside its dependencies' (and in the closure ZIP)."""
    return module


def dependency_entries(package: PackageInfo, language: str) -> list[dict[str, object]]:
    """The manifest's `dependencies`: every ZIP of the closure that must be unpacked beside this one."""
    return [{"module": d.module, "version": d.version, "language": language, "direct": d.direct,
             "download_path": download_path(d.module, d.version, language, package.protoc_release)}
            for d in sorted(package.dependencies, key=lambda d: d.module)]
