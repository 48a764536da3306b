"""`buf lint`'s rules over a protobuf image, rule for rule like buf 1.75.0.

Pure domain code: `lint(fds, config)` takes a `FileDescriptorSet` (with imports and source info) and a
`LintConfig` (buf.yaml's `lint` section) and returns `LintFinding`s in buf's order.
"""
from __future__ import annotations

from .catalogue import ALL_RULE_IDS, VERSIONS, LintRuleSpec, categories_for, rules_for
from .comments import align_comments_with_buf
from .config import InvalidLintConfig, LintConfig, ResolvedLintConfig, UnknownLintRule
from .engine import RULES, lint
from .findings import LintFinding

__all__ = [
    "ALL_RULE_IDS",
    "RULES",
    "VERSIONS",
    "InvalidLintConfig",
    "LintConfig",
    "LintFinding",
    "LintRuleSpec",
    "ResolvedLintConfig",
    "UnknownLintRule",
    "align_comments_with_buf",
    "categories_for",
    "lint",
    "rules_for",
]
