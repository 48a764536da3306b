"""Batches with partial failures: for SQS, one bad record fails alone and the others are deleted; for
the table's stream, the failed sequence numbers are reported and Lambda retries from the lowest."""
from __future__ import annotations

import json
import logging
from typing import Any, Callable

from chalice.app import DynamoDBEvent, SQSEvent

logger = logging.getLogger("spoke.events")
MAX_RECEIVES = 3  # equal to the queue's maxReceiveCount in infra/template.yaml


def process_batch(event: SQSEvent, handle: Callable[[dict[str, Any], bool], Any]) -> dict[str, list]:
    failures = []
    for record in event:
        raw = record.to_dict()
        receives = int(raw.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        try:
            handle(json.loads(record.body), receives >= MAX_RECEIVES)
        except Exception:  # noqa: BLE001 - reported back to SQS for a retry, then the DLQ
            logger.exception("record %s failed (receive %d)", raw.get("messageId"), receives)
            failures.append({"itemIdentifier": raw.get("messageId")})
    return {"batchItemFailures": failures}


def process_stream_batch(event: DynamoDBEvent, handle: Callable[[list[Any]], list[str]]) -> dict[str, list]:
    """DynamoDB stream records -> typed table changes -> `handle`, which returns the failed sequence numbers."""
    from chalicelib.adapters.outbox_store import table_changes

    failed = handle(table_changes(event.to_dict().get("Records", [])))
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}
