"""What an operator finds in the logs of the real app (moto, chalice.test.Client): an access line for
every answer (429s included) with the caller and organization, the audit lines that Chalice's logger
used to swallow, a 500 traceable by the id its body gives, and the request's metrics as EMF."""
from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import wiring
from tests.integration.api import Api


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.fixture
def acme(api: Api) -> dict[str, Any]:
    owner, owner_id = api.signed_up("owner@acme.test")
    org = api.post("/organizations", {"name": "Acme Corp", "slug": "acme"}, token=owner).data
    return {"owner": owner, "owner_id": owner_id, "org": org["id"]}


def test_a_mutation_has_its_access_line_its_audit_line_and_its_metrics(api: Api, acme: dict[str, Any],
                                                                       capsys) -> None:
    capsys.readouterr()
    # When the owner creates a module in Acme
    created = api.post("/modules", {"name": "user"}, token=acme["owner"], org="acme")
    assert created.status == 201
    lines = _lines(capsys.readouterr().out)
    request_id = created.headers["X-Request-ID"]
    # Then one access line says who, where, what and how it went
    [access] = [line for line in lines if line.get("logger") == "spoke.access"]
    assert {k: access[k] for k in ("request_id", "method", "route", "status", "organization", "principal")} == {
        "request_id": request_id, "method": "POST", "route": "/modules", "status": 201,
        "organization": acme["org"], "principal": acme["owner_id"]}
    assert access["lambda_request_id"] and "latency_ms" in access and "cold_start" in access
    # And the audit line is written (INFO, through the same JSON formatter)
    [audit] = [line for line in lines if line.get("logger") == "spoke.audit"]
    assert audit["level"] == "INFO" and audit["request_id"] == request_id
    assert (audit["audit"]["action"], audit["audit"]["organization"]) == ("POST /modules", acme["org"])
    # And the request's metrics are one EMF line: namespace Spoke, dimensions service, stage and route
    [blob] = [line for line in lines if "_aws" in line]
    directive = blob["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Spoke" and directive["Dimensions"] == [["service", "stage", "route"]]
    assert (blob["service"], blob["route"], blob["Requests"]) == ("spoke", "POST /modules", [1.0])
    assert blob["stage"] == wiring.services().settings.stage


def test_a_publish_is_counted(api: Api, acme: dict[str, Any], capsys) -> None:
    api.module(acme["owner"], "user", org="acme")
    capsys.readouterr()
    assert api.publish(acme["owner"], "user", "v1.0.0", org="acme").status == 201
    blobs = [line for line in _lines(capsys.readouterr().out) if "_aws" in line]
    [publishes] = [b for b in blobs if "Publishes" in b]
    assert publishes["Publishes"] == [1.0]
    assert publishes["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "stage"]]


def test_an_unexpected_failure_is_logged_with_the_id_the_user_reports(api: Api, acme: dict[str, Any],
                                                                     monkeypatch, capsys) -> None:
    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("dynamo ate my homework")

    monkeypatch.setattr(wiring.services().modules, "create", broken)
    capsys.readouterr()
    # When a create fails unexpectedly
    reply = api.post("/modules", {"name": "user"}, token=acme["owner"], org="acme")
    assert reply.status == 500 and reply.code == "INTERNAL_ERROR"
    lines = _lines(capsys.readouterr().out)
    # Then the id in the body finds the ERROR line, which has Lambda's id and the stack
    [error] = [line for line in lines if line.get("level") == "ERROR"]
    assert error["request_id"] == reply.body["meta"]["request_id"]
    assert error["lambda_request_id"] and error["organization"] == acme["org"]
    assert "dynamo ate my homework" in error["exception"] and error["exception_name"] == "RuntimeError"
    [access] = [line for line in lines if line.get("logger") == "spoke.access"]
    assert access["status"] == 500
    [blob] = [line for line in lines if "_aws" in line]
    assert blob["Errors"] == [1.0]


def test_a_429_has_its_access_line(aws_env: dict[str, str], monkeypatch, capsys) -> None:
    # Given anonymous callers allowed two requests an hour
    monkeypatch.setenv("SPOKE_PLANS", json.dumps({"free": {"requests_per_hour": 2}}))
    wiring.reset()
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        replies = [client.http.get("/modules") for _ in range(3)]
    assert [r.status_code for r in replies] == [200, 200, 429]
    statuses = [line["status"] for line in _lines(capsys.readouterr().out) if line.get("logger") == "spoke.access"]
    assert statuses == [200, 200, 429]
