"""Batches with partial failures: for SQS, one bad record fails alone and the others are deleted; for
the table's stream, the failed sequence numbers are reported and Lambda retries from the lowest.

Every record gets one JSON log line (logger `spoke.events`: message id or sequence number, queue or
function, outcome, duration, receive count), and the metrics the handlers counted are written once
the batch is done.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from chalice.app import DynamoDBEvent, SQSEvent

from chalicelib.adapters import telemetry
from chalicelib.wiring import services

logger = logging.getLogger("spoke.events")
MAX_RECEIVES = 3  # equal to the queue's maxReceiveCount in infra/template.yaml


def _begin(context: Any) -> None:
    """JSON logs at the configured level, and the invocation's fields (Lambda's request id, cold start)."""
    settings = services().settings
    telemetry.configure_logging(settings.log_level)
    telemetry.configure_tracing(settings.tracing)
    telemetry.begin_invocation(context, function_name=getattr(context, "function_name", None))


def process_batch(event: SQSEvent, handle: Callable[[dict[str, Any], bool], Any]) -> dict[str, list[Any]]:
    _begin(event.context)
    failures = []
    try:
        for record in event:
            raw = record.to_dict()
            message_id = raw.get("messageId")
            receives = int(raw.get("attributes", {}).get("ApproximateReceiveCount", "1"))
            fields = {"message_id": message_id, "queue": str(raw.get("eventSourceARN", "")).rsplit(":", 1)[-1],
                      "receive_count": receives}
            started = time.perf_counter()
            try:
                handle(json.loads(record.body), receives >= MAX_RECEIVES)
            except Exception:
                logger.exception("record %s failed (receive %d)", message_id, receives,
                                 extra={**fields, "outcome": "failed", "duration_ms": _since(started)})
                failures.append({"itemIdentifier": message_id})
            else:
                logger.info("record %s done", message_id,
                            extra={**fields, "outcome": "done", "duration_ms": _since(started)})
    finally:
        services().metrics.flush()
    return {"batchItemFailures": failures}


def process_stream_batch(event: DynamoDBEvent, handle: Callable[[list[Any]], list[str]]) -> dict[str, list[Any]]:
    """DynamoDB stream records -> typed table changes -> `handle`, which returns the failed sequence numbers."""
    from chalicelib.adapters.outbox_store import table_changes

    _begin(event.context)
    records = event.to_dict().get("Records", [])
    started = time.perf_counter()
    try:
        failed = handle(table_changes(records))
    except Exception:  # Lambda retries the whole batch
        logger.exception("stream batch of %d records failed", len(records),
                         extra={"outcome": "failed", "batch_size": len(records), "batch_duration_ms": _since(started)})
        raise
    finally:
        services().metrics.flush()
    duration_ms, failed_set = _since(started), set(failed)
    for record in records:
        sequence = (record.get("dynamodb") or {}).get("SequenceNumber")
        outcome = "failed" if sequence in failed_set else "done"
        (logger.warning if outcome == "failed" else logger.info)(
            "stream record %s %s", sequence, outcome,
            extra={"sequence_number": sequence, "event_name": record.get("eventName"), "outcome": outcome,
                   "batch_duration_ms": duration_ms, "batch_size": len(records)})
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
