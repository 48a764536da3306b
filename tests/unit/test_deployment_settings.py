"""The deployment settings that must agree with each other (they live in three files)."""
from __future__ import annotations

import json
from pathlib import Path

from chalicelib.events.batch import MAX_RECEIVES
from infra.provision import load_template

ROOT = Path(__file__).resolve().parents[2]


def test_the_compile_queue_outlasts_the_compile_function() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    queue = load_template()["Resources"]["CompileQueue"]["Properties"]
    assert queue["VisibilityTimeout"] > config["lambda_functions"]["compile_versions"]["lambda_timeout"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVES


def test_functions_that_run_protoc_get_the_layer_and_batch_failures() -> None:
    resources = load_template()["Resources"]
    assert resources["ProtocLayer"]["Type"] == "AWS::Lambda::LayerVersion"
    assert resources["APIHandler"]["Properties"]["Layers"] == [{"Ref": "ProtocLayer"}]  # no gRPC tooling
    assert resources["GrpcToolsLayer"]["Type"] == "AWS::Lambda::LayerVersion"
    assert resources["CompileVersions"]["Properties"]["Layers"] == [{"Ref": "ProtocLayer"}, {"Ref": "GrpcToolsLayer"}]
    compile_source = resources["CompileVersions"]["Properties"]["Events"]["CompileVersionsSqsEventSource"]
    assert compile_source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_events_queue_outlasts_the_delivery_function_and_reports_partial_failures() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    resources = load_template()["Resources"]
    assert resources["EventsQueue"]["Properties"]["VisibilityTimeout"] >= 6 * config["lambda_functions"][
        "deliver_events"]["lambda_timeout"]
    source = resources["DeliverEvents"]["Properties"]["Events"]["DeliverEventsSqsEventSource"]
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
