"""The `breaking` section of buf.yaml, and how buf turns it into the set of rules to run.

buf expands categories to rules, removes `except`, then swaps deprecated rule IDs for their replacements
(deprecated rules belong to no category, so only naming them directly selects them). Unknown IDs are errors.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.buf_paths import clean_relative
from chalicelib.domain.errors import BadRequest

from .catalogue import DEFAULT_VERSION, VERSIONS, RuleSpec, catalogue
from .text import q


class UnknownRule(BadRequest):
    """A rule or category ID in the configuration that the catalogue does not know."""

    code = "UNKNOWN_RULE"


class InvalidBreakingConfig(BadRequest):
    """A breaking configuration buf would reject (bad paths, wrong types, nothing left to run)."""

    code = "INVALID_BREAKING_CONFIG"


_SECTION_KEYS = {"use", "except", "ignore", "ignore_only", "ignore_unstable_packages"}
_V2_ONLY_KEYS = {"disable_builtin"}


@dataclass(frozen=True)
class BreakingConfig:
    """Mirrors buf.yaml's `breaking` section. `version` picks the catalogue (v1beta1, v1, v2)."""

    use: list[str] = field(default_factory=lambda: ["FILE"])
    except_: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    ignore_only: dict[str, list[str]] = field(default_factory=dict)
    ignore_unstable_packages: bool = False
    version: str = DEFAULT_VERSION
    disable_builtin: bool = False
    policies: tuple[BreakingPolicy, ...] = ()  # buf.yaml v2 `policies:`, each run on its own after these rules

    @classmethod
    def from_buf_yaml(cls, section: Mapping[str, Any] | None, version: str = DEFAULT_VERSION) -> BreakingConfig:
        """Build from the `breaking:` mapping of a buf.yaml of the given version (v1beta1, v1 or v2).

        A missing or empty `use` means buf's default rules for that version.
        """
        if version not in VERSIONS:
            raise InvalidBreakingConfig(f"unknown buf.yaml version {version!r}; expected one of {', '.join(VERSIONS)}")
        section = dict(section or {})
        allowed = _SECTION_KEYS | (_V2_ONLY_KEYS if version == "v2" else set())
        unknown = sorted(set(section) - allowed)
        if unknown:
            raise InvalidBreakingConfig(f"unknown key(s) in breaking configuration: {', '.join(unknown)}")
        ignore_only_raw = section.get("ignore_only") or {}
        if not isinstance(ignore_only_raw, Mapping):
            raise InvalidBreakingConfig("breaking.ignore_only must be a mapping of rule or category ID to paths")
        return cls(
            use=_string_list(section.get("use"), "use"),
            except_=_string_list(section.get("except"), "except"),
            ignore=_string_list(section.get("ignore"), "ignore"),
            ignore_only={str(key): _string_list(value, f"ignore_only.{key}") for key, value in ignore_only_raw.items()},
            ignore_unstable_packages=bool(section.get("ignore_unstable_packages", False)),
            version=version,
            disable_builtin=bool(section.get("disable_builtin", False)),
        )

    @classmethod
    def from_buf_yaml_document(cls, document: Mapping[str, Any] | None) -> BreakingConfig:
        """Build from a whole parsed buf.yaml: reads `version` and the `breaking` section."""
        document = dict(document or {})
        version = str(document.get("version", "v1beta1"))
        section = document.get("breaking")
        if section is not None and not isinstance(section, Mapping):
            raise InvalidBreakingConfig("breaking must be a mapping")
        return cls.from_buf_yaml(section, version)

    def resolve(self) -> ResolvedConfig:
        return resolve(self)


_POLICY_KEYS = {"version", "name", "lint", "breaking", "plugins"}
_POLICY_BREAKING_KEYS = {"use", "except", "ignore_unstable_packages", "disable_builtin"}
_POLICY_ENTRY_KEYS = {"policy", "ignore", "ignore_only"}


@dataclass(frozen=True)
class BreakingPolicy:
    """A buf v2 policy file's `breaking` rules, run separately from the module's own rules: its findings
    carry `name` (the policy as buf.yaml names it). `ignore`/`ignore_only` come from the buf.yaml entry."""

    name: str
    config: BreakingConfig


def policy_from_document(name: str, document: Mapping[str, Any] | None,
                         entry: Mapping[str, Any] | None = None) -> BreakingPolicy:
    """A policy file (`version: v2`, `name`, `lint`, `breaking`, `plugins`) and its buf.yaml `policies:`
    entry. As in buf: a policy without a `breaking` section runs buf's default rules; its section takes no
    ignores (those belong to the entry); `disable_builtin` leaves it no rules; plugins are not run here."""
    document = dict(document or {})
    version = str(document.get("version", ""))
    if version != "v2":
        raise InvalidBreakingConfig(f"could not read policy file {q(name)}: {version or 'a missing version'} is not "
                                    f"supported for {name} files")
    unknown = sorted(set(document) - _POLICY_KEYS)
    if unknown:
        raise InvalidBreakingConfig(f"could not read policy file {q(name)}: unknown key(s) {', '.join(unknown)}")
    if document.get("plugins"):
        raise InvalidBreakingConfig(f"policy {q(name)}: check plugins are not supported by spoke")
    section = document.get("breaking")
    if section is not None and not isinstance(section, Mapping):
        raise InvalidBreakingConfig(f"policy {q(name)}: breaking must be a mapping")
    section = dict(section or {})
    unknown = sorted(set(section) - _POLICY_BREAKING_KEYS)
    if unknown:
        raise InvalidBreakingConfig(f"could not read policy file {q(name)}: unknown key(s) in breaking: "
                                    f"{', '.join(unknown)}")
    entry = dict(entry or {})
    unknown = sorted(set(entry) - _POLICY_ENTRY_KEYS)
    if unknown:
        raise InvalidBreakingConfig(f"unknown key(s) in policies entry {q(name)}: {', '.join(unknown)}")
    section.update({key: entry[key] for key in ("ignore", "ignore_only") if key in entry})
    return BreakingPolicy(name, BreakingConfig.from_buf_yaml(section, "v2"))


def _string_list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise InvalidBreakingConfig(f"breaking.{name} must be a list of strings")
    return [str(item) for item in value]


@dataclass(frozen=True)
class ResolvedConfig:
    """The concrete rules to run and the ignores to apply, after expanding categories and deprecations."""

    version: str
    rule_ids: tuple[str, ...]
    categories: dict[str, tuple[str, ...]]
    ignore_paths: frozenset[str]
    ignore_rule_paths: dict[str, frozenset[str]]
    ignore_unstable_packages: bool


def _expand(ids: list[str], rule_categories: dict[str, tuple[str, ...]],
            category_rules: dict[str, list[str]]) -> set[str]:
    result: set[str] = set()
    for identifier in ids:
        if not identifier:
            continue
        if identifier in rule_categories:
            result.add(identifier)
        elif identifier in category_rules:
            result.update(category_rules[identifier])
        else:
            raise UnknownRule(f"{q(identifier)} is not a known rule or category ID", details={"id": identifier})
    return result


def _undeprecate(ids: set[str], rules: dict[str, RuleSpec]) -> set[str]:
    result: set[str] = set()
    for rule_id in ids:
        rule = rules[rule_id]
        if rule.deprecated:
            result.update(rule.replacements)
        else:
            result.add(rule_id)
    return result


def normalize_path(path: str) -> str:
    """Clean a relative ignore path the way buf does; reject absolute or escaping paths."""
    return clean_relative(path, f"invalid ignore path {path}", InvalidBreakingConfig)


def check_not_nested(paths: list[str], name: str) -> None:
    """buf rejects an ignore path inside another of the same list (duplicates and "." are fine)."""
    cleaned = sorted({normalize_path(path) for path in paths if path})
    for index, outer in enumerate(cleaned):
        for inner in cleaned[index + 1:]:
            if outer != "." and inner.startswith(outer + "/"):
                raise InvalidBreakingConfig(f"{name} {q(inner)} is within {name} {q(outer)} which is not allowed")


def resolve(config: BreakingConfig) -> ResolvedConfig:
    check_not_nested(config.ignore, "ignore")
    for paths in config.ignore_only.values():
        check_not_nested(paths, "ignore_only path")
    rules = {rule.id: rule for rule in catalogue(config.version)}
    rule_categories = {rule.id: rule.categories for rule in rules.values()}
    category_rules: dict[str, list[str]] = {}
    for rule in rules.values():
        for category in rule.categories:
            category_rules.setdefault(category, []).append(rule.id)
    use_ids = [identifier for identifier in config.use if identifier]
    if not use_ids:
        use_ids = [rule.id for rule in rules.values() if rule.default]
    selected = _undeprecate(_expand(use_ids, rule_categories, category_rules), rules)
    excepted = _undeprecate(_expand(config.except_, rule_categories, category_rules), rules)
    ignore_rule_paths: dict[str, set[str]] = {}
    for identifier, paths in config.ignore_only.items():
        for rule_id in _undeprecate(_expand([identifier], rule_categories, category_rules), rules):
            ignore_rule_paths.setdefault(rule_id, set()).update(normalize_path(p) for p in paths if p)
    rule_ids = tuple(sorted(selected - excepted))
    if config.disable_builtin:
        rule_ids = ()
    elif not rule_ids:
        raise InvalidBreakingConfig("the breaking configuration selects no rules (check use and except)")
    return ResolvedConfig(
        version=config.version,
        rule_ids=rule_ids,
        categories={rule_id: rules[rule_id].categories for rule_id in rule_ids},
        ignore_paths=frozenset(normalize_path(p) for p in config.ignore if p),
        ignore_rule_paths={rule_id: frozenset(paths) for rule_id, paths in ignore_rule_paths.items()},
        ignore_unstable_packages=config.ignore_unstable_packages,
    )
