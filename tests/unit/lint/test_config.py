"""The `lint` section of buf.yaml: categories per version, except, ignores, options and what buf rejects."""
from __future__ import annotations

import pytest

from chalicelib.domain.lint import InvalidLintConfig, LintConfig, UnknownLintRule, categories_for, rules_for


def rule_ids(section: dict[str, object] | None, version: str = "v2") -> tuple[str, ...]:
    return LintConfig.from_buf_yaml(section, version).resolve().rule_ids


def test_no_use_means_bufs_default_rules_for_the_version() -> None:
    assert set(rule_ids(None, "v2")) == {r.id for r in rules_for("v2") if r.default}
    assert "FIELD_NOT_REQUIRED" in rule_ids(None, "v2") and "FIELD_NOT_REQUIRED" not in rule_ids(None, "v1")
    assert "FIELD_NO_DESCRIPTOR" in rule_ids(None, "v1beta1")


def test_categories_expand_and_except_removes_rules_and_categories() -> None:
    ids = rule_ids({"use": ["BASIC", "COMMENTS"], "except": ["MINIMAL", "COMMENT_FIELD"]})
    assert "ENUM_PASCAL_CASE" in ids and "COMMENT_ENUM" in ids
    assert "COMMENT_FIELD" not in ids and "PACKAGE_DEFINED" not in ids and "SERVICE_SUFFIX" not in ids


def test_v1beta1_has_its_own_categories() -> None:
    assert set(categories_for("v1beta1")["FILE_LAYOUT"]) == {
        "DIRECTORY_SAME_PACKAGE", "PACKAGE_DIRECTORY_MATCH", "PACKAGE_SAME_DIRECTORY"}
    with pytest.raises(UnknownLintRule):
        rule_ids({"use": ["FILE_LAYOUT"]}, "v2")


def test_comment_ignores_are_off_in_v1_and_on_in_v2_unless_configured() -> None:
    assert LintConfig.from_buf_yaml(None, "v1").allow_comment_ignores is False
    assert LintConfig.from_buf_yaml({"allow_comment_ignores": True}, "v1").allow_comment_ignores is True
    assert LintConfig.from_buf_yaml(None, "v2").allow_comment_ignores is True
    assert LintConfig.from_buf_yaml({"disallow_comment_ignores": True}, "v2").allow_comment_ignores is False


def test_options_default_like_buf() -> None:
    config = LintConfig.from_buf_yaml({"enum_zero_value_suffix": "_NONE"}, "v2")
    assert (config.enum_zero_value_suffix, config.service_suffix) == ("_NONE", "Service")


def test_ignore_only_accepts_categories_and_cleans_paths() -> None:
    resolved = LintConfig.from_buf_yaml({"ignore_only": {"MINIMAL": ["a/./b/"]}, "ignore": ["c//d"]}).resolve()
    assert resolved.ignore_rule_paths["PACKAGE_DEFINED"] == frozenset({"a/b"})
    assert resolved.ignore_paths == frozenset({"c/d"})


def test_disable_builtin_runs_no_rule() -> None:
    assert rule_ids({"use": ["STANDARD"], "disable_builtin": True}) == ()


@pytest.mark.parametrize(("section", "version", "error"), [
    ({"use": "MINIMAL"}, "v2", InvalidLintConfig),
    ({"use": ["NOPE"]}, "v2", UnknownLintRule),
    ({"allow_comment_ignores": True}, "v2", InvalidLintConfig),
    ({"disallow_comment_ignores": True}, "v1", InvalidLintConfig),
    ({"ignore": ["/etc"]}, "v2", InvalidLintConfig),
    ({"ignore": ["../up"]}, "v2", InvalidLintConfig),
    ({"use": ["IMPORT_NO_WEAK"]}, "v2", InvalidLintConfig),  # deprecated, replaced by nothing: no rule left
    ({"rpc_allow_same_request_response": "yes"}, "v2", InvalidLintConfig),
    (None, "v3", InvalidLintConfig),
])
def test_configs_buf_rejects_are_errors(section: dict[str, object] | None, version: str, error: type) -> None:
    with pytest.raises(error):
        LintConfig.from_buf_yaml(section, version).resolve()
