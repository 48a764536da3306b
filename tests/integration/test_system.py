"""Health, metrics, request ids, hidden failures, and the no-Scan rule."""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.adapters import aws
from tests.integration.api import Api
from tests.integration.conftest import ScanIssued
from tests.integration.outbox import relay_outbox


def test_health_checks_each_backend(api: Api) -> None:
    reply = api.get("/health")
    assert reply.status == 200
    assert reply.data["status"] == "ok" and reply.data["version"]
    assert {name: check["status"] for name, check in reply.data["checks"].items()} == {
        "dynamodb": "healthy", "s3": "healthy", "sqs": "healthy"}


def test_health_is_degraded_when_a_backend_is_gone(api: Api, aws_env: dict[str, str]) -> None:
    # Given the bucket disappears
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.delete_bucket(Bucket=aws_env["SPOKE_BUCKET_NAME"])
    # Then health says which backend is unhealthy, without AWS error text
    reply = api.get("/health")
    assert reply.status == 503 and reply.data["status"] == "degraded"
    assert reply.data["checks"]["s3"]["status"] == "unhealthy"
    assert reply.data["checks"]["dynamodb"]["status"] == "healthy"
    assert "NoSuchBucket" not in reply.raw.decode()


def test_metrics_come_from_counters(api: Api) -> None:
    token, _ = api.signed_up()
    api.module(token, "a")
    api.module(token, "b")
    api.publish(token, "a", "v1.0.0")
    relay_outbox()  # the totals are added up from the table's stream
    # (read from 127.0.0.1, the operator network the fixture configures: test_system_access.py has the rest)
    reply = api.get("/metrics")
    assert reply.headers["Content-Type"].startswith("text/plain")
    text = reply.raw.decode()
    assert "# TYPE spoke_modules_total gauge\nspoke_modules_total 2\n" in text
    assert "# TYPE spoke_versions_total gauge\nspoke_versions_total 1\n" in text
    assert "spoke_users_total 1\n" in text


def test_every_response_has_a_request_id(api: Api) -> None:
    mine = api.get("/health", headers={"X-Request-ID": "trace-12345678"})
    assert mine.headers["X-Request-ID"] == "trace-12345678" == mine.body["meta"]["request_id"]
    generated = api.get("/modules/none")
    assert generated.headers["X-Request-ID"].startswith("req-")
    assert api.get("/metrics").headers["X-Request-ID"]


def test_a_500_shows_no_stack_trace_or_aws_text(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given DynamoDB fails with an AWS error
    def broken(**_: object) -> None:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "secret AWS detail arn:aws:x"}},
                          "GetItem")

    aws.session().events.register("before-call.dynamodb.GetItem", broken)
    # When a request needs it
    reply = api.get("/modules/user")
    # Then the caller gets a plain 500 in the envelope
    assert (reply.status, reply.code) == (500, "INTERNAL_ERROR")
    text = reply.raw.decode()
    assert "Traceback" not in text and "arn:aws" not in text and "GetItem" not in text
    assert reply.headers["X-Request-ID"] == reply.body["meta"]["request_id"]


def test_the_scan_guard_catches_a_scan(aws_env: dict[str, str]) -> None:
    # The guard every integration test runs under really fails a Scan.
    with pytest.raises(ScanIssued):
        aws.client("dynamodb").scan(TableName=aws_env["SPOKE_TABLE_NAME"])


def test_the_jwt_secret_can_come_from_ssm(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    import jwt

    from chalicelib import wiring

    # Given the secret only in an SSM SecureString parameter
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/spoke/test/jwt", Value="p" * 48, Type="SecureString")
    monkeypatch.delenv("SPOKE_JWT_SECRET")
    monkeypatch.setenv("SPOKE_JWT_SECRET_PARAMETER", "/spoke/test/jwt")
    wiring.reset()
    # When a user signs in
    token, user_id = api.signed_up()
    # Then the token is signed with the parameter's value
    assert jwt.decode(token, "p" * 48, algorithms=["HS256"])["sub"] == user_id
