"""How buf matches a file against the paths of an `ignore` / `ignore_only` list (breaking and lint alike)."""
from __future__ import annotations

import posixpath
from collections.abc import Callable, Collection


def path_is_covered(paths: Collection[str], path: str) -> bool:
    """buf's MapHasEqualOrContainingPath: `path` or one of its directories is listed ("." covers all)."""
    if not paths:
        return False
    if path in paths or "." in paths:
        return True
    while "/" in path:
        path = path.rsplit("/", 1)[0]
        if path in paths:
            return True
    return False


def clean_relative(path: str, named: str, refuse: Callable[[str], Exception]) -> str:
    """An ignore path cleaned as buf cleans it; an absolute or escaping one is refused with buf's words,
    `named` being how the config's kind of path is named in them (e.g. "invalid path: a/b")."""
    if path.startswith("/"):
        raise refuse(f"{named}: expected to be relative")
    cleaned = posixpath.normpath(path)
    if cleaned == ".." or cleaned.startswith("../"):
        raise refuse(f"{named}: is outside the context directory")
    return cleaned
