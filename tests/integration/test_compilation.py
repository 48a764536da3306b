"""The compile pipeline: jobs on the queue, statuses per language, ZIPs behind presigned URLs."""
from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

import boto3
import pytest
import requests
from chalice.test import Client

from chalicelib.events.batch import MAX_RECEIVES
from tests.integration.api import Api
from tests.integration.outbox import relay_outbox

USER = 'syntax = "proto3";\npackage user.v1;\nmessage User { string id = 1; string email = 2; }\n'


def _queued(env: dict[str, str]) -> list[dict[str, Any]]:
    relay_outbox()  # jobs reach the queue through the outbox
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=env["SPOKE_COMPILE_QUEUE_NAME"])["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def _event(bodies: list[str], receives: int = 1) -> dict[str, Any]:
    return {"Records": [{
        "messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": body, "md5OfBody": "",
        "attributes": {"ApproximateReceiveCount": str(receives)}, "messageAttributes": {},
        "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:spoke-test-compile",
        "awsRegion": "us-east-1"} for body in bodies]}


def _run(client: Client, bodies: list[str], receives: int = 1) -> tuple[dict, dict]:
    event = _event(bodies, receives)
    return client.lambda_.invoke("compile_versions", event).payload, event


@pytest.fixture
def published(api: Api, aws_env: dict[str, str]) -> dict[str, Any]:
    """Given a published version whose compile job waits on the queue."""
    token = api.signed_up()[0]
    api.module(token, "user")
    assert api.publish(token, "user", "v1.0.0", files={"user/v1/user.proto": USER}).status == 201
    [job] = _queued(aws_env)
    return {"token": token, "job": job}


def test_publish_queues_every_language_as_pending(api: Api, published: dict) -> None:
    version = api.get("/modules/user/versions/v1.0.0").data
    assert version["compiled_languages"] == []
    assert {s["status"] for s in version["compilation"].values()} == {"pending"}
    assert set(published["job"]["languages"]) == set(version["compilation"]) >= {
        "go", "python", "java", "cpp", "csharp", "kotlin", "ruby", "php", "objc", "pyi"}
    # (the descriptor set and the sources are downloads of their own, never compiled: see test_latest_and_sources)
    assert not {"descriptor_set", "proto"} & set(version["compilation"])
    pending = api.get("/modules/user/versions/v1.0.0/download/python")
    assert pending.status == 202 and pending.data["status"] == "pending"


def test_the_compile_function_builds_zips_behind_presigned_urls(api: Api, client: Client, published: dict) -> None:
    # When the compile function handles the job
    payload, _ = _run(client, [json.dumps(published["job"])])
    # Then nothing failed as a record, and python is compiled
    assert payload == {"batchItemFailures": []}
    version = api.get("/modules/user/versions/v1.0.0").data
    assert "python" in version["compiled_languages"]
    status = version["compilation"]["python"]
    assert status["status"] == "succeeded" and status["size"] > 0
    # And download redirects to a presigned URL that serves the ZIP
    redirect = api.get("/modules/user/versions/v1.0.0/download/python")
    assert redirect.status == 302
    body = requests.get(redirect.headers["Location"], timeout=10).content
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert "user/v1/user_pb2.py" in names and "spoke-manifest.json" in names
    as_json = api.get("/modules/user/versions/v1.0.0/download/python", headers={"Accept": "application/json"})
    assert as_json.status == 200 and as_json.data["url"].startswith("http")
    assert as_json.data["sha256"] == status["sha256"]


def test_a_duplicate_delivery_does_not_compile_again(api: Api, client: Client, published: dict,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _run(client, [json.dumps(published["job"])])
    before = api.get("/modules/user/versions/v1.0.0").data["compilation"]
    from chalicelib import wiring

    calls = []
    monkeypatch.setattr(wiring.services().compilation, "_generator",
                        type("Counting", (), {"generate": lambda *a, **k: calls.append(1)})())
    payload, _ = _run(client, [json.dumps(published["job"])])
    assert payload == {"batchItemFailures": []} and calls == []
    assert api.get("/modules/user/versions/v1.0.0").data["compilation"] == before


def test_one_bad_record_fails_alone(api: Api, client: Client, published: dict) -> None:
    payload, event = _run(client, ["not json", json.dumps(published["job"])])
    assert payload == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert "python" in api.get("/modules/user/versions/v1.0.0").data["compiled_languages"]


def test_a_poison_job_marks_the_version_failed_on_its_last_attempt(api: Api, client: Client, published: dict,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib import wiring

    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("protoc crashed")

    monkeypatch.setattr(wiring.services().compilation._generator, "generate", explode)
    payload, _ = _run(client, [json.dumps(published["job"])], receives=1)
    assert len(payload["batchItemFailures"]) == 1
    # (the failed receive gave its claim back: the next receive need not wait for the lease to expire)
    assert api.get("/modules/user/versions/v1.0.0").data["compilation"]["python"]["status"] == "pending"
    payload, _ = _run(client, [json.dumps(published["job"])], receives=MAX_RECEIVES)
    assert len(payload["batchItemFailures"]) == 1  # still reported, so SQS moves it to the DLQ
    assert api.get("/modules/user/versions/v1.0.0").data["compilation"]["python"]["status"] == "failed"
    failed = api.get("/modules/user/versions/v1.0.0/download/python")
    assert (failed.status, failed.code) == (422, "COMPILATION_FAILED")


def test_recompile_and_unknown_languages(api: Api, published: dict, aws_env: dict[str, str]) -> None:
    again = api.post("/modules/user/versions/v1.0.0/compile", {"languages": ["python"]}, token=published["token"])
    assert again.status == 202 and again.data["compilation"]["python"]["status"] == "pending"
    [job] = _queued(aws_env)
    assert job["languages"] == ["python"] and job["job"] != published["job"]["job"]
    unknown = api.post("/modules/user/versions/v1.0.0/compile", {"languages": ["cobol"]}, token=published["token"])
    assert (unknown.status, unknown.code) == (400, "UNKNOWN_LANGUAGE")
    download = api.get("/modules/user/versions/v1.0.0/download/cobol")
    assert (download.status, download.code) == (400, "UNKNOWN_LANGUAGE")
    listed = api.get("/languages").data
    assert {"go", "python", "java", "cpp", "csharp"} <= {entry["name"] for entry in listed["languages"]}
    assert listed["versions"]["protoc"]



def test_a_compile_over_its_bound_fails_each_language_with_the_bound(api: Api, client: Client, published: dict,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib import wiring

    # Given the compile function's protoc runs under a bound these sources exceed
    monkeypatch.setenv("SPOKE_COMPILE_TIMEOUT_SECONDS", "0.001")
    wiring.reset()
    # When the job runs
    payload, _ = _run(client, [json.dumps(published["job"])])
    # Then it is done (not retried), and every language that needs protoc failed saying which bound
    assert payload == {"batchItemFailures": []}
    compilation = api.get("/modules/user/versions/v1.0.0").data["compilation"]
    bound = "protoc went over its time limit of 0.001 s"
    builtin = sorted(set(compilation) - {"go"})  # go also needs protoc-gen-go installed
    assert len(builtin) >= 8
    assert {name: (compilation[name]["status"], compilation[name]["error"]) for name in builtin} == {
        name: ("failed", bound) for name in builtin}
    failed = api.get("/modules/user/versions/v1.0.0/download/python")
    assert (failed.status, failed.code) == (422, "COMPILATION_FAILED") and bound in failed.body["error"]["message"]
