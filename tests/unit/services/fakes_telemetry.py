"""In-memory fakes of the observability ports: MetricsPort (what services counted) and AuditStorePort
(the trail in a list, with the adapter's order, filters and a failure switch)."""
from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.domain.audit import AuditQuery, AuditRecord


@dataclass
class FakeMetrics:
    """MetricsPort: every count and duration, as (name, value, dimensions)."""

    counted: list[tuple[str, float, dict[str, str]]] = field(default_factory=list)
    durations: list[tuple[str, float, dict[str, str]]] = field(default_factory=list)

    def count(self, name: str, value: float = 1, dimensions: dict[str, str] | None = None) -> None:
        self.counted.append((name, value, dict(dimensions or {})))

    def milliseconds(self, name: str, value: float, dimensions: dict[str, str] | None = None) -> None:
        self.durations.append((name, value, dict(dimensions or {})))

    def total(self, name: str, **dimensions: str) -> float:
        return sum(value for n, value, dims in self.counted if n == name and dims == dimensions)


@dataclass
class FakeAuditStore:
    """AuditStorePort: records keyed by the adapter's sort key (time, then request id), newest first."""

    items: dict[tuple[str, str], tuple[AuditRecord, int]] = field(default_factory=dict)
    failing: bool = False

    def put(self, record: AuditRecord, expires_at_epoch: int) -> None:
        if self.failing:
            raise ConnectionError("the audit store is down")
        assert record.organization is not None
        self.items[(record.organization, f"AT#{record.at}#{record.request_id}")] = (record, expires_at_epoch)

    def list(self, query: AuditQuery) -> tuple[list[tuple[str, AuditRecord]], bool]:
        rows = sorted(((sk, record) for (org, sk), (record, _) in self.items.items() if org == query.org_id),
                      key=lambda row: row[0], reverse=True)
        rows = [(sk, r) for sk, r in rows if (query.after is None or sk < query.after)
                and (query.actor is None or r.actor == query.actor)
                and (query.action is None or r.action == query.action)]
        return rows[:query.limit], len(rows) > query.limit
