"""A module's compatibility policy: which buf rules a new version must pass, and against what."""
from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chalicelib.domain.errors import ValidationFailed


class CompatibilityMode(str, Enum):
    BACKWARD = "BACKWARD"  # against the closest lower version
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"  # against every lower version
    NONE = "NONE"  # no check on publish


class CompatibilityPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    mode: CompatibilityMode = CompatibilityMode.BACKWARD
    use: tuple[str, ...] = ("FILE",)
    except_: tuple[str, ...] = Field(default=(), alias="except")
    allow_breaking_major: bool = True

    @field_validator("use", "except_")
    @classmethod
    def _upper(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().upper() for v in values)

    def as_json(self) -> dict[str, Any]:
        return {"mode": self.mode.value, "use": list(self.use), "except": list(self.except_),
                "allow_breaking_major": self.allow_breaking_major}


def parse_policy(value: Any, current: CompatibilityPolicy | None = None) -> CompatibilityPolicy:
    """A full or partial policy object; omitted keys keep their current (or default) values."""
    if value is None:
        return current or CompatibilityPolicy()
    if not isinstance(value, dict):
        raise ValidationFailed("compatibility must be an object", validation_errors=[
            {"field": "compatibility", "code": "INVALID_TYPE", "message": "an object"}])
    base = (current or CompatibilityPolicy()).as_json()
    try:
        return CompatibilityPolicy.model_validate({**base, **value})
    except ValidationError as error:
        raise ValidationFailed("Invalid compatibility policy", validation_errors=[
            {"field": "compatibility." + ".".join(str(p) for p in e["loc"]), "code": e["type"].upper(),
             "message": e["msg"]} for e in error.errors()]) from None
