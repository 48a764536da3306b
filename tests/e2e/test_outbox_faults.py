"""SQS down, over real HTTP: a publish still answers 201, and nothing it owes is lost.

Runs on a stack of its own (its queues are deleted and recreated). With the compile and events
queues gone, a publish answers 201 and its compile job and `version.published` event wait in the
outbox (the local worker's stream relay keeps retrying them); once the queues are back the version
compiles and each subscriber receives `version.published` exactly once.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import requests

from localdev.stack import Stack, free_port, running_stack
from tests.e2e.conftest import NOT_ABOUT_PLANS, PASSWORD
from tests.integration.test_webhooks_receiver import Receiver, running_receiver

SECRET = "outbox-fault-secret-0123456789"
WAIT_SECONDS = 90
USER = 'syntax = "proto3";\npackage user.v1;\nmessage User { string id = 1; string email = 2; }\n'
QUEUE_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod", "RedrivePolicy")


@pytest.fixture(scope="module")
def own_stack() -> Iterator[Stack]:
    """Given a registry of its own: this module deletes its queues."""
    with running_stack(api_port=free_port(), aws_port=free_port(), quiet=True, environment=NOT_ABOUT_PLANS) as running:
        yield running


def call(method: str, url: str, token: str, org: str | None = None, body: Any = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", **({"X-Organization-ID": org} if org else {})}
    return requests.request(method, url, json=body, headers=headers, timeout=30)


def eventually(check: Callable[[], bool], what: str, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds}s"
        time.sleep(0.3)


class Queues:
    """The stack's SQS, to take its queues away and bring them back as they were."""

    def __init__(self, stack: Stack) -> None:
        self.sqs = boto3.client("sqs", endpoint_url=stack.aws_url, region_name="us-east-1",
                                aws_access_key_id="local", aws_secret_access_key="local")
        self.names = [stack.environment["SPOKE_COMPILE_QUEUE_NAME"], stack.environment["SPOKE_EVENTS_QUEUE_NAME"]]
        self.saved: dict[str, dict[str, str]] = {}

    def delete(self) -> None:
        for name in self.names:
            url = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
            attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            self.saved[name] = {k: v for k, v in attributes.items() if k in QUEUE_ATTRIBUTES}
            self.sqs.delete_queue(QueueUrl=url)

    def restore(self) -> None:
        for name, attributes in self.saved.items():
            self.sqs.create_queue(QueueName=name, Attributes=attributes)


def test_a_publish_while_sqs_is_down_compiles_and_notifies_each_subscriber_once_it_is_back(own_stack: Stack) -> None:
    api = own_stack.api_url
    # Given an organization with two subscribers, one also to the compile events, and a module
    email = f"fault-{uuid.uuid4().hex[:10]}@example.com"
    registered = requests.post(f"{api}/auth/register", json={"email": email, "password": PASSWORD}, timeout=30)
    assert registered.status_code == 201, registered.text
    token = requests.post(f"{api}/auth/login", json={"email": email, "password": PASSWORD},
                          timeout=30).json()["data"]["token"]
    org = call("POST", f"{api}/organizations", token, body={"name": "Faults", "slug": f"faults-{uuid.uuid4().hex[:6]}"})
    assert org.status_code == 201, org.text
    org_id = org.json()["data"]["id"]
    with running_receiver() as first, running_receiver() as second:
        subscriptions: list[tuple[Receiver, list[str]]] = [
            (first, ["version.published"]),
            (second, ["version.published", "version.compiled", "version.compilation_failed"])]
        for receiver, events in subscriptions:
            created = call("POST", f"{api}/webhooks", token, org_id, {"url": receiver.url, "events": events,
                                                                       "secret": SECRET})
            assert created.status_code == 201, created.text
        assert call("POST", f"{api}/modules", token, org_id, {"name": "user", "description": ""}).status_code == 201
        # When SQS loses both queues and a version is published
        queues = Queues(own_stack)
        queues.delete()
        published = call("POST", f"{api}/modules/user/versions", token, org_id,
                         {"version": "v1.0.0", "files": {"user/v1/user.proto": USER}})
        # Then the publish answers 201
        assert published.status_code == 201, published.text
        version_url = f"{api}/modules/user/versions/v1.0.0"

        def statuses() -> set[str]:
            reply = call("GET", version_url, token, org_id)
            assert reply.status_code == 200, reply.text
            return {s["status"] for s in reply.json()["data"]["compilation"].values()}

        # And while the queues are gone nothing moves: still pending, nobody notified
        time.sleep(3)
        assert statuses() == {"pending"} and first.received == [] and second.received == []
        # When the queues are back
        queues.restore()
        # Then the version compiles...
        eventually(lambda: statuses() <= {"succeeded", "failed"}, "the compile")
        # ...and each subscriber receives version.published exactly once (the second also the compile event)
        eventually(lambda: len(first.received) >= 1 and len(second.received) >= 2, "the deliveries")
        time.sleep(3)  # room for a duplicate to show up, if there were one
        assert [r.event for r in first.received] == ["version.published"]
        assert sorted(r.event for r in second.received) in (["version.compilation_failed", "version.published"],
                                                          ["version.compiled", "version.published"])
        ids = {r.json["id"] for r in first.received + second.received if r.event == "version.published"}
        assert len(ids) == 1
        compiled = call("GET", version_url, token, org_id).json()["data"]
        assert "python" in compiled["compiled_languages"]
