"""The outbox relay: the table's stream -> the queues, and the registry's totals.

Every write that must be followed by work (a compile job, a registry event) stores that work as an
outbox item in its own transaction. This relay, fed by the table's stream (DynamoDB Streams on AWS,
the local worker reading the embedded AWS's stream), sends each message to its queue and then
deletes the item. Delivery is at least once: a message is sent again if the relay stops between
sending and deleting, so every consumer is idempotent.

The same records carry every created user, organization, module and version. The relay adds them
up per batch into one update of the totals (and one per organization for its version count, and for
the shared default organization its module count too), so no request writes an item that every tenant
shares.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

from chalicelib.domain.names import DEFAULT_ORG_ID
from chalicelib.services.ports import OutboxStorePort, QueuesPort, TableChange

logger = logging.getLogger("spoke.outbox")


class OutboxRelay:
    def __init__(self, store: OutboxStorePort, queues: QueuesPort) -> None:
        self._store = store
        self._queues = queues

    def handle(self, changes: Sequence[TableChange]) -> list[str]:
        """Forward and count one batch of stream records; return the sequence numbers that failed.

        Lambda retries a stream batch from the lowest failed sequence number, so each message is
        tried even after an earlier one failed (a dead compile queue does not hold up webhooks; a
        message already forwarded is skipped when it comes again, its item being gone), but only
        the records before the first failure are counted: the others will come again."""
        failed: list[str] = []
        totals: Counter[str] = Counter()
        org_counts: dict[str, Counter[str]] = {}
        for change in changes:
            if change.outbox_id is not None:
                try:
                    self._forward(change)
                except Exception:  # noqa: BLE001 - reported back to the stream, which retries from here
                    logger.exception("outbox message %s (record %s) was not forwarded", change.outbox_id,
                                     change.sequence)
                    failed.append(change.sequence)
            elif change.created is not None and not failed:
                totals[change.created] += 1
                counter = _org_counter(change)
                if counter is not None and change.org_id:
                    org_counts.setdefault(change.org_id, Counter())[counter] += 1
        # Last, so that an exception here (the whole batch comes again) has counted nothing yet.
        self._store.add_totals(dict(totals), {org: dict(counts) for org, counts in org_counts.items()})
        return failed

    def _forward(self, change: TableChange) -> None:
        assert change.outbox_id is not None and change.message is not None
        if not self._store.is_pending(change.outbox_id):
            return  # forwarded already (this record came again), or never committed
        self._queues.send(change.message.queue, change.message.body)
        self._store.forwarded(change.outbox_id)


def _org_counter(change: TableChange) -> str | None:
    """The organization counter a created entity moves here: every version's, and the default
    organization's modules (a named organization counts its modules in the create's own transaction,
    where its quota is; the default organization's item is never in a request's transaction)."""
    if change.created == "version":
        return "version_count"
    if change.created == "module" and change.org_id == DEFAULT_ORG_ID:
        return "module_count"
    return None
