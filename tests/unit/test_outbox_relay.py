"""The outbox relay and the transaction retries, with in-memory fakes (no AWS)."""
from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import Table, TransactionRetries
from chalicelib.adapters.outbox_store import table_changes
from chalicelib.domain.models import OutboxMessage
from chalicelib.services.outbox import OutboxRelay
from chalicelib.services.ports import TableChange


class FakeStore:
    def __init__(self, pending: set[str]) -> None:
        self.pending = set(pending)
        self.totals: list[tuple[dict[str, int], dict[str, dict[str, int]]]] = []

    def is_pending(self, outbox_id: str) -> bool:
        return outbox_id in self.pending

    def forwarded(self, outbox_id: str) -> None:
        self.pending.discard(outbox_id)

    def add_totals(self, totals: dict[str, int], org_counts: dict[str, dict[str, int]]) -> None:
        self.totals.append((totals, org_counts))


class FakeQueues:
    def __init__(self, failing: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.failing = failing
        self.sent: list[tuple[str, str]] = []

    def send(self, which: str, body: str, **_: Any) -> None:
        if which in self.failing:
            raise ConnectionError(f"{which} queue is down")
        self.sent.append((which, body))

    def ping(self) -> None:
        pass


def outbox(sequence: str, queue: str, body: str) -> TableChange:
    return TableChange(sequence=sequence, outbox_id=f"id-{sequence}", message=OutboxMessage(queue=queue, body=body))


def created(sequence: str, kind: str, org: str | None = None) -> TableChange:
    return TableChange(sequence=sequence, created=kind, org_id=org)


def test_messages_are_forwarded_then_deleted_and_creations_counted_in_one_update() -> None:
    # Given a batch with two outbox messages and three created entities
    store, queues = FakeStore({"id-2", "id-4"}), FakeQueues()
    batch = [created("1", "user"), outbox("2", "compile", "job"), created("3", "version", "org-a"),
             outbox("4", "events", "evt"), created("5", "version", "org-a"), TableChange(sequence="6")]
    # When the relay handles it
    failed = OutboxRelay(store, queues).handle(batch)
    # Then both messages went to their queues, their items are gone, and one update carries the totals
    assert failed == [] and queues.sent == [("compile", "job"), ("events", "evt")] and store.pending == set()
    assert store.totals == [({"user": 1, "version": 2}, {"org-a": {"version_count": 2}})]


def test_a_message_already_forwarded_is_not_sent_again() -> None:
    store, queues = FakeStore(set()), FakeQueues()
    assert OutboxRelay(store, queues).handle([outbox("1", "events", "evt")]) == []
    assert queues.sent == []


def test_a_failing_queue_fails_its_records_alone_and_only_records_before_it_are_counted() -> None:
    # Given the compile queue is down
    store, queues = FakeStore({"id-2", "id-3"}), FakeQueues(failing={"compile"})
    batch = [created("1", "module"), outbox("2", "compile", "job"), outbox("3", "events", "evt"),
             created("4", "module")]
    # When the relay handles a batch
    failed = OutboxRelay(store, queues).handle(batch)
    # Then the compile job's record is reported (the stream retries from it), the event still went out,
    # and only the module before the failure is counted: the one after comes again with the retry
    assert failed == ["2"] and queues.sent == [("events", "evt")] and store.pending == {"id-2"}
    assert store.totals == [({"module": 1}, {})]
    # When the queue is back and the stream hands out the records from the failed one again
    queues.failing = set()
    assert OutboxRelay(store, queues).handle(batch[1:]) == []
    # Then the job goes out once, the event is not sent twice, and the later module is counted once
    assert queues.sent == [("events", "evt"), ("compile", "job")]
    assert store.totals[-1] == ({"module": 1}, {})


def test_stream_records_become_typed_changes() -> None:
    records = [
        {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "10", "NewImage": {
            "PK": {"S": "OUTBOX#abc"}, "SK": {"S": "OUTBOX"}, "type": {"S": "outbox"}, "queue": {"S": "compile"},
            "body": {"S": "{}"}}}},
        {"eventName": "MODIFY", "dynamodb": {"SequenceNumber": "11", "NewImage": {
            "PK": {"S": "OUTBOX#abc"}, "SK": {"S": "OUTBOX"}, "type": {"S": "outbox"}, "queue": {"S": "compile"},
            "body": {"S": "{}"}}}},
        {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "12", "NewImage": {
            "PK": {"S": "ORG#o#MOD#m"}, "SK": {"S": "VER#1"}, "type": {"S": "version"}, "org_id": {"S": "o"}}}},
        {"eventName": "MODIFY", "dynamodb": {"SequenceNumber": "13", "NewImage": {
            "PK": {"S": "ORG#o"}, "SK": {"S": "MOD#m"}, "type": {"S": "module"}}}},
        {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "14", "NewImage": {
            "PK": {"S": "ORG#o"}, "SK": {"S": "META"}, "type": {"S": "org"}}}},
        {"eventName": "REMOVE", "dynamodb": {"SequenceNumber": "15", "Keys": {"PK": {"S": "OUTBOX#abc"}}}},
    ]
    changes = table_changes(records)
    assert [c.sequence for c in changes] == ["10", "11", "12", "13", "14", "15"]
    # an outbox item counts on INSERT and when touched again (MODIFY: an operator re-driving it)
    assert [c.outbox_id for c in changes[:2]] == ["abc", "abc"] and changes[0].message == OutboxMessage(
        queue="compile", body="{}")
    assert (changes[2].created, changes[2].org_id) == ("version", "o")
    assert changes[3].created is None and changes[3].outbox_id is None  # a module edited, not created
    assert changes[4].created == "organization"
    assert changes[5].outbox_id is None and changes[5].created is None  # the forwarded item's delete


# Table.transact: contention is retried with full-jitter backoff; a refused condition is an answer.

class ScriptedClient:
    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.calls: list[dict[str, Any]] = []

    def transact_write_items(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def cancelled(*codes: str) -> ClientError:
    return ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                        "CancellationReasons": [{"Code": code} for code in codes]}, "TransactWriteItems")


class ScriptedTable(Table):
    def __init__(self, client: ScriptedClient, retries: TransactionRetries) -> None:
        super().__init__("t", retries)
        self._scripted = client

    @property
    def client(self) -> Any:
        return self._scripted


def table_with(client: ScriptedClient, slept: list[float], attempts: int = 8) -> Table:
    return ScriptedTable(client, TransactionRetries(attempts=attempts, base_seconds=0.02, cap_seconds=1.0,
                                                    sleep=slept.append, rand=lambda: 1.0))


def test_a_transaction_conflict_is_retried_with_growing_jittered_pauses() -> None:
    client, slept = ScriptedClient([cancelled("None", "TransactionConflict"), cancelled("ThrottlingError", "None"),
                                    {}]), []
    assert table_with(client, slept).transact([{"Put": {"Item": {"PK": "A", "SK": "B"}}}]) == []
    assert len(client.calls) == 3 and slept == [0.02, 0.04]  # rand() = 1: the top of each window
    # every attempt is its own idempotent request
    assert len({call["ClientRequestToken"] for call in client.calls}) == 3


def test_a_failed_condition_is_answered_at_once_even_beside_a_conflict() -> None:
    client, slept = ScriptedClient([cancelled("ConditionalCheckFailed", "TransactionConflict")]), []
    assert table_with(client, slept).transact([{"Put": {"Item": {"PK": "A", "SK": "B"}}}]) == [
        "ConditionalCheckFailed", "TransactionConflict"]
    assert slept == []


def test_retries_are_bounded_and_the_pause_is_capped() -> None:
    client, slept = ScriptedClient([cancelled("TransactionConflict")] * 8), []
    assert table_with(client, slept).transact([{"Put": {"Item": {"PK": "A", "SK": "B"}}}]) == ["TransactionConflict"]
    assert len(client.calls) == 8 and max(slept) == 1.0 and len(slept) == 7


def test_the_pause_is_uniform_below_the_window() -> None:
    seen: list[float] = []
    retries = TransactionRetries(base_seconds=0.1, cap_seconds=0.5, sleep=seen.append, rand=lambda: 0.5)
    for attempt in range(5):
        retries.pause(attempt)
    assert seen == [0.05, 0.1, 0.2, 0.25, 0.25]
