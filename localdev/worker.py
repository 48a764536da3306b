"""The local stand-in for Lambda's event sources: long-polls the embedded AWS's queues, and reads its
table's stream, and hands each batch to the same handler functions Lambda would call, with the same
partial-batch contracts (SQS: failed message ids; DynamoDB Streams: retry from the lowest failed
sequence number).

It prints a line per job it hands over (`compile job user@v1.0.0 (11 languages) ran in 1.2 s`, `event
version.compiled: user@v1.0.0, 11 languages succeeded`), as Lambda's log would show each invocation;
the AWS SDK's own messages only with SPOKE_VERBOSE (`make run VERBOSE=1`).

Run: python -m localdev.worker   (make run starts it; needs the SPOKE_* and AWS_ENDPOINT_URL variables)
"""
from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import boto3
from botocore.config import Config

from localdev.console import verbose_from_env

# Not under "spoke": Chalice sets its app's logger ("spoke") to ERROR without propagation, which would
# silence the worker's own lines once `app` is imported.
logger = logging.getLogger("localdev.worker")
SDK_LOGGERS = ("botocore", "boto3", "urllib3")  # "Found credentials ...", "Found endpoint ...": noise unless verbose
# queue variable -> (Lambda function name in app.handler_map, batch size)
TRIGGERS = {"SPOKE_COMPILE_QUEUE_NAME": ("compile_versions", 5), "SPOKE_EVENTS_QUEUE_NAME": ("deliver_events", 10)}
RETRY_VISIBILITY_SECONDS = 2  # locally a failed record comes back in seconds, not after the queue's timeout
STREAM_FUNCTION, STREAM_BATCH_SIZE = "forward_outbox", 100
STREAM_IDLE_SECONDS, STREAM_RETRY_SECONDS = 0.25, 1.0


def _record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": message.get("Attributes", {}), "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
            "awsRegion": "us-east-1"}


class QueuePoller:
    def __init__(self, queue_name: str, handler: Any, batch_size: int, stop: threading.Event,
                 sqs: Any = None) -> None:
        self._sqs = sqs or boto3.client("sqs")
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
        started = time.monotonic()
        try:
            result = self._handler(event, SimpleNamespace(function_name="local")) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception:  # noqa: BLE001 - as on Lambda, an exception fails the whole batch
            logger.exception("handler raised; the batch will be retried")
            failed = {m["MessageId"] for m in messages}
        seconds = time.monotonic() - started
        for message in messages:
            try:
                logger.info(job_line(message.get("Body", ""), seconds, message["MessageId"] in failed))
            except Exception:  # noqa: BLE001 - an odd message must never keep the batch from being settled
                logger.info("queue message %s handled (no summary)", message.get("MessageId"))
        for message in messages:
            if message["MessageId"] in failed:
                self._sqs.change_message_visibility(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"],
                                                    VisibilityTimeout=RETRY_VISIBILITY_SECONDS)
            else:
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])


def job_line(body: str, seconds: float, failed: bool) -> str:
    """One console line per queue message handled: the compile job or event it carried, how long its batch
    took, and whether it comes back for a retry. Only the message is read; a compile job's outcome per
    language arrives as its `version.compiled` / `version.compilation_failed` event, printed in turn."""
    try:
        message = json.loads(body)
    except ValueError:
        message = None
    took = f"failed after {seconds:.1f} s; retried in {RETRY_VISIBILITY_SECONDS} s" if failed \
        else f"ran in {seconds:.1f} s"
    if not isinstance(message, dict):
        return f"queue message (not JSON) {took}"
    if "languages" in message and "module" in message:  # the compile queue's job
        return (f"compile job {_module_version(message.get('org_id'), message)} "
                f"({_count(len(message.get('languages') or []), 'language')}) {took}")
    if message.get("type") == "delivery":
        return (f"webhook delivery {message.get('delivery')} attempt {message.get('attempt')} "
                f"(webhook {message.get('webhook')}) {took}")
    if isinstance(message.get("event"), str):  # what happened; its handling is news only when it failed
        return f"event {message['event']}{_event_summary(message)}" + (f": handling {took}" if failed else "")
    return f"queue message {took}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _module_version(org_id: Any, data: dict[str, Any]) -> str:
    """`user@v1.0.0`, with the organization's id in front outside the shared default organization."""
    where = "" if org_id in (None, "default") else f"{org_id}/"
    version = data.get("version")
    return f"{where}{data.get('module', '?')}" + (f"@{version}" if version else "")


def _event_summary(message: dict[str, Any]) -> str:
    data = message.get("data")
    if not isinstance(data, dict) or "module" not in data:
        return ""
    summary = f": {_module_version(message.get('organization'), data)}"
    if message["event"] in ("version.compiled", "version.compilation_failed"):
        summary += f", {_count(len(data.get('succeeded') or []), 'language')} succeeded"
        failed = data.get("failed") or {}
        if isinstance(failed, dict) and failed:
            summary += "; failed: " + "; ".join(
                f"{language} ({str(error).strip().splitlines()[0][:200] if str(error).strip() else 'no message'})"
                for language, error in sorted(failed.items()))
    return summary


def configure_logging(verbose: bool) -> None:
    """The worker's own lines always; the AWS SDK's INFO chatter only when the developer asked for it."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)


def streams_client(**kwargs: Any) -> Any:
    """A DynamoDB Streams client; account-based endpoints off, which the embedded AWS does not serve."""
    return boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"), **kwargs)


def _lambda_stream_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda hands it over: the stream's ARN added, the time in epoch seconds."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = created.timestamp()
    return {**record, "dynamodb": dynamodb, "eventSourceARN": stream_arn}


def _after_handled(record: dict[str, Any], last: str) -> bool:
    """Whether a record comes after the last one handled. The embedded AWS's AFTER_SEQUENCE_NUMBER iterator
    sometimes starts AT that record (its 22-digit sequence numbers lose precision on the way), and a relay
    that took it for new work handled the same record forever (seen: 74,000 times in one test); Lambda
    never hands a handled record over again, so neither does this relay."""
    return int(record["dynamodb"]["SequenceNumber"]) > int(last)


class StreamRelay:
    """Plays Lambda's DynamoDB Streams event source mapping: reads each shard of the table's stream in
    order from its beginning and hands each batch to `handler`; a batch's failed records (and all after
    them) are read again on the next poll, from the lowest failed sequence number.

    Each poll asks for a fresh iterator after the last sequence number handled (iterators of the
    embedded AWS do not survive a cancelled transaction there). Tests use it in process too."""

    def __init__(self, table_name: str, handler: Callable[[dict[str, Any]], Any], dynamodb: Any = None,
                 streams: Any = None, batch_size: int = STREAM_BATCH_SIZE) -> None:
        self._ddb = dynamodb or boto3.client("dynamodb")
        self._streams = streams or streams_client()
        self.arn = self._ddb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self._handler = handler
        self._batch_size = batch_size
        self._after: dict[str, str] = {}  # shard id -> the last sequence number handled

    def poll(self) -> tuple[int, int]:
        """One batch per shard: (records handled, records left to retry)."""
        handled = pending = 0
        for shard in self._streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            where = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self._after[shard_id]}
                     if shard_id in self._after else {"ShardIteratorType": "TRIM_HORIZON"})
            iterator = self._streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard_id, **where)["ShardIterator"]
            records = self._streams.get_records(ShardIterator=iterator, Limit=self._batch_size).get("Records", [])
            if shard_id in self._after:  # never a record handled already (see _after_handled)
                records = [r for r in records if _after_handled(r, self._after[shard_id])]
            if not records:
                continue
            try:
                result = self._handler({"Records": [_lambda_stream_record(r, self.arn) for r in records]}) or {}
                failed = {str(f["itemIdentifier"]) for f in result.get("batchItemFailures", [])}
            except Exception:  # noqa: BLE001 - as on Lambda, an exception retries the whole batch
                logger.exception("stream handler raised; the batch will be retried")
                failed = {records[0]["dynamodb"]["SequenceNumber"]}
            done = 0
            for record in records:
                if record["dynamodb"]["SequenceNumber"] in failed:
                    break
                done += 1
            if done:
                self._after[shard_id] = records[done - 1]["dynamodb"]["SequenceNumber"]
            handled, pending = handled + done, pending + len(records) - done
        return handled, pending

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                handled, pending = self.poll()
            except Exception:  # noqa: BLE001 - the embedded AWS is going away; keep polling until told to stop
                handled, pending = 0, 1
            stop.wait(0 if handled and not pending else STREAM_RETRY_SECONDS if pending else STREAM_IDLE_SECONDS)


def main() -> None:
    configure_logging(verbose_from_env())
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
    if STREAM_FUNCTION in app.handler_map:
        handler = app.handler_map[STREAM_FUNCTION]
        relay = StreamRelay(os.environ["SPOKE_TABLE_NAME"],
                            lambda event: handler(event, SimpleNamespace(function_name="local")))
        threads.append(threading.Thread(target=relay.run, args=(stop,), name=STREAM_FUNCTION, daemon=True))
    for thread in threads:
        thread.start()
    logger.info("local worker polling %d queue(s) and stream(s)", len(threads))
    while not stop.is_set():
        stop.wait(0.5)


if __name__ == "__main__":
    main()
