"""Compiling with a named protoc release: statuses per language AND release, the default release's under
the bare language name (fakes; no protoc)."""
from __future__ import annotations

import json

import pytest

from chalicelib.domain.errors import UnknownProtocRelease
from chalicelib.services.compilation import CompilationService
from tests.unit.services.conftest import LANGUAGES
from tests.unit.services.fakes_codegen import ReleasesGenerator

USER = b'syntax = "proto3";\npackage user.v1;\nmessage User { string id = 1; }\n'


def _compiler(world, generator: ReleasesGenerator) -> CompilationService:
    return CompilationService(world.registry, world.blobs, generator, dict(LANGUAGES), 600, world.events,
                              organizations=world.orgs_store)


def _jobs(world) -> list[dict]:
    messages = [json.loads(m.body) for m in world.registry.outbox if m.queue == "compile"]
    world.registry.outbox.clear()
    return messages


@pytest.fixture
def published(world, default_ctx) -> dict:
    """Given a published version whose default-release job has run."""
    world.modules.create(default_ctx, "user", "")
    world.versions.publish(default_ctx, "user", "v1.0.0", "", [("user.proto", USER)])
    [job] = _jobs(world)
    _compiler(world, ReleasesGenerator()).run_job(job, final_attempt=False)
    return world.registry.get_version(default_ctx.org.id, "user", job["sort_key"])


def test_a_compile_request_names_a_release_and_its_job_carries_it(world, default_ctx, published):
    # When python is compiled again with protoc 3.21.12
    compiler = _compiler(world, ReleasesGenerator())
    statuses = compiler.request(default_ctx, published, ["python"], "3.21.12")
    # Then the release's entry is pending beside the default one, which keeps its ZIP
    assert statuses["python@3.21.12"]["status"] == "pending"
    assert statuses["python"]["status"] == "succeeded"
    [job] = _jobs(world)
    assert (job["languages"], job["protoc"]) == (["python"], "3.21.12")


def test_naming_the_default_release_is_the_default_job(world, default_ctx, published):
    statuses = _compiler(world, ReleasesGenerator()).request(default_ctx, published, ["go"], "36.2")
    assert statuses["go"]["status"] == "pending" and "go@36.2" not in statuses
    [job] = _jobs(world)
    assert "protoc" not in job


def test_an_unknown_release_is_refused_with_the_known_ones(world, default_ctx, published):
    compiler = _compiler(world, ReleasesGenerator())
    with pytest.raises(UnknownProtocRelease) as refused:
        compiler.request(default_ctx, published, ["python"], "2.6.1")
    assert refused.value.details["known"] == ["36.2", "3.21.12"]
    with pytest.raises(UnknownProtocRelease):
        compiler.download(published, "python", "../36.2", default_ctx)
    assert _jobs(world) == []


def test_a_releases_job_compiles_with_it_and_both_zips_stay_served(world, default_ctx, published):
    # Given a job for protoc 3.21.12
    generator = ReleasesGenerator()
    compiler = _compiler(world, generator)
    compiler.request(default_ctx, published, ["python"], "3.21.12")
    [job] = _jobs(world)
    # When it runs
    item = compiler.run_job(job, final_attempt=False)
    # Then the generator ran that release, and each release's download is its own ZIP
    assert [(c["languages"], c["protoc_release"]) for c in generator.calls] == [(["python"], "3.21.12")]
    assert item is not None and item["compiled_languages"] == sorted(LANGUAGES)  # default release only
    old = compiler.download(item, "python", "3.21.12", default_ctx)
    new = compiler.download(item, "python", None, default_ctx)
    assert old[0] == new[0] == "ready" and old[1]["sha256"] != new[1]["sha256"]
    assert old[1]["protoc_release"] == "3.21.12" and "protoc_release" not in new[1]
    assert "filename=user-v1.0.0-python-protoc-3.21.12.zip" in old[1]["url"]
    assert "filename=user-v1.0.0-python.zip" in new[1]["url"]


def test_a_download_of_a_release_not_compiled_enqueues_it_once(world, default_ctx, published):
    compiler = _compiler(world, ReleasesGenerator())
    # When a release's ZIP is downloaded twice before its compile runs
    first = compiler.download(published, "python", "3.21.12", default_ctx)
    item = world.registry.get_version(default_ctx.org.id, "user", published["sort_key"])
    second = compiler.download(item, "python", "3.21.12", default_ctx)
    # Then both answer pending, and one job was queued
    assert first[0] == second[0] == "pending"
    assert first[1]["status"] == second[1]["status"] == "pending"
    [job] = _jobs(world)
    assert (job["languages"], job["protoc"]) == (["python"], "3.21.12")


def test_a_languages_notes_are_kept_in_its_status(world, default_ctx, published):
    compiler = _compiler(world, ReleasesGenerator(notes=("gRPC stubs not generated: x is not in the layer",)))
    compiler.request(default_ctx, published, ["go"], None)
    [job] = _jobs(world)
    item = compiler.run_job(job, final_attempt=False)
    assert item is not None and item["compilation"]["go"]["notes"] == [
        "gRPC stubs not generated: x is not in the layer"]


def test_languages_lists_the_releases_and_grpc(world):
    listed = _compiler(world, ReleasesGenerator()).languages()
    assert [r["release"] for r in listed["protoc_releases"]] == ["36.2", "3.21.12"]
    assert listed["default_protoc_release"] == "36.2"
    assert all(entry["grpc"]["available"] for entry in listed["languages"])
