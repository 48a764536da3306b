"""The local stand-in for Lambda's SQS triggers: long-polls the embedded AWS's queues and hands each
batch to the same handler functions Lambda would call, with the same partial-batch contract.

Run: python -m localdev.worker   (make run starts it; needs the SPOKE_* and AWS_ENDPOINT_URL variables)
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import boto3

logger = logging.getLogger("spoke.worker")
# queue variable -> (Lambda function name in app.handler_map, batch size)
TRIGGERS = {"SPOKE_COMPILE_QUEUE_NAME": ("compile_versions", 5), "SPOKE_EVENTS_QUEUE_NAME": ("deliver_events", 10)}
RETRY_VISIBILITY_SECONDS = 2  # locally a failed record comes back in seconds, not after the queue's timeout


def _record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": message.get("Attributes", {}), "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
            "awsRegion": "us-east-1"}


class QueuePoller:
    def __init__(self, queue_name: str, handler: Any, batch_size: int, stop: threading.Event) -> None:
        self._sqs = boto3.client("sqs")
        self._url = self._sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        self._arn = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        self._handler = handler
        self._batch_size = batch_size
        self._stop = stop
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix=queue_name)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._sqs.receive_message(
                    QueueUrl=self._url, MaxNumberOfMessages=self._batch_size, WaitTimeSeconds=1,
                    AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
            except Exception:  # noqa: BLE001 - the embedded AWS is going away; keep polling until told to stop
                time.sleep(0.5)
                continue
            if messages:
                self._pool.submit(self._invoke, messages)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [_record(m, self._arn) for m in messages]}
        try:
            result = self._handler(event, SimpleNamespace(function_name="local")) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception:  # noqa: BLE001 - as on Lambda, an exception fails the whole batch
            logger.exception("handler raised; the batch will be retried")
            failed = {m["MessageId"] for m in messages}
        for message in messages:
            if message["MessageId"] in failed:
                self._sqs.change_message_visibility(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"],
                                                    VisibilityTimeout=RETRY_VISIBILITY_SECONDS)
            else:
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    from app import app

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = []
    for variable, (function, batch_size) in TRIGGERS.items():
        if function not in app.handler_map:
            logger.info("no handler %s yet; not polling %s", function, os.environ[variable])
            continue
        poller = QueuePoller(os.environ[variable], app.handler_map[function], batch_size, stop)
        threads.append(threading.Thread(target=poller.run, name=function, daemon=True))
    for thread in threads:
        thread.start()
    logger.info("local worker polling %d queue(s)", len(threads))
    while not stop.is_set():
        stop.wait(0.5)


if __name__ == "__main__":
    main()
