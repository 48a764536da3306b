"""Modules and versions in the single table.

A version item points at its file manifest in S3 (see `blobs.py`); its metadata, the counters of its
module and the outbox messages that must follow it (its compile job, its event) are written in one
transaction, after the bytes are stored. No transaction touches an item all tenants share: the
registry's totals (`totals`) are added up from the table's stream by the outbox relay.

Search reads an index, never the organization's partition: names by prefix are a range of the
module keys; each description word has one small item per module (`search_word_key`), written in
the module's create transaction and rewritten with its description (see `domain/search.py`).
"""
from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import Any

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo import Table, from_item, to_item
from chalicelib.adapters.outbox_store import outbox_puts
from chalicelib.adapters.quota_ops import (
    compile_counter_key,
    compile_op,
    module_count_op,
    read_counter,
    stored_bytes_op,
    usage_key,
)
from chalicelib.domain.compile_status import StatusChange, compiled_languages, merge_statuses
from chalicelib.domain.errors import ModuleExists, ModuleNotFound, VersionExists
from chalicelib.domain.models import DEFAULT_ORG_ID, Module, OutboxMessage, VersionSummary
from chalicelib.domain.policy import CompatibilityPolicy
from chalicelib.domain.quotas import Quotas
from chalicelib.domain.search import SearchPage, SearchQuery, words_of
from chalicelib.domain.versions import PRERELEASE_SEPARATOR, is_release_key
from chalicelib.services.ports import FollowUp

_EDIT_ATTEMPTS = 5
_LATEST_PAGE = 10  # version items read per page while looking for the highest release
_MODULE_FIELDS = ("org_id", "name", "description", "created_at", "updated_at", "version_count", "go_package_prefix",
                  "owner_id")


def _module_from(item: dict[str, Any]) -> Module:
    values = {k: item[k] for k in _MODULE_FIELDS if item.get(k) not in (None, "")}
    if "compatibility" in item:
        values["compatibility"] = CompatibilityPolicy.model_validate(item["compatibility"])
    return Module(**values)


def _word_puts(org_id: str, module: str, words: tuple[str, ...]) -> list[dict[str, Any]]:
    """One small index item per description word; each carries all the words, so a query of several
    words reads one word's items and filters on the others."""
    return [{"Put": {"Item": {**keys.search_word_key(org_id, word, module), "module": module,
                              "words": list(words), "type": "search_word"}}} for word in words]


def _counter_update(key: dict[str, str], *counters: str) -> dict[str, Any]:
    return {"Update": {"Key": key, "UpdateExpression": "ADD " + ", ".join(f"{c} :one" for c in counters),
                       "ExpressionAttributeValues": {":one": 1}}}


class RegistryStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    # modules
    def create_module(self, module: Module, outbox: Sequence[OutboxMessage] = (), quotas: Quotas | None = None
                      ) -> None:
        """The module, its count under the plan's `modules` quota (a condition of this transaction), its
        outbox and search words. The default organization's item is never written (every tenant would
        contend on it): there the creator's own item counts."""
        if quotas is not None:
            counter = [module_count_op(quotas)]
        elif module.org_id != DEFAULT_ORG_ID:
            counter = [_counter_update(keys.org_key(module.org_id), "module_count")]
        else:
            counter = []
        reasons = self._table.transact([
            {"Put": {"Item": {**keys.module_key(module.org_id, module.name),
                              **module.model_dump(exclude={"compatibility"}),
                              "compatibility": module.compatibility.as_json(), "type": "module",
                              "search_words": list(words_of(module.description))},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
            *counter,
            *outbox_puts(outbox),
            *_word_puts(module.org_id, module.name, words_of(module.description)),
        ])
        if reasons:
            if reasons[0] == "ConditionalCheckFailed":
                raise ModuleExists(f"Module '{module.name}' already exists", details={"module": module.name})
            if quotas is not None and reasons[1] == "ConditionalCheckFailed":
                raise quotas.exceeded("modules", read_counter(self._table, usage_key(quotas), "module_count"))
            raise RuntimeError(f"module transaction cancelled: {reasons}")

    def get_module(self, org_id: str, name: str) -> Module | None:
        item = self._table.get(keys.module_key(org_id, name))
        return _module_from(item) if item else None

    def update_module(self, org_id: str, name: str, description: str, compatibility: CompatibilityPolicy,
                      go_package_prefix: str | None, updated_at: str) -> Module:
        """The editable fields and the description's word index move together: the write is conditional
        on the description it replaces, so a concurrent edit makes this one retry on the newer words."""
        key = keys.module_key(org_id, name)
        new_words = words_of(description)
        for _ in range(_EDIT_ATTEMPTS):
            current = self._table.get(key, consistent=True)
            if current is None:
                raise ModuleNotFound(f"Module '{name}' not found", details={"module": name})
            old_words = tuple(current.get("search_words", ()))  # absent on modules made before the index
            values = {":d": description, ":c": compatibility.as_json(), ":g": go_package_prefix or "",
                      ":u": updated_at, ":w": list(new_words), ":old": current.get("description", "")}
            expression = "SET description = :d, compatibility = :c, go_package_prefix = :g, updated_at = :u, " \
                         "search_words = :w"
            condition = "attribute_exists(PK) AND description = :old"
            if new_words == old_words:
                done = self._table.update_if(key, expression, condition, values)
            else:
                removed = [{"Delete": {"Key": keys.search_word_key(org_id, word, name)}}
                           for word in old_words if word not in new_words]
                reasons = self._table.transact([
                    {"Update": {"Key": key, "UpdateExpression": expression, "ConditionExpression": condition,
                                "ExpressionAttributeValues": values}},
                    *removed, *_word_puts(org_id, name, new_words)])
                if reasons and reasons[0] != "ConditionalCheckFailed":
                    raise RuntimeError(f"module edit cancelled: {reasons}")
                done = not reasons
            if done:
                return _module_from({**current, "description": description, "updated_at": updated_at,
                                     "compatibility": compatibility.as_json(),
                                     "go_package_prefix": go_package_prefix or ""})
        raise RuntimeError("module description kept changing under us")

    def assign_owner(self, org_id: str, name: str, owner_id: str) -> Module | None:
        """An owner for a module that has none (made before owners existed): conditional on it still
        having none, so two operators cannot both assign one."""
        key = keys.module_key(org_id, name)
        try:
            response = self._table.client.update_item(
                TableName=self._table.name, Key=to_item(key), UpdateExpression="SET owner_id = :o",
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(owner_id)",
                ExpressionAttributeValues=to_item({":o": owner_id}), ReturnValues="ALL_NEW")
        except self._table.client.exceptions.ConditionalCheckFailedException:
            return None
        return _module_from(from_item(response["Attributes"]))

    def list_modules(self, org_id: str, *, after: str | None, limit: int) -> tuple[list[Module], bool]:
        """Modules by name after `after`: `limit` items, and whether more exist."""
        start = keys.module_key(org_id, after)["SK"] if after is not None else None
        found: list[Module] = []
        for item in self._table.query(f"ORG#{org_id}", keys.modules_prefix(), limit=limit + 1,
                                      start_after_sk=start):
            found.append(_module_from(item))
            if len(found) > limit:
                break
        return found[:limit], len(found) > limit

    def search_modules(self, org_id: str, query: SearchQuery, *, after: str | None, skip: int, limit: int
                       ) -> SearchPage:
        """Matches by name after `after`, skipping `skip`: reads the name-prefix range of the module keys
        and the lead word's index items only as far as this page needs, then the page's other modules."""
        wanted = skip + limit + 1  # one more tells whether more follow
        streams = []
        if query.name_prefix is not None:
            streams.append(self._prefix_matches(org_id, query.name_prefix, after, wanted))
        if query.words:
            streams.append(self._word_matches(org_id, query, after, wanted))
        names: list[str] = []
        items: dict[str, dict[str, Any]] = {}
        for name, item in heapq.merge(*streams, key=itemgetter(0)):  # both streams are in name order
            if item is not None:
                items[name] = item
            if not names or names[-1] != name:
                names.append(name)
                if len(names) == wanted:
                    break
        page = names[skip:skip + limit]
        missing = [keys.module_key(org_id, n) for n in page if n not in items]
        if missing:
            items.update((item["name"], item) for item in self._table.batch_get(missing))
        return SearchPage(modules=[_module_from(items[n]) for n in page if n in items],
                          more=len(names) == wanted, matched=len(names))

    def count_search(self, org_id: str, query: SearchQuery) -> int:
        """How many modules match: Select=COUNT over the same ranges (name matches + word matches - both)."""
        total = 0
        prefix = query.name_prefix
        if prefix is not None:
            total += self._count(keys.modules_partition(org_id), keys.modules_prefix() + prefix)
        if query.words:
            lead, filters = self._word_filter(query)
            partition = keys.search_word_partition(org_id, lead)
            total += self._count(partition, keys.modules_prefix(), **filters)
            if prefix is not None:
                total -= self._count(partition, keys.modules_prefix() + prefix, **filters)
        return total

    def _prefix_matches(self, org_id: str, prefix: str, after: str | None, wanted: int
                        ) -> Iterator[tuple[str, dict[str, Any] | None]]:
        """Modules whose name starts with `prefix`, after `after`: begins_with on the module sort key."""
        if after is not None and after > prefix and not after.startswith(prefix):
            return  # the cursor is past every name with this prefix
        # DynamoDB refuses a start key outside the key condition's range: start only from inside it.
        start = keys.module_key(org_id, after)["SK"] if after is not None and after.startswith(prefix) else None
        for item in self._table.query(keys.modules_partition(org_id), keys.modules_prefix() + prefix,
                                      limit=wanted, start_after_sk=start):
            yield item["name"], item

    def _word_matches(self, org_id: str, query: SearchQuery, after: str | None, wanted: int
                      ) -> Iterator[tuple[str, dict[str, Any] | None]]:
        """Modules whose description holds every query word: the lead word's items, filtered on the others."""
        lead, filters = self._word_filter(query)
        start = keys.module_key(org_id, after)["SK"] if after is not None else None
        for item in self._table.query(keys.search_word_partition(org_id, lead), keys.modules_prefix(),
                                      limit=wanted, start_after_sk=start, **filters):
            yield item["module"], None

    @staticmethod
    def _word_filter(query: SearchQuery) -> tuple[str, dict[str, Any]]:
        lead = query.lead_word
        others = [word for word in query.words if word != lead]
        if not others:
            return lead, {}
        return lead, {"filter_expression": " AND ".join(f"contains(#words, :w{i})" for i in range(len(others))),
                      "values": {f":w{i}": word for i, word in enumerate(others)}, "names": {"#words": "words"}}

    def _count(self, pk: str, sk_prefix: str, filter_expression: str | None = None,
               values: dict[str, Any] | None = None, names: dict[str, str] | None = None) -> int:
        """Items of one key range (after the filter), counted by DynamoDB: no item comes back."""
        kwargs: dict[str, Any] = {
            "TableName": self._table.name, "Select": "COUNT",
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": to_item({":pk": pk, ":prefix": sk_prefix, **(values or {})})}
        if filter_expression:
            kwargs.update(FilterExpression=filter_expression, ExpressionAttributeNames=names or {})
        count = 0
        while True:
            response = self._table.client.query(**kwargs)
            count += response["Count"]
            if "LastEvaluatedKey" not in response:
                return count
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # versions
    def version_exists(self, org_id: str, module: str, sort_key: str) -> bool:
        return self._table.get(keys.version_key(org_id, module, sort_key)) is not None

    def create_version(self, values: dict[str, Any], updated_at: str, outbox: Sequence[OutboxMessage] = (),
                       quotas: Quotas | None = None) -> None:
        """Version item, its module's counter, dependents and outbox messages: all or nothing.

        With `quotas`, the same transaction holds the plan's quotas: the module's `version_count`, the
        stored bytes (the version's pack size) and today's compile requests (the publish asks for one)."""
        org_id, module = values["org_id"], values["module"]
        size = int(values.get("pack_size", 0))
        if quotas is not None and size > quotas.plan.stored_bytes:  # no total could take it
            raise quotas.exceeded("stored_bytes", read_counter(self._table, usage_key(quotas), "stored_bytes"))
        version_limit = ""
        limits: dict[str, Any] = {}
        guards: list[dict[str, Any]] = []
        if quotas is not None:
            version_limit = " AND (attribute_not_exists(version_count) OR version_count < :limit)"
            limits = {":limit": quotas.plan.versions_per_module}
            guards = [stored_bytes_op(quotas, size), compile_op(quotas)]
        dependents = [{"Put": {"Item": {
            **keys.dependent_key(org_id, dependency["module"], module, values["sort_key"]),
            "module": module, "version": values["version"], "depends_on": dependency["version"],
            "type": "dependent"}}} for dependency in values.get("dependencies", [])]
        reasons = self._table.transact([
            {"Put": {"Item": {**keys.version_key(org_id, module, values["sort_key"]), **values, "type": "version"},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Update": {"Key": keys.module_key(org_id, module),
                        "UpdateExpression": "ADD version_count :one SET updated_at = :now",
                        "ConditionExpression": "attribute_exists(PK)" + version_limit,
                        "ExpressionAttributeValues": {":one": 1, ":now": updated_at, **limits}}},
            *guards,
            *dependents,
            *outbox_puts(outbox),
        ])
        if not reasons:
            return
        if reasons[0] == "ConditionalCheckFailed":
            raise VersionExists(f"Version '{values['version']}' of module '{module}' already exists",
                                details={"module": module, "version": values["version"]})
        if reasons[1] == "ConditionalCheckFailed":
            current = self._table.get(keys.module_key(org_id, module), consistent=True)
            if quotas is None or current is None:
                raise ModuleNotFound(f"Module '{module}' not found", details={"module": module})
            raise quotas.exceeded("versions_per_module", int(current.get("version_count", 0)))
        if quotas is not None and reasons[2] == "ConditionalCheckFailed":
            raise quotas.exceeded("stored_bytes", read_counter(self._table, usage_key(quotas), "stored_bytes"))
        if quotas is not None and reasons[3] == "ConditionalCheckFailed":
            raise quotas.exceeded("compiles_per_day", read_counter(self._table, compile_counter_key(quotas), "hits"))
        raise RuntimeError(f"version transaction cancelled: {reasons}")

    def get_version(self, org_id: str, module: str, sort_key: str) -> dict[str, Any] | None:
        return self._table.get(keys.version_key(org_id, module, sort_key))

    def versions_below(self, org_id: str, module: str, sort_key: str, limit: int | None) -> list[dict[str, Any]]:
        """Versions of lower precedence, closest first (at most `limit`)."""
        found = []
        for item in self._table.query(keys.versions_partition(org_id, module), keys.versions_prefix(),
                                      forward=False, limit=limit,
                                      start_after_sk=keys.version_key(org_id, module, sort_key)["SK"]):
            found.append(item)
            if limit is not None and len(found) >= limit:
                break
        return found

    def latest_release(self, org_id: str, module: str) -> dict[str, Any] | None:
        """The release of highest precedence (the `latest` alias): one descending Query of the version
        keys, pre-releases filtered out by their sort key (a release's ends with the release marker, a
        pre-release's holds the separator). Pages of a few items, so the common case (the top version
        is a release) reads one item, and a run of pre-releases above it costs pages, never a scan."""
        for item in self._table.query(keys.versions_partition(org_id, module), keys.versions_prefix(),
                                      forward=False, limit=_LATEST_PAGE,
                                      filter_expression="NOT contains(#sort_key, :prerelease)",
                                      values={":prerelease": PRERELEASE_SEPARATOR},
                                      names={"#sort_key": "sort_key"}):
            if is_release_key(item["sort_key"]):
                return item
        return None

    def set_source_archive(self, org_id: str, module: str, sort_key: str, archive: dict[str, Any]) -> None:
        """Remember where a version's source ZIP is ({sha256, size}): one UpdateItem of that version's
        own item. Two first requests may both build it: same bytes, same key, same values."""
        self._table.update_existing(keys.version_key(org_id, module, sort_key), "SET source_archive = :a",
                                    {":a": archive})

    def version_names(self, org_id: str, module: str) -> list[str]:
        """Every version, lowest to highest precedence."""
        return [i["version"] for i in self._table.query(
            keys.versions_partition(org_id, module), keys.versions_prefix(), projection="version")]

    def list_versions(self, org_id: str, module: str, *, after_sort_key: str | None, limit: int
                      ) -> tuple[list[tuple[str, VersionSummary]], bool]:
        """Highest precedence first, as the contract lists them."""
        start = keys.version_key(org_id, module, after_sort_key)["SK"] if after_sort_key else None
        found = []
        for item in self._table.query(keys.versions_partition(org_id, module), keys.versions_prefix(),
                                      forward=False, limit=limit + 1, start_after_sk=start):
            found.append((item["sort_key"], VersionSummary(
                version=item["version"], description=item.get("description", ""),
                created_at=item["created_at"], file_count=item["file_count"])))
            if len(found) > limit:
                break
        return found[:limit], len(found) > limit

    def set_compilation(self, org_id: str, module: str, sort_key: str, statuses: StatusChange,
                        unless_job_finished: str | None = None, outbox: FollowUp | None = None,
                        compile_quota: Quotas | None = None) -> dict[str, Any] | None:
        """Set the status of some languages and recompute compiled_languages; returns the new item.

        The status map is read-modify-written under a condition on its revision, so two workers (a
        duplicate SQS delivery) cannot lose each other's results. `statuses` may be a function of the
        current map, evaluated on every attempt. With `unless_job_finished` (the merge guard), a
        job's statuses replace only languages that job still owns and has not finished. `outbox`
        gives the messages this change must be followed by: they are written in the same transaction.
        With `compile_quota` (a requested recompile), today's compile counter moves in that transaction,
        under the plan's `compiles_per_day`.
        """
        key = keys.version_key(org_id, module, sort_key)
        for _ in range(10):
            item = self._table.get(key, consistent=True)
            if item is None:
                return None
            current = item.get("compilation", {})
            merged = merge_statuses(current, statuses, unless_job_finished)
            messages = outbox(current, merged) if outbox else []
            if merged == current and not messages:
                return item
            compiled = compiled_languages(merged)
            revision = int(item.get("compilation_rev", 0))
            update: dict[str, Any] = {
                "Key": key,
                "UpdateExpression": "SET compilation = :new, compiled_languages = :compiled, compilation_rev = :next",
                "ConditionExpression": "attribute_not_exists(compilation_rev) OR compilation_rev = :rev",
                "ExpressionAttributeValues": {":new": merged, ":compiled": compiled, ":next": revision + 1,
                                              ":rev": revision}}
            if messages or compile_quota is not None:
                counted = [compile_op(compile_quota)] if compile_quota is not None else []
                reasons = self._table.transact([{"Update": update}, *counted, *outbox_puts(messages)])
                if compile_quota is not None and reasons and reasons[1] == "ConditionalCheckFailed":
                    raise compile_quota.exceeded("compiles_per_day", read_counter(
                        self._table, compile_counter_key(compile_quota), "hits"))
                if reasons and reasons[0] != "ConditionalCheckFailed":
                    raise RuntimeError(f"compilation transaction cancelled: {reasons}")
                written = not reasons
            else:
                written = self._table.update_if(key, update["UpdateExpression"], update["ConditionExpression"],
                                                update["ExpressionAttributeValues"])
            if written:
                return {**item, "compilation": merged, "compiled_languages": compiled}
        raise RuntimeError("compilation status kept changing under us")

    def dependents_of(self, org_id: str, module: str) -> list[dict[str, str]]:
        return [{"module": i["module"], "version": i["version"], "depends_on": i["depends_on"]}
                for i in self._table.query(keys.dependents_partition(org_id, module), "DEP#")]

    # counters
    def totals(self) -> dict[str, int]:
        item = self._table.get(keys.stats_key()) or {}
        return {k: int(item.get(k, 0)) for k in ("modules_total", "versions_total", "users_total",
                                                  "organizations_total")}

    def ping(self) -> None:
        self._table.get(keys.health_key())
