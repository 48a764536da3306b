"""Modules, versions and the global counters in the single table.

A version item points at its file manifest in S3 (see `blobs.py`); its metadata and every
counter it moves are written in one transaction, after the bytes are stored.
"""
from __future__ import annotations

from typing import Any

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo import Table
from chalicelib.domain.errors import ModuleExists, ModuleNotFound, VersionExists
from chalicelib.domain.models import Module, VersionSummary
from chalicelib.domain.policy import CompatibilityPolicy

_MODULE_FIELDS = ("org_id", "name", "description", "created_at", "updated_at", "version_count", "go_package_prefix")


def _module_from(item: dict[str, Any]) -> Module:
    values = {k: item[k] for k in _MODULE_FIELDS if item.get(k) not in (None, "")}
    if "compatibility" in item:
        values["compatibility"] = CompatibilityPolicy.model_validate(item["compatibility"])
    return Module(**values)


def _counter_update(key: dict[str, str], *counters: str) -> dict[str, Any]:
    return {"Update": {"Key": key, "UpdateExpression": "ADD " + ", ".join(f"{c} :one" for c in counters),
                       "ExpressionAttributeValues": {":one": 1}}}


class RegistryStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    # modules
    def create_module(self, module: Module) -> None:
        reasons = self._table.transact([
            {"Put": {"Item": {**keys.module_key(module.org_id, module.name), **module.model_dump(exclude={"compatibility"}),
                              "compatibility": module.compatibility.as_json(), "type": "module"},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
            _counter_update(keys.org_key(module.org_id), "module_count"),
            _counter_update(keys.stats_key(), "modules_total"),
        ])
        if reasons:
            if reasons[0] == "ConditionalCheckFailed":
                raise ModuleExists(f"Module '{module.name}' already exists", details={"module": module.name})
            raise RuntimeError(f"module transaction cancelled: {reasons}")

    def get_module(self, org_id: str, name: str) -> Module | None:
        item = self._table.get(keys.module_key(org_id, name))
        return _module_from(item) if item else None

    def update_module(self, org_id: str, name: str, description: str, compatibility: CompatibilityPolicy,
                      go_package_prefix: str | None, updated_at: str) -> Module:
        item = self._table.update_existing(
            keys.module_key(org_id, name),
            "SET description = :d, compatibility = :c, go_package_prefix = :g, updated_at = :u",
            {":d": description, ":c": compatibility.as_json(), ":g": go_package_prefix or "", ":u": updated_at})
        if item is None:
            raise ModuleNotFound(f"Module '{name}' not found", details={"module": name})
        return _module_from(item)

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

    def search_modules(self, org_id: str, query: str) -> list[Module]:
        """Every module whose name or description contains `query`, by name, in one pass over the partition."""
        return [_module_from(item) for item in self._table.query(
            f"ORG#{org_id}", keys.modules_prefix(),
            filter_expression="contains(#name, :q) OR contains(#description, :q)",
            values={":q": query}, names={"#name": "name", "#description": "description"})]

    # versions
    def version_exists(self, org_id: str, module: str, sort_key: str) -> bool:
        return self._table.get(keys.version_key(org_id, module, sort_key)) is not None

    def create_version(self, values: dict[str, Any], updated_at: str) -> None:
        """Version item, module/org/global counters: all or nothing."""
        org_id, module = values["org_id"], values["module"]
        dependents = [{"Put": {"Item": {
            **keys.dependent_key(org_id, dependency["module"], module, values["sort_key"]),
            "module": module, "version": values["version"], "depends_on": dependency["version"],
            "type": "dependent"}}} for dependency in values.get("dependencies", [])]
        reasons = self._table.transact([
            {"Put": {"Item": {**keys.version_key(org_id, module, values["sort_key"]), **values, "type": "version"},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Update": {"Key": keys.module_key(org_id, module),
                        "UpdateExpression": "ADD version_count :one SET updated_at = :now",
                        "ConditionExpression": "attribute_exists(PK)",
                        "ExpressionAttributeValues": {":one": 1, ":now": updated_at}}},
            _counter_update(keys.org_key(org_id), "version_count"),
            _counter_update(keys.stats_key(), "versions_total"),
            *dependents,
        ])
        if not reasons:
            return
        if reasons[0] == "ConditionalCheckFailed":
            raise VersionExists(f"Version '{values['version']}' of module '{module}' already exists",
                                details={"module": module, "version": values["version"]})
        if reasons[1] == "ConditionalCheckFailed":
            raise ModuleNotFound(f"Module '{module}' not found", details={"module": module})
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

    def set_compilation(self, org_id: str, module: str, sort_key: str, statuses: dict[str, dict[str, Any]],
                        unless_job_finished: str | None = None) -> dict[str, Any] | None:
        """Set the status of some languages and recompute compiled_languages; returns the new item.

        The status map is read-modify-written under a condition on its revision, so two
        workers (a duplicate SQS delivery) cannot lose each other's results.
        """
        key = keys.version_key(org_id, module, sort_key)
        for _ in range(10):
            item = self._table.get(key, consistent=True)
            if item is None:
                return None
            current = item.get("compilation", {})
            merged = dict(current)
            for language, status in statuses.items():
                previous = current.get(language, {})
                if (unless_job_finished and previous.get("status") in ("succeeded", "failed")
                        and previous.get("job") == unless_job_finished):
                    continue
                merged[language] = status
            compiled = sorted(lang for lang, status in merged.items() if status.get("status") == "succeeded")
            revision = int(item.get("compilation_rev", 0))
            if self._table.update_if(
                    key, "SET compilation = :new, compiled_languages = :compiled, compilation_rev = :next",
                    "attribute_not_exists(compilation_rev) OR compilation_rev = :rev",
                    {":new": merged, ":compiled": compiled, ":next": revision + 1, ":rev": revision}):
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
