"""Webhooks over the running local stack: its worker long-polls the events queue and delivers.

Needs the local stage to allow loopback targets (SPOKE_WEBHOOK_ALLOW_LOOPBACK=true) with short
retry delays, and the stack's local worker invoking the SQS handlers; without loopback allowed
the delivery tests fail, saying so.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.integration.test_webhooks_receiver import Receiver, running_receiver, verify

SECRET = "e2e-webhook-secret-0123456789"
WAIT_SECONDS = 45


def call(method: str, url: str, token: str, org: str | None = None, body: Any = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", **({"X-Organization-ID": org} if org else {})}
    return requests.request(method, url, json=body, headers=headers, timeout=30)


@pytest.fixture
def team(api_url: str, token: str, unique: Callable[[str], str]) -> dict[str, str]:
    """Given an organization owned by a fresh user."""
    created = call("POST", f"{api_url}/organizations", token, body={"name": "Hooks", "slug": unique("hooks")})
    assert created.status_code == 201, created.text
    return {"token": token, "org": created.json()["data"]["id"]}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as started:
        yield started


def register(api_url: str, team: dict[str, str], receiver: Receiver, events: list[str]) -> dict[str, Any]:
    reply = call("POST", f"{api_url}/webhooks", team["token"], team["org"],
                 {"url": receiver.url, "events": events, "secret": SECRET})
    if reply.status_code == 400 and reply.json()["error"]["code"] == "INVALID_WEBHOOK_URL":
        pytest.fail("the local stack refuses loopback webhook targets: it must set SPOKE_WEBHOOK_ALLOW_LOOPBACK=true")
    assert reply.status_code == 201, reply.text
    return reply.json()["data"]


def deliveries(api_url: str, team: dict[str, str], webhook: dict[str, Any]) -> list[dict[str, Any]]:
    reply = call("GET", f"{api_url}/webhooks/{webhook['id']}/deliveries", team["token"], team["org"])
    assert reply.status_code == 200, reply.text
    return reply.json()["data"]["deliveries"]


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {WAIT_SECONDS}s"
        time.sleep(0.2)


def test_a_new_module_is_announced_to_the_receiver_signed(api_url: str, team: dict[str, str],
                                                          receiver: Receiver, unique: Callable[[str], str]) -> None:
    # Given a webhook for module.created
    register(api_url, team, receiver, ["module.created"])
    # When a module is created in the organization
    name = unique("user")
    assert call("POST", f"{api_url}/modules", team["token"], team["org"], {"name": name}).status_code == 201
    # Then the local worker delivers a signed module.created for it
    eventually(lambda: len(receiver.received) >= 1, "the module.created delivery")
    [request] = receiver.received
    assert request.event == "module.created" and verify(SECRET, request.headers, request.body)
    assert request.json["data"]["module"] == name and request.json["organization"] == team["org"]
    assert request.json["delivery_id"] == request.delivery


def test_a_failing_receiver_is_retried_and_the_history_shows_it(api_url: str, team: dict[str, str],
                                                                unique: Callable[[str], str]) -> None:
    # Given a receiver that fails once, then succeeds
    with running_receiver(statuses=[500]) as flaky:
        webhook = register(api_url, team, flaky, ["module.created"])
        # When an event is delivered to it
        assert call("POST", f"{api_url}/modules", team["token"], team["org"],
                    {"name": unique("retry")}).status_code == 201
        # Then a second attempt, under the same delivery id in its header and signed body, succeeds,
        # and the history records both
        eventually(lambda: len(flaky.received) >= 2, "the retry")
        first, retry = flaky.received[:2]
        assert first.delivery == retry.delivery and first.body == retry.body
        assert first.json["delivery_id"] == first.delivery and verify(SECRET, retry.headers, retry.body)
        eventually(lambda: deliveries(api_url, team, webhook)[0]["status"] == "succeeded", "the recorded success")
        [delivery] = deliveries(api_url, team, webhook)
        assert delivery["attempts"] == 2 and [h["status_code"] for h in delivery["history"]] == [500, 200]


def test_a_ping_reaches_its_webhook_and_a_redelivery_has_its_own_id(api_url: str, team: dict[str, str],
                                                                      receiver: Receiver) -> None:
    # Given a webhook that is pinged
    webhook = register(api_url, team, receiver, ["version.published"])
    ping = call("POST", f"{api_url}/webhooks/{webhook['id']}/ping", team["token"], team["org"])
    assert ping.status_code == 202, ping.text
    # Then the ping arrives under the delivery id the API returned, in its header and its signed body
    eventually(lambda: len(receiver.received) >= 1, "the ping")
    first = receiver.received[0]
    assert first.event == "webhook.ping" and verify(SECRET, first.headers, first.body)
    assert first.delivery == first.json["delivery_id"] == ping.json()["data"]["id"]
    # When it is redelivered
    again = call("POST", f"{api_url}/webhooks/{webhook['id']}/deliveries/{first.delivery}/redeliver",
                 team["token"], team["org"])
    assert again.status_code == 202, again.text
    # Then the same event arrives under a new delivery id, and the first request cannot pass for it
    eventually(lambda: len(receiver.received) >= 2, "the redelivery")
    second = receiver.received[1]
    assert second.delivery == second.json["delivery_id"] == again.json()["data"]["id"] != first.delivery
    assert second.json["id"] == first.json["id"] and verify(SECRET, second.headers, second.body)
    assert not verify(SECRET, {**first.headers, "X-Spoke-Delivery": second.delivery}, first.body)


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/",
                                 "http://[fd00:ec2::254]/", "file:///etc/passwd", "http://[fec0::1]/",
                                 "http://[::ffff:169.254.169.254]/"])
def test_metadata_and_private_targets_are_refused_even_locally(api_url: str, team: dict[str, str], url: str) -> None:
    reply = call("POST", f"{api_url}/webhooks", team["token"], team["org"],
                 {"url": url, "events": ["*"], "secret": SECRET})
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "INVALID_WEBHOOK_URL"
