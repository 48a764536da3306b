"""buf's lint in the registry, on fakes (and the real protoc, memoised): /validate's lint warnings, and a
module policy's required lint at publish (LINT_FAILED before anything is written)."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.errors import BreakingChange, LintFailed, ModuleNotFound, ValidationFailed
from chalicelib.domain.policy import parse_policy

PATH = "user/v1/user.proto"
CLEAN = b'syntax = "proto3";\npackage user.v1;\n\nmessage User {\n  string name = 1;\n}\n'
LINTY = b'syntax = "proto3";\npackage user.v1;\n\nmessage user_record {\n  string Name = 1;\n}\n'
CASING = ["MESSAGE_PASCAL_CASE", "FIELD_LOWER_SNAKE_CASE"]


def publish(world: Any, ctx: Any, version: str, content: bytes, path: str = PATH) -> Any:
    record, _ = world.versions.publish(ctx, "user", version, "", [(path, content)])
    return record


def rules(findings: list[dict[str, Any]]) -> list[str]:
    return [f["rule"] for f in findings if "rule" in f]


# ----------------------------------------------------------------------------------- /validate

def test_validate_warns_with_bufs_default_lint_rules(world, default_ctx) -> None:
    # When files that break buf's STANDARD naming rules are validated
    report = world.versions.validate(default_ctx, [(PATH, LINTY)], None)
    # Then they are valid, with buf's findings as located warnings
    assert report["valid"] is True and report["errors"] == []
    assert rules(report["warnings"]) == CASING
    message = report["warnings"][0]
    assert (message["file"], message["line"], message["column"], message["end_column"]) == (PATH, 4, 9, 20)
    assert "PascalCase" in message["message"]
    assert sorted(report) == ["errors", "valid", "warnings"]  # the contract's shape


def test_validate_lints_with_the_named_modules_lint_policy(world, default_ctx) -> None:
    world.modules.create(default_ctx, "user", "users", {"lint": {"use": ["STANDARD"],
                                                                  "except": ["FIELD_LOWER_SNAKE_CASE"]}})
    report = world.versions.validate(default_ctx, [(PATH, LINTY)], None, "user")
    assert rules(report["warnings"]) == ["MESSAGE_PASCAL_CASE"]


def test_validate_with_a_module_without_lint_policy_uses_the_default(world, default_ctx) -> None:
    world.modules.create(default_ctx, "user", "users")
    report = world.versions.validate(default_ctx, [(PATH, LINTY)], None, "user")
    assert rules(report["warnings"]) == CASING


def test_validate_refuses_an_unknown_module_or_a_bad_name(world, default_ctx) -> None:
    with pytest.raises(ModuleNotFound):
        world.versions.validate(default_ctx, [(PATH, CLEAN)], None, "nobody")
    with pytest.raises(ValidationFailed):
        world.versions.validate(default_ctx, [(PATH, CLEAN)], None, ["user"])


def test_validate_of_invalid_sources_reports_protoc_errors_only(world, default_ctx) -> None:
    report = world.versions.validate(default_ctx, [(PATH, b'syntax = "proto3";\nmessage {')], None)
    assert report["valid"] is False and report["errors"] and rules(report["warnings"]) == []


# ------------------------------------------------------------------------------------- publish

def test_a_required_lint_category_refuses_a_failing_version_before_any_write(world, default_ctx) -> None:
    # Given a module whose policy requires buf's STANDARD lint rules
    world.modules.create(default_ctx, "user", "users", {"lint": {"use": ["STANDARD"]}})
    outbox, objects = list(world.registry.outbox), dict(world.blobs.objects)
    # When a version breaking two of them is published
    with pytest.raises(LintFailed) as refused:
        publish(world, default_ctx, "v1.0.0", LINTY)
    # Then it is refused with the findings, and nothing was written
    assert refused.value.code == "LINT_FAILED"
    details = refused.value.details
    assert rules(details["findings"]) == CASING and details["total"] == 2
    assert details["lint"] == {"use": ["STANDARD"], "except": []}
    assert details["findings"][1]["file"] == PATH and details["findings"][1]["line"] == 5
    assert world.modules.get(default_ctx, "user")[1] == []
    assert (world.registry.outbox, world.blobs.objects) == (outbox, objects)


def test_a_version_passing_the_required_lint_is_published(world, default_ctx) -> None:
    world.modules.create(default_ctx, "user", "users", {"lint": {"use": ["STANDARD"]}})
    assert publish(world, default_ctx, "v1.0.0", CLEAN).version == "v1.0.0"


def test_the_lint_policy_takes_bufs_options(world, default_ctx) -> None:
    # Given a policy that excepts one rule and ignores the other for this file
    world.modules.create(default_ctx, "user", "users", {"lint": {
        "use": ["BASIC"], "except": ["FIELD_LOWER_SNAKE_CASE"], "ignore_only": {"MESSAGE_PASCAL_CASE": [PATH]}}})
    # Then the version passes
    assert publish(world, default_ctx, "v1.0.0", LINTY).version == "v1.0.0"


def test_a_module_without_lint_policy_publishes_anything_protoc_accepts(world, default_ctx) -> None:
    world.modules.create(default_ctx, "user", "users")
    assert publish(world, default_ctx, "v1.0.0", LINTY, path="anywhere.proto").version == "v1.0.0"
    assert world.modules.get(default_ctx, "user")[0].compatibility.lint is None


def test_lint_is_checked_before_compatibility(world, default_ctx) -> None:
    world.modules.create(default_ctx, "user", "users")
    publish(world, default_ctx, "v1.0.0", LINTY)
    world.modules.update(default_ctx, "user", {"compatibility": {"lint": {"use": ["MINIMAL"]}}})
    breaking_and_linty = LINTY.replace(b"  string Name = 1;\n", b"").replace(b"package user.v1;", b"package x.v1;")
    with pytest.raises(LintFailed) as refused:
        publish(world, default_ctx, "v1.1.0", breaking_and_linty)
    assert rules(refused.value.details["findings"]) == ["PACKAGE_DIRECTORY_MATCH"]
    world.modules.update(default_ctx, "user", {"compatibility": {"lint": None}})
    with pytest.raises(BreakingChange):
        publish(world, default_ctx, "v1.1.0", breaking_and_linty)


def test_an_identical_retry_is_not_refused_by_a_lint_policy_set_afterwards(world, default_ctx) -> None:
    world.modules.create(default_ctx, "user", "users")
    publish(world, default_ctx, "v1.0.0", LINTY)
    world.modules.update(default_ctx, "user", {"compatibility": {"lint": {}}})
    assert world.versions.publish(default_ctx, "user", "v1.0.0", "", [(PATH, LINTY)])[1] is False


# ---------------------------------------------------------------------------------- the policy

def test_the_lint_policy_is_shown_and_replaced_whole_and_cleared(world, default_ctx) -> None:
    module = world.modules.create(default_ctx, "user", "users", {"lint": {"use": ["basic"],
                                                                           "rpc_allow_same_request_response": True}})
    assert module.compatibility.as_json()["lint"] == {"use": ["BASIC"], "except": [],
                                                      "rpc_allow_same_request_response": True}
    updated, _ = world.modules.update(default_ctx, "user", {"compatibility": {"lint": {"except": ["PACKAGE_DEFINED"]}}})
    assert updated.compatibility.as_json()["lint"] == {"use": ["STANDARD"], "except": ["PACKAGE_DEFINED"]}
    assert updated.compatibility.mode.value == "BACKWARD"  # the rest of the policy is kept
    cleared, _ = world.modules.update(default_ctx, "user", {"compatibility": {"lint": None}})
    assert "lint" not in cleared.compatibility.as_json()


@pytest.mark.parametrize("lint,field", [
    ({"use": ["NOT_A_LINT_RULE"]}, "compatibility.lint"),
    ({"except": ["FIELD_NO_DELETE"]}, "compatibility.lint"),  # a breaking rule, not a lint one
    ({"ignore": ["/etc/passwd"]}, "compatibility.lint"),
    ({"colour": "red"}, "compatibility.lint.colour"),
    ({"use": "STANDARD"}, "compatibility.lint.use"),
    ({"service_suffix": "Svc!"}, "compatibility.lint.service_suffix"),
    ({"ignore_only": {"MESSAGE_PASCAL_CASE": [f"f{i}.proto" for i in range(101)]}}, "compatibility.lint.ignore_only"),
    ("STANDARD", "compatibility.lint"),
])
def test_a_bad_lint_policy_is_refused(lint, field) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_policy({"lint": lint})
    assert refused.value.validation_errors[0]["field"] == field
