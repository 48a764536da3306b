"""Go import paths, as `go` itself accepts them (golang.org/x/mod/module.CheckImportPath, simplified).

Both a module's `go_package_prefix` and a file's `go_package` option end up in generated `go.mod`
and import statements, so a path Go would refuse is refused here with the reason.
"""
from __future__ import annotations

import re

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
