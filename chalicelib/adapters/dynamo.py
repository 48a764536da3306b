"""Thin helpers over the DynamoDB client: (de)serialisation and transaction failure reasons.

Transactions that DynamoDB cancels for contention (another transaction on one of the items,
`TransactionConflict`) or for throttling are retried here with full-jitter exponential backoff; a
cancellation for a failed condition is an answer, returned to the caller at once.
"""
from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.adapters import aws

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _unwrap(_deserializer.deserialize(v)) for k, v in item.items()}


def _unwrap(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; ours are all integers."""
    if hasattr(value, "as_integer_ratio") and not isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


logger = logging.getLogger("spoke.dynamo")
# Cancellation reasons that say "try again", not "no": contention and throttling.
RETRYABLE_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
# Errors of the call itself that say the same (botocore retries the throttling ones itself, then gives up).
RETRYABLE_ERRORS = frozenset({"TransactionConflictException", "TransactionInProgressException",
                              "ThrottlingException", "ProvisionedThroughputExceededException",
                              "RequestLimitExceeded"})


class TransactionRetries:
    """How often and how patiently a contended transaction is retried: full jitter, capped exponential.

    Sleep before attempt n+1 is uniform in [0, min(cap, base * 2**n)], so concurrent writers that
    conflicted spread out instead of colliding again in lockstep."""

    def __init__(self, attempts: int = 8, base_seconds: float = 0.02, cap_seconds: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep, rand: Callable[[], float] = random.random) -> None:
        self.attempts, self.base, self.cap, self.sleep, self.rand = attempts, base_seconds, cap_seconds, sleep, rand

    def pause(self, attempt: int) -> None:
        self.sleep(self.rand() * min(self.cap, self.base * (2 ** attempt)))


class Table:
    def __init__(self, name: str, retries: TransactionRetries | None = None) -> None:
        self.name = name
        self.retries = retries or TransactionRetries()

    @property
    def client(self) -> Any:
        return aws.client("dynamodb")

    def get(self, key: dict[str, str], consistent: bool = False) -> dict[str, Any] | None:
        response = self.client.get_item(TableName=self.name, Key=to_item(key), ConsistentRead=consistent)
        return from_item(response["Item"]) if "Item" in response else None

    def put(self, values: dict[str, Any]) -> None:
        self.client.put_item(TableName=self.name, Item=to_item(values))

    def update_existing(self, key: dict[str, str], expression: str, values: dict[str, Any]) -> dict[str, Any] | None:
        """Update an item that must exist; None when it does not."""
        try:
            response = self.client.update_item(
                TableName=self.name, Key=to_item(key), UpdateExpression=expression,
                ConditionExpression="attribute_exists(PK)", ExpressionAttributeValues=to_item(values),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return from_item(response["Attributes"])

    def update_if(self, key: dict[str, str], expression: str, condition: str, values: dict[str, Any]) -> bool:
        """A conditional update; False when the condition did not hold."""
        try:
            self.client.update_item(TableName=self.name, Key=to_item(key), UpdateExpression=expression,
                                    ConditionExpression=condition, ExpressionAttributeValues=to_item(values))
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def batch_get(self, keys: list[dict[str, str]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request = {self.name: {"Keys": [to_item(k) for k in keys[start:start + 100]]}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                found += [from_item(i) for i in response["Responses"].get(self.name, [])]
                request = response.get("UnprocessedKeys") or {}
        return found

    def query(
        self,
        pk: str,
        sk_prefix: str,
        *,
        index: str | None = None,
        forward: bool = True,
        limit: int | None = None,
        start_after_sk: str | None = None,
        projection: str | None = None,
        filter_expression: str | None = None,
        values: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield items of one partition whose sort key starts with a prefix, page after page."""
        pk_name, sk_name = ("GSI1PK", "GSI1SK") if index else ("PK", "SK")
        expression_values = {":pk": pk, ":prefix": sk_prefix, **(values or {})}
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": pk_name, "#sk": sk_name, **(names or {})},
            "ExpressionAttributeValues": to_item(expression_values),
            "ScanIndexForward": forward,
        }
        if index:
            kwargs["IndexName"] = index
        if limit:
            kwargs["Limit"] = limit
        if projection:
            kwargs["ProjectionExpression"] = projection
        if filter_expression:
            kwargs["FilterExpression"] = filter_expression
        if start_after_sk is not None and not index:
            kwargs["ExclusiveStartKey"] = to_item({"PK": pk, "SK": start_after_sk})
        while True:
            response = self.client.query(**kwargs)
            for item in response.get("Items", []):
                yield from_item(item)
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def transact(self, operations: list[dict[str, Any]]) -> list[str]:
        """Run a write transaction; return the cancellation reason per operation ([] if it committed).

        Contention and throttling are retried (see `TransactionRetries`); if they outlast the
        retries the last reasons are returned, and callers treat them as any unexpected cancellation.
        Each attempt carries its own ClientRequestToken, so botocore's resend of an attempt whose
        answer was lost cannot apply it twice."""
        items = self._transact_items(operations)
        reasons: list[str] = []
        for attempt in range(self.retries.attempts):
            if attempt:
                self.retries.pause(attempt - 1)
            try:
                self.client.transact_write_items(TransactItems=items, ClientRequestToken=uuid.uuid4().hex)
                return []
            except ClientError as error:
                code = error.response["Error"]["Code"]
                if code in RETRYABLE_ERRORS:
                    reasons = [code] * len(items)
                    logger.info("transaction attempt %d: %s; retrying", attempt + 1, code)
                    continue
                if code != "TransactionCanceledException":
                    raise
                reasons = _reasons(error, len(items))
            if "ConditionalCheckFailed" in reasons or not RETRYABLE_REASONS.intersection(reasons):
                return reasons
            logger.info("transaction attempt %d cancelled (%s); retrying", attempt + 1, reasons)
        return reasons

    def _transact_items(self, operations: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items = []
        for operation in operations:
            (kind, body), = operation.items()
            body = dict(body, TableName=self.name)
            for field in ("Item", "Key"):
                if field in body:
                    body[field] = to_item(body[field])
            if "ExpressionAttributeValues" in body:
                body["ExpressionAttributeValues"] = to_item(body["ExpressionAttributeValues"])
            items.append({kind: body})
        return items


def _reasons(error: ClientError, count: int) -> list[str]:
    reasons = error.response.get("CancellationReasons") or []
    if not reasons:
        reasons = _reasons_from_message(error.response["Error"].get("Message", ""), count)
    return [r.get("Code", "None") if isinstance(r, dict) else r for r in reasons]


def _reasons_from_message(message: str, count: int) -> list[str]:
    """Some endpoints only put the reasons in the message: '... reasons [None, ConditionalCheckFailed]'."""
    if "[" not in message:
        return ["Unknown"] * count
    inside = message[message.rindex("[") + 1:message.rindex("]")]
    return [part.strip() for part in inside.split(",")]
