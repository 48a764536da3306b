"""The transactional outbox in the single table, and what the table's stream says about it.

A write that must be followed by work elsewhere (a compile job, a registry event) adds one outbox
item per message to its own transaction (`outbox_puts`). The table's stream hands each new item to
the relay (`services/outbox.py`), which sends it to its queue and then deletes it here. The same
stream carries every created user, organization, module and version: the relay adds them to the
totals in one update per batch, so no request ever writes an item that all tenants share.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo import Table, from_item, to_item
from chalicelib.domain.models import OutboxMessage
from chalicelib.services.ports import TableChange

OUTBOX_TYPE = "outbox"
# Item types whose creation moves a total (the `type` attribute each store writes) -> the name it is counted under.
COUNTED_TYPES = {"user": "user", "org": "organization", "module": "module", "version": "version"}
TOTALS = {"user": "users_total", "organization": "organizations_total", "module": "modules_total",
          "version": "versions_total"}


def outbox_puts(messages: Sequence[OutboxMessage]) -> list[dict[str, Any]]:
    """Transaction operations that store `messages` beside the write they follow."""
    return [{"Put": {"Item": {**keys.outbox_key(uuid.uuid4().hex), "type": OUTBOX_TYPE, "queue": m.queue,
                              "body": m.body, "created_epoch": int(time.time())},
                     "ConditionExpression": "attribute_not_exists(PK)"}} for m in messages]


def table_changes(records: Iterable[dict[str, Any]]) -> list[TableChange]:
    """Lambda's DynamoDB stream records (NEW_IMAGE) as the relay's typed changes.

    An outbox item counts when it appears (INSERT) and when an operator touches it again (MODIFY), so a
    message stranded past the stream's 24 h retention is re-driven by updating its item; an entity
    counts only when it is created (INSERT)."""
    changes = []
    for record in records:
        dynamodb = record.get("dynamodb", {})
        sequence = str(dynamodb.get("SequenceNumber", ""))
        image = from_item(dynamodb["NewImage"]) if dynamodb.get("NewImage") else {}
        kind = image.get("type")
        event = record.get("eventName")
        if kind == OUTBOX_TYPE and event in ("INSERT", "MODIFY"):
            changes.append(TableChange(sequence=sequence, outbox_id=image["PK"].split("#", 1)[1],
                                       message=OutboxMessage(queue=image["queue"], body=image["body"])))
        elif kind in COUNTED_TYPES and event == "INSERT":
            created = COUNTED_TYPES[kind]
            changes.append(TableChange(sequence=sequence, created=created,
                                       org_id=image.get("org_id") if created in ("version", "module") else None))
        else:
            changes.append(TableChange(sequence=sequence))
    return changes


class OutboxStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def is_pending(self, outbox_id: str) -> bool:
        """Still to forward? A consistent read: a stream record may come again after its item was deleted."""
        return self._table.get(keys.outbox_key(outbox_id), consistent=True) is not None

    def forwarded(self, outbox_id: str) -> None:
        self._table.client.delete_item(TableName=self._table.name, Key=to_item(keys.outbox_key(outbox_id)))

    def add_totals(self, totals: dict[str, int], org_counts: dict[str, dict[str, int]]) -> None:
        """One update of the global totals and one per organization whose counters moved (per batch)."""
        counted = {TOTALS[name]: n for name, n in totals.items() if n}
        if counted:
            self._add(keys.stats_key(), counted)
        for org_id, counts in sorted(org_counts.items()):
            moved = {name: n for name, n in counts.items() if n}
            if moved:
                self._add(keys.org_key(org_id), moved)

    def _add(self, key: dict[str, str], counters: dict[str, int]) -> None:
        names = {f"#c{i}": name for i, name in enumerate(counters)}
        values = to_item({f":c{i}": n for i, n in enumerate(counters.values())})
        self._table.client.update_item(
            TableName=self._table.name, Key=to_item(key),
            UpdateExpression="ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counters))),
            ExpressionAttributeNames=names, ExpressionAttributeValues=values)
