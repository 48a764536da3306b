"""What services count for the operators' metrics (on a fake MetricsPort): publishes, compile outcomes
per language with the alarm's CompileFailures, webhook delivery outcomes."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.webhooks import DeliveryPolicy
from chalicelib.services.compilation import CompilationService
from chalicelib.services.schemas import SchemaService
from chalicelib.services.versions import VersionsService
from chalicelib.services.webhooks import WebhooksService
from tests.unit.services.conftest import LANGUAGES
from tests.unit.services.fakes_go_paths import _Output, _Result
from tests.unit.services.fakes_telemetry import FakeMetrics

USER = b'syntax = "proto3";\npackage user.v1;\nmessage User { string id = 1; }\n'


@dataclass
class HalfGenerator:
    """Python compiles, Go fails."""

    def versions(self) -> dict[str, str]:
        return {}

    def generate(self, files: Any, dependency_files: Any, languages: list[str], **options: Any) -> _Result:
        return _Result({lang: _Output() if lang == "python" else _Output(ok=False, zip_bytes=b"", error="no go")
                        for lang in languages})


def _versions(world, metrics: FakeMetrics) -> VersionsService:
    return VersionsService(world.registry, world.blobs, world.modules, world.cursors,
                           SchemaService(world.registry, world.blobs, world.compiler), world.compatibility,
                           world.compilation, world.events, max_files=1000, metrics=metrics)


def test_a_publish_is_counted_once_and_its_identical_retry_not_again(world, default_ctx):
    metrics = FakeMetrics()
    world.modules.create(default_ctx, "user", "")
    versions = _versions(world, metrics)
    versions.publish(default_ctx, "user", "v1.0.0", "", [("user.proto", USER)])
    versions.publish(default_ctx, "user", "v1.0.0", "", [("user.proto", USER)])
    assert metrics.total("Publishes") == 1


def test_compile_outcomes_are_counted_per_language_and_failures_for_the_alarm(world, default_ctx):
    # Given a published version and its compile job
    world.modules.create(default_ctx, "user", "")
    world.versions.publish(default_ctx, "user", "v1.0.0", "", [("user.proto", USER)])
    [job] = [json.loads(m.body) for m in world.registry.outbox if m.queue == "compile"]
    metrics = FakeMetrics()
    compiler = CompilationService(world.registry, world.blobs, HalfGenerator(), dict(LANGUAGES), 600, world.events,
                                  metrics=metrics)
    # When it runs: Python compiles, Go fails
    compiler.run_job(job, final_attempt=False)
    # Then each language has its outcome and duration, and CompileFailures (no language) counts the failure
    assert metrics.total("CompileSucceeded", language="python") == 1
    assert metrics.total("CompileFailed", language="go") == 1
    assert metrics.total("CompileFailures") == 1
    assert sorted(dims["language"] for name, _, dims in metrics.durations if name == "CompileDuration") == [
        "go", "python"]


@dataclass
class Answers:
    """HttpPort answering from a list of (ok, status)."""

    results: list[tuple[bool, int]] = field(default_factory=list)

    def vet(self, url: str) -> Any:
        return url

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Any:
        from types import SimpleNamespace

        ok, status = self.results.pop(0)
        return SimpleNamespace(ok=ok, status_code=status, duration_ms=3, error=None if ok else "HTTP 500")


def test_webhook_deliveries_count_successes_and_failures(world, dev):
    metrics = FakeMetrics()
    http = Answers([(False, 500), (True, 200)])
    webhooks = WebhooksService(world.webhooks_store, http, world.queues, world.cursors,
                               DeliveryPolicy(max_attempts=3, retry_delays=(30, 120), max_per_org=3), metrics=metrics)
    org = world.org(dev, "acme")
    ctx = world.ctx(dev, org)
    webhooks.create(ctx, {"url": "https://hooks.example.com/x", "events": ["*"], "secret": "s" * 32})
    event = json.loads(world.events.message(org.id, "module.created", {"module": "user"}).body)
    webhooks.fan_out(event)
    # When the first attempt fails (500) and its retry succeeds
    for _ in range(2):
        webhooks.handle(json.loads(world.queues.sent[-1][1]))
    # Then one of each is counted
    assert (metrics.total("WebhookFailed"), metrics.total("WebhookDelivered")) == (1, 1)
    assert http.results == []
