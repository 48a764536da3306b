"""Health of each backend and the registry's Prometheus metrics."""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Callable

from chalicelib.config import SERVICE_VERSION
from chalicelib.services.common import utc_now

if TYPE_CHECKING:  # annotations only
    from chalicelib.services.ports import BlobsPort, QueuesPort, RegistryPort

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
    def __init__(self, registry: RegistryPort, blobs: BlobsPort, queues: QueuesPort) -> None:
        self._registry = registry
        self._checks: dict[str, Callable[[], None]] = {
            "dynamodb": registry.ping, "s3": blobs.ping, "sqs": queues.ping}

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
        totals = self._registry.totals()
        lines = []
        for name, help_text, counter in _METRICS:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {totals[counter]}", ""]
        return "\n".join(lines)
