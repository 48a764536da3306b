"""Go import paths, as `go` itself accepts them (golang.org/x/mod/module.CheckImportPath, simplified).

Both a module's `go_package_prefix` and a file's `go_package` option end up in generated `go.mod`
and import statements, so a path Go would refuse is refused here with the reason.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MAX_GO_IMPORT_PATH = 256
GO_IMPORT_PATH_RULE = ("a Go import path like github.com/acme/protos: '/'-separated elements of letters, "
                       "digits and '-', '.', '_', '~', '+', none empty, '.' or '..', none starting with '.' "
                       f"or '-' or ending with '.', at most {MAX_GO_IMPORT_PATH} characters")
_ELEMENT = re.compile(r"^[A-Za-z0-9_~+][A-Za-z0-9._~+-]*$")


def go_import_path_problem(path: str) -> str | None:
    """Why `go` would refuse `path` as an import path, or None when it is fine."""
    if not path:
        return "it is empty"
    if len(path) > MAX_GO_IMPORT_PATH:
        return f"it is longer than {MAX_GO_IMPORT_PATH} characters"
    for element in path.split("/"):
        if element in ("", ".", ".."):
            return "it has an empty, '.' or '..' element"
        if not _ELEMENT.match(element) or element.endswith("."):
            return f"its element '{element[:40]}' is not allowed"
    return None


DEFAULT_GO_MODULE_HOST = "spoke.local"
_NOT_IDENTIFIER = re.compile(r"[^a-z0-9_]")
_VERSION_ELEMENT = re.compile(r"^v\d+(?:(?:alpha|beta|test)\d*)?$")


def registry_go_prefix(host: str, org_slug: str, module: str) -> str | None:
    """The import path prefix the registry gives a module that names none (as the Buf Schema Registry's
    generated SDKs do): `<host>/gen/go/<org slug>/<module>`. None when Go would refuse it (too long).

    Module names may end with '.', which Go refuses at the end of an element: it becomes '_'."""
    element = module[:-1] + "_" if module.endswith(".") else module
    prefix = f"{host.strip().rstrip('/')}/gen/go/{org_slug}/{element}"
    return None if go_import_path_problem(prefix) else prefix


def go_package_name(proto_package: str, import_path: str) -> str:
    """The Go package name for generated code, as buf's managed mode names it: the last two elements of
    the proto package when the last is a version (`acme.user.v1` -> `userv1`), else the last one; a
    file without a package takes its import path's last element. Always a valid Go identifier."""
    parts = [p for p in proto_package.split(".") if p]
    if len(parts) >= 2 and _VERSION_ELEMENT.match(parts[-1]):
        name = parts[-2] + parts[-1]
    elif parts:
        name = parts[-1]
    else:
        name = import_path.rsplit("/", 1)[-1]
    name = _NOT_IDENTIFIER.sub("_", name.lower()) or "pb"
    return f"_{name}" if name[0].isdigit() else name


@dataclass(frozen=True)
class GoPrefix:
    """Where a module's files without go_package go: `<path>/<directory of the file>`. `derived`: the
    registry's path (not the module's go_package_prefix), whose Go packages are named after their proto
    package."""

    path: str
    derived: bool = False
