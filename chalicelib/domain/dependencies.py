"""Dependency references of a version: `{"module", "version"}` objects or `module@version` strings."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import InvalidJson, ValidationFailed
from chalicelib.domain.json_text import parse_json
from chalicelib.domain.names import validate_module_name
from chalicelib.domain.versions import Version, parse_version

MAX_DIRECT_DEPENDENCIES = 25


@dataclass(frozen=True)
class DependencyRef:
    module: str
    version: Version

    def as_dict(self) -> dict[str, str]:
        return {"module": self.module, "version": self.version.name}

    @property
    def label(self) -> str:
        return f"{self.module}@{self.version.name}"


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, validation_errors=[
        {"field": "dependencies", "code": "INVALID_FORMAT",
         "message": 'a JSON list of {"module", "version"} objects, or module@version strings'}])


def _one(item: Any) -> DependencyRef:
    if isinstance(item, str):
        module, at, version = item.strip().partition("@")
        if not at:
            raise _invalid(f"Dependency '{item}' must look like module@version, e.g. common@v1.0.0")
        return DependencyRef(validate_module_name(module), parse_version(version))
    if isinstance(item, dict) and set(item) == {"module", "version"}:
        return DependencyRef(validate_module_name(item["module"]), parse_version(item["version"]))
    raise _invalid(f"Dependency {json.dumps(item)[:80]} must be {{\"module\", \"version\"}} or module@version")


def parse_dependencies(values: list[Any]) -> list[DependencyRef]:
    """Accepts list items that are refs, or strings holding a JSON list of refs (multipart fields)."""
    flat: list[Any] = []
    for value in values:
        if isinstance(value, str) and value.strip().startswith("["):
            try:
                decoded = parse_json(value)
            except InvalidJson as error:
                raise _invalid(f"dependencies: {error.message}") from None
            flat.extend(decoded if isinstance(decoded, list) else [decoded])
        elif isinstance(value, list):
            flat.extend(value)
        else:
            flat.append(value)
    refs = [_one(item) for item in flat if item not in ("", None)]
    if len(refs) > MAX_DIRECT_DEPENDENCIES:
        raise _invalid(f"A version may name at most {MAX_DIRECT_DEPENDENCIES} direct dependencies")
    modules = [r.module for r in refs]
    duplicated = sorted({m for m in modules if modules.count(m) > 1})
    if duplicated:
        raise _invalid(f"Module(s) {', '.join(duplicated)} named more than once in dependencies")
    return refs
