"""buf's name conversions (stringutil) and package versions (protoversion), character for character."""
from __future__ import annotations

import re

_DELIMITERS = frozenset(".-_ \t\n\r")


def to_pascal_case(name: str) -> str:
    """buf's ToPascalCase: drop delimiters; upper-case the first letter, letters after a delimiter and
    letters already upper; lower-case the rest."""
    out: list[str] = []
    previous = ""
    for index, char in enumerate(name.strip()):
        if char not in _DELIMITERS:
            if index == 0 or previous in _DELIMITERS or char.isupper():
                out.append(char.upper())
            else:
                out.append(char.lower())
        previous = char
    return "".join(out)


def _snake(name: str) -> str:
    """buf's toSnakeCase (without new words on digits), before the final case change."""
    text = name.strip("".join(_DELIMITERS))
    out = ""
    for index, char in enumerate(text):
        if char in _DELIMITERS:
            char = "_"
        if index == 0:
            out += char
        elif (char.isupper() and out[-1] != "_"
              and ((index < len(text) - 1 and not (text[index + 1].isupper() or text[index + 1].isdigit())
                    and text[index + 1] not in _DELIMITERS)
                   or text[index - 1].islower())):
            out += "_" + char
        elif not (char == "_" and out[-1] == "_"):
            out += char
    return out


def to_lower_snake_case(name: str) -> str:
    return _snake(name).lower()


def to_upper_snake_case(name: str) -> str:
    return _snake(name).upper()


_NUMBER = re.compile(r"[+-]?[0-9]+")


def _positive(text: str) -> bool:
    return bool(_NUMBER.fullmatch(text)) and 1 <= int(text) <= 2**31 - 1


def package_stability(package: str) -> str | None:
    """buf's protoversion: None when the package's last component is not a version buf accepts (v1,
    v1test..., v1alpha1, v1beta, v1p1beta1); else "stable" (v1) or "unstable" (the others)."""
    parts = package.split(".")
    if not package or len(parts) < 2:
        return None
    last = parts[-1]
    if len(last) < 2 or last[0] != "v":
        return None
    version = last[1:]
    if "test" in version:
        return "unstable" if _positive(version.split("test", 1)[0]) else None
    alpha, beta = "alpha" in version, "beta" in version
    if alpha and beta:
        return None
    if not alpha and not beta:
        return "stable" if _positive(version) else None
    major_part, minor = version.split("alpha" if alpha else "beta", 1)
    if minor and not _positive(minor):
        return None
    if "p" in major_part:
        major, patch = major_part.split("p", 1)
        return "unstable" if _positive(major) and _positive(patch) else None
    return "unstable" if _positive(major_part) else None
