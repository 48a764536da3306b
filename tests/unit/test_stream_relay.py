"""The local stream relay (localdev/worker.StreamRelay) plays Lambda's event source mapping: a record it
handled is never handed over again, even when the stream's iterator starts at it."""
from __future__ import annotations

from typing import Any

from localdev.worker import StreamRelay


def _record(sequence: int) -> dict[str, Any]:
    return {"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(sequence), "NewImage": {}}}


class AtSequenceStreams:
    """A stream whose AFTER_SEQUENCE_NUMBER iterator starts AT the sequence number (as the embedded AWS's
    sometimes does): the record asked to be skipped comes back first."""

    def __init__(self, sequences: list[int]) -> None:
        self.records = [_record(n) for n in sequences]

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str,  # noqa: N803
                           SequenceNumber: str | None = None) -> dict[str, Any]:
        start = 0 if ShardIteratorType == "TRIM_HORIZON" else next(
            i for i, r in enumerate(self.records) if r["dynamodb"]["SequenceNumber"] == SequenceNumber)
        return {"ShardIterator": str(start)}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:  # noqa: N803
        start = int(ShardIterator)
        return {"Records": self.records[start:start + Limit]}


class Table:
    def describe_table(self, TableName: str) -> dict[str, Any]:  # noqa: N803
        return {"Table": {"LatestStreamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x"}}


def test_a_record_handled_once_is_not_handled_again_when_the_iterator_starts_at_it() -> None:
    # Given a stream of three records whose "after" iterator starts at the last record handled
    streams = AtSequenceStreams([1100000000017454423046, 1100000000017454423047, 1100000000017454423048])
    handled: list[str] = []

    def handler(event: dict[str, Any]) -> dict[str, list[Any]]:
        handled.extend(r["dynamodb"]["SequenceNumber"] for r in event["Records"])
        return {"batchItemFailures": []}

    relay = StreamRelay("t", handler, dynamodb=Table(), streams=streams, batch_size=2)
    # When the relay polls until it reports nothing new (as tests/integration/outbox.relay_outbox does)
    polls = [relay.poll() for _ in range(4)]
    # Then each record was handled exactly once, and the relay went quiet instead of handling the last forever
    assert handled == ["1100000000017454423046", "1100000000017454423047", "1100000000017454423048"]
    assert polls == [(2, 0), (1, 0), (0, 0), (0, 0)]
    # And a record written later is still handled
    streams.records.append(_record(1100000000017454423049))
    assert relay.poll() == (1, 0) and handled[-1] == "1100000000017454423049"
