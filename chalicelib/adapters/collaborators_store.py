"""Collaborators of default-organization modules in the single table.

Each collaborator is one item in its module's collaborator partition (`keys.collaborator_key`), so
"may this user write?" is one GetItem. Their number is bounded by a counter item in the same
partition (`keys.collaborator_count_key`), moved in the same transaction as the add or the removal,
with the bound as its condition: two owners' tabs adding at once cannot pass the limit. The module's
own item (which every publish updates) is never part of these transactions.
"""
from __future__ import annotations

from typing import Any

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo import Table
from chalicelib.domain.errors import CollaboratorLimitReached
from chalicelib.services.ports import Collaborator

_FIELDS = ("org_id", "module", "user_id", "email", "added_at", "added_by")


def _collaborator_from(item: dict[str, Any]) -> Collaborator:
    return Collaborator(**{name: str(item.get(name, "")) for name in _FIELDS})


class CollaboratorsStore:
    """The CollaboratorsPort."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def add(self, collaborator: Collaborator, limit: int) -> bool:
        c = collaborator
        reasons = self._table.transact([
            {"Put": {"Item": {**keys.collaborator_key(c.org_id, c.module, c.user_id),
                              **{name: getattr(c, name) for name in _FIELDS}, "type": "collaborator"},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Update": {"Key": keys.collaborator_count_key(c.org_id, c.module),
                        "UpdateExpression": "ADD collaborator_count :one",
                        "ConditionExpression":
                            "attribute_not_exists(collaborator_count) OR collaborator_count < :limit",
                        "ExpressionAttributeValues": {":one": 1, ":limit": limit}}},
        ])
        if not reasons:
            return True
        if reasons[0] == "ConditionalCheckFailed":
            return False  # already a collaborator: nothing changed
        if reasons[1] == "ConditionalCheckFailed":
            raise CollaboratorLimitReached(
                f"Module '{c.module}' already has {limit} collaborators, the most it may have: remove one first",
                details={"module": c.module, "limit": limit})
        raise RuntimeError(f"collaborator transaction cancelled: {reasons}")

    def get(self, org_id: str, module: str, user_id: str) -> Collaborator | None:
        item = self._table.get(keys.collaborator_key(org_id, module, user_id))
        return _collaborator_from(item) if item else None

    def list(self, org_id: str, module: str) -> list[Collaborator]:
        """All of them (bounded by the limit, so one or two query pages), by user id."""
        partition = keys.collaborator_key(org_id, module, "")["PK"]
        return [_collaborator_from(item) for item in self._table.query(partition, keys.collaborators_prefix())]

    def remove(self, org_id: str, module: str, user_id: str) -> bool:
        reasons = self._table.transact([
            {"Delete": {"Key": keys.collaborator_key(org_id, module, user_id),
                        "ConditionExpression": "attribute_exists(PK)"}},
            {"Update": {"Key": keys.collaborator_count_key(org_id, module),
                        "UpdateExpression": "ADD collaborator_count :minus_one",
                        "ExpressionAttributeValues": {":minus_one": -1}}},
        ])
        if not reasons:
            return True
        if reasons[0] == "ConditionalCheckFailed":
            return False
        raise RuntimeError(f"collaborator transaction cancelled: {reasons}")
