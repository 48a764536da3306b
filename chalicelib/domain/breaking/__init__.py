"""Breaking-change detection between two versions of a protobuf schema, rule for rule like `buf breaking`.

Pure domain code: it takes two `FileDescriptorSet`s (built with imports and source info) and a
`BreakingConfig` (buf.yaml's `breaking` section) and returns `Finding`s positioned in the new version.
"""
from __future__ import annotations

from .additions import additions
from .catalogue import ALL_RULE_IDS, ALL_RULES, CATALOGUES, RuleSpec
from .config import BreakingConfig, InvalidBreakingConfig, ResolvedConfig, UnknownRule
from .engine import IMPLEMENTED_RULE_IDS, check_breaking
from .findings import Finding

__all__ = [
    "ALL_RULES",
    "ALL_RULE_IDS",
    "CATALOGUES",
    "IMPLEMENTED_RULE_IDS",
    "BreakingConfig",
    "Finding",
    "InvalidBreakingConfig",
    "ResolvedConfig",
    "RuleSpec",
    "UnknownRule",
    "additions",
    "check_breaking",
]
