"""In-memory CountersPort for the rate-limit tests: the DynamoCounters contract without DynamoDB."""
from __future__ import annotations

from collections import Counter


class FakeCounters:
    """CountersPort (rate limits, login throttling): counts per (key, window start) like one counter item
    each; `failure` makes every call raise (the fail-open tests)."""

    def __init__(self) -> None:
        self.hits: Counter[tuple[str, int]] = Counter()
        self.expiries: dict[tuple[str, int], int] = {}
        self.failure: Exception | None = None

    def increment(self, key: str, window_start: int, expires_at: int) -> int:
        if self.failure is not None:
            raise self.failure
        self.hits[(key, window_start)] += 1
        self.expiries.setdefault((key, window_start), expires_at)
        return self.hits[(key, window_start)]

    def peek(self, key: str, window_start: int) -> int:
        if self.failure is not None:
            raise self.failure
        return self.hits[(key, window_start)]
