"""Webhooks and their delivery history in the single table (layouts in keys.py).

Every read is a GetItem or a Query of one partition; delivery items carry `expires_at_epoch`, the
table's TTL attribute, so the history empties itself. The organization item's `webhook_count` moves
in the same transaction as each webhook's put and delete, and the put is conditional on it staying
under the limit, so concurrent creates cannot pass the limit together.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo import Table, from_item, to_item
from chalicelib.adapters.outbox_store import outbox_puts
from chalicelib.domain.errors import WebhookLimitReached
from chalicelib.domain.models import OutboxMessage
from chalicelib.domain.quotas import quota_exceeded
from chalicelib.domain.webhooks import Delivery, Webhook

_WEBHOOK_FIELDS = tuple(Webhook.model_fields)
_DELIVERY_FIELDS = tuple(Delivery.model_fields)
_LISTED_FIELDS = tuple(f for f in _DELIVERY_FIELDS if f != "payload")


def _webhook(item: dict[str, Any]) -> Webhook:
    return Webhook(**{k: item[k] for k in _WEBHOOK_FIELDS if k in item})


def _delivery(item: dict[str, Any]) -> Delivery:
    return Delivery(**{k: item[k] for k in _DELIVERY_FIELDS if k in item})


class WebhooksStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    # Webhooks
    def add_webhook(self, webhook: Webhook, max_per_org: int, plan_limit: int | None = None) -> None:
        """Store a webhook unless its organization already has `max_per_org` (the deployment's bound:
        WebhookLimitReached) or `plan_limit` (its plan's quota: QuotaExceeded), whichever is lower."""
        item = {**keys.webhook_key(webhook.org_id, webhook.id), **webhook.model_dump(), "type": "webhook"}
        limit = min(max_per_org, plan_limit) if plan_limit is not None else max_per_org
        by_plan = limit < max_per_org
        for attempt in range(2):
            reasons = self._table.transact([
                {"Put": {"Item": {**item, "events": list(webhook.events)},
                         "ConditionExpression": "attribute_not_exists(PK)"}},
                {"Update": {"Key": keys.org_key(webhook.org_id), "UpdateExpression": "ADD webhook_count :one",
                            "ConditionExpression": "webhook_count < :max",
                            "ExpressionAttributeValues": {":one": 1, ":max": limit}}},
            ])
            if not reasons:
                return
            if reasons[1] == "ConditionalCheckFailed":
                if attempt == 0 and self._backfill_count(webhook.org_id):
                    continue  # an organization from before webhook_count: counted now, try again
                if by_plan:
                    item_now = self._table.get(keys.org_key(webhook.org_id), consistent=True) or {}
                    raise quota_exceeded("webhooks", int(item_now.get("webhook_count", 0)), limit)
                raise WebhookLimitReached(f"An organization has at most {max_per_org} webhooks",
                                          details={"limit": max_per_org})
            raise RuntimeError(f"webhook transaction cancelled: {reasons}")

    def get_webhook(self, org_id: str, webhook_id: str) -> Webhook | None:
        item = self._table.get(keys.webhook_key(org_id, webhook_id), consistent=True)
        return _webhook(item) if item else None

    def list_webhooks(self, org_id: str) -> list[Webhook]:
        return [_webhook(i) for i in self._table.query(f"ORG#{org_id}", keys.webhooks_prefix())]

    def update_webhook(self, org_id: str, webhook_id: str, changes: dict[str, Any]) -> Webhook | None:
        item = self._update(keys.webhook_key(org_id, webhook_id), changes, "attribute_exists(PK)", {})
        return _webhook(item) if item else None

    def delete_webhook(self, org_id: str, webhook_id: str) -> bool:
        for attempt in range(2):
            reasons = self._table.transact([
                {"Delete": {"Key": keys.webhook_key(org_id, webhook_id),
                            "ConditionExpression": "attribute_exists(PK)"}},
                {"Update": {"Key": keys.org_key(org_id), "UpdateExpression": "ADD webhook_count :minus",
                            "ConditionExpression": "webhook_count > :zero",
                            "ExpressionAttributeValues": {":minus": -1, ":zero": 0}}},
            ])
            if not reasons:
                return True
            if reasons[0] == "ConditionalCheckFailed":
                return False
            if reasons[1] == "ConditionalCheckFailed" and attempt == 0 and self._backfill_count(org_id):
                continue
            raise RuntimeError(f"webhook deletion cancelled: {reasons}")
        return False

    def _backfill_count(self, org_id: str) -> bool:
        """Give an organization item from before `webhook_count` its count; False if it had one already."""
        if "webhook_count" in (self._table.get(keys.org_key(org_id), consistent=True) or {"webhook_count": None}):
            return False
        count = sum(1 for _ in self._table.query(f"ORG#{org_id}", keys.webhooks_prefix(), projection="PK"))
        self._table.update_if(keys.org_key(org_id), "SET webhook_count = :n",
                              "attribute_exists(PK) AND attribute_not_exists(webhook_count)", {":n": count})
        return True

    # Deliveries
    def add_delivery(self, delivery: Delivery, expires_at_epoch: int, outbox: Sequence[OutboxMessage] = ()) -> bool:
        """False when this delivery already exists (a fan-out ran twice). `outbox`: messages written with it."""
        item = {**keys.delivery_key(delivery.org_id, delivery.webhook_id, delivery.id), **delivery.model_dump(),
                "history": [], "type": "delivery", "expires_at_epoch": expires_at_epoch}
        reasons = self._table.transact([{"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(PK)"}},
                                        *outbox_puts(outbox)])
        if reasons and reasons[0] != "ConditionalCheckFailed":
            raise RuntimeError(f"delivery transaction cancelled: {reasons}")
        return not reasons

    def get_delivery(self, org_id: str, webhook_id: str, delivery_id: str) -> Delivery | None:
        item = self._table.get(keys.delivery_key(org_id, webhook_id, delivery_id), consistent=True)
        return _delivery(item) if item else None

    def claim_attempt(self, delivery: Delivery, attempt: int, now_epoch: int, lease_seconds: int) -> bool:
        """Take attempt `attempt` unless another worker holds an unexpired claim on it (or made it already)."""
        key = keys.delivery_key(delivery.org_id, delivery.webhook_id, delivery.id)
        condition = ("attempts = :expected AND (attribute_not_exists(claimed_attempt) OR claimed_attempt < :attempt"
                     " OR claim_expires_epoch < :now)")
        return self._update(key, {"claimed_attempt": attempt, "claim_expires_epoch": now_epoch + lease_seconds},
                            condition, {":expected": attempt - 1, ":attempt": attempt, ":now": now_epoch}) is not None

    def record_attempt(self, delivery: Delivery, changes: dict[str, Any], entry: dict[str, Any] | None) -> bool:
        """Apply an attempt's outcome unless another copy of the same message recorded it first."""
        key = keys.delivery_key(delivery.org_id, delivery.webhook_id, delivery.id)
        appended = {"history": entry} if entry else {}
        return self._update(key, changes, "attempts = :expected", {":expected": delivery.attempts},
                            appended) is not None

    def list_deliveries(self, org_id: str, webhook_id: str, after: str | None, limit: int
                        ) -> tuple[list[Delivery], bool]:
        """Most recent first, without payloads; `after` is the last delivery id of the previous page."""
        names = {f"#f{i}": name for i, name in enumerate(_LISTED_FIELDS)}
        rows = self._table.query(keys.deliveries_partition(org_id, webhook_id), keys.deliveries_prefix(),
                                 forward=False, limit=limit + 1, projection=", ".join(names), names=names,
                                 start_after_sk=f"{keys.deliveries_prefix()}{after}" if after else None)
        found = []
        for item in rows:
            found.append(_delivery(item))
            if len(found) > limit:
                break
        return found[:limit], len(found) > limit

    def _update(self, key: dict[str, str], changes: dict[str, Any], condition: str, condition_values: dict[str, Any],
                appended: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """SET (and REMOVE for None) with every attribute aliased, so reserved words like `status` are fine."""
        names, values, sets, removes = {}, dict(condition_values), [], []
        for i, (field, value) in enumerate(changes.items()):
            names[f"#c{i}"] = field
            if value is None:
                removes.append(f"#c{i}")
            else:
                values[f":c{i}"] = list(value) if isinstance(value, tuple) else value
                sets.append(f"#c{i} = :c{i}")
        for i, (field, entry) in enumerate((appended or {}).items()):
            names[f"#a{i}"], values[f":a{i}"], values[":empty"] = field, [entry], []
            sets.append(f"#a{i} = list_append(if_not_exists(#a{i}, :empty), :a{i})")
        expression = " ".join(part for part in (f"SET {', '.join(sets)}" if sets else "",
                                                f"REMOVE {', '.join(removes)}" if removes else "") if part)
        extra = {"ExpressionAttributeValues": to_item(values)} if values else {}
        try:
            response = self._table.client.update_item(
                TableName=self._table.name, Key=to_item(key), UpdateExpression=expression,
                ConditionExpression=condition, ExpressionAttributeNames=names, ReturnValues="ALL_NEW", **extra)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return from_item(response["Attributes"])
