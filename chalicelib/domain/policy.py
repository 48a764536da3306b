"""A module's compatibility policy: which buf rules a new version must pass, and against what."""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError, field_validator

from chalicelib.domain.errors import ValidationFailed

MAX_RULES = 100
RuleId = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=64)]


class CompatibilityMode(str, Enum):
    BACKWARD = "BACKWARD"  # against the closest lower version
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"  # against every lower version
    NONE = "NONE"  # no check on publish


class CompatibilityPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    mode: CompatibilityMode = CompatibilityMode.BACKWARD
    use: Annotated[tuple[RuleId, ...], Field(max_length=MAX_RULES)] = ("FILE",)
    except_: Annotated[tuple[RuleId, ...], Field(max_length=MAX_RULES, alias="except")] = ()
    allow_breaking_major: StrictBool = True

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
        problems = [{"field": "compatibility." + ".".join(str(p) for p in e["loc"]), "code": e["type"].upper(),
                     "message": e["msg"]} for e in error.errors(include_input=False)]
        raise ValidationFailed(f"Invalid compatibility policy: {problems[0]['field']}: {problems[0]['message']}",
                               validation_errors=problems) from None
