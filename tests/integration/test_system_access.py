"""Who sees /metrics and /health's per-backend detail: nobody's other tenants' counts leak to the anonymous."""
from __future__ import annotations

import boto3
import pytest
from chalice.local import LambdaEventConverter

from chalicelib import wiring
from tests.integration.api import Api, Reply
from tests.integration.outbox import relay_outbox

TOKEN = "metrics-token-for-the-scraper-0123456789"


def values(reply: Reply) -> dict[str, int]:
    return {line.split()[0]: int(line.split()[1]) for line in reply.raw.decode().splitlines()
            if line.startswith("spoke_")}


@pytest.fixture
def registry(api: Api) -> Api:
    """Given modules in the default organization (2, one published) and in a private one (3, two published)."""
    token, _ = api.signed_up()
    assert api.post("/organizations", {"name": "Acme", "slug": "acme"}, token=token).status == 201
    for name in ("a", "b"):
        api.module(token, name)
    assert api.publish(token, "a", "v1.0.0").status == 201
    for name in ("x", "y", "z"):
        api.module(token, name, org="acme")
    for version in ("v1.0.0", "v1.1.0"):
        assert api.publish(token, "x", version, org="acme").status == 201
    relay_outbox()
    return api


def configure(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    monkeypatch.delenv("SPOKE_METRICS_ALLOWED_CIDRS", raising=False)  # the fixture's operator network
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    wiring.reset()


def test_unconfigured_anyone_sees_only_the_default_organizations_totals(registry: Api,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a deployment with no operator token or network
    configure(monkeypatch)
    # When anyone reads /metrics
    reply = registry.get("/metrics")
    # Then it counts only what anyone can list: the default organization's modules and versions
    assert reply.status == 200 and values(reply) == {"spoke_modules_total": 2, "spoke_versions_total": 1}
    # And /health says its status without any backend's detail
    health = registry.get("/health")
    assert health.status == 200 and set(health.data) == {"status", "timestamp", "version", "uptime"}


def test_the_metrics_token_opens_everything_and_the_rest_is_refused(registry: Api,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, SPOKE_METRICS_TOKEN=TOKEN)
    # The scraper with the token sees the registry-wide totals, and each backend's check
    full = registry.get("/metrics", token=TOKEN)
    assert values(full) == {"spoke_modules_total": 5, "spoke_versions_total": 3, "spoke_users_total": 1,
                            "spoke_organizations_total": 1}
    assert set(registry.get("/health", token=TOKEN).data["checks"]) == {"dynamodb", "s3", "sqs"}
    # Anyone else (no bearer, a user's own session, a wrong token) is refused in the envelope
    user_token, _ = registry.signed_up()
    for bearer in (None, user_token, TOKEN[:-1]):
        refused = registry.get("/metrics", token=bearer)
        assert (refused.status, refused.code) == (403, "METRICS_ACCESS_DENIED")
        assert "metrics token" in refused.body["error"]["message"] and "spoke_" not in refused.raw.decode()
        health = registry.get("/health", token=bearer)
        assert health.status == 200 and "checks" not in health.data


def test_the_token_can_come_from_ssm(registry: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/spoke/test/metrics", Value=TOKEN, Type="SecureString")
    configure(monkeypatch, SPOKE_METRICS_TOKEN_PARAMETER="/spoke/test/metrics")
    assert values(registry.get("/metrics", token=TOKEN))["spoke_users_total"] == 1
    assert registry.get("/metrics").status == 403


def test_an_allowed_network_is_an_operator(registry: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, SPOKE_METRICS_ALLOWED_CIDRS="10.0.0.0/8")
    # From inside the network (API Gateway's sourceIp, never a forgeable header)
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", "10.20.30.40")
    assert values(registry.get("/metrics"))["spoke_modules_total"] == 5
    assert "checks" in registry.get("/health").data
    # From outside, even claiming to be inside
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", "203.0.113.7")
    outside = registry.get("/metrics", headers={"X-Forwarded-For": "10.20.30.40"})
    assert (outside.status, outside.code) == (403, "METRICS_ACCESS_DENIED")
    assert "checks" not in registry.get("/health").data


def test_a_degraded_backend_is_named_to_operators_only(api: Api, aws_env: dict[str, str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, SPOKE_METRICS_TOKEN=TOKEN)
    boto3.client("s3", region_name="us-east-1").delete_bucket(Bucket=aws_env["SPOKE_BUCKET_NAME"])
    public = api.get("/health")
    assert public.status == 503 and public.data["status"] == "degraded" and "checks" not in public.data
    operator = api.get("/health", token=TOKEN)
    assert operator.status == 503 and operator.data["checks"]["s3"]["status"] == "unhealthy"
