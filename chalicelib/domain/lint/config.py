"""The `lint` section of buf.yaml, and how buf turns it into the rules to run and the ignores to apply.

buf expands categories to rules and removes `except`; unknown IDs are errors. Comment ignores
(`// buf:lint:ignore ID`) are off by default in v1beta1/v1 (`allow_comment_ignores: true` turns them on)
and on by default in v2 (`disallow_comment_ignores: true` turns them off).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.buf_paths import clean_relative
from chalicelib.domain.errors import BadRequest

from .catalogue import VERSIONS, categories_for, rules_for


class UnknownLintRule(BadRequest):
    """A rule or category ID in the lint configuration that buf does not know."""

    code = "UNKNOWN_LINT_RULE"


class InvalidLintConfig(BadRequest):
    """A lint configuration buf would reject (unknown keys, wrong types, bad paths)."""

    code = "INVALID_LINT_CONFIG"


_COMMON_KEYS = {"use", "except", "ignore", "ignore_only", "enum_zero_value_suffix", "rpc_allow_same_request_response",
                "rpc_allow_google_protobuf_empty_requests", "rpc_allow_google_protobuf_empty_responses",
                "service_suffix"}
_KEYS = {
    "v1beta1": _COMMON_KEYS | {"allow_comment_ignores"},
    "v1": _COMMON_KEYS | {"allow_comment_ignores"},
    "v2": _COMMON_KEYS | {"disallow_comment_ignores", "disable_builtin"},
}


@dataclass(frozen=True)
class LintConfig:
    """Mirrors buf.yaml's `lint` section; `version` picks the rule catalogue (v1beta1, v1, v2)."""

    use: list[str] = field(default_factory=list)  # empty: buf's default rules
    except_: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    ignore_only: dict[str, list[str]] = field(default_factory=dict)
    enum_zero_value_suffix: str = "_UNSPECIFIED"
    rpc_allow_same_request_response: bool = False
    rpc_allow_google_protobuf_empty_requests: bool = False
    rpc_allow_google_protobuf_empty_responses: bool = False
    service_suffix: str = "Service"
    allow_comment_ignores: bool = True
    disable_builtin: bool = False
    version: str = "v2"

    @classmethod
    def from_buf_yaml(cls, section: Mapping[str, Any] | None, version: str = "v2") -> LintConfig:
        """Build from the `lint:` mapping of a buf.yaml of the given version (None: no section at all)."""
        if version not in VERSIONS:
            raise InvalidLintConfig(f"unknown buf.yaml version {version!r}; expected one of {', '.join(VERSIONS)}")
        if section is not None and not isinstance(section, Mapping):
            raise InvalidLintConfig("lint must be a mapping")
        values = dict(section or {})
        unknown = sorted(set(values) - _KEYS[version])
        if unknown:
            raise InvalidLintConfig(f"unknown key(s) in lint configuration: {', '.join(unknown)}")
        ignore_only_raw = values.get("ignore_only") or {}
        if not isinstance(ignore_only_raw, Mapping):
            raise InvalidLintConfig("lint.ignore_only must be a mapping of rule or category ID to paths")
        if version == "v2":
            comment_ignores = not _bool(values, "disallow_comment_ignores")
        else:
            comment_ignores = _bool(values, "allow_comment_ignores")
        return cls(
            use=_strings(values.get("use"), "use"),
            except_=_strings(values.get("except"), "except"),
            ignore=[_relative(p) for p in _strings(values.get("ignore"), "ignore")],
            ignore_only={str(k): [_relative(p) for p in _strings(v, f"ignore_only.{k}")]
                         for k, v in ignore_only_raw.items()},
            enum_zero_value_suffix=_string(values, "enum_zero_value_suffix", "_UNSPECIFIED"),
            rpc_allow_same_request_response=_bool(values, "rpc_allow_same_request_response"),
            rpc_allow_google_protobuf_empty_requests=_bool(values, "rpc_allow_google_protobuf_empty_requests"),
            rpc_allow_google_protobuf_empty_responses=_bool(values, "rpc_allow_google_protobuf_empty_responses"),
            service_suffix=_string(values, "service_suffix", "Service"),
            allow_comment_ignores=comment_ignores,
            disable_builtin=_bool(values, "disable_builtin"),
            version=version,
        )

    @classmethod
    def from_buf_yaml_document(cls, document: Mapping[str, Any] | None) -> LintConfig:
        """Build from a whole parsed buf.yaml: its `version` (v1beta1 when absent, as buf) and `lint`."""
        document = dict(document or {})
        return cls.from_buf_yaml(document.get("lint"), str(document.get("version", "v1beta1")))

    def resolve(self) -> ResolvedLintConfig:
        return resolve(self)


def _strings(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise InvalidLintConfig(f"lint.{name} must be a list of strings")
    return [str(item) for item in value]


def _bool(values: Mapping[str, Any], name: str) -> bool:
    value = values.get(name, False)
    if not isinstance(value, bool):
        raise InvalidLintConfig(f"lint.{name} must be true or false")
    return value


def _string(values: Mapping[str, Any], name: str, default: str) -> str:
    value = values.get(name)
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise InvalidLintConfig(f"lint.{name} must be a string")
    return value


def _relative(path: str) -> str:
    return clean_relative(path, f"invalid path: {path}", InvalidLintConfig)


@dataclass(frozen=True)
class ResolvedLintConfig:
    """The concrete rules to run, the ignores to apply and the rules' options."""

    config: LintConfig
    rule_ids: tuple[str, ...]
    ignore_paths: frozenset[str]
    ignore_rule_paths: dict[str, frozenset[str]]


def _expand(ids: list[str], version: str) -> set[str]:
    rule_ids = {rule.id for rule in rules_for(version)}
    categories = categories_for(version)
    result: set[str] = set()
    for identifier in ids:
        if not identifier:
            continue
        if identifier in rule_ids:
            result.add(identifier)
        elif identifier in categories:
            result.update(categories[identifier])
        else:
            raise UnknownLintRule(f'"{identifier}" is not a known rule or category ID', details={"id": identifier})
    return result


def resolve(config: LintConfig) -> ResolvedLintConfig:
    use = [identifier for identifier in config.use if identifier] or ["DEFAULT"]
    deprecated = {rule.id for rule in rules_for(config.version) if rule.deprecated}  # replaced by nothing
    selected = _expand(use, config.version) - _expand(config.except_, config.version) - deprecated
    if not selected and not config.disable_builtin:
        raise InvalidLintConfig("the lint configuration selects no rules (check use and except)")
    ignore_rule_paths: dict[str, set[str]] = {}
    for identifier, paths in config.ignore_only.items():
        for rule_id in _expand([identifier], config.version):
            ignore_rule_paths.setdefault(rule_id, set()).update(paths)
    return ResolvedLintConfig(
        config=config,
        rule_ids=() if config.disable_builtin else tuple(sorted(selected)),
        ignore_paths=frozenset(config.ignore),
        ignore_rule_paths={rule_id: frozenset(paths) for rule_id, paths in ignore_rule_paths.items()},
    )
