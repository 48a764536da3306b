"""CompatibilityService.check_files: unpublished files against a stored version (fakes, the real protoc)."""
from __future__ import annotations

import pytest

from chalicelib.domain.errors import InvalidProto, Unauthorized
from chalicelib.services.compatibility import CompatibilityService
from chalicelib.services.schemas import SchemaService

V1 = b'syntax = "proto3";\npackage user.v1;\nmessage User {\n  string id = 1;\n  string email = 2;\n}\n'
NO_EMAIL = b'syntax = "proto3";\npackage user.v1;\nmessage User {\n  string id = 1;\n}\n'


@pytest.fixture
def checker(world, default_ctx) -> CompatibilityService:
    """Given module `user` with v1.0.0 published, and the service as wiring builds it."""
    world.modules.create(default_ctx, "user", "")
    world.versions.publish(default_ctx, "user", "v1.0.0", "", [("user.proto", V1)])
    return CompatibilityService(world.registry, world.blobs, world.modules,
                                SchemaService(world.registry, world.blobs, world.compiler), max_files=10)


def test_a_breaking_working_copy_is_reported_and_nothing_is_stored(world, default_ctx, checker):
    stored = dict(world.blobs.objects)
    result = checker.check_files(default_ctx, "user", "v1.0.0", [("user.proto", NO_EMAIL)], None)
    assert (result["compatible"], result["against"]) == (False, "v1.0.0")
    assert [c["rule"] for c in result["breaking_changes"]] == ["FIELD_NO_DELETE"]
    assert world.blobs.objects == stored
    assert world.modules.get(default_ctx, "user")[1] == ["v1.0.0"]


def test_invalid_files_are_refused_like_publish(default_ctx, checker):
    with pytest.raises(InvalidProto):
        checker.check_files(default_ctx, "user", "v1.0.0", [("user.proto", b"message {")], None)


def test_anonymous_callers_are_refused_before_protoc_runs(world, checker):
    with pytest.raises(Unauthorized):
        checker.check_files(world.ctx(None), "user", "v1.0.0", [("user.proto", V1)], None)
