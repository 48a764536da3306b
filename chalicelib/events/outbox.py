"""The outbox relay function: the table's stream -> OutboxRelay.handle, with partial batch failures.

The stream's ARN exists only once the table does: `infra/template.yaml` sets the event source's
`Stream` to the table's `StreamArn` when `chalice package --merge-template` merges it, so the value
below is a placeholder unless SPOKE_TABLE_STREAM_ARN names a real stream (`chalice deploy`).
"""
from __future__ import annotations

import os

from chalice import Blueprint
from chalice.app import DynamoDBEvent

from chalicelib.events.batch import process_stream_batch
from chalicelib.wiring import services

bp = Blueprint(__name__)
STREAM_ARN = os.environ.get("SPOKE_TABLE_STREAM_ARN",
                            "arn:aws:dynamodb:us-east-1:123456789012:table/spoke-dev/stream/set-by-infra-template")


@bp.on_dynamodb_record(stream_arn=STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON")
def forward_outbox(event: DynamoDBEvent) -> dict:
    return process_stream_batch(event, lambda changes: services().outbox.handle(changes))
