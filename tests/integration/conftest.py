"""Integration fixtures: moto in-process, resources from the infra template, chalice.test.Client."""
from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib import wiring
from chalicelib.adapters import aws, keys
from infra.provision import provision
from tests.integration.api import Api
from tests.plans import GENEROUS_PLANS


class ScanIssued(AssertionError):
    pass


def _refuse_scan(**_: object) -> None:
    raise ScanIssued("a request path issued a DynamoDB Scan")


class SharedItemInTransaction(AssertionError):
    pass


def _refuse_shared_items(params: dict, **_: object) -> None:
    """On DynamoDB, transactions that touch one item conflict (TransactionConflict); an item that every
    tenant's writes touch (the global totals) would make every create contend with every other."""
    for operation in params.get("TransactItems", []):
        (kind, body), = operation.items()
        key = body.get("Key") or body.get("Item") or {}
        partition = (key.get("PK") or {}).get("S", "")
        if (partition.startswith(keys.SHARED_PARTITION_PREFIXES)
                or (partition, (key.get("SK") or {}).get("S")) in keys.SHARED_ITEMS):
            raise SharedItemInTransaction(f"a transaction wrote {partition}/{(key.get('SK') or {}).get('S')} "
                                          f"({kind}), an item all tenants share")


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, jwt_secret: str) -> Iterator[dict[str, str]]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.reset_clients()
        wiring.reset()
        env = provision("test", boto3.session.Session(region_name="us-east-1"))
        for key, value in {**env, "SPOKE_JWT_SECRET": jwt_secret, "SPOKE_STAGE": "test",
                           "SPOKE_PASSWORD_HASH_TIME_COST": "1", "SPOKE_PASSWORD_HASH_MEMORY_KIB": "8192",
                           "SPOKE_PLANS": GENEROUS_PLANS,
                           # As the local stage: the test client's 127.0.0.1 is the operator (/metrics, /health)
                           "SPOKE_METRICS_ALLOWED_CIDRS": "127.0.0.1/32"}.items():
            monkeypatch.setenv(key, value)
        # Every client the application creates refuses Scan: no request path may scan.
        aws.session().events.register("before-call.dynamodb.Scan", _refuse_scan)
        # ... and no transaction touches an item that all tenants share.
        aws.session().events.register("before-parameter-build.dynamodb.TransactWriteItems", _refuse_shared_items)
        yield env
        aws.reset_clients()
        wiring.reset()


@pytest.fixture
def layer_protoc(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """protoc and its plugins from the layer the compile function runs (built and unpacked once)."""
    from localdev.stack import local_protoc

    path = local_protoc()
    monkeypatch.setenv("SPOKE_PROTOC_PATH", path)
    return path


@pytest.fixture
def client(aws_env: dict[str, str]) -> Iterator[Client]:
    from app import app

    with Client(app) as test_client:
        yield test_client


@pytest.fixture
def api(client: Client) -> Api:
    return Api(client)
