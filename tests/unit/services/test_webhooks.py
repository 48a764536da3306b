"""Webhook use cases through WebhooksService with fakes: management (admins only, the per-organization
limit), the fan-out of a registry event (once per subscriber, idempotent), attempts and retries."""
from __future__ import annotations

import json

import pytest

from chalicelib.domain.errors import Forbidden, InvalidWebhookUrl, WebhookLimitReached, WebhookNotFound
from chalicelib.domain.roles import Role


@pytest.fixture
def org_ctx(world, dev):
    org = world.org(dev, "acme")
    return world.ctx(dev, org)


def event(world, ctx, name="version.published"):
    return json.loads(world.events.message(ctx.org.id, name, {"module": "user", "version": "v1.0.0"}).body)


def test_owner_creates_a_webhook_up_to_the_limit(world, org_ctx):
    # Given the limit of 3 webhooks per organization
    for i in range(3):
        world.webhooks.create(org_ctx, {"url": f"https://hooks.example.com/{i}", "events": ["version.published"],
                                        "secret": "s" * 32})
    # When a fourth is created, Then it is refused by the store's condition and not stored
    with pytest.raises(WebhookLimitReached):
        world.webhooks.create(org_ctx, {"url": "https://hooks.example.com/4", "events": ["*"], "secret": "s" * 32})
    assert len(world.webhooks.list(org_ctx)) == 3


def test_webhooks_are_for_admins_of_a_named_organization(world, dev, default_ctx):
    with pytest.raises(Forbidden):
        world.webhooks.list(default_ctx)
    org = world.org(dev, "acme")
    developer = world.as_role(org, Role.DEVELOPER, "d@example.com")
    with pytest.raises(Forbidden):
        world.webhooks.create(developer, {"url": "https://hooks.example.com", "events": ["*"], "secret": "s" * 32})


def test_a_refused_url_stores_nothing(world, org_ctx):
    with pytest.raises(InvalidWebhookUrl):
        world.webhooks.create(org_ctx, {"url": "http://127.0.0.1/x", "events": ["*"], "secret": "s" * 32})
    assert world.webhooks_store.webhooks == {}


def test_an_event_fans_out_once_per_subscriber_even_when_handled_twice(world, org_ctx):
    # Given two webhooks for version.published and one for module.created only
    wanted = [world.webhooks.create(org_ctx, {"url": f"https://a.example.com/{i}", "events": ["version.published"],
                                              "secret": "s" * 32}) for i in range(2)]
    world.webhooks.create(org_ctx, {"url": "https://b.example.com", "events": ["module.created"], "secret": "s" * 32})
    published = event(world, org_ctx)
    # When the event is handled twice (at-least-once delivery of the events queue)
    assert world.webhooks.fan_out(published) == 2
    world.webhooks.fan_out(published)
    # Then each subscriber has exactly one delivery (a delivery not yet attempted is queued again:
    # at least once), and working through every queued message posts once per subscriber
    assert sorted(w for (_, w, _) in world.webhooks_store.deliveries) == sorted(w.id for w in wanted)
    for _, body, _ in list(world.queues.sent):
        world.webhooks.handle(json.loads(body))
    assert sorted(url for url, _, _ in world.http.posted) == ["https://a.example.com/0", "https://a.example.com/1"]


def test_a_delivery_attempt_posts_and_records_success_once(world, org_ctx):
    hook = world.webhooks.create(org_ctx, {"url": "https://a.example.com", "events": ["*"], "secret": "s" * 32})
    world.webhooks.fan_out(event(world, org_ctx))
    (_, body, _), = world.queues.sent
    message = json.loads(body)
    world.webhooks.handle(message)
    world.webhooks.handle(message)  # a duplicate of the same attempt makes no second request
    assert len(world.http.posted) == 1
    (delivery,), _ = world.webhooks.deliveries(org_ctx, hook.id, None, None)
    assert delivery.status == "succeeded" and delivery.attempts == 1


def test_failures_retry_with_delays_then_give_up(world, org_ctx):
    world.http.status = 500
    hook = world.webhooks.create(org_ctx, {"url": "https://a.example.com", "events": ["*"], "secret": "s" * 32})
    world.webhooks.fan_out(event(world, org_ctx))
    for _ in range(3):  # max_attempts=3
        world.webhooks.handle(json.loads(world.queues.sent[-1][1]))
    assert [extra.get("DelaySeconds") for _, _, extra in world.queues.sent] == [None, 30, 120]
    (delivery,), _ = world.webhooks.deliveries(org_ctx, hook.id, None, None)
    assert delivery.status == "failed" and delivery.attempts == 3 and len(world.http.posted) == 3


def test_a_deleted_webhook_receives_nothing_more(world, org_ctx):
    hook = world.webhooks.create(org_ctx, {"url": "https://a.example.com", "events": ["*"], "secret": "s" * 32})
    world.webhooks.fan_out(event(world, org_ctx))
    world.webhooks.delete(org_ctx, hook.id)
    world.webhooks.handle(json.loads(world.queues.sent[-1][1]))
    assert world.http.posted == []
    with pytest.raises(WebhookNotFound):
        world.webhooks.delete(org_ctx, hook.id)
