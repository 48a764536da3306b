"""Registry events (module.created, version.published, ...): recorded with the change they announce.

An event is an outbox message (`OutboxMessage`) written in the change's own transaction, so it exists
if and only if the change committed; the outbox relay puts it on the events queue, whose consumer (the
webhooks fan-out) turns it into deliveries. The event id is fixed when the event is made: a message
forwarded twice is the same event, and the fan-out's delivery ids derive from it.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from chalicelib.domain.models import OutboxMessage
from chalicelib.services.common import utc_now

MAX_EVENT_FILE_LIST_BYTES = 64 * 1024  # an event (and each delivery) stays far below SQS's 256 KiB
EVENT_TYPES = ("module.created", "version.published", "version.compiled", "version.compilation_failed",
               "webhook.ping")


class EventPublisher:
    """Makes the outbox message of an event; the caller writes it with the change it announces."""

    def message(self, org_id: str, event: str, data: dict[str, Any]) -> OutboxMessage:
        if event not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event}")
        envelope = {"id": f"evt-{uuid.uuid4().hex}", "event": event, "created_at": utc_now(),
                    "organization": org_id, "data": data}
        return OutboxMessage(queue="events", body=json.dumps(envelope, separators=(",", ":")))


def file_list(paths: list[str]) -> dict[str, Any]:
    """`files` for an event: every path while they fit the budget, else the first ones and a flag."""
    shown, used = [], 0
    for path in paths:
        used += len(path) + 3
        if used > MAX_EVENT_FILE_LIST_BYTES:
            break
        shown.append(path)
    return {"files": shown, "file_count": len(paths), "files_truncated": len(shown) < len(paths)}
