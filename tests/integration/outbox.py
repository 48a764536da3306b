"""Plays the table stream's event source in process: the outbox relay function over the new records of
the moto table's stream, exactly as Lambda (or the local worker) would hand them over.

Writes put their follow-up work (compile jobs, registry events) in the outbox; nothing reaches a
queue, and no total moves, until the stream is relayed. Tests call `relay_outbox()` where Lambda
would have run by then.
"""
from __future__ import annotations

import os
import uuid
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import boto3

from localdev.worker import StreamRelay, streams_client

if TYPE_CHECKING:
    from chalice.test import Client

_relays: dict[str, StreamRelay] = {}  # by stream ARN: each test's table has its own, read from where it stopped


def _handler(event: dict[str, Any]) -> Any:
    from app import app

    return app.handler_map["forward_outbox"](event, SimpleNamespace(function_name="forward_outbox"))


def stream_relay() -> StreamRelay:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    table = os.environ["SPOKE_TABLE_NAME"]
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    if arn not in _relays:
        _relays[arn] = StreamRelay(table, _handler, dynamodb=dynamodb, streams=streams_client(region_name="us-east-1"))
    return _relays[arn]


def relay_outbox(allow_failures: bool = False) -> tuple[int, int]:
    """Run the relay until the stream has nothing new: (records handled, records left to retry)."""
    relay, handled = stream_relay(), 0
    while True:
        done, pending = relay.poll()
        handled += done
        if pending:
            assert allow_failures, "the outbox relay reported failed records"
            return handled, pending
        if not done:
            return handled, 0


def compile_queued(client: Client, env: dict[str, str]) -> int:
    """Hand every queued compile job to the compile function, as the local worker does; how many ran."""
    relay_outbox()
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=env["SPOKE_COMPILE_QUEUE_NAME"])["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    event = {"Records": [{
        "messageId": str(uuid.uuid4()), "receiptHandle": m["ReceiptHandle"], "body": m["Body"], "md5OfBody": "",
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:spoke-test-compile", "awsRegion": "us-east-1"}
        for m in messages]}
    if messages:
        assert client.lambda_.invoke("compile_versions", event).payload == {"batchItemFailures": []}
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return len(messages)
