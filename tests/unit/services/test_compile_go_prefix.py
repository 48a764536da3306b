"""Which Go prefix a compile job hands the generator: the module's CURRENT go_package_prefix, else the
registry's `<host>/gen/go/<org slug>/<module>` (fakes; no protoc)."""
from __future__ import annotations

import json

from chalicelib.services.compilation import CompilationService
from tests.unit.services.conftest import LANGUAGES
from tests.unit.services.fakes_go_paths import RecordingGenerator

USER = b'syntax = "proto3";\npackage user.v1;\nmessage User { string id = 1; }\n'


def _compiler(world, generator: RecordingGenerator, host: str = "spoke.local") -> CompilationService:
    return CompilationService(world.registry, world.blobs, generator, dict(LANGUAGES), 600, world.events,
                              organizations=world.orgs_store, go_module_host=host)


def _job(world) -> dict:
    [message] = [json.loads(m.body) for m in world.registry.outbox if m.queue == "compile"]
    world.registry.outbox.clear()
    return message


def _published(world, ctx, module: str = "user") -> dict:
    world.modules.create(ctx, module, "")
    world.registry.outbox.clear()
    world.versions.publish(ctx, module, "v1.0.0", "", [("user.proto", USER)])
    return _job(world)


def test_without_a_prefix_the_job_uses_the_registry_path_of_the_default_org(world, default_ctx):
    # Given a version of a module without go_package_prefix in the default organization
    job = _published(world, default_ctx)
    generator = RecordingGenerator()
    # When its compile job runs
    _compiler(world, generator).run_job(job, final_attempt=False)
    # Then Go is generated under the registry's path
    [call] = generator.calls
    assert (call["go_package_prefix"], call["go_default_prefix"]) == (None, "spoke.local/gen/go/default/user")


def test_an_organizations_slug_and_the_configured_host_name_the_path(world, dev):
    org = world.org(dev, "acme")
    job = _published(world, world.ctx(dev, org), "shop")
    generator = RecordingGenerator()
    _compiler(world, generator, host="go.acme.com/protos").run_job(job, final_attempt=False)
    assert generator.calls[0]["go_default_prefix"] == "go.acme.com/protos/gen/go/acme/shop"


def test_a_recompile_reads_the_prefix_set_after_publish(world, default_ctx):
    # Given a version published before its module had a prefix
    _published(world, default_ctx)
    # When the prefix is set, and Go is compiled again
    world.modules.update(default_ctx, "user", {"go_package_prefix": "github.com/acme/protos"})
    world.compilation.request(default_ctx, world.modules.find_version(default_ctx, world.modules.find(
        default_ctx, "user"), "v1.0.0"), ["go"])
    generator = RecordingGenerator()
    _compiler(world, generator).run_job(_job(world), final_attempt=False)
    # Then the job uses the module's prefix of now
    [call] = generator.calls
    assert (call["go_package_prefix"], call["go_default_prefix"]) == ("github.com/acme/protos", None)


def test_a_job_without_go_reads_no_prefix(world, default_ctx):
    _published(world, default_ctx)
    world.compilation.request(default_ctx, world.modules.find_version(default_ctx, world.modules.find(
        default_ctx, "user"), "v1.0.0"), ["python"])
    generator = RecordingGenerator()
    _compiler(world, generator).run_job(_job(world), final_attempt=False)
    assert (generator.calls[0]["go_package_prefix"], generator.calls[0]["go_default_prefix"]) == (None, None)


def test_a_dependencys_files_get_their_own_modules_prefix(world, default_ctx):
    from chalicelib.domain.go_paths import GoPrefix

    # Given `common` without a prefix, and `shop` with one, depending on it
    world.modules.create(default_ctx, "common", "")
    world.versions.publish(default_ctx, "common", "v1.0.0", "", [("money.proto", USER.replace(b"user", b"common"))])
    world.modules.create(default_ctx, "shop", "", go_package_prefix="github.com/acme/shop")
    world.registry.outbox.clear()
    world.versions.publish(default_ctx, "shop", "v1.0.0", "", [("shop.proto", (
        b'syntax = "proto3";\npackage shop.v1;\nimport "money.proto";\nmessage Order { common.v1.User u = 1; }\n'))],
        ["common@v1.0.0"])
    generator = RecordingGenerator()
    # When shop's job runs
    _compiler(world, generator).run_job(_job(world), final_attempt=False)
    # Then shop's files use its prefix, common's file the registry path of common
    [call] = generator.calls
    assert call["go_package_prefix"] == "github.com/acme/shop"
    assert call["go_dependency_prefixes"] == {"money.proto": GoPrefix("spoke.local/gen/go/default/common", True)}
