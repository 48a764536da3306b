"""Health of each backend and the registry's Prometheus metrics, and who may see how much of them.

Operators (the bearer of the metrics token, or a caller from an allowed network) see every backend's
check and the registry-wide totals. Anyone else sees only what is public anyway: `/health`'s overall
status, and the default organization's totals (its modules are listed to anonymous callers); once a
deployment configures operator access, `/metrics` refuses them instead.
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.config import SERVICE_VERSION
from chalicelib.domain.errors import MetricsAccessDenied
from chalicelib.services.common import utc_now

logger = logging.getLogger(__name__)
_STARTED = time.monotonic()

# (metric, help, counter): registry-wide, for operators.
_METRICS = (
    ("spoke_modules_total", "Total number of modules", "modules_total"),
    ("spoke_versions_total", "Total number of versions", "versions_total"),
    ("spoke_users_total", "Total number of registered users", "users_total"),
    ("spoke_organizations_total", "Total number of organizations (the default one excluded)",
     "organizations_total"),
)
# The same names for anyone else, counting only the default organization (public anyway).
_PUBLIC_METRICS = (
    ("spoke_modules_total", "Total number of modules in the default organization", "module_count"),
    ("spoke_versions_total", "Total number of versions in the default organization", "version_count"),
)


def _uptime(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60}m{seconds % 60}s"


@dataclass(frozen=True)
class OperatorAccess:
    """Who is an operator: the bearer of `token()` (read once, when first needed: it may live in SSM) or a
    caller whose source address is in `networks`. Neither configured: nobody is."""

    token: Callable[[], str | None]
    networks: Sequence[str]

    @property
    def configured(self) -> bool:
        return bool(self.networks) or self._token() is not None

    def grants(self, bearer: str | None, source_ip: str) -> bool:
        expected = self._token()
        if bearer and expected is not None and hmac.compare_digest(bearer.encode(), expected.encode()):
            return True
        return self._in_networks(source_ip)

    def _token(self) -> str | None:
        try:
            return self.token() or None
        except Exception:
            logger.exception("the metrics token could not be read")
            return None

    def _in_networks(self, source_ip: str) -> bool:
        try:
            address = ipaddress.ip_address(source_ip)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(network) for network in self.networks)


class SystemService:
    def __init__(self, checks: Mapping[str, Callable[[], object]], totals: Callable[[], dict[str, int]],
                 public_totals: Callable[[], dict[str, int]], access: OperatorAccess) -> None:
        """`checks`: a probe per backend (dynamodb, s3, sqs); `totals`: the registry's counters;
        `public_totals`: the default organization's. All are called only when asked, so a cold `/health`
        builds no store it does not ping."""
        self._checks = dict(checks)
        self._totals = totals
        self._public_totals = public_totals
        self._access = access

    def health(self, bearer: str | None = None, source_ip: str = "") -> dict[str, Any]:
        """Every backend is probed (the status needs them all); only an operator sees each one's result."""
        checks: dict[str, dict[str, Any]] = {}
        for name, probe in self._checks.items():
            started = time.perf_counter()
            try:
                probe()
                checks[name] = {"status": "healthy",
                                "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
            except Exception:
                logger.exception("health check of %s failed", name)
                checks[name] = {"status": "unhealthy", "error": f"{name} did not answer"}
        healthy = all(c["status"] == "healthy" for c in checks.values())
        report: dict[str, Any] = {"status": "ok" if healthy else "degraded", "timestamp": utc_now(),
                        "version": SERVICE_VERSION, "uptime": _uptime(time.monotonic() - _STARTED)}
        if self._access.grants(bearer, source_ip):
            report["checks"] = checks
        return report

    def metrics(self, bearer: str | None = None, source_ip: str = "") -> str:
        """Registry-wide totals for an operator; otherwise the default organization's, or a refusal when
        the deployment restricts /metrics (MetricsAccessDenied)."""
        if self._access.grants(bearer, source_ip):
            return _exposition(_METRICS, self._totals())
        if self._access.configured:
            raise MetricsAccessDenied("GET /metrics is restricted on this deployment: send its metrics token "
                                      "(Authorization: Bearer <token>) or call from an allowed network")
        return _exposition(_PUBLIC_METRICS, self._public_totals())


def _exposition(metrics: tuple[tuple[str, str, str], ...], totals: dict[str, int]) -> str:
    lines = []
    for name, help_text, counter in metrics:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {totals.get(counter, 0)}", ""]
    return "\n".join(lines)
