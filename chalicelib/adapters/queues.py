"""SQS queues by name; URLs are looked up once per process."""
from __future__ import annotations

from typing import Any

from chalicelib.adapters import aws


class Queues:
    def __init__(self, compile_queue: str, events_queue: str) -> None:
        self._names = {"compile": compile_queue, "events": events_queue}
        self._urls: dict[str, str] = {}

    def url(self, which: str) -> str:
        if which not in self._urls:
            self._urls[which] = aws.client("sqs").get_queue_url(QueueName=self._names[which])["QueueUrl"]
        return self._urls[which]

    def send(self, which: str, body: str, **extra: Any) -> None:
        aws.client("sqs").send_message(QueueUrl=self.url(which), MessageBody=body, **extra)

    def ping(self) -> None:
        aws.client("sqs").get_queue_attributes(QueueUrl=self.url("compile"), AttributeNames=["QueueArn"])
