"""Health of each backend and the registry's Prometheus metrics."""
from __future__ import annotations

import logging
import time
from typing import Callable

from chalicelib.config import SERVICE_VERSION
from chalicelib.services.common import utc_now

logger = logging.getLogger(__name__)
_STARTED = time.monotonic()

_METRICS = (
    ("spoke_modules_total", "Total number of modules", "modules_total"),
    ("spoke_versions_total", "Total number of versions", "versions_total"),
    ("spoke_users_total", "Total number of registered users", "users_total"),
    ("spoke_organizations_total", "Total number of organizations (the default one excluded)",
     "organizations_total"),
)


def _uptime(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60}m{seconds % 60}s"


class SystemService:
    def __init__(self, checks: dict[str, Callable[[], None]], totals: Callable[[], dict[str, int]]) -> None:
        """`checks`: a probe per backend (dynamodb, s3, sqs); `totals`: the metrics counters. Both are
        called only when asked, so a cold `/health` builds no store it does not ping."""
        self._checks = dict(checks)
        self._totals = totals

    def health(self) -> dict:
        checks = {}
        for name, probe in self._checks.items():
            started = time.perf_counter()
            try:
                probe()
                checks[name] = {"status": "healthy",
                                "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
            except Exception:  # noqa: BLE001 - any failure of a backend makes it unhealthy
                logger.exception("health check of %s failed", name)
                checks[name] = {"status": "unhealthy", "error": f"{name} did not answer"}
        healthy = all(c["status"] == "healthy" for c in checks.values())
        return {"status": "ok" if healthy else "degraded", "timestamp": utc_now(),
                "version": SERVICE_VERSION, "uptime": _uptime(time.monotonic() - _STARTED), "checks": checks}

    def metrics(self) -> str:
        totals = self._totals()
        lines = []
        for name, help_text, counter in _METRICS:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {totals[counter]}", ""]
        return "\n".join(lines)
