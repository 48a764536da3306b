"""When to try a request again, and how long to wait first.

Only answers that mean "nothing was done, ask later" are retried: 429 and 502/503/504 for
idempotent methods; for a POST only 429 and 503, which the server and API Gateway give before any
work starts. A dropped connection is retried only where repeating the request cannot double it.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import httpx

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
RETRY_STATUSES_UNSAFE = frozenset({429, 503})
# Codes under a retryable status that waiting does not cure.
NEVER_RETRY_CODES = frozenset({"QUOTA_EXCEEDED"})


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None if unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class RetryPolicy:
    """`max_retries` retries after the first attempt; delays are full-jitter exponential unless the
    server says how long (Retry-After), which is honoured up to `max_retry_after`."""
    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_retry_after: float = 120.0
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Full jitter (AWS architecture blog): uniform in [0, min(cap, base * 2**attempt)]."""
        return self.rng.uniform(0.0, min(self.backoff_cap, self.backoff_base * (2 ** attempt)))

    def retryable_status(self, method: str, status: int, idempotent: bool | None = None) -> bool:
        safe = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
        return status in (RETRY_STATUSES if safe else RETRY_STATUSES_UNSAFE)

    def retryable_exception(self, method: str, error: Exception, idempotent: bool | None = None) -> bool:
        """A connect failure sent nothing, so any method may repeat it; a failure mid-request only
        when repeating cannot do the work twice."""
        if isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
            return True
        safe = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
        return safe and isinstance(error, httpx.TransportError)

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds before retry number `attempt` (0-based); None when the server asks for longer than
        we are willing to wait (then the caller gets the error at once, not after a pointless wait)."""
        if retry_after is None:
            return self.backoff(attempt)
        if retry_after > self.max_retry_after:
            return None
        return retry_after
