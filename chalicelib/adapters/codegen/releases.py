"""The protoc releases and gRPC plugins the layer carries, and the runtime each release's output needs.

The layer describes itself in `spoke-protoc-layer.json` beside `bin/` (layers/protoc/build.py writes it):
`releases` ([{"release", "protoc", "include", "default", "source"}], paths relative to the layer root),
`grpc_plugins` ({language: "bin/<plugin>"}, or {language: {"path", "version"}}) and
`grpc_plugin_versions` ({language: version}). chalicelib never
imports layers/: it reads that file. A layer without `releases` has one release, its `bin/protoc`.

Runtimes follow protobuf.dev's version-support table: protoc 3.21.x pairs with Java/C++/C#/Ruby/PHP/
Objective-C 3.21.x and Python 4.21.x; from 22.x on each language has its own major (C++ 4.22 ... 7.36,
Java 3.22 ... 4.36, Python 4.22 ... 7.36) and C++ needs Abseil.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LAYER_DESCRIPTION = "spoke-protoc-layer.json"
EDITIONS_SINCE = 27          # the first protoc release in which edition 2023 is generally available
ABSEIL_SINCE = 22            # the first release whose C++ runtime (and output) needs Abseil
# protoc minor -> runtime major, per language: ranges start at the key and last until the next key.
# (3.21.x is minor 21 of the old scheme: protoc 3.21.12 is "21.12" here.)
_MAJORS: dict[str, dict[int, int]] = {
    "python": {0: 4, 26: 5, 30: 6, 34: 7},
    "pyi": {0: 4, 26: 5, 30: 6, 34: 7},
    "cpp": {0: 3, 22: 4, 26: 5, 30: 6, 34: 7},
    "java": {0: 3, 26: 4},
    "kotlin": {0: 3, 26: 4},
    "csharp": {0: 3},
    "ruby": {0: 3, 26: 4},
    "php": {0: 3, 26: 4},
    "objc": {0: 3, 26: 4},
}


@dataclass(frozen=True)
class ProtocRelease:
    """One protoc the layer carries: its version, binary and well-known types (absolute paths)."""
    release: str
    protoc: str
    include: str | None = None
    default: bool = False
    source: str = ""


@dataclass(frozen=True)
class GrpcPluginEntry:
    """A gRPC plugin the layer lists: where it is, and its version when the layer says."""
    path: str
    version: str = ""


@dataclass(frozen=True)
class LayerDescription:
    releases: tuple[ProtocRelease, ...] = ()
    grpc_plugins: dict[str, GrpcPluginEntry] = field(default_factory=dict)


def release_minor(release: str) -> tuple[int, int]:
    """(protoc minor, patch) in the new scheme: '3.21.12' -> (21, 12), '27.5' -> (27, 5), '36.2' -> (36, 2)."""
    numbers = [int(part) for part in re.findall(r"\d+", release)[:3]] or [0]
    if numbers[0] == 3 and len(numbers) >= 2:
        numbers = numbers[1:]
    return numbers[0], numbers[1] if len(numbers) > 1 else 0


def release_key(release: str) -> tuple[int, int]:
    return release_minor(release)


def supports_editions(release: str) -> bool:
    return release_minor(release)[0] >= EDITIONS_SINCE


def runtime_version(language: str, release: str) -> str | None:
    """The runtime version the table pairs `language`'s output of `release` with; None if it has none."""
    majors = _MAJORS.get(language)
    if majors is None:
        return None
    minor, patch = release_minor(release)
    major = next(value for start, value in sorted(majors.items(), reverse=True) if minor >= start)
    return f"{major}.{minor}.{patch}"


def needs_abseil(release: str) -> bool:
    return release_minor(release)[0] >= ABSEIL_SINCE


def read_layer(layer_root: str | None) -> LayerDescription:
    """The layer's own description, or an empty one when the file is absent or unreadable."""
    if not layer_root:
        return LayerDescription()
    try:
        with open(os.path.join(layer_root, LAYER_DESCRIPTION), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return LayerDescription()
    if not isinstance(data, dict):
        return LayerDescription()
    return LayerDescription(_releases(layer_root, data.get("releases")), _plugins(layer_root, data))


def _releases(root: str, entries: Any) -> tuple[ProtocRelease, ...]:
    found = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping) or not entry.get("release") or not entry.get("protoc"):
            continue
        include = entry.get("include")
        found.append(ProtocRelease(str(entry["release"]), os.path.join(root, str(entry["protoc"])),
                                   os.path.join(root, str(include)) if include else None,
                                   bool(entry.get("default")), str(entry.get("source", ""))))
    return tuple(found)


def _plugins(root: str, data: Mapping[str, Any]) -> dict[str, GrpcPluginEntry]:
    entries = data.get("grpc_plugins")
    listed = data.get("grpc_plugin_versions")
    versions = {str(k): str(v) for k, v in listed.items()} if isinstance(listed, Mapping) else {}
    plugins: dict[str, GrpcPluginEntry] = {}
    for language, entry in (entries.items() if isinstance(entries, Mapping) else []):
        if isinstance(entry, str):
            plugins[str(language)] = GrpcPluginEntry(os.path.join(root, entry),
                                                     versions.get(str(language)) or _source_version(data, entry))
        elif isinstance(entry, Mapping) and (entry.get("path") or entry.get("binary")):
            path = str(entry.get("path") or entry.get("binary"))
            plugins[str(language)] = GrpcPluginEntry(os.path.join(root, path),
                                                     str(entry.get("version") or _source_version(data, path)))
    return plugins


def _source_version(data: Mapping[str, Any], path: str) -> str:
    """A plugin's version from the layer's `sources`, when the list names no version of its own: the
    package of that name, else the gRPC package it comes from (the Java one for the Java plugin)."""
    name = os.path.basename(path)
    sources = {str(k): v for k, v in (data.get("sources") or {}).items() if isinstance(v, Mapping)}
    if name in sources:
        return str(sources[name].get("version", ""))
    java = "java" in name
    for package, source in sorted(sources.items()):
        if "grpc" in package and ("java" in package) == java and "go" not in package.split("-"):
            return str(source.get("version", ""))
    return ""


# --- runtimes in manifests ---------------------------------------------------------------------------

_GENCODE_CHECKS: dict[str, tuple[str, str]] = {
    # language: (pattern of the check the generated code makes, file suffix). Ruby, PHP and C# output
    # (protoc 3.21.12 and 36.2 alike) checks no runtime version: theirs come from the table.
    "objc": (r"GOOGLE_PROTOBUF_OBJC_VERSION < (\d+)", ".pbobjc.h"),
}
_FORMATS = {
    "pypi": lambda p, v, m: f"{p}>={v},<{m + 1}",
    "maven": lambda p, v, m: f"{p}:{v}",
    "c++": lambda p, v, m: f"{p}=={v}",
    "nuget": lambda p, v, m: f"{p} >= {v}",
    "rubygems": lambda p, v, m: f"{p} >= {v}, < {m + 1}",
    "composer": lambda p, v, m: f"{p} ^{v}",
    "cocoapods": lambda p, v, m: f"{p} >= {v}",
}
_SOURCES = {"gencode": "generated code", "table": "table", "plugin": "plugin"}


def gencode_check(language: str, generated: Mapping[str, bytes]) -> str | None:
    """The version the generated code itself checks for: Objective-C's GOOGLE_PROTOBUF_OBJC_VERSION
    (Python, Java and C++ state theirs in comments packaging reads)."""
    check = _GENCODE_CHECKS.get(language)
    if check is None:
        return None
    regex = re.compile(check[0].encode())
    for path in sorted(generated):
        if path.endswith(check[1]):
            match = regex.search(generated[path])
            if match:
                return match.group(1).decode()
    return None


def release_runtime(language: str, release: str, generated: Mapping[str, bytes],
                    runtime: list[dict[str, str]]) -> list[dict[str, str]]:
    """`runtime` (packaging.runtime_requirements' entries) matched to `release`: an entry the table gave
    takes this release's version, every entry says where it came from (`runtime_source`: "generated
    code", "table" or "plugin"), C++ names Abseil from 22.x on, and a version check the generated code
    makes is stated (`gencode_check`)."""
    matched: list[dict[str, str]] = []
    table = runtime_version(language, release)
    check = gencode_check(language, generated)
    for entry in runtime:
        item = dict(entry)
        if item.get("source") == "table" and table and item.get("ecosystem") in _FORMATS:
            item["version"] = table
            item["requirement"] = _FORMATS[item["ecosystem"]](item["package"], table, int(table.split(".")[0]))
        if check:
            item["gencode_check"] = f"GOOGLE_PROTOBUF_OBJC_VERSION >= {check}"
            item["runtime_source"] = "generated code"
        else:
            item["runtime_source"] = _SOURCES.get(item.get("source", ""), item.get("source", ""))
        matched.append(item)
    if language == "cpp" and needs_abseil(release):
        matched.append({"ecosystem": "c++", "package": "abseil-cpp", "version": "", "requirement": "abseil-cpp",
                        "source": "table", "runtime_source": "table",
                        "note": "protobuf's C++ runtime and this output include absl headers: link the Abseil "
                                "libprotobuf was built with"})
    return matched


def release_catalog(releases: tuple[ProtocRelease, ...] | list[ProtocRelease], languages: list[str]
                    ) -> list[dict[str, Any]]:
    """/languages' `releases`: each release, whether it is the default, and the runtime each language
    then needs (the table's; the manifest states what the generated code itself asks for)."""
    catalog = []
    for release in sorted(releases, key=lambda r: release_key(r.release), reverse=True):
        runtimes = {language: version for language in languages
                    if (version := runtime_version(language, release.release)) is not None}
        entry: dict[str, Any] = {"release": release.release, "default": release.default,
                                 "editions": supports_editions(release.release), "runtimes": runtimes}
        if needs_abseil(release.release):
            entry["cpp_needs_abseil"] = True
        catalog.append(entry)
    return catalog


# The library each language's gRPC stubs build against, at the version of the plugin that wrote them
# (Go and Python state theirs in their generated code: packaging reads it there).
_GRPC_RUNTIMES: dict[str, list[tuple[str, str, str]]] = {   # language: [(ecosystem, package, requirement)]
    "java": [("maven", "io.grpc:grpc-stub", "{p}:{v}"), ("maven", "io.grpc:grpc-protobuf", "{p}:{v}")],
    "kotlin": [("maven", "io.grpc:grpc-stub", "{p}:{v}"), ("maven", "io.grpc:grpc-protobuf", "{p}:{v}")],
    "cpp": [("c++", "grpc++", "{p} >= {v}")],
    "ruby": [("rubygems", "grpc", "{p} >= {v}")],
    "php": [("composer", "grpc/grpc", "{p} ^{v}")],
    "objc": [("cocoapods", "gRPC-ProtoRPC", "{p} >= {v}")],
    "csharp": [("nuget", "Grpc.Core.Api", "{p} >= {v}")],
}


def grpc_runtime(language: str, plugin: str | None, plugin_version: str) -> list[dict[str, str]]:
    """The gRPC library entries of a ZIP whose stubs `plugin` (at `plugin_version`) wrote; none without
    stubs or a known version. C#'s Grpc.Core.Api is versioned 2.<grpc minor> (1.51 -> 2.51.0)."""
    if not plugin or not plugin_version or language not in _GRPC_RUNTIMES:
        return []
    version = plugin_version
    if language == "csharp":
        parts = plugin_version.split(".")
        version = f"2.{parts[1]}.0" if len(parts) > 1 else plugin_version
    return [{"ecosystem": ecosystem, "package": package, "version": version,
             "requirement": requirement.format(p=package, v=version), "source": "plugin",
             "runtime_source": "plugin", "note": f"for the gRPC stubs ({plugin} {plugin_version})"}
            for ecosystem, package, requirement in _GRPC_RUNTIMES[language]]
