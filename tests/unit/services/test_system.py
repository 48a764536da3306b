"""Who sees how much of /health and /metrics (services/system.py, on fakes: no AWS)."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from chalicelib.domain.errors import MetricsAccessDenied
from chalicelib.services.system import OperatorAccess, SystemService

TOKEN = "operator-token-0123456789abcdef0123456789"
TOTALS = {"modules_total": 7, "versions_total": 9, "users_total": 3, "organizations_total": 2}
DEFAULT_ORG = {"module_count": 4, "version_count": 5, "member_count": 0}


def system(token: str | None = None, networks: tuple[str, ...] = (),
           probes: dict[str, Callable[[], None]] | None = None) -> SystemService:
    checks = probes if probes is not None else {"dynamodb": lambda: None, "s3": lambda: None}
    return SystemService(checks, totals=lambda: dict(TOTALS), public_totals=lambda: dict(DEFAULT_ORG),
                         access=OperatorAccess(token=lambda: token, networks=networks))


def values(text: str) -> dict[str, int]:
    return {line.split()[0]: int(line.split()[1]) for line in text.splitlines() if line.startswith("spoke_")}


def test_with_nothing_configured_anyone_sees_only_the_default_organizations_totals() -> None:
    # Given a deployment that configured no operator access
    service = system()
    # When anyone reads the metrics
    text = service.metrics(None, "198.51.100.7")
    # Then they count the default organization only: no registry-wide, user or organization totals
    assert values(text) == {"spoke_modules_total": 4, "spoke_versions_total": 5}
    assert "in the default organization" in text
    # And /health says how it is, without each backend's detail
    report = service.health(None, "198.51.100.7")
    assert report["status"] == "ok" and "checks" not in report
    assert set(report) == {"status", "timestamp", "version", "uptime"}


def test_the_metrics_token_shows_everything_and_anything_else_is_refused() -> None:
    service = system(token=TOKEN)
    # The operator's bearer sees the registry-wide totals and each check
    assert values(service.metrics(TOKEN, "198.51.100.7")) == {
        "spoke_modules_total": 7, "spoke_versions_total": 9, "spoke_users_total": 3, "spoke_organizations_total": 2}
    assert set(service.health(TOKEN, "198.51.100.7")["checks"]) == {"dynamodb", "s3"}
    # Anyone else: no metrics at all (not even the public ones) and no detail
    for bearer in (None, "", TOKEN[:-1], TOKEN + "x", "some-users-session-jwt"):
        with pytest.raises(MetricsAccessDenied) as refused:
            service.metrics(bearer, "198.51.100.7")
        assert refused.value.code == "METRICS_ACCESS_DENIED" and "metrics token" in refused.value.message
        assert "checks" not in service.health(bearer, "198.51.100.7")


@pytest.mark.parametrize(("address", "operator"), [
    ("10.1.2.3", True), ("10.255.255.255", True), ("11.0.0.1", False), ("2001:db8::5", True),
    ("2001:db9::5", False), ("unknown", False), ("", False)])
def test_allowed_networks_are_operators(address: str, operator: bool) -> None:
    service = system(networks=("10.0.0.0/8", "2001:db8::/32"))
    assert ("checks" in service.health(None, address)) is operator
    if operator:
        assert values(service.metrics(None, address))["spoke_users_total"] == 3
    else:
        with pytest.raises(MetricsAccessDenied):
            service.metrics(None, address)


def test_a_degraded_backend_is_named_only_to_operators() -> None:
    def gone() -> None:
        raise ConnectionError("bucket arn:aws:s3:::secret-bucket is gone")

    service = system(token=TOKEN, probes={"dynamodb": lambda: None, "s3": gone})
    public = service.health(None, "198.51.100.7")
    assert public["status"] == "degraded" and "checks" not in public and "arn:aws" not in str(public)
    detail = service.health(TOKEN, "198.51.100.7")
    assert detail["checks"]["s3"] == {"status": "unhealthy", "error": "s3 did not answer"}


def test_an_unreadable_token_grants_nothing_and_health_still_answers() -> None:
    def unreadable() -> str:
        raise RuntimeError("SSM is down")

    service = SystemService({"dynamodb": lambda: None}, totals=lambda: dict(TOTALS),
                            public_totals=lambda: dict(DEFAULT_ORG),
                            access=OperatorAccess(token=unreadable, networks=()))
    assert service.health("anything", "198.51.100.7")["status"] == "ok"
    assert values(service.metrics("anything", "198.51.100.7")) == {"spoke_modules_total": 4,
                                                                   "spoke_versions_total": 5}
