"""Registry events (module.created, version.published, ...): emitted once, after the change commits.

The events queue's consumer (the webhooks fan-out) turns each into deliveries.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from chalicelib.services.common import utc_now
from chalicelib.services.ports import QueuesPort

MAX_EVENT_FILE_LIST_BYTES = 64 * 1024  # an event (and each delivery) stays far below SQS's 256 KiB
EVENT_TYPES = ("module.created", "version.published", "version.compiled", "version.compilation_failed",
               "webhook.ping")


class EventPublisher:
    def __init__(self, queues: QueuesPort) -> None:
        self._queues = queues

    def emit(self, org_id: str, event: str, data: dict[str, Any]) -> dict[str, Any]:
        if event not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event}")
        envelope = {"id": f"evt-{uuid.uuid4().hex}", "event": event, "created_at": utc_now(),
                    "organization": org_id, "data": data}
        self._queues.send("events", json.dumps(envelope, separators=(",", ":")))
        return envelope


def file_list(paths: list[str]) -> dict[str, Any]:
    """`files` for an event: every path while they fit the budget, else the first ones and a flag."""
    shown, used = [], 0
    for path in paths:
        used += len(path) + 3
        if used > MAX_EVENT_FILE_LIST_BYTES:
            break
        shown.append(path)
    return {"files": shown, "file_count": len(paths), "files_truncated": len(shown) < len(paths)}
