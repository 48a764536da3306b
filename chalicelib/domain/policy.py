"""A module's compatibility policy: which buf rules a new version must pass, against what and in which
direction (Confluent's seven modes), and which buf lint rules it must pass at publish."""
from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError, field_validator

from chalicelib.domain.errors import BadRequest, ValidationFailed

if TYPE_CHECKING:
    from chalicelib.domain.lint import LintConfig

MAX_RULES = 100
RuleId = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=64)]


class Direction(str, Enum):
    """Which way buf's rules run. Backward: the new schema checked against the older one (consumers on the new
    schema read data written with the older). Forward: the other direction, the older schema checked as if it
    were the new one against the new version (consumers still on the older schema read the new one's data)."""
    BACKWARD = "backward"
    FORWARD = "forward"


class CompatibilityMode(str, Enum):
    """Confluent's modes. Plain ones consult the closest lower version, *_TRANSITIVE every lower one."""
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"  # no check on publish

    @property
    def directions(self) -> tuple[Direction, ...]:
        """The directions checked, backward first; none for NONE."""
        base = self.value.removesuffix("_TRANSITIVE")
        return {"BACKWARD": (Direction.BACKWARD,), "FORWARD": (Direction.FORWARD,),
                "FULL": (Direction.BACKWARD, Direction.FORWARD)}.get(base, ())

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")


LINT_MAX_PATHS = 100
LintPath = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=512)]
Suffix = Annotated[str, StringConstraints(strict=True, max_length=64, pattern=r"^[A-Za-z0-9_]*$")]


class LintPolicy(BaseModel):
    """The lint rules every published version must pass: a subset of buf.yaml's v2 `lint` section with the
    same keys and meaning. Paths are the module's file paths (as published)."""
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    use: Annotated[tuple[RuleId, ...], Field(max_length=MAX_RULES)] = ("STANDARD",)
    except_: Annotated[tuple[RuleId, ...], Field(max_length=MAX_RULES, alias="except")] = ()
    ignore: Annotated[tuple[LintPath, ...], Field(max_length=LINT_MAX_PATHS)] = ()
    ignore_only: Annotated[dict[RuleId, tuple[LintPath, ...]], Field(max_length=MAX_RULES)] = Field(
        default_factory=dict)
    enum_zero_value_suffix: Suffix | None = None
    service_suffix: Suffix | None = None
    rpc_allow_same_request_response: StrictBool = False
    rpc_allow_google_protobuf_empty_requests: StrictBool = False
    rpc_allow_google_protobuf_empty_responses: StrictBool = False
    disallow_comment_ignores: StrictBool = False

    @field_validator("use", "except_")
    @classmethod
    def _upper(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().upper() for v in values)

    @field_validator("ignore_only")
    @classmethod
    def _bounded(cls, values: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        """At most LINT_MAX_PATHS paths in all (the policy lives in the module's item: 400 KB)."""
        if sum(len(paths) for paths in values.values()) > LINT_MAX_PATHS:
            raise ValueError(f"at most {LINT_MAX_PATHS} paths in all")
        return {rule.strip().upper(): paths for rule, paths in values.items()}

    def as_json(self) -> dict[str, Any]:
        """The policy as stored and shown: buf.yaml's `lint` keys, defaults omitted beyond use/except."""
        data: dict[str, Any] = {"use": list(self.use), "except": list(self.except_)}
        if self.ignore:
            data["ignore"] = list(self.ignore)
        if self.ignore_only:
            data["ignore_only"] = {rule: list(paths) for rule, paths in self.ignore_only.items()}
        for key in ("enum_zero_value_suffix", "service_suffix"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        for key in ("rpc_allow_same_request_response", "rpc_allow_google_protobuf_empty_requests",
                    "rpc_allow_google_protobuf_empty_responses", "disallow_comment_ignores"):
            if getattr(self, key):
                data[key] = True
        return data


class CompatibilityPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    mode: CompatibilityMode = CompatibilityMode.BACKWARD
    use: Annotated[tuple[RuleId, ...], Field(max_length=MAX_RULES)] = ("FILE",)
    except_: Annotated[tuple[RuleId, ...], Field(max_length=MAX_RULES, alias="except")] = ()
    allow_breaking_major: StrictBool = True
    lint: LintPolicy | None = None  # None: no lint rule is required at publish (every module stored before)

    @field_validator("use", "except_")
    @classmethod
    def _upper(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().upper() for v in values)

    def as_json(self) -> dict[str, Any]:
        """`lint` only when set: a policy without one has the shape it always had."""
        data = {"mode": self.mode.value, "use": list(self.use), "except": list(self.except_),
                "allow_breaking_major": self.allow_breaking_major}
        return data if self.lint is None else {**data, "lint": self.lint.as_json()}


def parse_policy(value: Any, current: CompatibilityPolicy | None = None) -> CompatibilityPolicy:
    """A full or partial policy object; omitted keys keep their current (or default) values."""
    if value is None:
        return current or CompatibilityPolicy()
    if not isinstance(value, dict):
        raise ValidationFailed("compatibility must be an object", validation_errors=[
            {"field": "compatibility", "code": "INVALID_TYPE", "message": "an object"}])
    base = (current or CompatibilityPolicy()).as_json()
    try:
        policy = CompatibilityPolicy.model_validate({**base, **value})
    except ValidationError as error:
        problems = [{"field": "compatibility." + ".".join(str(p) for p in e["loc"]), "code": e["type"].upper(),
                     "message": e["msg"]} for e in error.errors(include_input=False)]
        raise ValidationFailed(f"Invalid compatibility policy: {problems[0]['field']}: {problems[0]['message']}",
                               validation_errors=problems) from None
    if policy.lint is not None:
        lint_config(policy.lint)
    return policy


def lint_config(policy: LintPolicy | None) -> LintConfig:
    """The lint engine's configuration for a policy (None: buf's default, STANDARD); IDs buf does not know
    are refused with 400 VALIDATION_ERROR. The engine loads here, on first use (lean cold start)."""
    from chalicelib.domain import lint

    section = {"use": ["STANDARD"]} if policy is None else policy.as_json()
    try:
        config = lint.LintConfig.from_buf_yaml(section, "v2")
        config.resolve()
    except BadRequest as error:  # the engine's UNKNOWN_LINT_RULE or INVALID_LINT_CONFIG
        raise ValidationFailed(f"Invalid lint policy: {error.message}", validation_errors=[
            {"field": "compatibility.lint", "code": error.code, "message": error.message}]) from None
    return config
