"""Atomic counters with a TTL in the single table: one UpdateItem per increment, one GetItem per peek.

A counter is one item per (scope, window): `ADD hits :one` returns the new count, so concurrent
requests never lose a hit and no read precedes the write. TTL deletes the item after its window.
"""
from __future__ import annotations

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo import Table, to_item


class DynamoCounters:
    """The CountersPort of rate limits and login throttling."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def increment(self, key: str, window_start: int, expires_at: int) -> int:
        response = self._table.client.update_item(
            TableName=self._table.name, Key=to_item(keys.counter_key(key, window_start)),
            UpdateExpression="ADD hits :one SET expires_at_epoch = if_not_exists(expires_at_epoch, :ttl)",
            ExpressionAttributeValues=to_item({":one": 1, ":ttl": expires_at}), ReturnValues="UPDATED_NEW")
        return int(response["Attributes"]["hits"]["N"])

    def peek(self, key: str, window_start: int) -> int:
        item = self._table.get(keys.counter_key(key, window_start))
        return int(item.get("hits", 0)) if item else 0
