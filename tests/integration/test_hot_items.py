"""No hot items: no request writes an item that all tenants share; contention is retried.

The integration conftest refuses any TransactWriteItems that touches a shared partition (STATS...),
for every test. Here: that guard itself, the totals added up from the table's stream, and a
TransactionConflict (which moto never produces) simulated on the first attempt of a request.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from chalicelib import wiring
from chalicelib.adapters import aws, keys
from chalicelib.adapters.dynamo import TransactionRetries
from tests.integration.api import Api
from tests.integration.conftest import SharedItemInTransaction
from tests.integration.outbox import relay_outbox


class FakeHttp:
    status_code = 400
    headers: dict[str, str] = {}


def metrics(api: Api) -> dict[str, int]:
    lines = [line.split() for line in api.get("/metrics").raw.decode().splitlines() if line.startswith("spoke_")]
    return {name: int(value) for name, value in lines}


@pytest.fixture
def no_pauses(aws_env: dict[str, str]) -> list[float]:
    """Given the retries of the application's table record their pauses instead of sleeping."""
    slept: list[float] = []
    wiring.services().table.retries = TransactionRetries(sleep=slept.append)
    return slept


def conflict_first(times: int = 1, reason: str = "TransactionConflict") -> list[dict[str, Any]]:
    """Make the next `times` TransactWriteItems calls answer as DynamoDB does when another transaction
    holds one of the items; returns the list of calls intercepted."""
    seen: list[dict[str, Any]] = []

    def answer(params: dict[str, Any], **_: Any) -> Any:
        seen.append(params)
        if len(seen) > times:
            return None  # go through to the table
        return FakeHttp(), {"Error": {"Code": "TransactionCanceledException",
                                      "Message": f"Transaction cancelled, please refer cancellation reasons for "
                                                 f"specific reasons [{reason}, None]"},
                            "CancellationReasons": [{"Code": reason}, {"Code": "None"}]}

    aws.client("dynamodb").meta.events.register("before-call.dynamodb.TransactWriteItems", answer,
                                                 unique_id="conflict-first")
    return seen


@pytest.fixture
def unhook() -> Any:
    yield
    aws.client("dynamodb").meta.events.unregister("before-call.dynamodb.TransactWriteItems",
                                                   unique_id="conflict-first")


def test_a_transaction_touching_a_shared_item_is_refused_by_the_guard(aws_env: dict[str, str]) -> None:
    # Given the application's own DynamoDB client (the guard is on its session)
    table = wiring.services().table
    # When a transaction writes the global totals item
    # Then the test guard refuses it before it reaches DynamoDB
    with pytest.raises(SharedItemInTransaction, match="STATS/GLOBAL"):
        table.transact([{"Update": {"Key": keys.stats_key(), "UpdateExpression": "ADD users_total :one",
                                    "ExpressionAttributeValues": {":one": 1}}}])


def test_totals_come_from_the_stream_and_match_what_was_created(api: Api) -> None:
    # Given two users, an organization, three modules and two versions (every create under the guard)
    token, _ = api.signed_up()
    api.signed_up()
    slug = f"hot-{uuid.uuid4().hex[:6]}"
    assert api.post("/organizations", {"name": "Hot", "slug": slug}, token=token).status == 201
    api.module(token, "a")
    api.module(token, "b")
    api.module(token, "c", org=slug)
    assert api.publish(token, "a", "v1.0.0").status == 201
    assert api.publish(token, "c", "v1.0.0", org=slug).status == 201
    # And a refused publish, which counts nothing
    other = {"user.proto": 'syntax = "proto3";\npackage user.v1;\nmessage Other { string id = 1; }\n'}
    assert api.publish(token, "a", "v1.0.0", files=other).status == 409
    # Then nothing is counted until the stream is relayed...
    assert metrics(api)["spoke_users_total"] == 0
    relay_outbox()
    # ...and then every total is right
    assert metrics(api) == {"spoke_modules_total": 3, "spoke_versions_total": 2, "spoke_users_total": 2,
                            "spoke_organizations_total": 1}
    # And relaying again (nothing new on the stream) moves nothing
    relay_outbox()
    assert metrics(api)["spoke_versions_total"] == 2


def test_one_stream_batch_is_one_update_of_the_totals(api: Api, aws_env: dict[str, str]) -> None:
    # Given ten modules created (ten stream records that move the totals)
    token, _ = api.signed_up()
    for i in range(10):
        api.module(token, f"m{i}")
    updates: list[str] = []
    events = aws.client("dynamodb").meta.events  # the application's client (created by the calls above)
    events.register("before-call.dynamodb.UpdateItem", lambda params, **_: updates.append(params["body"].decode()),
                    unique_id="count-updates")
    try:
        # When the relay handles the stream
        relay_outbox()
    finally:
        events.unregister("before-call.dynamodb.UpdateItem", unique_id="count-updates")
    # Then the global totals item was written once, by the relay, with the whole batch's delta
    assert sum('"STATS"' in body for body in updates) == 1
    assert metrics(api)["spoke_modules_total"] == 10


def test_a_transaction_conflict_on_the_first_attempt_is_retried_and_the_publish_succeeds(
        api: Api, no_pauses: list[float], unhook: None) -> None:
    # Given a module, and DynamoDB answering the next transaction with a TransactionConflict
    token, _ = api.signed_up()
    api.module(token, "user")
    seen = conflict_first()
    # When a version is published
    reply = api.publish(token, "user", "v1.0.0")
    # Then it succeeds: the version's transaction was tried twice, after one jittered pause
    assert reply.status == 201, reply.body
    assert len(seen) == 2 and len(no_pauses) == 1 and 0 <= no_pauses[0] <= 0.02
    first, second = (json.loads(call["body"]) for call in seen)
    assert first["TransactItems"] == second["TransactItems"]  # the same writes, retried whole
    assert first["ClientRequestToken"] != second["ClientRequestToken"]
    assert api.get("/modules/user/versions/v1.0.0").status == 200


@pytest.mark.parametrize("reason", ["TransactionConflict", "ThrottlingError"])
def test_contention_on_every_create_is_retried(api: Api, no_pauses: list[float], unhook: None, reason: str) -> None:
    # Given DynamoDB cancels the first attempt of each create's transaction
    seen = conflict_first(reason=reason)
    token_reply = api.post("/auth/register", {"email": f"{uuid.uuid4().hex[:8]}@example.com",
                                              "password": "correct-horse-battery"})
    # Then the registration still succeeded, on its second attempt
    assert token_reply.status == 201, token_reply.body
    assert len(seen) == 2


def test_contention_that_outlasts_the_retries_is_a_500_without_aws_text(api: Api, no_pauses: list[float],
                                                                         unhook: None) -> None:
    # Given DynamoDB cancels every attempt for contention
    token, _ = api.signed_up()
    seen = conflict_first(times=1000)
    # When a module is created
    reply = api.post("/modules", {"name": "user", "description": ""}, token=token)
    # Then the retries are bounded and the client gets a plain 500
    assert (reply.status, reply.code) == (500, "INTERNAL_ERROR")
    assert len(seen) == TransactionRetries().attempts and "TransactionConflict" not in reply.raw.decode()
    # And nothing was written
    assert api.get("/modules/user").status == 404
