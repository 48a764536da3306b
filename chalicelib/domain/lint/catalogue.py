"""buf 1.75.0's lint rules per buf.yaml version, as `buf config ls-lint-rules --version V --format json` lists them.

Each rule: ID, categories (buf's order), whether it is a default rule, deprecated. The DEFAULT category (every
default rule) is added in `rules_for`, as buf accepts it in `use`/`except` for every version.
"""
from __future__ import annotations

from dataclasses import dataclass

VERSIONS = ("v1beta1", "v1", "v2")


@dataclass(frozen=True)
class LintRuleSpec:
    """One lint rule as buf lists it for one configuration version."""

    id: str
    categories: tuple[str, ...]
    default: bool
    deprecated: bool = False


def _rules(rows: tuple[tuple[str, str, bool, bool], ...]) -> tuple[LintRuleSpec, ...]:
    return tuple(LintRuleSpec(rule_id, tuple(c for c in categories.split() if c), default, deprecated)
                 for rule_id, categories, default, deprecated in rows)


_V1BETA1 = _rules((
    ("DIRECTORY_SAME_PACKAGE", "MINIMAL BASIC STANDARD FILE_LAYOUT", True, False),
    ("PACKAGE_DIRECTORY_MATCH", "MINIMAL BASIC STANDARD FILE_LAYOUT", True, False),
    ("PACKAGE_SAME_DIRECTORY", "MINIMAL BASIC STANDARD FILE_LAYOUT", True, False),
    ("PACKAGE_SAME_CSHARP_NAMESPACE", "MINIMAL BASIC STANDARD PACKAGE_AFFINITY", True, False),
    ("PACKAGE_SAME_GO_PACKAGE", "MINIMAL BASIC STANDARD PACKAGE_AFFINITY", True, False),
    ("PACKAGE_SAME_JAVA_MULTIPLE_FILES", "MINIMAL BASIC STANDARD PACKAGE_AFFINITY", True, False),
    ("PACKAGE_SAME_JAVA_PACKAGE", "MINIMAL BASIC STANDARD PACKAGE_AFFINITY", True, False),
    ("PACKAGE_SAME_PHP_NAMESPACE", "MINIMAL BASIC STANDARD PACKAGE_AFFINITY", True, False),
    ("PACKAGE_SAME_RUBY_PACKAGE", "MINIMAL BASIC STANDARD PACKAGE_AFFINITY", True, False),
    ("PACKAGE_SAME_SWIFT_PREFIX", "MINIMAL BASIC STANDARD PACKAGE_AFFINITY", True, False),
    ("ENUM_NO_ALLOW_ALIAS", "MINIMAL BASIC STANDARD SENSIBLE", True, False),
    ("FIELD_NO_DESCRIPTOR", "MINIMAL BASIC STANDARD SENSIBLE", True, False),
    ("IMPORT_NO_PUBLIC", "MINIMAL BASIC STANDARD SENSIBLE", True, False),
    ("PACKAGE_DEFINED", "MINIMAL BASIC STANDARD SENSIBLE", True, False),
    ("ENUM_PASCAL_CASE", "BASIC STANDARD STYLE_BASIC STYLE_DEFAULT STYLE_STANDARD", True, False),
    ("ENUM_VALUE_UPPER_SNAKE_CASE", "BASIC STANDARD STYLE_BASIC STYLE_DEFAULT STYLE_STANDARD", True, False),
    ("FIELD_LOWER_SNAKE_CASE", "BASIC STANDARD STYLE_BASIC STYLE_DEFAULT STYLE_STANDARD", True, False),
    ("MESSAGE_PASCAL_CASE", "BASIC STANDARD STYLE_BASIC STYLE_DEFAULT STYLE_STANDARD", True, False),
    ("ONEOF_LOWER_SNAKE_CASE", "BASIC STANDARD STYLE_BASIC STYLE_DEFAULT STYLE_STANDARD", True, False),
    ("PACKAGE_LOWER_SNAKE_CASE", "BASIC STANDARD STYLE_BASIC STYLE_DEFAULT STYLE_STANDARD", True, False),
    ("RPC_PASCAL_CASE", "BASIC STANDARD STYLE_BASIC STYLE_DEFAULT STYLE_STANDARD", True, False),
    ("SERVICE_PASCAL_CASE", "BASIC STANDARD STYLE_BASIC STYLE_DEFAULT STYLE_STANDARD", True, False),
    ("ENUM_VALUE_PREFIX", "STANDARD STYLE_DEFAULT STYLE_STANDARD", True, False),
    ("ENUM_ZERO_VALUE_SUFFIX", "STANDARD STYLE_DEFAULT STYLE_STANDARD", True, False),
    ("FILE_LOWER_SNAKE_CASE", "STANDARD STYLE_DEFAULT STYLE_STANDARD", True, False),
    ("PACKAGE_VERSION_SUFFIX", "STANDARD STYLE_DEFAULT STYLE_STANDARD", True, False),
    ("RPC_REQUEST_RESPONSE_UNIQUE", "STANDARD STYLE_DEFAULT STYLE_STANDARD", True, False),
    ("RPC_REQUEST_STANDARD_NAME", "STANDARD STYLE_DEFAULT STYLE_STANDARD", True, False),
    ("RPC_RESPONSE_STANDARD_NAME", "STANDARD STYLE_DEFAULT STYLE_STANDARD", True, False),
    ("SERVICE_SUFFIX", "STANDARD STYLE_DEFAULT STYLE_STANDARD", True, False),
    ("COMMENT_ENUM", "COMMENTS", False, False),
    ("COMMENT_ENUM_VALUE", "COMMENTS", False, False),
    ("COMMENT_FIELD", "COMMENTS", False, False),
    ("COMMENT_MESSAGE", "COMMENTS", False, False),
    ("COMMENT_ONEOF", "COMMENTS", False, False),
    ("COMMENT_RPC", "COMMENTS", False, False),
    ("COMMENT_SERVICE", "COMMENTS", False, False),
    ("RPC_NO_CLIENT_STREAMING", "UNARY_RPC", False, False),
    ("RPC_NO_SERVER_STREAMING", "UNARY_RPC", False, False),
    ("ENUM_FIRST_VALUE_ZERO", "OTHER", False, False),
    ("IMPORT_NO_WEAK", "", False, True),
))

_V1 = _rules((
    ("DIRECTORY_SAME_PACKAGE", "MINIMAL BASIC STANDARD", True, False),
    ("PACKAGE_DEFINED", "MINIMAL BASIC STANDARD", True, False),
    ("PACKAGE_DIRECTORY_MATCH", "MINIMAL BASIC STANDARD", True, False),
    ("PACKAGE_SAME_DIRECTORY", "MINIMAL BASIC STANDARD", True, False),
    ("ENUM_FIRST_VALUE_ZERO", "BASIC STANDARD", True, False),
    ("ENUM_NO_ALLOW_ALIAS", "BASIC STANDARD", True, False),
    ("ENUM_PASCAL_CASE", "BASIC STANDARD", True, False),
    ("ENUM_VALUE_UPPER_SNAKE_CASE", "BASIC STANDARD", True, False),
    ("FIELD_LOWER_SNAKE_CASE", "BASIC STANDARD", True, False),
    ("IMPORT_NO_PUBLIC", "BASIC STANDARD", True, False),
    ("IMPORT_USED", "BASIC STANDARD", True, False),
    ("MESSAGE_PASCAL_CASE", "BASIC STANDARD", True, False),
    ("ONEOF_LOWER_SNAKE_CASE", "BASIC STANDARD", True, False),
    ("PACKAGE_LOWER_SNAKE_CASE", "BASIC STANDARD", True, False),
    ("PACKAGE_SAME_CSHARP_NAMESPACE", "BASIC STANDARD", True, False),
    ("PACKAGE_SAME_GO_PACKAGE", "BASIC STANDARD", True, False),
    ("PACKAGE_SAME_JAVA_MULTIPLE_FILES", "BASIC STANDARD", True, False),
    ("PACKAGE_SAME_JAVA_PACKAGE", "BASIC STANDARD", True, False),
    ("PACKAGE_SAME_PHP_NAMESPACE", "BASIC STANDARD", True, False),
    ("PACKAGE_SAME_RUBY_PACKAGE", "BASIC STANDARD", True, False),
    ("PACKAGE_SAME_SWIFT_PREFIX", "BASIC STANDARD", True, False),
    ("RPC_PASCAL_CASE", "BASIC STANDARD", True, False),
    ("SERVICE_PASCAL_CASE", "BASIC STANDARD", True, False),
    ("SYNTAX_SPECIFIED", "BASIC STANDARD", True, False),
    ("ENUM_VALUE_PREFIX", "STANDARD", True, False),
    ("ENUM_ZERO_VALUE_SUFFIX", "STANDARD", True, False),
    ("FILE_LOWER_SNAKE_CASE", "STANDARD", True, False),
    ("PACKAGE_VERSION_SUFFIX", "STANDARD", True, False),
    ("PROTOVALIDATE", "STANDARD", True, False),
    ("RPC_REQUEST_RESPONSE_UNIQUE", "STANDARD", True, False),
    ("RPC_REQUEST_STANDARD_NAME", "STANDARD", True, False),
    ("RPC_RESPONSE_STANDARD_NAME", "STANDARD", True, False),
    ("SERVICE_SUFFIX", "STANDARD", True, False),
    ("COMMENT_ENUM", "COMMENTS", False, False),
    ("COMMENT_ENUM_VALUE", "COMMENTS", False, False),
    ("COMMENT_FIELD", "COMMENTS", False, False),
    ("COMMENT_MESSAGE", "COMMENTS", False, False),
    ("COMMENT_ONEOF", "COMMENTS", False, False),
    ("COMMENT_RPC", "COMMENTS", False, False),
    ("COMMENT_SERVICE", "COMMENTS", False, False),
    ("RPC_NO_CLIENT_STREAMING", "UNARY_RPC", False, False),
    ("RPC_NO_SERVER_STREAMING", "UNARY_RPC", False, False),
    ("IMPORT_NO_WEAK", "", False, True),
    ("PACKAGE_NO_IMPORT_CYCLE", "", False, False),
))

_V2 = _rules((
    ("DIRECTORY_SAME_PACKAGE", "MINIMAL BASIC STANDARD", True, False),
    ("PACKAGE_DEFINED", "MINIMAL BASIC STANDARD", True, False),
    ("PACKAGE_DIRECTORY_MATCH", "MINIMAL BASIC STANDARD", True, False),
    ("PACKAGE_NO_IMPORT_CYCLE", "MINIMAL BASIC STANDARD", True, False),
    ("PACKAGE_SAME_DIRECTORY", "MINIMAL BASIC STANDARD", True, False),
    ("ENUM_FIRST_VALUE_ZERO", "BASIC STANDARD", True, False),
    ("ENUM_NO_ALLOW_ALIAS", "BASIC STANDARD", True, False),
    ("ENUM_PASCAL_CASE", "BASIC STANDARD", True, False),
    ("ENUM_VALUE_UPPER_SNAKE_CASE", "BASIC STANDARD", True, False),
    ("FIELD_LOWER_SNAKE_CASE", "BASIC STANDARD", True, False),
    ("FIELD_NOT_REQUIRED", "BASIC STANDARD", True, False),
    ("IMPORT_NO_PUBLIC", "BASIC STANDARD", True, False),
    ("IMPORT_USED", "BASIC STANDARD", True, False),
    ("MESSAGE_PASCAL_CASE", "BASIC STANDARD", True, False),
    ("ONEOF_LOWER_SNAKE_CASE", "BASIC STANDARD", True, False),
    ("PACKAGE_LOWER_SNAKE_CASE", "BASIC STANDARD", True, False),
    ("PACKAGE_SAME_CSHARP_NAMESPACE", "BASIC STANDARD", True, False),
    ("PACKAGE_SAME_GO_PACKAGE", "BASIC STANDARD", True, False),
    ("PACKAGE_SAME_JAVA_MULTIPLE_FILES", "BASIC STANDARD", True, False),
    ("PACKAGE_SAME_JAVA_PACKAGE", "BASIC STANDARD", True, False),
    ("PACKAGE_SAME_PHP_NAMESPACE", "BASIC STANDARD", True, False),
    ("PACKAGE_SAME_RUBY_PACKAGE", "BASIC STANDARD", True, False),
    ("PACKAGE_SAME_SWIFT_PREFIX", "BASIC STANDARD", True, False),
    ("RPC_PASCAL_CASE", "BASIC STANDARD", True, False),
    ("SERVICE_PASCAL_CASE", "BASIC STANDARD", True, False),
    ("SYNTAX_SPECIFIED", "BASIC STANDARD", True, False),
    ("ENUM_VALUE_PREFIX", "STANDARD", True, False),
    ("ENUM_ZERO_VALUE_SUFFIX", "STANDARD", True, False),
    ("FILE_LOWER_SNAKE_CASE", "STANDARD", True, False),
    ("PACKAGE_VERSION_SUFFIX", "STANDARD", True, False),
    ("PROTOVALIDATE", "STANDARD", True, False),
    ("RPC_REQUEST_RESPONSE_UNIQUE", "STANDARD", True, False),
    ("RPC_REQUEST_STANDARD_NAME", "STANDARD", True, False),
    ("RPC_RESPONSE_STANDARD_NAME", "STANDARD", True, False),
    ("SERVICE_SUFFIX", "STANDARD", True, False),
    ("COMMENT_ENUM", "COMMENTS", False, False),
    ("COMMENT_ENUM_VALUE", "COMMENTS", False, False),
    ("COMMENT_FIELD", "COMMENTS", False, False),
    ("COMMENT_MESSAGE", "COMMENTS", False, False),
    ("COMMENT_ONEOF", "COMMENTS", False, False),
    ("COMMENT_RPC", "COMMENTS", False, False),
    ("COMMENT_SERVICE", "COMMENTS", False, False),
    ("RPC_NO_CLIENT_STREAMING", "UNARY_RPC", False, False),
    ("RPC_NO_SERVER_STREAMING", "UNARY_RPC", False, False),
    ("IMPORT_NO_WEAK", "", False, True),
    ("STABLE_PACKAGE_NO_IMPORT_UNSTABLE", "", False, False),
))

_BY_VERSION = {"v1beta1": _V1BETA1, "v1": _V1, "v2": _V2}


def rules_for(version: str) -> tuple[LintRuleSpec, ...]:
    """The rules of a configuration version (unknown versions are rejected by the config first)."""
    return _BY_VERSION[version]


def categories_for(version: str) -> dict[str, list[str]]:
    """Category ID -> its rule IDs for a version, DEFAULT included."""
    result: dict[str, list[str]] = {}
    for rule in rules_for(version):
        for category in rule.categories + (("DEFAULT",) if rule.default else ()):
            result.setdefault(category, []).append(rule.id)
    return result


ALL_RULE_IDS: frozenset[str] = frozenset(rule.id for rules in _BY_VERSION.values() for rule in rules)
