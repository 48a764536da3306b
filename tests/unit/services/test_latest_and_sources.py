"""`latest` and the source downloads through the services, on fakes."""
from __future__ import annotations

import io
import zipfile

import pytest

from chalicelib.domain.errors import VersionNotFound
from chalicelib.domain.versions import parse_version
from chalicelib.services.source_archives import SourceArchivesService

USER = b'syntax = "proto3";\npackage user.v1;\nmessage User { string id = 1; }\n'
USER_V2 = b'syntax = "proto3";\npackage user.v1;\nmessage User { string id = 1; string name = 2; }\n'


def publish(world, ctx, version, content=USER):
    return world.versions.publish(ctx, "user", version, "", [("user/v1/user.proto", content)])


@pytest.fixture
def sources(world) -> SourceArchivesService:
    return SourceArchivesService(world.registry, world.blobs, world.modules, 600)


def test_latest_resolves_to_the_highest_release(world, default_ctx):
    world.modules.create(default_ctx, "user", "users")
    publish(world, default_ctx, "v1.0.0")
    publish(world, default_ctx, "v1.1.0", USER_V2)
    publish(world, default_ctx, "v1.2.0-rc.1", USER_V2)
    assert world.versions.get(default_ctx, "user", "latest").version == "v1.1.0"
    found = world.versions.read_file(default_ctx, "user", "latest", "user/v1/user.proto")
    assert found.version == "v1.1.0" and found.content == USER_V2
    assert world.versions.version_dependencies(default_ctx, "user", "latest") == ("v1.1.0", [])


def test_latest_without_a_release_is_version_not_found(world, default_ctx):
    world.modules.create(default_ctx, "user", "users")
    publish(world, default_ctx, "v1.0.0-beta")
    with pytest.raises(VersionNotFound, match="no released version yet"):
        world.versions.get(default_ctx, "user", "latest")


def test_reading_only_the_entry_reads_no_bytes(world, default_ctx):
    world.modules.create(default_ctx, "user", "users")
    publish(world, default_ctx, "v1.0.0")
    found = world.versions.read_file(default_ctx, "user", "v1.0.0", "user/v1/user.proto", with_content=False)
    assert found.content is None and found.entry.size == len(USER)


def test_the_sources_zip_is_built_once_and_recorded(world, default_ctx, sources):
    # Given a version
    world.modules.create(default_ctx, "user", "users")
    publish(world, default_ctx, "v1.0.0")
    built: list[bytes] = []
    put_artifact = world.blobs.put_artifact
    world.blobs.put_artifact = lambda body: built.append(body) or put_artifact(body)
    # When its sources are asked for twice
    first = sources.download(default_ctx, "user", "latest", "proto")
    second = sources.download(default_ctx, "user", "v1.0.0", "proto")
    # Then only the first built and stored a ZIP; the second named the same one
    assert len(built) == 1
    assert (second["sha256"], second["size"]) == (first["sha256"], first["size"]) and first["version"] == "v1.0.0"
    body = world.blobs.objects[f"artifacts/{first['sha256']}"]
    assert zipfile.ZipFile(io.BytesIO(body)).read("user/v1/user.proto") == USER
    item = world.registry.get_version(default_ctx.org.id, "user", parse_version("v1.0.0").sort_key)
    assert item["source_archive"] == {"sha256": first["sha256"], "size": len(body)}


def test_the_descriptor_set_is_the_one_publish_stored(world, default_ctx, sources):
    world.modules.create(default_ctx, "user", "users")
    publish(world, default_ctx, "v1.0.0")
    data = sources.download(default_ctx, "user", "v1.0.0", "descriptor_set")
    item = world.registry.get_version(default_ctx.org.id, "user", parse_version("v1.0.0").sort_key)
    assert data["sha256"] == item["descriptor_set_sha256"]
    assert data["size"] == len(world.blobs.get_descriptor_set(item["descriptor_set_sha256"]))
    assert data["expires_in"] == 600 and data["expires_at"].endswith("Z")
