"""What every rule receives: the linted files, all files by name, and the configuration's options."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .config import LintConfig
from .source import LintFile, Path

# A rule's raw report: the file, the source path it points at (None: the whole file), the message.
Hit = tuple[LintFile, Path | None, str]


_PLAIN = re.compile(r'[ !#-\[\]-~]*')  # printable ASCII without `"` and `\\`: %q adds only the quotes


def quoted(value: str) -> str:
    """Go's %q, as buf's messages quote names, paths and option values."""
    if _PLAIN.fullmatch(value):
        return f'"{value}"'
    from chalicelib.domain.breaking.text import q

    return q(value)


@dataclass
class Context:
    targets: list[LintFile]  # the files being linted (not imports)
    files: dict[str, LintFile]  # every file of the image, imports included
    config: LintConfig
    # Infer what buf's compiler records (unused imports, a missing syntax) for files an image does not
    # mark; False for a protoc image, where buf reports neither.
    infer_unmarked: bool = True


Rule = Callable[[Context], Iterable[Hit]]
