"""The quota counters of the fakes: what the adapters' conditional counters do (adapters/quota_ops.py),
in dicts. A refused write changes no counter, like a cancelled transaction."""
from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.domain.quotas import Quotas


def usage_scope(quotas: Quotas) -> tuple[str, ...]:
    """The adapter's `usage_key`: the organization, or the owner in the default organization."""
    return (quotas.org_id,) if quotas.owner_id is None else (quotas.org_id, quotas.owner_id)


def compile_scope(quotas: Quotas) -> tuple[str, ...]:
    requester = (quotas.requester_id,) if quotas.requester_id is not None else ()
    return (quotas.org_id, *requester, quotas.day)


@dataclass
class QuotaCounters:
    usage: dict[tuple[str, ...], dict[str, int]] = field(default_factory=dict)
    compiles: dict[tuple[str, ...], int] = field(default_factory=dict)

    def count(self, quotas: Quotas, counter: str) -> int:
        return self.usage.get(usage_scope(quotas), {}).get(counter, 0)

    def compiles_today(self, quotas: Quotas) -> int:
        return self.compiles.get(compile_scope(quotas), 0)

    def check_module(self, quotas: Quotas) -> None:
        if self.count(quotas, "module_count") >= quotas.plan.modules:
            raise quotas.exceeded("modules", self.count(quotas, "module_count"))

    def check_version(self, quotas: Quotas, version_count: int, size: int) -> None:
        if version_count >= quotas.plan.versions_per_module:
            raise quotas.exceeded("versions_per_module", version_count)
        if self.count(quotas, "stored_bytes") + size > quotas.plan.stored_bytes:
            raise quotas.exceeded("stored_bytes", self.count(quotas, "stored_bytes"))
        self.check_compile(quotas)

    def check_compile(self, quotas: Quotas) -> None:
        if self.compiles_today(quotas) >= quotas.plan.compiles_per_day:
            raise quotas.exceeded("compiles_per_day", self.compiles_today(quotas))

    def add(self, quotas: Quotas, counter: str, by: int = 1) -> None:
        counts = self.usage.setdefault(usage_scope(quotas), {})
        counts[counter] = counts.get(counter, 0) + by

    def add_compile(self, quotas: Quotas) -> None:
        self.compiles[compile_scope(quotas)] = self.compiles_today(quotas) + 1
