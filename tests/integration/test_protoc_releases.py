"""gRPC stubs in every language whose plugin the layer carries, and runtime-matched protoc releases, on
moto with the real protoc layer (localdev's build, the one Lambda runs): compile and download name a
release, /languages lists them, and two releases' ZIPs of one version coexist."""
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

from tests.integration.api import Api
from tests.integration.outbox import relay_outbox

SERVICE = """syntax = "proto3";
package acme.v1;
message Ping { string id = 1; map<string, int32> counts = 2; oneof kind { string a = 3; int64 b = 4; } }
service Pinger { rpc Call(Ping) returns (Ping); rpc Watch(Ping) returns (stream Ping); }
"""
PLAIN = 'syntax = "proto3";\npackage acme.v1;\nmessage Other { int32 x = 1; }\n'
EDITIONS = 'edition = "2023";\npackage acme.v2;\nmessage Ping { string id = 1; }\n'
# language -> the gRPC stub files of acme/v1/svc.proto
STUBS = {"go": {"acme/v1/svc_grpc.pb.go"}, "python": {"acme/v1/svc_pb2_grpc.py"},
         "java": {"acme/v1/PingerGrpc.java"}, "kotlin": {"acme/v1/PingerGrpc.java"},
         "cpp": {"acme/v1/svc.grpc.pb.h", "acme/v1/svc.grpc.pb.cc"}, "ruby": {"acme/v1/svc_services_pb.rb"},
         "php": {"Acme/V1/PingerClient.php"}, "csharp": {"Acme/V1/SvcGrpc.cs"},
         "objc": {"acme/v1/Svc.pbrpc.h", "acme/v1/Svc.pbrpc.m"}}


@pytest.fixture
def layered(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The API and the compile function run the protoc layer's binaries, as on Lambda."""
    from chalicelib import wiring
    from localdev.stack import local_protoc

    monkeypatch.setenv("SPOKE_PROTOC_PATH", local_protoc())
    wiring.reset()
    return aws_env


def _jobs(env: dict[str, str]) -> list[dict[str, Any]]:
    relay_outbox()
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=env["SPOKE_COMPILE_QUEUE_NAME"])["QueueUrl"]
    found = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            found.append(json.loads(message["Body"]))


def _run(client: Client, job: dict[str, Any]) -> None:
    event = {"Records": [{
        "messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": json.dumps(job), "md5OfBody": "",
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:spoke-test-compile", "awsRegion": "us-east-1"}]}
    assert client.lambda_.invoke("compile_versions", event).payload == {"batchItemFailures": []}


def _zip(api: Api, path: str) -> zipfile.ZipFile:
    redirect = api.get(path)
    assert redirect.status == 302, (redirect.status, redirect.body)
    return zipfile.ZipFile(io.BytesIO(requests.get(redirect.headers["Location"], timeout=10).content))


def _plugin_version(api: Api, language: str) -> str:
    """The version of `language`'s gRPC plugin, as /languages reports it from the layer."""
    [entry] = [e for e in api.get("/languages").data["languages"] if e["name"] == language]
    version: str = entry["grpc"]["version"]
    assert version
    return version


@pytest.fixture
def compiled(api: Api, client: Client, layered: dict[str, str]) -> dict[str, Any]:
    """Given a version with a service (and a file without one), compiled by its publish's job."""
    token = api.signed_up()[0]
    api.module(token, "pinger")
    published = api.publish(token, "pinger", "v1.0.0", files={"acme/v1/svc.proto": SERVICE,
                                                                "acme/v1/other.proto": PLAIN})
    assert published.status == 201, published.body
    [job] = _jobs(layered)
    _run(client, job)
    return {"token": token, "env": layered}


def test_each_language_gets_the_grpc_stubs_its_layer_plugin_makes(api: Api, compiled: dict) -> None:
    listed = {entry["name"]: entry for entry in api.get("/languages").data["languages"]}
    # The layer carries a gRPC plugin for every language that has one
    assert {name for name in STUBS if listed[name]["grpc"]["available"]} == set(STUBS)
    for language, stubs in STUBS.items():
        archive = _zip(api, f"/modules/pinger/versions/v1.0.0/download/{language}")
        names = set(archive.namelist())
        manifest = json.loads(archive.read("spoke-manifest.json"))
        # Then the stubs are there, for the file with the service only, and the manifest names the plugin
        assert stubs <= names, (language, sorted(names))
        assert not any("other" in name.lower() and ("grpc" in name.lower() or "services" in name or "rpc" in name)
                       for name in names), (language, sorted(names))
        plugin = listed[language]["grpc"]["plugin"]
        assert plugin in manifest["generator"]["plugins"] and "grpc" not in manifest
        # And the runtime names the gRPC library the stubs build against
        assert any("grpc" in entry["package"].lower() for entry in manifest["runtime"]), language


def test_languages_lists_the_layers_releases_with_their_runtimes(api: Api, layered: dict) -> None:
    listed = api.get("/languages").data
    releases = {entry["release"]: entry for entry in listed["protoc_releases"]}
    assert listed["default_protoc_release"] == "36.2" and releases["36.2"]["default"]
    assert {"3.21.12", "27.5"} <= set(releases)
    assert releases["3.21.12"]["runtimes"] | {"python": "4.21.12", "java": "3.21.12", "cpp": "3.21.12"} == \
        releases["3.21.12"]["runtimes"]
    assert (releases["3.21.12"]["editions"], releases["27.5"]["editions"]) == (False, True)
    assert releases["36.2"]["runtimes"]["cpp"] == "7.36.2" and releases["36.2"]["cpp_needs_abseil"]


def test_a_release_compiles_beside_the_default_and_states_its_runtime(api: Api, client: Client,
                                                                      compiled: dict) -> None:
    default_java = api.get("/modules/pinger/versions/v1.0.0/download/java", headers={"Accept": "application/json"})
    # When Java, C++ and Python are compiled with protoc 3.21.12
    asked = api.post("/modules/pinger/versions/v1.0.0/compile",
                     {"languages": ["java", "cpp", "python"], "protoc": "3.21.12"}, token=compiled["token"])
    assert asked.status == 202 and asked.data["compilation"]["java@3.21.12"]["status"] == "pending"
    [job] = _jobs(compiled["env"])
    assert job["protoc"] == "3.21.12"
    _run(client, job)
    # Then each release's ZIP is served, and they differ
    old = api.get("/modules/pinger/versions/v1.0.0/download/java?protoc=3.21.12",
                  headers={"Accept": "application/json"})
    assert old.status == 200 and old.data["protoc_release"] == "3.21.12"
    again = api.get("/modules/pinger/versions/v1.0.0/download/java", headers={"Accept": "application/json"})
    assert again.data["sha256"] == default_java.data["sha256"] != old.data["sha256"]
    # And each manifest states the runtime of its release
    runtimes = {}
    for language in ("java", "cpp", "python"):
        manifest = json.loads(_zip(api, f"/modules/pinger/versions/v1.0.0/download/{language}?protoc=3.21.12")
                              .read("spoke-manifest.json"))
        assert manifest["protoc_release"] == "3.21.12" and manifest["generator"]["protoc"] == "3.21.12"
        runtimes[language] = {entry["package"]: entry["version"] for entry in manifest["runtime"]}
    assert runtimes["java"]["com.google.protobuf:protobuf-java"] == "3.21.12"
    assert runtimes["cpp"] == {"protobuf": "3.21.12", "grpc++": _plugin_version(api, "cpp")}  # no Abseil before 22.x
    assert runtimes["python"]["protobuf"] == "4.21.12"
    # And Python's stubs for Debian's release come from Debian's plugin, so they load with Debian's grpcio
    assert runtimes["python"]["grpcio"] == _plugin_version(api, "cpp") == "1.51.1"
    stubs = _zip(api, "/modules/pinger/versions/v1.0.0/download/python?protoc=3.21.12").read("acme/v1/svc_pb2_grpc.py")
    default_stubs = _zip(api, "/modules/pinger/versions/v1.0.0/download/python").read("acme/v1/svc_pb2_grpc.py")
    assert b"GRPC_GENERATED_VERSION" not in stubs and b"GRPC_GENERATED_VERSION" in default_stubs
    default_cpp = json.loads(_zip(api, "/modules/pinger/versions/v1.0.0/download/cpp").read("spoke-manifest.json"))
    assert {entry["package"] for entry in default_cpp["runtime"]} == {"protobuf", "abseil-cpp", "grpc++"}
    # And the version's compiled_languages stay the default release's names; `compilation` has both
    version = api.get("/modules/pinger/versions/v1.0.0").data
    assert "java" in version["compiled_languages"] and "java@3.21.12" not in version["compiled_languages"]
    assert version["compilation"]["java@3.21.12"]["status"] == "succeeded"


def test_a_download_of_a_release_not_compiled_yet_enqueues_it(api: Api, client: Client, compiled: dict) -> None:
    pending = api.get("/modules/pinger/versions/v1.0.0/download/ruby?protoc=27.5")
    assert pending.status == 202 and pending.data["status"] == "pending"
    [job] = _jobs(compiled["env"])
    assert (job["languages"], job["protoc"]) == (["ruby"], "27.5")
    _run(client, job)
    manifest = json.loads(_zip(api, "/modules/pinger/versions/v1.0.0/download/ruby?protoc=27.5")
                          .read("spoke-manifest.json"))
    assert manifest["protoc_release"] == "27.5"
    assert [(e["package"], e["version"], e["runtime_source"]) for e in manifest["runtime"]] == [
        ("google-protobuf", "4.27.5", "table"), ("grpc", _plugin_version(api, "ruby"), "plugin")]


def test_an_unknown_release_is_a_400_naming_the_known_ones(api: Api, compiled: dict) -> None:
    refused = api.post("/modules/pinger/versions/v1.0.0/compile", {"languages": ["java"], "protoc": "2.6.1"},
                       token=compiled["token"])
    assert (refused.status, refused.code) == (400, "UNKNOWN_PROTOC_RELEASE")
    assert "3.21.12" in refused.body["error"]["message"]
    download = api.get("/modules/pinger/versions/v1.0.0/download/java?protoc=latest")
    assert (download.status, download.code) == (400, "UNKNOWN_PROTOC_RELEASE")
    assert _jobs(compiled["env"]) == []


def test_editions_with_a_release_before_27_fail_with_a_clear_message(api: Api, client: Client,
                                                                     compiled: dict) -> None:
    api.module(compiled["token"], "modern")
    assert api.publish(compiled["token"], "modern", "v1.0.0", files={"acme/v2/ping.proto": EDITIONS}).status == 201
    _jobs(compiled["env"])
    asked = api.post("/modules/modern/versions/v1.0.0/compile", {"languages": ["java"], "protoc": "3.21.12"},
                     token=compiled["token"])
    assert asked.status == 202
    [job] = _jobs(compiled["env"])
    _run(client, job)
    failed = api.get("/modules/modern/versions/v1.0.0/download/java?protoc=3.21.12")
    assert (failed.status, failed.code) == (422, "COMPILATION_FAILED")
    assert "protoc 3.21.12 cannot compile editions" in failed.body["error"]["message"]


def test_two_downloads_at_once_of_a_release_not_compiled_yet_enqueue_one_job(api: Api, client: Client,
                                                                             compiled: dict) -> None:
    # Given a download of an uncompiled release, and a second identical download that runs right after the
    # first has read the version item and before it writes (as two Lambda containers would interleave)
    from chalicelib.adapters import aws

    url = "/modules/pinger/versions/v1.0.0/download/php?protoc=29.5"
    state: dict[str, Any] = {"consistent": False, "second": None}

    def note_consistent_read(params: dict[str, Any], **_: Any) -> None:
        body = json.loads(params["body"])
        state["consistent"] = body.get("ConsistentRead") is True and body["Key"]["SK"]["S"].startswith("VER#")

    def second_download_after_first_read(**_: Any) -> None:
        if state["consistent"] and state["second"] is None:
            state["second"] = "running"
            state["second"] = api.get(url)

    events = aws.client("dynamodb").meta.events
    events.register("before-call.dynamodb.GetItem", note_consistent_read, unique_id="note-reads")
    events.register("after-call.dynamodb.GetItem", second_download_after_first_read, unique_id="second-download")
    try:
        first = api.get(url)
    finally:
        events.unregister("before-call.dynamodb.GetItem", unique_id="note-reads")
        events.unregister("after-call.dynamodb.GetItem", unique_id="second-download")
    second = state["second"]
    # Then both are told it is pending, under the second's job (the first's write lost the race and re-read)
    assert (first.status, second.status) == (202, 202)
    assert first.data["job"] == second.data["job"]
    # And exactly one compile job was queued
    [job] = _jobs(compiled["env"])
    assert (job["languages"], job["protoc"], job["job"]) == (["php"], "29.5", first.data["job"])
