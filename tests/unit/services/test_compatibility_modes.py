"""Confluent's seven compatibility modes, in buf's terms, through VersionsService and CompatibilityService on
fakes (and the real protoc, memoised): which versions each mode consults, in which direction, and nothing else.

Each schema carries a `// tag: <version>` comment, so a spy on the breaking engine can name the two schemas
of every check it runs: (the schema checked as "new", the schema checked against).
"""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain import breaking
from chalicelib.domain.errors import BreakingChange, ValidationFailed
from chalicelib.domain.policy import CompatibilityPolicy, parse_policy

PATH = "user/v1/user.proto"
NAME_ONLY = "  string name = 1;\n"
WITH_AGE = "  string name = 1;\n  int32 age = 2;\n"


def schema(tag: str, fields: str = NAME_ONLY) -> bytes:
    return f'syntax = "proto3";\npackage user.v1;\n\n// tag: {tag}\nmessage User {{\n{fields}}}\n'.encode()


def tag_of(fds: Any) -> str:
    for file in fds.file:
        for location in file.source_code_info.location:
            if "tag:" in location.leading_comments:
                return location.leading_comments.split("tag:")[1].strip()
    return "?"


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every (new, against) pair the breaking engine is asked to check, by tag."""
    seen: list[tuple[str, str]] = []
    real = breaking.check_breaking

    def spy(new: Any, against: Any, config: Any) -> Any:
        seen.append((tag_of(new), tag_of(against)))
        return real(new, against, config)

    monkeypatch.setattr(breaking, "check_breaking", spy)
    return seen


def publish(world: Any, ctx: Any, version: str, content: bytes) -> Any:
    record, _ = world.versions.publish(ctx, "user", version, "", [(PATH, content)])
    return record


def history(world: Any, ctx: Any, mode: str, **policy: Any) -> None:
    """v0.9.0 (an older major), v1.0.0, v1.1.0, v1.2.0, published under NONE; then the policy is `mode`."""
    world.modules.create(ctx, "user", "users", {"mode": "NONE"})
    for version in ("v0.9.0", "v1.0.0", "v1.1.0", "v1.2.0"):
        publish(world, ctx, version, schema(version))
    world.modules.update(ctx, "user", {"compatibility": {"mode": mode, **policy}})


B, F = "backward", "forward"
EXPECTED = {  # mode -> the (new, against) checks of publishing v1.3.0 after `history`
    "BACKWARD": [("v1.3.0", "v1.2.0")],
    "FORWARD": [("v1.2.0", "v1.3.0")],
    "FULL": [("v1.3.0", "v1.2.0"), ("v1.2.0", "v1.3.0")],
    "BACKWARD_TRANSITIVE": [("v1.3.0", "v1.2.0"), ("v1.3.0", "v1.1.0"), ("v1.3.0", "v1.0.0")],
    "FORWARD_TRANSITIVE": [("v1.2.0", "v1.3.0"), ("v1.1.0", "v1.3.0"), ("v1.0.0", "v1.3.0")],
    "FULL_TRANSITIVE": [("v1.3.0", "v1.2.0"), ("v1.2.0", "v1.3.0"), ("v1.3.0", "v1.1.0"), ("v1.1.0", "v1.3.0"),
                        ("v1.3.0", "v1.0.0"), ("v1.0.0", "v1.3.0")],
    "NONE": [],
}
CHECKED_AGAINST = {"BACKWARD": ("v1.2.0",), "FORWARD": ("v1.2.0",), "FULL": ("v1.2.0",), "NONE": (),
                   **{f"{m}_TRANSITIVE": ("v1.2.0", "v1.1.0", "v1.0.0") for m in ("BACKWARD", "FORWARD", "FULL")}}


@pytest.mark.parametrize("mode", sorted(EXPECTED))
def test_each_mode_consults_exactly_its_versions_in_its_directions(world, default_ctx, checks, mode) -> None:
    # Given four versions (one of an older major) and the policy `mode`
    history(world, default_ctx, mode)
    checks.clear()
    # When a compatible v1.3.0 is published
    record = publish(world, default_ctx, "v1.3.0", schema("v1.3.0"))
    # Then the engine ran exactly the mode's checks: these versions, these directions, no others
    assert checks == EXPECTED[mode]
    assert record.checked_against == CHECKED_AGAINST[mode]


@pytest.mark.parametrize("mode", ["BACKWARD_TRANSITIVE", "FORWARD_TRANSITIVE", "FULL_TRANSITIVE"])
def test_a_transitive_mode_reaches_older_majors_when_breaking_majors_is_not_allowed(world, default_ctx, checks,
                                                                                     mode) -> None:
    history(world, default_ctx, mode, allow_breaking_major=False)
    checks.clear()
    record = publish(world, default_ctx, "v1.3.0", schema("v1.3.0"))
    assert record.checked_against == ("v1.2.0", "v1.1.0", "v1.0.0", "v0.9.0")
    assert {pair for pair in checks if "v0.9.0" in pair}  # and the older major was really checked


@pytest.mark.parametrize("mode", ["FORWARD", "FULL", "FORWARD_TRANSITIVE", "FULL_TRANSITIVE"])
def test_a_new_major_is_not_checked_by_any_mode_when_breaking_majors_is_allowed(world, default_ctx, checks,
                                                                                 mode) -> None:
    history(world, default_ctx, mode)
    checks.clear()
    record = publish(world, default_ctx, "v2.0.0", schema("v2.0.0"))
    assert (record.checked_against, checks) == ((), [])


def test_forward_refuses_an_added_field_that_backward_accepts(world, default_ctx) -> None:
    # Given v1.0.0 with a name only, under FORWARD
    world.modules.create(default_ctx, "user", "users", {"mode": "FORWARD"})
    publish(world, default_ctx, "v1.0.0", schema("v1.0.0"))
    # When v1.1.0 adds a field (compatible backward)
    with pytest.raises(BreakingChange) as refused:
        publish(world, default_ctx, "v1.1.0", schema("v1.1.0", WITH_AGE))
    # Then the reversed check reports it: v1.0.0, checked as "new", lacks the field v1.1.0 has
    details = refused.value.details
    assert (details["against"], details["direction"], details["directions"]) == ("v1.0.0", F, [F])
    assert [(f["rule"], f["direction"]) for f in details["breaking_changes"]] == [("FIELD_NO_DELETE", F)]
    assert "FORWARD" in refused.value.message and "forward" in refused.value.message
    assert world.modules.get(default_ctx, "user")[1] == ["v1.0.0"]
    # And under BACKWARD the same version is accepted
    world.modules.update(default_ctx, "user", {"compatibility": {"mode": "BACKWARD"}})
    assert publish(world, default_ctx, "v1.1.0", schema("v1.1.0", WITH_AGE)).checked_against == ("v1.0.0",)


def test_forward_accepts_a_deleted_field_that_backward_refuses(world, default_ctx) -> None:
    world.modules.create(default_ctx, "user", "users", {"mode": "FORWARD"})
    publish(world, default_ctx, "v1.0.0", schema("v1.0.0", WITH_AGE))
    assert publish(world, default_ctx, "v1.1.0", schema("v1.1.0")).checked_against == ("v1.0.0",)
    world.modules.update(default_ctx, "user", {"compatibility": {"mode": "BACKWARD"}})
    with pytest.raises(BreakingChange) as refused:
        publish(world, default_ctx, "v1.2.0", schema("v1.2.0", "  int32 age = 2;\n"))
    assert refused.value.details["direction"] == B


def test_full_reports_both_directions_against_the_failing_version(world, default_ctx) -> None:
    # Given v1.0.0 (name) under FULL
    world.modules.create(default_ctx, "user", "users", {"mode": "FULL"})
    publish(world, default_ctx, "v1.0.0", schema("v1.0.0"))
    # When v1.1.0 replaces `name` with `age`: deleted backward, and (reversed) deleted forward too
    with pytest.raises(BreakingChange) as refused:
        publish(world, default_ctx, "v1.1.0", schema("v1.1.0", "  int32 age = 2;\n"))
    # Then the findings of both directions are listed, backward first
    details = refused.value.details
    assert (details["direction"], details["directions"]) == (B, [B, F])
    directions = [f["direction"] for f in details["breaking_changes"]]
    assert directions == sorted(directions) and set(directions) == {B, F}


def test_full_transitive_refuses_a_forward_break_against_an_older_version_only(world, default_ctx) -> None:
    # Given v1.0.0 (name) and v1.1.0 (name, age), published under NONE, then FULL_TRANSITIVE
    world.modules.create(default_ctx, "user", "users", {"mode": "NONE"})
    publish(world, default_ctx, "v1.0.0", schema("v1.0.0"))
    publish(world, default_ctx, "v1.1.0", schema("v1.1.0", WITH_AGE))
    world.modules.update(default_ctx, "user", {"compatibility": {"mode": "FULL_TRANSITIVE"}})
    # When v1.2.0 repeats v1.1.0 (compatible both ways with v1.1.0, not forward with v1.0.0)
    with pytest.raises(BreakingChange) as refused:
        publish(world, default_ctx, "v1.2.0", schema("v1.2.0", WITH_AGE))
    assert (refused.value.details["against"], refused.value.details["directions"]) == ("v1.0.0", [F])
    # And FULL, which consults v1.1.0 alone, accepts it
    world.modules.update(default_ctx, "user", {"compatibility": {"mode": "FULL"}})
    assert publish(world, default_ctx, "v1.2.0", schema("v1.2.0", WITH_AGE)).checked_against == ("v1.1.0",)


# ------------------------------------------------------------------- the check endpoint's `mode`

def _two_versions(world: Any, ctx: Any, mode: str = "NONE") -> None:
    """v1.0.0 (name), v1.1.0 (name, age): compatible backward, not forward."""
    world.modules.create(ctx, "user", "users", {"mode": "NONE"})
    publish(world, ctx, "v1.0.0", schema("v1.0.0"))
    publish(world, ctx, "v1.1.0", schema("v1.1.0", WITH_AGE))
    world.modules.update(ctx, "user", {"compatibility": {"mode": mode}})


@pytest.mark.parametrize("mode,directions,compatible", [
    ("BACKWARD", [B], True), ("FORWARD", [F], False), ("full", [B, F], False),
    ("FORWARD_TRANSITIVE", [F], False)])
def test_a_check_runs_the_requested_mode(world, default_ctx, checks, mode, directions, compatible) -> None:
    _two_versions(world, default_ctx)
    checks.clear()
    report = world.compatibility.check(default_ctx, "user", {"version1": "v1.0.0", "version2": "v1.1.0",
                                                             "mode": mode})
    assert (report["directions"], report["compatible"]) == (directions, compatible)
    expected = {B: ("v1.1.0", "v1.0.0"), F: ("v1.0.0", "v1.1.0")}
    assert checks == [expected[d] for d in directions]
    assert all(f["direction"] == F for f in report["breaking_changes"])


@pytest.mark.parametrize("module_mode,directions", [("NONE", [B]), ("BACKWARD_TRANSITIVE", [B]),
                                                    ("FORWARD", [F]), ("FULL_TRANSITIVE", [B, F])])
def test_a_check_without_mode_runs_the_modules_directions(world, default_ctx, module_mode, directions) -> None:
    _two_versions(world, default_ctx, module_mode)
    report = world.compatibility.check(default_ctx, "user", {"version1": "v1.0.0", "version2": "v1.1.0"})
    assert report["directions"] == directions


@pytest.mark.parametrize("mode", ["NONE", "SIDEWAYS", 3])
def test_a_check_refuses_a_mode_that_checks_nothing_or_is_unknown(world, default_ctx, mode) -> None:
    _two_versions(world, default_ctx)
    with pytest.raises(ValidationFailed) as refused:
        world.compatibility.check(default_ctx, "user", {"version1": "v1.0.0", "version2": "v1.1.0", "mode": mode})
    assert refused.value.validation_errors[0]["field"] == "mode"


def test_a_check_of_unpublished_files_takes_a_mode(compiler) -> None:
    from chalicelib.services.compatibility import CompatibilityService
    from chalicelib.services.schemas import SchemaService
    from tests.unit.services.conftest import World

    world = World(compiler=compiler)
    ctx = world.ctx(world.user("dev@example.com"))
    world.compatibility = CompatibilityService(world.registry, world.blobs, world.modules,
                                               schemas=SchemaService(world.registry, world.blobs, compiler))
    world.modules.create(ctx, "user", "users")
    publish(world, ctx, "v1.0.0", schema("v1.0.0"))
    files = [(PATH, schema("local", WITH_AGE))]
    assert world.compatibility.check_files(ctx, "user", "v1.0.0", files, None)["compatible"] is True
    forward = world.compatibility.check_files(ctx, "user", "v1.0.0", files, None, mode="FORWARD")
    assert (forward["compatible"], forward["directions"]) == (False, [F])


# ------------------------------------------------------------------------------ the policy itself

@pytest.mark.parametrize("mode", sorted(EXPECTED))
def test_the_seven_modes_are_accepted_and_shown(mode) -> None:
    assert parse_policy({"mode": mode}).as_json()["mode"] == mode


def test_a_policy_stored_before_keeps_its_shape() -> None:
    stored = {"mode": "BACKWARD_TRANSITIVE", "use": ["WIRE"], "except": [], "allow_breaking_major": False}
    policy = CompatibilityPolicy.model_validate(stored)
    assert policy.lint is None and policy.as_json() == stored
