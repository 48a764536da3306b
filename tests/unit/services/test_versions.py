"""Version use cases through VersionsService with fakes and the real protoc (memoised per session):
publish, identical retries, VERSION_EXISTS, the compatibility policy (BACKWARD vs BACKWARD_TRANSITIVE),
dependencies, reading versions and files."""
from __future__ import annotations

import json

import pytest

from chalicelib.domain.errors import (
    BreakingChange,
    DependencyNotFound,
    FileNotFound,
    Forbidden,
    InvalidProto,
    ModuleNotFound,
    UnresolvedImport,
    VersionExists,
    VersionNotFound,
)
from chalicelib.domain.roles import Role
from chalicelib.services.common import PageRequest

USER_V1 = b'syntax = "proto3";\npackage user.v1;\n\nmessage User {\n  string name = 1;\n  string email = 2;\n}\n'
USER_NO_EMAIL = b'syntax = "proto3";\npackage user.v1;\n\nmessage User {\n  string name = 1;\n}\n'
USER_WITH_AGE = (b'syntax = "proto3";\npackage user.v1;\n\nmessage User {\n  string name = 1;\n'
                 b'  string email = 2;\n  int32 age = 3;\n}\n')


def publish(world, ctx, version, content, module="user", path="user/v1/user.proto", **kwargs):
    return world.versions.publish(ctx, module, version, kwargs.pop("description", ""), [(path, content)], **kwargs)


def outbox_events(world):
    return [json.loads(m.body) for m in world.registry.outbox if m.queue == "events"]


def with_module(world, ctx, policy=None):
    world.modules.create(ctx, "user", "users", policy)
    world.registry.outbox.clear()


# --------------------------------------------------------------------------------------- happy path

def test_publish_stores_bytes_metadata_and_its_follow_up_work(world, default_ctx):
    # Given a module
    with_module(world, default_ctx)
    # When a developer publishes v1.0.0
    record, created = publish(world, default_ctx, "1.0.0", USER_V1, description="first")
    # Then the version is created under its canonical name, with its file and checksum
    assert created and record.version == "v1.0.0" and record.created_by == default_ctx.principal.user_id
    assert [(f.path, f.size) for f in record.files] == [("user/v1/user.proto", len(USER_V1))]
    # ... the version item points at a stored pack, manifest and descriptor set
    item = world.registry.get_version(default_ctx.org.id, "user", record.sort_key)
    assert item["file_count"] == 1 and item["descriptor_set_sha256"]
    assert world.blobs.get_descriptor_set(item["descriptor_set_sha256"])
    # ... every language is pending compilation, and the compile job and event went out with the write
    assert {s["status"] for s in item["compilation"].values()} == {"pending"}
    queues = sorted(m.queue for m in world.registry.outbox)
    assert queues == ["compile", "events"]
    job = json.loads(next(m.body for m in world.registry.outbox if m.queue == "compile"))
    assert job["version"] == "v1.0.0" and sorted(job["languages"]) == ["go", "python"]
    (event,) = outbox_events(world)
    assert event["event"] == "version.published" and event["data"]["files"] == ["user/v1/user.proto"]
    # ... and the module counts it
    assert world.modules.get(default_ctx, "user")[1] == ["v1.0.0"]
    assert world.registry.get_module(default_ctx.org.id, "user").version_count == 1


def test_published_files_read_back_byte_exact(world, default_ctx):
    with_module(world, default_ctx)
    publish(world, default_ctx, "v1.0.0", USER_V1)
    entry, body = world.versions.get_file(default_ctx, "user", "1.0.0", "user/v1/user.proto")
    assert body == USER_V1
    # A caller holding the same ETag (sha256) gets no body
    _, again = world.versions.get_file(default_ctx, "user", "v1.0.0", "user/v1/user.proto",
                                       held_sha256s=frozenset({entry.sha256}))
    assert again is None
    with pytest.raises(FileNotFound):
        world.versions.get_file(default_ctx, "user", "v1.0.0", "user/v1/other.proto")
    with pytest.raises(VersionNotFound):
        world.versions.get(default_ctx, "user", "v9.9.9")


def test_versions_list_newest_first_in_semver_order(world, default_ctx):
    with_module(world, default_ctx, {"mode": "NONE"})
    for version in ("v1.0.0", "v1.10.0", "v1.2.0", "v1.2.0-rc.1"):
        publish(world, default_ctx, version, USER_V1)
    summaries, cursor = world.versions.list(default_ctx, "user", PageRequest(page_size=3))
    assert [s.version for s in summaries] == ["v1.10.0", "v1.2.0", "v1.2.0-rc.1"]
    rest, end = world.versions.list(default_ctx, "user", PageRequest(page_size=3, cursor=cursor))
    assert [s.version for s in rest] == ["v1.0.0"] and end is None


def test_publish_to_a_missing_module_or_as_a_viewer_is_refused(world, dev, default_ctx):
    with pytest.raises(ModuleNotFound):
        publish(world, default_ctx, "v1.0.0", USER_V1, module="ghost")
    org = world.org(dev, "acme")
    world.modules.create(world.ctx(dev, org), "user", "")
    viewer = world.as_role(org, Role.VIEWER, "v@example.com")
    with pytest.raises(Forbidden):
        publish(world, viewer, "v1.0.0", USER_V1)
    assert world.registry.versions == {}


# ----------------------------------------------------------------------------------- immutability

def test_identical_retry_answers_the_existing_version(world, default_ctx):
    with_module(world, default_ctx)
    first, _ = publish(world, default_ctx, "v1.0.0", USER_V1, description="d")
    # When the same publish is repeated (a client retry)
    again, created = publish(world, default_ctx, "1.0.0", USER_V1, description="d")
    # Then it is the stored version, and no second job or event was recorded
    assert not created and again.files == first.files and again.created_at == first.created_at
    assert len(world.registry.outbox) == 2


@pytest.mark.parametrize("change", [{"content": USER_WITH_AGE}, {"description": "other"},
                                    {"path": "user/v1/renamed.proto"}])
def test_other_content_under_a_published_version_is_version_exists(world, default_ctx, change):
    # Given a published v1.0.0
    with_module(world, default_ctx)
    publish(world, default_ctx, "v1.0.0", USER_V1)
    stored = dict(next(iter(world.registry.versions.values())))
    # When v1.0.0 is published again with anything different
    kwargs = {"content": USER_V1, **change}
    with pytest.raises(VersionExists):
        publish(world, default_ctx, "v1.0.0", kwargs.pop("content"), **kwargs)
    # Then the stored version is untouched
    assert next(iter(world.registry.versions.values())) == stored


def test_a_concurrent_publish_that_commits_first_makes_ours_a_retry_or_version_exists(world, default_ctx):
    """The check-then-act window: the version appears between our read and our conditional write."""
    with_module(world, default_ctx)
    real_get = world.registry.get_version
    calls = {"n": 0}

    def racing_get(org_id, module, sort_key):
        calls["n"] += 1
        if calls["n"] == 1:  # our first read sees nothing; meanwhile another request publishes it
            world.registry.get_version = real_get
            publish(world, default_ctx, "v1.0.0", USER_WITH_AGE)
            world.registry.get_version = racing_get
            return None
        return real_get(org_id, module, sort_key)

    world.registry.get_version = racing_get
    with pytest.raises(VersionExists):
        publish(world, default_ctx, "v1.0.0", USER_V1)
    world.registry.get_version = real_get
    assert len(world.registry.versions) == 1


# ------------------------------------------------------------------------------------------ schema

def test_invalid_proto_is_refused_with_located_errors(world, default_ctx):
    with_module(world, default_ctx)
    with pytest.raises(InvalidProto) as refused:
        publish(world, default_ctx, "v1.0.0", b'syntax = "proto3";\nmessage X { strin name = 1; }\n')
    assert refused.value.details["errors"][0]["line"] == 2
    assert world.registry.versions == {} and world.registry.outbox == []


def test_an_import_nobody_provides_is_unresolved(world, default_ctx):
    with_module(world, default_ctx)
    with pytest.raises(UnresolvedImport):
        publish(world, default_ctx, "v1.0.0", b'syntax = "proto3";\nimport "common/v1/money.proto";\n')


def test_dependencies_resolve_from_stored_versions_and_record_dependents(world, default_ctx):
    # Given common v1.0.0
    world.modules.create(default_ctx, "common", "")
    money = b'syntax = "proto3";\npackage common.v1;\nmessage Money { int64 units = 1; }\n'
    publish(world, default_ctx, "v1.0.0", money, module="common", path="common/v1/money.proto")
    # When billing imports it, naming it as a dependency
    world.modules.create(default_ctx, "billing", "")
    invoice = (b'syntax = "proto3";\npackage billing.v1;\nimport "common/v1/money.proto";\n'
               b'message Invoice { common.v1.Money total = 1; }\n')
    record, _ = publish(world, default_ctx, "v1.0.0", invoice, module="billing", path="billing/v1/invoice.proto",
                        dependencies=["common@v1.0.0"])
    # Then it compiles against the stored descriptor set, and both directions are recorded
    assert record.dependencies == ({"module": "common", "version": "v1.0.0"},)
    assert world.versions.dependencies(default_ctx, "billing", "v1.0.0") == [
        {"module": "common", "version": "v1.0.0"}]
    assert world.versions.dependents(default_ctx, "common") == [
        {"module": "billing", "version": "v1.0.0", "depends_on": "v1.0.0"}]
    with pytest.raises(DependencyNotFound):
        publish(world, default_ctx, "v1.1.0", invoice, module="billing", path="billing/v1/invoice.proto",
                dependencies=["common@v2.0.0"])


# --------------------------------------------------------------------------------- compatibility

def test_backward_refuses_a_breaking_change_against_the_previous_version(world, default_ctx):
    # Given user v1.0.0 under the default policy (BACKWARD, FILE)
    with_module(world, default_ctx)
    publish(world, default_ctx, "v1.0.0", USER_V1)
    outbox_before = list(world.registry.outbox)
    # When v1.1.0 deletes a field
    with pytest.raises(BreakingChange) as refused:
        publish(world, default_ctx, "v1.1.0", USER_NO_EMAIL)
    # Then it is refused with buf's rule, located in the new file, and nothing is stored
    details = refused.value.details
    assert details["against"] == "v1.0.0"
    finding = next(f for f in details["breaking_changes"] if f["rule"] == "FIELD_NO_DELETE")
    assert finding["category"] == "FILE" and finding["file"] == "user/v1/user.proto" and finding["line"] >= 1
    assert world.modules.get(default_ctx, "user")[1] == ["v1.0.0"]
    assert world.registry.outbox == outbox_before


def test_compatible_additions_pass_and_record_what_they_were_checked_against(world, default_ctx):
    with_module(world, default_ctx)
    publish(world, default_ctx, "v1.0.0", USER_V1)
    record, created = publish(world, default_ctx, "v1.1.0", USER_WITH_AGE)
    assert created and record.checked_against == ("v1.0.0",)


def test_a_new_major_may_break_unless_the_policy_forbids_it(world, default_ctx):
    with_module(world, default_ctx)
    publish(world, default_ctx, "v1.0.0", USER_V1)
    record, _ = publish(world, default_ctx, "v2.0.0", USER_NO_EMAIL)
    assert record.checked_against == ()
    world.modules.update(default_ctx, "user", {"compatibility": {"allow_breaking_major": False}})
    with pytest.raises(BreakingChange):
        publish(world, default_ctx, "v3.0.0", USER_NO_EMAIL.replace(b"  string name = 1;\n", b""))


def test_mode_none_checks_nothing(world, default_ctx):
    with_module(world, default_ctx, {"mode": "NONE"})
    publish(world, default_ctx, "v1.0.0", USER_V1)
    record, _ = publish(world, default_ctx, "v1.1.0", USER_NO_EMAIL)
    assert record.checked_against == ()


def _history_with_an_old_break(world, ctx, mode):
    """v1.0.0 has `email`; v1.1.0 dropped it while the policy was NONE; then the policy becomes `mode`."""
    with_module(world, ctx, {"mode": "NONE"})
    publish(world, ctx, "v1.0.0", USER_V1)
    publish(world, ctx, "v1.1.0", USER_NO_EMAIL)
    world.modules.update(ctx, "user", {"compatibility": {"mode": mode}})


def test_backward_checks_only_the_closest_lower_version(world, default_ctx):
    # Given the history v1.0.0 (email) -> v1.1.0 (no email), and the policy BACKWARD
    _history_with_an_old_break(world, default_ctx, "BACKWARD")
    # When v1.2.0 repeats v1.1.0's schema
    record, created = publish(world, default_ctx, "v1.2.0", USER_NO_EMAIL)
    # Then it passes: against v1.1.0 alone nothing breaks
    assert created and record.checked_against == ("v1.1.0",)


def test_backward_transitive_checks_every_lower_version_not_just_the_closest(world, default_ctx):
    # Given the same history, and the policy BACKWARD_TRANSITIVE
    _history_with_an_old_break(world, default_ctx, "BACKWARD_TRANSITIVE")
    # When v1.2.0 repeats v1.1.0's schema (compatible with v1.1.0, not with v1.0.0)
    with pytest.raises(BreakingChange) as refused:
        publish(world, default_ctx, "v1.2.0", USER_NO_EMAIL)
    # Then it is refused against v1.0.0, which only a transitive check reaches
    assert refused.value.details["against"] == "v1.0.0"
    assert "FIELD_NO_DELETE" in {f["rule"] for f in refused.value.details["breaking_changes"]}
    assert world.modules.get(default_ctx, "user")[1] == ["v1.0.0", "v1.1.0"]


def test_backward_transitive_records_every_version_it_checked(world, default_ctx):
    with_module(world, default_ctx, {"mode": "BACKWARD_TRANSITIVE"})
    publish(world, default_ctx, "v1.0.0", USER_V1)
    publish(world, default_ctx, "v1.1.0", USER_V1)
    record, _ = publish(world, default_ctx, "v1.2.0", USER_WITH_AGE)
    assert record.checked_against == ("v1.1.0", "v1.0.0")


def test_a_prerelease_is_checked_against_lower_versions_only(world, default_ctx):
    # v1.1.0-rc.1 sorts below v1.1.0: a later-published rc is checked against v1.0.0, not v1.1.0
    with_module(world, default_ctx)
    publish(world, default_ctx, "v1.0.0", USER_V1)
    publish(world, default_ctx, "v1.1.0", USER_WITH_AGE)
    record, _ = publish(world, default_ctx, "v1.1.0-rc.1", USER_V1)
    assert record.checked_against == ("v1.0.0",)


def test_the_compatibility_check_endpoint_reports_findings(world, default_ctx):
    with_module(world, default_ctx, {"mode": "NONE"})
    publish(world, default_ctx, "v1.0.0", USER_V1)
    publish(world, default_ctx, "v1.1.0", USER_NO_EMAIL)
    report = world.compatibility.check(default_ctx, "user", {"version1": "v1.0.0", "version2": "v1.1.0"})
    assert not report["compatible"]
    assert "FIELD_NO_DELETE" in {f["rule"] for f in report["breaking_changes"]}
    assert world.compatibility.check(default_ctx, "user", {"version1": "v1.1.0", "version2": "v1.1.0"})[
        "compatible"]
