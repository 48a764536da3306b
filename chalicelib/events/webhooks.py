"""The webhooks function: the events queue -> WebhooksService.handle, with partial batch failures.

Each record of a batch runs on its own thread (through `process_batch`, one record at a time), so a
subscriber that answers slowly holds up only its own delivery, never the others in the batch.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.events.batch import process_batch
from chalicelib.wiring import services

bp = Blueprint(__name__)
# Read at import time, for the decorator only: the packaged template replaces the event source's queue
# with the stage's (`Fn::GetAtt` in infra/template.yaml; infra/package.py also imports with the stage's name).
EVENTS_QUEUE = os.environ.get("SPOKE_EVENTS_QUEUE_NAME", "spoke-dev-events")


@bp.on_sqs_message(queue=EVENTS_QUEUE, batch_size=10)
def deliver_events(event: SQSEvent) -> dict:
    webhooks = services().webhooks  # built once, before the threads share it
    records: list[dict[str, Any]] = event.to_dict().get("Records", [])

    def one(record: dict[str, Any]) -> dict[str, list]:
        return process_batch(SQSEvent({"Records": [record]}, event.context),
                             lambda body, _final: webhooks.handle(body))

    with ThreadPoolExecutor(max_workers=max(len(records), 1), thread_name_prefix="webhook") as pool:
        results = list(pool.map(one, records))
    return {"batchItemFailures": [failure for result in results for failure in result["batchItemFailures"]]}
