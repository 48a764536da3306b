"""SQS batches with partial failures: one bad record fails alone; the others are deleted."""
from __future__ import annotations

import json
import logging
from typing import Any, Callable

from chalice.app import SQSEvent

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
