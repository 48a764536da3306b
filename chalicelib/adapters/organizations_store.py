"""Organizations, slugs and memberships in the single table.

The organization's item holds its counters, and the invariants that span members are conditions on
them, written in the same transaction as the membership: `owner_count` (an owner leaves only while
`owner_count > 1`, so two owners leaving at once cannot leave none) and `member_count` (under the
plan's `members` quota when one is given). Items from before `owner_count` existed get it on first
need, counted from the members (`_backfill_owner_count`). Items from before plans have no `plan`:
they read as the free plan. Only the operator changes a plan (`set_plan`).
"""
from __future__ import annotations

from typing import Any

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo import Table, from_item, to_item
from chalicelib.adapters.quota_ops import compile_counter_key, read_counter, usage_key
from chalicelib.domain.errors import LastOwner, MemberExists, MemberNotFound, OrganizationExists, OrganizationNotFound
from chalicelib.domain.models import Member, Organization
from chalicelib.domain.quotas import Quotas, Usage, quota_exceeded
from chalicelib.domain.roles import Role

_ORG_FIELDS = ("id", "name", "slug", "plan", "created_at", "member_count", "module_count")


def _org_from(item: dict[str, Any]) -> Organization:
    return Organization(**{k: item[k] for k in _ORG_FIELDS if k in item})


def _member_from(item: dict[str, Any]) -> Member:
    return Member(org_id=item["org_id"], user_id=item["user_id"], email=item["email"],
                  role=Role(item["role"]), joined_at=item["joined_at"])


class OrganizationsStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def _member_item(self, member: Member) -> dict[str, Any]:
        return {**keys.member_key(member.org_id, member.user_id),
                **keys.member_index_key(member.org_id, member.user_id),
                **member.model_dump(mode="json"), "type": "member"}

    def create_organization(self, org: Organization, owner: Member) -> None:
        reasons = self._table.transact([
            {"Put": {"Item": {**keys.slug_key(org.slug), "org_id": org.id},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Put": {"Item": {**keys.org_key(org.id), **org.model_dump(exclude={"is_default"}), "type": "org",
                              "module_count": 0, "version_count": 0, "owner_count": 1, "webhook_count": 0},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Put": {"Item": self._member_item(owner)}},
        ])
        if reasons:
            if reasons[0] == "ConditionalCheckFailed":
                raise OrganizationExists(f"An organization with slug '{org.slug}' already exists")
            raise RuntimeError(f"organization transaction cancelled: {reasons}")

    def get_organization(self, org_id: str) -> Organization | None:
        item = self._table.get(keys.org_key(org_id))
        return _org_from(item) if item and "id" in item else None

    def org_id_for_slug(self, slug: str) -> str | None:
        item = self._table.get(keys.slug_key(slug))
        return item["org_id"] if item else None

    def counters(self, org_id: str) -> dict[str, int]:
        """The organization item's counters (the default organization's module_count comes from the
        table's stream: no request writes that shared item)."""
        item = self._table.get(keys.org_key(org_id)) or {}
        return {k: int(item.get(k, 0)) for k in ("module_count", "version_count", "member_count")}

    def rename_organization(self, org_id: str, name: str) -> Organization:
        return _org_from({**self._set(org_id, "name", name), "name": name})

    def set_plan(self, org_id: str, plan: str) -> tuple[Organization, str]:
        """The operator's change of plan: the organization after it, and the plan it had before (one write,
        so the plan reported as before is the one this write replaced)."""
        before = self._set(org_id, "plan", plan)
        return _org_from({**before, "plan": plan}), str(before.get("plan") or "free")

    def _set(self, org_id: str, field: str, value: str) -> dict[str, Any]:
        """Set one attribute of an existing organization; its item as it was before."""
        try:
            response = self._table.client.update_item(
                TableName=self._table.name, Key=to_item(keys.org_key(org_id)), UpdateExpression="SET #f = :v",
                ConditionExpression="attribute_exists(PK) AND attribute_exists(id)",
                ExpressionAttributeNames={"#f": field}, ExpressionAttributeValues=to_item({":v": value}),
                ReturnValues="ALL_OLD")
        except self._table.client.exceptions.ConditionalCheckFailedException:
            raise OrganizationNotFound(f"Organization '{org_id}' not found",
                                       details={"organization": org_id}) from None
        return from_item(response["Attributes"])

    def usage(self, quotas: Quotas) -> Usage:
        """What the organization (in the default organization: the user) holds now."""
        counted = self._table.get(usage_key(quotas), consistent=True) or {}
        org = counted if quotas.owner_id is None else {}
        return Usage(modules=int(counted.get("module_count", 0)), stored_bytes=int(counted.get("stored_bytes", 0)),
                     members=int(org.get("member_count", 0)), webhooks=int(org.get("webhook_count", 0)),
                     compiles_today=read_counter(self._table, compile_counter_key(quotas), "hits"))

    def organizations_of(self, user_id: str) -> list[tuple[Organization, Role]]:
        memberships = list(self._table.query(f"USER#{user_id}", "ORG#", index="GSI1"))
        orgs = {o["id"]: _org_from(o) for o in self._table.batch_get(
            [keys.org_key(m["org_id"]) for m in memberships])}
        return sorted(((orgs[m["org_id"]], Role(m["role"])) for m in memberships if m["org_id"] in orgs),
                      key=lambda pair: pair[0].created_at)

    def get_member(self, org_id: str, user_id: str) -> Member | None:
        item = self._table.get(keys.member_key(org_id, user_id))
        return _member_from(item) if item else None

    def list_members(self, org_id: str) -> list[Member]:
        return [_member_from(i) for i in self._table.query(f"ORG#{org_id}", keys.members_prefix())]

    def add_member(self, member: Member, max_members: int | None = None) -> None:
        """The membership and the organization's counts; with `max_members` (the plan's quota), only while
        `member_count` stays within it (QuotaExceeded), in the same transaction."""
        owner = member.role is Role.OWNER
        org_update: dict[str, Any] = {"Key": keys.org_key(member.org_id), "UpdateExpression": "ADD member_count :one",
                                      "ExpressionAttributeValues": {":one": 1}}
        conditions = []
        if owner:  # the owner count moves only from a known start
            org_update["UpdateExpression"] = "ADD member_count :one, owner_count :one"
            conditions.append("attribute_exists(owner_count)")
        if max_members is not None:
            conditions.append("(attribute_not_exists(member_count) OR member_count < :max)")
            org_update["ExpressionAttributeValues"] = {":one": 1, ":max": max_members}
        if conditions:
            org_update["ConditionExpression"] = " AND ".join(conditions)
        for attempt in range(2):
            reasons = self._table.transact([
                {"Put": {"Item": self._member_item(member), "ConditionExpression": "attribute_not_exists(PK)"}},
                {"Update": org_update},
            ])
            if not reasons:
                return
            if reasons[0] == "ConditionalCheckFailed":
                raise MemberExists(f"'{member.email}' is already a member of this organization")
            if reasons[1] == "ConditionalCheckFailed" and max_members is not None:
                members = read_counter(self._table, keys.org_key(member.org_id), "member_count")
                if members >= max_members:
                    raise quota_exceeded("members", members, max_members)
            if reasons[1] == "ConditionalCheckFailed" and attempt == 0 and self._backfill_owner_count(member.org_id):
                continue  # an organization from before owner_count: counted now, try again
            raise RuntimeError(f"member transaction cancelled: {reasons}")

    def remove_member(self, org_id: str, user_id: str, role: Role) -> None:
        """Delete the membership if it still has `role`; an owner only while another owner remains.

        One transaction: the member's delete (conditional on its role) and the organization's counters
        (conditional on `owner_count > 1` for an owner), so concurrent removals are serialised by
        DynamoDB and the last owner always stays."""
        owner = role is Role.OWNER
        for attempt in range(2):
            org_update: dict[str, Any] = {
                "Key": keys.org_key(org_id), "ConditionExpression": "attribute_exists(PK)",
                "UpdateExpression": "ADD member_count :minus" + (", owner_count :minus" if owner else ""),
                "ExpressionAttributeValues": {":minus": -1}}
            if owner:
                org_update["ConditionExpression"] = "owner_count > :one"
                org_update["ExpressionAttributeValues"] = {":minus": -1, ":one": 1}
            reasons = self._table.transact([
                {"Delete": {"Key": keys.member_key(org_id, user_id),
                            "ConditionExpression": "attribute_exists(PK) AND #role = :role",
                            "ExpressionAttributeNames": {"#role": "role"},
                            "ExpressionAttributeValues": {":role": role.value}}},
                {"Update": org_update},
            ])
            if not reasons:
                return
            if reasons[0] == "ConditionalCheckFailed":
                raise MemberNotFound(f"User '{user_id}' is not a member of this organization",
                                     details={"user_id": user_id})
            if reasons[1] == "ConditionalCheckFailed" and owner:
                if attempt == 0 and self._backfill_owner_count(org_id):
                    continue  # an organization from before owner_count: counted now, try again
                raise LastOwner("An organization keeps at least one owner: add another owner first")
            raise RuntimeError(f"member removal cancelled: {reasons}")

    def _backfill_owner_count(self, org_id: str) -> bool:
        """Give an organization item from before `owner_count` its count; False if it had one already."""
        if "owner_count" in (self._table.get(keys.org_key(org_id), consistent=True) or {"owner_count": None}):
            return False
        owners = sum(1 for m in self._table.query(f"ORG#{org_id}", keys.members_prefix(), projection="#r",
                                                  names={"#r": "role"}) if m.get("role") == Role.OWNER.value)
        self._table.update_if(keys.org_key(org_id), "SET owner_count = :n",
                              "attribute_exists(PK) AND attribute_not_exists(owner_count)", {":n": owners})
        return True
