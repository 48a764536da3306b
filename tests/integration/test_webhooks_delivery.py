"""Webhook delivery end to end in-process: registry events -> the webhooks function -> real HTTP receivers.

The events queue is moto's, DelaySeconds included; `drain` plays the SQS poller, running the
webhooks function on what the queue hands out, exactly as Lambda would (ten records per batch).
"""
from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib import wiring
from tests.integration.api import Api
from tests.integration.outbox import relay_outbox
from tests.integration.test_webhooks_receiver import Receiver, running_receiver, verify

SECRET = "delivery-test-secret-0123456789"
TIMEOUT_SECONDS = 1
MAX_ATTEMPTS = 3
USER = 'syntax = "proto3";\npackage user.v1;\nmessage User { string id = 1; }\n'


@pytest.fixture
def loopback(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Given receivers on 127.0.0.1 allowed, a 1 s timeout, 3 attempts and 1 s between them."""
    for name, value in {"SPOKE_WEBHOOK_ALLOW_LOOPBACK": "true", "SPOKE_WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
                        "SPOKE_WEBHOOK_MAX_ATTEMPTS": str(MAX_ATTEMPTS), "SPOKE_WEBHOOK_RETRY_DELAYS": "1,1"}.items():
        monkeypatch.setenv(name, value)
    wiring.reset()
    return aws_env


@pytest.fixture
def team(api: Api, loopback: dict[str, str]) -> dict[str, str]:
    owner, _ = api.signed_up()
    org = api.post("/organizations", {"name": "Team", "slug": f"team-{uuid.uuid4().hex[:6]}"}, token=owner)
    assert org.status == 201, org.body
    return {"token": owner, "org": org.data["id"]}


@pytest.fixture
def healthy() -> Iterator[Receiver]:
    with running_receiver() as started:
        yield started


def hook(api: Api, team: dict[str, str], receiver: Receiver, events: list[str] | None = None) -> dict[str, Any]:
    reply = api.post("/webhooks", {"url": receiver.url, "events": events or ["*"], "secret": SECRET},
                     token=team["token"], org=team["org"])
    assert reply.status == 201, reply.body
    return reply.data


def history(api: Api, team: dict[str, str], webhook: dict[str, Any]) -> list[dict[str, Any]]:
    reply = api.get(f"/webhooks/{webhook['id']}/deliveries", token=team["token"], org=team["org"])
    assert reply.status == 200, reply.body
    return reply.data["deliveries"]


class EventsQueue:
    def __init__(self, client: Client, env: dict[str, str]) -> None:
        self.client = client
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.url = self.sqs.get_queue_url(QueueName=env["SPOKE_EVENTS_QUEUE_NAME"])["QueueUrl"]

    def receive(self) -> list[dict[str, Any]]:
        relay_outbox()  # events reach the queue through the outbox
        return self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10,
                                        AttributeNames=["All"]).get("Messages", [])

    def run(self, messages: list[dict[str, Any]]) -> None:
        """The webhooks function over one batch; every record must succeed, and is then deleted."""
        records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                    "md5OfBody": m["MD5OfBody"], "attributes": m.get("Attributes", {}), "messageAttributes": {},
                    "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:events",
                    "awsRegion": "us-east-1"} for m in messages]
        payload = self.client.lambda_.invoke("deliver_events", {"Records": records}).payload
        assert payload == {"batchItemFailures": []}
        for message in messages:
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])

    def pending(self) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["All"])["Attributes"]
        return sum(int(attributes[name]) for name in ("ApproximateNumberOfMessages",
                                                      "ApproximateNumberOfMessagesDelayed",
                                                      "ApproximateNumberOfMessagesNotVisible"))

    def drain(self, until: Callable[[], bool] | None = None, seconds: float = 20) -> None:
        """Play the poller until `until()` holds, or (without one) until nothing is queued or delayed."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if until is not None and until():
                return
            messages = self.receive()
            if messages:
                self.run(messages)
            elif self.pending() == 0:
                assert until is None or until(), "the queue is empty and the expected outcome did not happen"
                return
            else:
                time.sleep(0.1)
        raise AssertionError(f"not drained within {seconds}s")


@pytest.fixture
def events(client: Client, loopback: dict[str, str]) -> EventsQueue:
    return EventsQueue(client, loopback)


def compile_queued_versions(client: Client, env: dict[str, str], run: bool = True) -> None:
    """Run the compile function on the queued jobs (or just drop them)."""
    relay_outbox()
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=env["SPOKE_COMPILE_QUEUE_NAME"])["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    if not run:
        return
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "attributes": m["Attributes"], "md5OfBody": "", "messageAttributes": {}, "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:compile", "awsRegion": "us-east-1"}
               for m in messages]
    assert client.lambda_.invoke("compile_versions", {"Records": records}).payload == {"batchItemFailures": []}


def test_registry_events_reach_the_receiver_signed(api: Api, client: Client, team: dict[str, str],
                                                  events: EventsQueue, healthy: Receiver,
                                                  loopback: dict[str, str]) -> None:
    # Given a webhook for every event of the organization
    hook(api, team, healthy)
    # When a module is created and a version published in it, and the queue is worked
    api.module(team["token"], "user", org=team["org"])
    published = api.publish(team["token"], "user", "v1.0.0", files={"user/v1/user.proto": USER}, org=team["org"])
    assert published.status == 201
    events.drain(lambda: len(healthy.received) >= 2)
    # Then the receiver got module.created and version.published, each signed and well formed,
    # the body naming the delivery its X-Spoke-Delivery header names
    assert sorted(r.event for r in healthy.received) == ["module.created", "version.published"]
    for request in healthy.received:
        assert verify(SECRET, request.headers, request.body)
        body = request.json
        assert set(body) == {"id", "delivery_id", "event", "created_at", "organization", "data"}
        assert body["delivery_id"] == request.delivery
        assert body["event"] == request.event and body["organization"] == team["org"]
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["User-Agent"] == "Spoke-Webhooks/1.0"
        assert request.path == "/hooks/spoke?source=test"
    assert len({r.delivery for r in healthy.received}) == 2
    published = next(r.json for r in healthy.received if r.event == "version.published")
    assert (published["data"]["module"], published["data"]["version"]) == ("user", "v1.0.0")

    # When a python-only compile job is requested and the compile function finishes it
    # (the publish's own job, for every language, is dropped: some plugins may be missing on this machine)
    compile_queued_versions(client, loopback, run=False)
    recompile = api.post("/modules/user/versions/v1.0.0/compile", {"languages": ["python"]}, token=team["token"],
                         org=team["org"])
    assert recompile.status == 202, recompile.body
    compile_queued_versions(client, loopback)
    events.drain(lambda: len(healthy.received) >= 3)
    # Then version.compiled follows, signed too
    compiled = healthy.received[2]
    assert compiled.event == "version.compiled" and verify(SECRET, compiled.headers, compiled.body)
    assert compiled.json["data"]["succeeded"] == ["python"] and compiled.json["data"]["failed"] == {}


def test_a_failing_receiver_is_retried_with_backoff_under_one_delivery_id(
        api: Api, team: dict[str, str], events: EventsQueue) -> None:
    # Given a receiver that answers 500 twice, then 200
    with running_receiver(statuses=[500, 500]) as flaky:
        webhook = hook(api, team, flaky, ["module.created"])
        # When a module is created and the queue is worked until nothing is left
        api.module(team["token"], "user", org=team["org"])
        events.drain()
        # Then there were three attempts of one delivery, each signed, at least the backoff apart,
        # every one the same body carrying the delivery id of its header
        attempts = flaky.received
        assert len(attempts) == 3 and len({a.delivery for a in attempts}) == 1
        assert all(verify(SECRET, a.headers, a.body) for a in attempts)
        assert len({a.body for a in attempts}) == 1
        assert all(a.json["delivery_id"] == a.delivery for a in attempts)
        # And a replay of an attempt under another X-Spoke-Delivery is refused by the receiver's check
        replayed = {**attempts[0].headers, "X-Spoke-Delivery": "dlv-replayed"}
        assert not verify(SECRET, replayed, attempts[0].body)
        assert all(later.at - earlier.at >= 0.9 for earlier, later in itertools.pairwise(attempts))
        # And the history shows them
        [delivery] = history(api, team, webhook)
        assert delivery["id"] == attempts[0].delivery
        assert (delivery["event"], delivery["status"], delivery["attempts"], delivery["status_code"]) == (
            "module.created", "succeeded", 3, 200)
        assert [h["status_code"] for h in delivery["history"]] == [500, 500, 200]
        assert [h["error"] for h in delivery["history"]] == ["HTTP 500", "HTTP 500", None]
        assert delivery["next_retry_at"] is None and delivery["last_error"] is None
        assert all(isinstance(h["duration_ms"], int) for h in delivery["history"])


def test_a_dead_receiver_is_given_up_on_without_delaying_a_healthy_one(
        api: Api, team: dict[str, str], events: EventsQueue, healthy: Receiver) -> None:
    # Given a receiver that answers only after the timeout, and a healthy one
    with running_receiver(delay=TIMEOUT_SECONDS * 3) as dead:
        dead_hook, healthy_hook = hook(api, team, dead), hook(api, team, healthy)
        api.module(team["token"], "user", org=team["org"])
        # When the fan-out runs, and then both deliveries arrive in one batch
        events.run(events.receive())
        batch = events.receive()
        assert sorted(json.loads(m["Body"])["webhook"] for m in batch) == sorted([dead_hook["id"], healthy_hook["id"]])
        events.run(batch)
        # Then the healthy receiver was served before the dead attempt had even reached its deadline
        assert healthy.received[0].at < dead.received[0].at + TIMEOUT_SECONDS
        # And when the retries have run, the dead receiver was tried the configured number of times, then given up on
        events.drain()
        assert len(dead.received) == MAX_ATTEMPTS and len({r.delivery for r in dead.received}) == 1
        [failed] = history(api, team, dead_hook)
        assert (failed["status"], failed["attempts"], failed["status_code"], failed["next_retry_at"]) == (
            "failed", MAX_ATTEMPTS, None, None)
        assert [h["error"] for h in failed["history"]] == [f"timed out after {TIMEOUT_SECONDS}s"] * MAX_ATTEMPTS
        [succeeded] = history(api, team, healthy_hook)
        assert (succeeded["status"], succeeded["attempts"]) == ("succeeded", 1) and len(healthy.received) == 1


def test_a_deleted_webhook_receives_nothing_more(api: Api, team: dict[str, str], events: EventsQueue) -> None:
    # Given a webhook whose first attempt failed, so a retry is waiting on the queue
    with running_receiver(statuses=[500]) as failing:
        webhook = hook(api, team, failing)
        api.module(team["token"], "user", org=team["org"])
        events.drain(lambda: len(failing.received) == 1)
        [waiting] = history(api, team, webhook)
        assert waiting["status"] == "retrying" and waiting["next_retry_at"]
        # When the webhook is deleted, and more events happen
        assert api.delete(f"/webhooks/{webhook['id']}", token=team["token"], org=team["org"]).status == 204
        api.module(team["token"], "billing", org=team["org"])
        events.drain()
        # Then neither the retry nor the new event reached it, and the retry was cancelled
        assert len(failing.received) == 1
        delivery = wiring.services().webhooks._store.get_delivery(team["org"], webhook["id"], waiting["id"])
        assert delivery is not None
        assert (delivery.status, delivery.last_error) == ("cancelled", "the webhook was deleted")


def test_a_ping_reaches_only_its_webhook_and_redelivery_resends_the_payload(
        api: Api, team: dict[str, str], events: EventsQueue, healthy: Receiver) -> None:
    # Given two webhooks for every event
    with running_receiver() as other:
        webhook, _ = hook(api, team, healthy), hook(api, team, other)
        # When the first is pinged
        ping = api.post(f"/webhooks/{webhook['id']}/ping", token=team["token"], org=team["org"])
        assert ping.status == 202, ping.body
        events.drain()
        # Then only it received webhook.ping, under the delivery id the ping returned
        assert [r.event for r in healthy.received] == ["webhook.ping"] and other.received == []
        first = healthy.received[0]
        assert first.delivery == ping.data["id"] and first.json["data"]["webhook"]["id"] == webhook["id"]
        # When that delivery is redelivered
        again = api.post(f"/webhooks/{webhook['id']}/deliveries/{ping.data['id']}/redeliver",
                         token=team["token"], org=team["org"])
        assert again.status == 202 and again.data["redelivery_of"] == ping.data["id"]
        events.drain()
        # Then the same event arrives as a new delivery, freshly signed, its body naming the new delivery id
        second = healthy.received[1]
        assert second.delivery == again.data["id"] != first.delivery
        assert second.json == {**first.json, "delivery_id": again.data["id"]}
        assert first.json["delivery_id"] == ping.data["id"]
        assert verify(SECRET, second.headers, second.body) and verify(SECRET, first.headers, first.body)
        # And the first request cannot pass for the redelivery (nor the other way round)
        assert not verify(SECRET, {**first.headers, "X-Spoke-Delivery": second.delivery}, first.body)
        assert [d["id"] for d in history(api, team, webhook)] == [again.data["id"], ping.data["id"]]


def test_a_rotated_secret_signs_the_next_delivery_and_paused_webhooks_get_nothing(
        api: Api, team: dict[str, str], events: EventsQueue, healthy: Receiver) -> None:
    webhook = hook(api, team, healthy)
    path = f"/webhooks/{webhook['id']}"
    rotated = "the-rotated-secret-0123456789"
    api.patch(path, {"secret": rotated}, token=team["token"], org=team["org"])
    api.module(team["token"], "user", org=team["org"])
    events.drain()
    [request] = healthy.received
    assert verify(rotated, request.headers, request.body) and not verify(SECRET, request.headers, request.body)
    api.patch(path, {"active": False}, token=team["token"], org=team["org"])
    api.module(team["token"], "billing", org=team["org"])
    events.drain()
    assert len(healthy.received) == 1


def test_events_of_other_organizations_and_unsubscribed_events_are_not_delivered(
        api: Api, team: dict[str, str], events: EventsQueue, healthy: Receiver) -> None:
    hook(api, team, healthy, ["version.published"])
    api.module(team["token"], "user", org=team["org"])  # not subscribed
    api.module(team["token"], "user")  # the default organization
    events.drain()
    assert healthy.received == []


def test_a_repeated_event_message_fans_out_once(api: Api, team: dict[str, str], events: EventsQueue,
                                                healthy: Receiver) -> None:
    # Given one event message handed out twice (SQS is at-least-once)
    webhook = hook(api, team, healthy)
    api.module(team["token"], "user", org=team["org"])
    [message] = events.receive()
    events.run([message])
    events.run([message])
    # Then it makes one delivery, delivered once
    events.drain()
    assert len(healthy.received) == 1 and len(history(api, team, webhook)) == 1
