"""The transactional outbox: a write and its follow-up work are one atomic fact.

Publishing, POST .../compile, module creation, the compile function's end and webhook pings write
their queue messages as outbox items in their own transaction; the relay (the table stream's
consumer, played here by `relay_outbox`) forwards them. SQS failing never fails a request nor
loses its work: the stream retries, and every consumer takes a message twice without doing
anything twice.
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from chalice.test import Client

from chalicelib.adapters import aws
from tests.integration.api import Api
from tests.integration.outbox import relay_outbox
from tests.integration.test_webhooks_delivery import EventsQueue, compile_queued_versions, events, hook, loopback, team  # noqa: F401
from tests.integration.test_webhooks_receiver import Receiver, running_receiver

USER = 'syntax = "proto3";\npackage user.v1;\nmessage User { string id = 1; }\n'


@contextlib.contextmanager
def failing(service: str, operation: str, times: int | None = None) -> Iterator[list[str]]:
    """The application's `service` client fails `operation` (`times` times, or until the block ends) as a
    dead endpoint would; yields the list of calls it failed."""
    failed: list[str] = []

    def refuse(**_: Any) -> None:
        if times is None or len(failed) < times:
            failed.append(operation)
            raise EndpointConnectionError(endpoint_url=f"https://{service}.us-east-1.amazonaws.com")

    client_events = aws.client(service).meta.events
    client_events.register(f"before-call.{service}.{operation}", refuse, unique_id=f"failing-{operation}")
    try:
        yield failed
    finally:
        client_events.unregister(f"before-call.{service}.{operation}", unique_id=f"failing-{operation}")


def queued(env: dict[str, str], which: str) -> int:
    """Messages on a queue (visible, delayed or in flight), without receiving them."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=env[which])["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return sum(int(attributes[name]) for name in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed",
                                                  "ApproximateNumberOfMessagesNotVisible"))


def outbox_items(env: dict[str, str]) -> int:
    """Outbox items left in the table (a test-side Scan; the application never scans)."""
    scan = boto3.client("dynamodb", region_name="us-east-1").scan(
        TableName=env["SPOKE_TABLE_NAME"], FilterExpression="begins_with(PK, :p)",
        ExpressionAttributeValues={":p": {"S": "OUTBOX#"}}, Select="COUNT")
    return int(scan["Count"])


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    with running_receiver() as first, running_receiver() as second:
        yield first, second


def test_a_publish_while_sqs_fails_answers_201_then_compiles_and_notifies_each_subscriber_once(
        api: Api, client: Client, team: dict[str, str], events: EventsQueue, loopback: dict[str, str],
        receivers: tuple[Receiver, Receiver]) -> None:
    first, second = receivers
    # Given two subscribers, one also to the compile events, and a module
    hook(api, team, first, ["version.published"])
    hook(api, team, second, ["version.published", "version.compiled", "version.compilation_failed"])
    api.module(team["token"], "user", org=team["org"])
    relay_outbox()
    events.drain()
    # When SQS fails and a version is published
    with failing("sqs", "SendMessage") as failed_sends:
        reply = api.publish(team["token"], "user", "v1.0.0", files={"user/v1/user.proto": USER}, org=team["org"])
        # Then the publish still answers 201
        assert reply.status == 201, reply.body
        # And the relay could not forward its job and its event: both wait in the outbox, nothing is queued
        handled, pending = relay_outbox(allow_failures=True)
        assert pending and failed_sends
        assert outbox_items(loopback) == 2
        assert queued(loopback, "SPOKE_COMPILE_QUEUE_NAME") == 0 and queued(loopback, "SPOKE_EVENTS_QUEUE_NAME") == 0
        assert {s["status"] for s in api.get("/modules/user/versions/v1.0.0", org=team["org"],
                                             token=team["token"]).data["compilation"].values()} == {"pending"}
    # When SQS is back, the stream retries, and the compile and webhooks functions work their queues
    relay_outbox()
    assert outbox_items(loopback) == 0
    compile_queued_versions(client, loopback)
    events.drain(lambda: len(first.received) >= 1 and len(second.received) >= 2)
    events.drain()
    # Then the version compiled: every language finished, python succeeded
    version = api.get("/modules/user/versions/v1.0.0", org=team["org"], token=team["token"]).data
    assert {s["status"] for s in version["compilation"].values()} <= {"succeeded", "failed"}
    assert "python" in version["compiled_languages"]
    # And each subscriber got version.published exactly once (and the compile event once)
    assert [r.event for r in first.received] == ["version.published"]
    assert sorted(r.event for r in second.received)[1] == "version.published"
    assert sorted(r.event for r in second.received)[0] in ("version.compilation_failed", "version.compiled")
    assert len(second.received) == 2
    published = [r.json for r in first.received + second.received if r.event == "version.published"]
    assert published[0]["id"] == published[1]["id"] and published[0]["data"]["version"] == "v1.0.0"


def test_an_event_forwarded_twice_gives_each_subscriber_one_delivery(
        api: Api, team: dict[str, str], events: EventsQueue, loopback: dict[str, str],
        receivers: tuple[Receiver, Receiver]) -> None:
    first, second = receivers
    # Given two subscribers of module.created
    webhooks = [hook(api, team, receiver, ["module.created"]) for receiver in receivers]
    # When a module is created and the relay sends its event but fails to delete the outbox item,
    # so the stream hands the record out again and the event is sent a second time
    api.module(team["token"], "user", org=team["org"])
    with failing("dynamodb", "DeleteItem", times=1):
        # the failed record comes again, with the records after it (the create's audit item among them)
        assert relay_outbox(allow_failures=True)[1] >= 1
    relay_outbox()
    assert queued(loopback, "SPOKE_EVENTS_QUEUE_NAME") == 2
    events.drain()
    # Then each subscriber received it once, and has one delivery in its history
    assert [r.event for r in first.received] == [r.event for r in second.received] == ["module.created"]
    for webhook in webhooks:
        history = api.get(f"/webhooks/{webhook['id']}/deliveries", token=team["token"], org=team["org"]).data
        assert [d["status"] for d in history["deliveries"]] == ["succeeded"]


def test_recompile_and_ping_while_sqs_fails_are_accepted_and_done_later(
        api: Api, team: dict[str, str], events: EventsQueue, loopback: dict[str, str],
        receivers: tuple[Receiver, Receiver]) -> None:
    first, _ = receivers
    webhook = hook(api, team, first, ["version.compiled"])
    api.module(team["token"], "user", org=team["org"])
    assert api.publish(team["token"], "user", "v1.0.0", org=team["org"]).status == 201
    relay_outbox()
    before = queued(loopback, "SPOKE_COMPILE_QUEUE_NAME")
    # When SQS fails, a recompile and a ping are requested
    with failing("sqs", "SendMessage"):
        recompile = api.post("/modules/user/versions/v1.0.0/compile", {"languages": ["python"]},
                             token=team["token"], org=team["org"])
        ping = api.post(f"/webhooks/{webhook['id']}/ping", token=team["token"], org=team["org"])
        relay_outbox(allow_failures=True)
    # Then both are accepted
    assert recompile.status == 202 and recompile.data["compilation"]["python"]["status"] == "pending"
    assert ping.status == 202 and ping.data["status"] == "queued"
    # And once SQS is back the job is queued and the ping delivered
    relay_outbox()
    assert queued(loopback, "SPOKE_COMPILE_QUEUE_NAME") == before + 1
    events.drain(lambda: any(r.event == "webhook.ping" for r in first.received))
    assert [r.event for r in first.received] == ["webhook.ping"]


def test_a_refused_write_leaves_no_outbox_item(api: Api, aws_env: dict[str, str]) -> None:
    token, _ = api.signed_up()
    api.module(token, "user")
    assert api.publish(token, "user", "v1.0.0").status == 201
    relay_outbox()
    assert outbox_items(aws_env) == 0
    # When a module and a version are refused (they exist), and a publish fails protoc
    assert api.post("/modules", {"name": "user", "description": ""}, token=token).status == 409
    other = {"user.proto": 'syntax = "proto3";\npackage user.v1;\nmessage Other { string id = 1; }\n'}
    assert api.publish(token, "user", "v1.0.0", files=other).status == 409
    assert api.publish(token, "user", "v1.1.0", files={"a.proto": "message {"}).status == 400
    # Then nothing was added to the outbox, and nothing is queued for them
    assert outbox_items(aws_env) == 0
    # (the stream's only records are the three requests' rate-limit counter updates, which the relay skips)
    assert relay_outbox() == (3, 0)


def test_the_compile_function_announces_a_job_once_through_the_outbox(
        api: Api, client: Client, team: dict[str, str], loopback: dict[str, str]) -> None:
    # Given a python-only recompile of a published version (the publish's own job dropped)
    api.module(team["token"], "user", org=team["org"])
    assert api.publish(team["token"], "user", "v1.0.0", files={"user/v1/user.proto": USER},
                       org=team["org"]).status == 201
    compile_queued_versions(client, loopback, run=False)
    events_before = queued(loopback, "SPOKE_EVENTS_QUEUE_NAME")
    api.post("/modules/user/versions/v1.0.0/compile", {"languages": ["python"]}, token=team["token"], org=team["org"])
    relay_outbox()
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=loopback["SPOKE_COMPILE_QUEUE_NAME"])["QueueUrl"]
    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    record = {"messageId": message["MessageId"], "receiptHandle": "r", "body": message["Body"], "md5OfBody": "",
              "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "eventSource": "aws:sqs",
              "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:compile", "awsRegion": "us-east-1"}
    # When the compile function runs the job twice (a duplicate delivery)
    for _ in range(2):
        assert client.lambda_.invoke("compile_versions", {"Records": [record]}).payload == {"batchItemFailures": []}
    relay_outbox()
    # Then its end was announced once: one version.compiled on the events queue
    assert queued(loopback, "SPOKE_EVENTS_QUEUE_NAME") == events_before + 1
    url = sqs.get_queue_url(QueueName=loopback["SPOKE_EVENTS_QUEUE_NAME"])["QueueUrl"]
    bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    compiled = [b for b in bodies if b.get("event") == "version.compiled"]
    assert len(compiled) == 1 and compiled[0]["data"]["succeeded"] == ["python"]
