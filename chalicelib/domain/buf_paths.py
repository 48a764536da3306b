"""How buf matches a file against the paths of an `ignore` / `ignore_only` list (breaking and lint alike)."""
from __future__ import annotations

from collections.abc import Collection


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
