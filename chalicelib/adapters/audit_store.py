"""The audit trail in the single table (layout in keys.py): one partition per organization, sort keys
in time order, `expires_at_epoch` (the table's TTL attribute) on every item.

A record is one PutItem, never part of the mutation's transaction: the partition is the organization's
own, written after the mutation committed. A page is a descending Query of that one partition; with
filters, DynamoDB filters each 1 MB page server-side and the Query goes on until the page is full (a
rare actor costs reading the retention period's records, once per page asked for).
"""
from __future__ import annotations

import time
from typing import Any

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo import Table
from chalicelib.domain.audit import AuditQuery, AuditRecord

_SCAN_PAGE = 200  # items read per Query call when filtering (each call reads at most 1 MB anyway)


class AuditStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def put(self, record: AuditRecord, expires_at_epoch: int) -> None:
        if record.organization is None:
            raise ValueError("only a named organization's records are stored")
        item = {**keys.audit_key(record.organization, record.at, record.request_id), **record.as_dict(),
                "type": "audit", "expires_at_epoch": expires_at_epoch}
        self._table.put(item)

    def list(self, query: AuditQuery) -> tuple[list[tuple[str, AuditRecord]], bool]:
        # Expired items linger until DynamoDB's TTL sweep deletes them (up to days): never shown.
        conditions = ["#expires > :now"]
        values: dict[str, Any] = {":now": int(time.time())}
        names = {"#expires": "expires_at_epoch"}
        filtered = query.actor is not None or query.action is not None
        if query.actor is not None:
            conditions.append("#actor = :actor")
            values[":actor"], names["#actor"] = query.actor, "actor"
        if query.action is not None:
            conditions.append("#action = :action")
            values[":action"], names["#action"] = query.action, "action"
        partition = keys.audit_partition(query.org_id)
        rows = self._table.query(partition, keys.audit_prefix(), forward=False,
                                 limit=_SCAN_PAGE if filtered else query.limit + 1, start_after_sk=query.after,
                                 filter_expression=" AND ".join(conditions), values=values, names=names)
        found: list[tuple[str, AuditRecord]] = []
        for item in rows:
            found.append((str(item["SK"]), _record(item)))
            if len(found) > query.limit:
                break
        return found[:query.limit], len(found) > query.limit


def _record(item: dict[str, Any]) -> AuditRecord:
    return AuditRecord.from_dict(item)
