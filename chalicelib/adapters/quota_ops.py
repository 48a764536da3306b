"""The quota conditions, as operations of the transactions that make usage grow.

Each quota is a counter and a condition on it in the same transaction as the write it guards, so
concurrent writes cannot pass a limit together (DynamoDB serialises them on the counter's item).
Where each counter lives:

- a named organization: its own item (`module_count`, `stored_bytes`, `member_count`, `webhook_count`);
- the default organization: never its item (every tenant would contend on it), but the user's
  `owner_modules_key` item (`module_count`, `stored_bytes`);
- versions per module: the module item's `version_count`;
- compile requests per day: one item per organization (default: per user) and UTC day, with a TTL.

The usage shown in QUOTA_EXCEEDED is read once, after the write was refused, never before it.
"""
from __future__ import annotations

from typing import Any

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo import Table
from chalicelib.domain.quotas import COMPILES, Quotas

Key = dict[str, str]
_UNDER = "(attribute_not_exists({counter}) OR {counter} < :limit)"


def usage_key(quotas: Quotas) -> Key:
    """The item counting modules and stored bytes."""
    if quotas.owner_id is not None:
        return keys.owner_modules_key(quotas.org_id, quotas.owner_id)
    return keys.org_key(quotas.org_id)


def compile_counter_key(quotas: Quotas) -> Key:
    if quotas.requester_id is not None:
        return keys.owner_daily_quota_key(quotas.org_id, quotas.requester_id, COMPILES, quotas.day)
    return keys.daily_quota_key(quotas.org_id, COMPILES, quotas.day)


def _exists(quotas: Quotas) -> str:
    """A named organization's item exists: a quota write never creates a phantom organization."""
    return "attribute_exists(PK) AND " if quotas.owner_id is None else ""


def module_count_op(quotas: Quotas) -> dict[str, Any]:
    return {"Update": {"Key": usage_key(quotas), "UpdateExpression": "ADD module_count :one",
                       "ConditionExpression": _exists(quotas) + _UNDER.format(counter="module_count"),
                       "ExpressionAttributeValues": {":one": 1, ":limit": quotas.plan.modules}}}


def stored_bytes_op(quotas: Quotas, size: int) -> dict[str, Any]:
    """Add `size` unless the total would pass the limit (the caller refuses `size > limit` itself)."""
    return {"Update": {"Key": usage_key(quotas), "UpdateExpression": "ADD stored_bytes :size",
                       "ConditionExpression": _exists(quotas) + "(attribute_not_exists(stored_bytes) OR "
                                                                 "stored_bytes <= :room)",
                       "ExpressionAttributeValues": {":size": size, ":room": quotas.plan.stored_bytes - size}}}


def compile_op(quotas: Quotas) -> dict[str, Any]:
    return {"Update": {"Key": compile_counter_key(quotas),
                       "UpdateExpression": "ADD hits :one SET expires_at_epoch = if_not_exists(expires_at_epoch, :ttl)",
                       "ConditionExpression": _UNDER.format(counter="hits"),
                       "ExpressionAttributeValues": {":one": 1, ":limit": quotas.plan.compiles_per_day,
                                                     ":ttl": quotas.day_expires_at}}}


def read_counter(table: Table, key: Key, attribute: str) -> int:
    """A counter's value (0 when absent): read only to report a refusal."""
    item = table.get(key, consistent=True) or {}
    return int(item.get(attribute, 0))
