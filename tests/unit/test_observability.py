"""Logs and metrics as an operator reads them: one JSON access line per request with both request ids,
route, organization, caller, status and latency; a 500's line with both ids and the stack; a line per
SQS record; CloudWatch EMF for the metrics; X-Ray only when asked for.

No AWS: a small Chalice app with Spoke's middleware and api_view, and the batch processor on a
hand-made SQS event. Lines are read from stdout (where Lambda's log and EMF agent read them).
"""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from chalice import Blueprint, Chalice
from chalice.app import SQSEvent
from chalice.test import Client

from chalicelib import wiring
from chalicelib.adapters import telemetry
from chalicelib.adapters.telemetry import EmfMetrics


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                pass
    return lines


def emf(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if "_aws" in line]


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {"SPOKE_TABLE_NAME": "t", "SPOKE_BUCKET_NAME": "b", "SPOKE_COMPILE_QUEUE_NAME": "c",
                        "SPOKE_EVENTS_QUEUE_NAME": "e", "SPOKE_JWT_SECRET": "s" * 40, "SPOKE_STAGE": "unit"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE", raising=False)
    wiring.reset()
    yield
    wiring.reset()


@pytest.fixture
def app(settings_env: None) -> Chalice:
    """Spoke's request-id and access-log middleware around two api_view routes: one fine, one broken."""
    from chalicelib.api.http import api_view, envelope
    from chalicelib.api.middleware import request_id_middleware
    from chalicelib.api.observability import access_log_middleware

    application = Chalice(app_name="spoke")  # as Chalice's default would: the "spoke" logger at ERROR
    bp = Blueprint(__name__)
    view = api_view(lambda: bp.current_request)

    @bp.route("/things/{name}", methods=["GET"])
    @view
    def thing(name: str) -> Any:
        logging.getLogger("spoke.things").info("looked at %s", name)
        return envelope({"name": name})

    @bp.route("/broken", methods=["GET"])
    @view
    def broken() -> Any:
        raise RuntimeError("the disk is on fire")

    application.register_middleware(access_log_middleware, "http")
    application.register_middleware(request_id_middleware, "http")
    application.register_blueprint(bp)
    return application


def test_a_request_has_one_access_line_with_its_ids_route_status_and_latency(app, capsys):
    with Client(app) as client:
        capsys.readouterr()
        # When a request is served
        response = client.http.get("/things/gizmo", headers={"X-Request-ID": "req-observed-1"})
    assert response.status_code == 200
    lines = json_lines(capsys.readouterr().out)
    # Then exactly one access line describes it, with the route pattern (not the path)
    [access] = [line for line in lines if line.get("logger") == "spoke.access"]
    assert access["service"] == "spoke" and access["level"] == "INFO"
    assert access["request_id"] == "req-observed-1" == response.headers["X-Request-ID"]
    assert access["lambda_request_id"]  # Lambda's id (chalice's local gateway makes one up)
    assert (access["method"], access["route"], access["path"], access["status"]) == (
        "GET", "/things/{name}", "/things/gizmo", 200)
    assert access["latency_ms"] >= 0 and isinstance(access["cold_start"], bool)
    assert "organization" in access or "principal" not in access  # anonymous: neither is set
    # And the view's own INFO line is JSON too, with the same ids (Chalice's ERROR level no longer hides it)
    [own] = [line for line in lines if line.get("logger") == "spoke.things"]
    assert own["message"] == "looked at gizmo" and own["request_id"] == "req-observed-1"
    assert own["lambda_request_id"] == access["lambda_request_id"]


def test_a_500_logs_both_ids_and_the_stack_and_counts_an_error(app, capsys):
    with Client(app) as client:
        capsys.readouterr()
        response = client.http.get("/broken")
    assert response.status_code == 500
    body = json.loads(response.body)
    lines = json_lines(capsys.readouterr().out)
    # The id the user is told to report is in the error line, with Lambda's and the stack
    [error] = [line for line in lines if line.get("level") == "ERROR"]
    assert error["request_id"] == body["meta"]["request_id"] == response.headers["X-Request-ID"]
    assert error["lambda_request_id"]
    assert error["exception_name"] == "RuntimeError" and "the disk is on fire" in error["exception"]
    assert "the disk is on fire" not in response.body.decode()  # never to the caller
    [access] = [line for line in lines if line.get("logger") == "spoke.access"]
    assert access["status"] == 500 and access["route"] == "/broken"
    # And the metrics of the request say so: Requests, Errors and Latency for its route
    [blob] = emf(lines)
    assert blob["route"] == "GET /broken" and blob["Requests"] == [1.0] and blob["Errors"] == [1.0]
    assert {m["Name"]: m["Unit"] for m in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]} == {
        "Requests": "Count", "Errors": "Count", "Latency": "Milliseconds"}


def test_chalices_own_answers_are_logged_too(app, capsys):
    with Client(app) as client:
        capsys.readouterr()
        response = client.http.post("/things/gizmo", body=b"{}", headers={"Content-Type": "application/json"})
    assert response.status_code == 405  # Chalice's MethodNotAllowed, before any view ran
    lines = json_lines(capsys.readouterr().out)
    [access] = [line for line in lines if line.get("logger") == "spoke.access"]
    assert access["status"] == 405 and access["request_id"] == response.headers["X-Request-ID"]
    [blob] = emf(lines)
    assert blob["ClientErrors"] == [1.0] and "Errors" not in blob


def _sqs_event(*bodies: str, receive: str = "1") -> SQSEvent:
    records = [{"messageId": f"m{i}", "receiptHandle": f"r{i}", "body": body,
                "attributes": {"ApproximateReceiveCount": receive},
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:spoke-unit-compile"}
               for i, body in enumerate(bodies, 1)]
    context = SimpleNamespace(aws_request_id="lambda-req-7", function_name="spoke-unit-compile_versions")
    return SQSEvent({"Records": records}, context)


def test_each_sqs_record_has_a_line_with_its_message_queue_outcome_and_receive_count(settings_env, capsys):
    from chalicelib.events.batch import process_batch

    def handle(body: dict, final: bool) -> None:
        wiring.services().metrics.count("Handled")
        if body.get("fail"):
            raise ValueError("bad record")

    # When a batch of two records is processed and the second fails
    result = process_batch(_sqs_event('{"ok": 1}', '{"fail": 1}', receive="2"), handle)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    lines = json_lines(capsys.readouterr().out)
    records = {line["message_id"]: line for line in lines if line.get("logger") == "spoke.events"}
    # Then each has its line: message id, queue, function, Lambda's id, outcome, duration, receive count
    assert records["m1"]["outcome"] == "done" and records["m2"]["outcome"] == "failed"
    for line in records.values():
        assert line["queue"] == "spoke-unit-compile" and line["receive_count"] == 2
        assert line["function_name"] == "spoke-unit-compile_versions"
        assert line["lambda_request_id"] == "lambda-req-7" and line["duration_ms"] >= 0
    assert records["m2"]["exception_name"] == "ValueError"
    # And the batch's metrics were written once, at its end
    [blob] = emf(lines)
    assert blob["Handled"] == [1.0, 1.0] and (blob["service"], blob["stage"]) == ("spoke", "unit")


def test_emf_lines_group_metrics_by_their_dimensions(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "SpokeTest")
    written: list[str] = []
    metrics = EmfMetrics("prod", write=written.append)
    metrics.count("CompileFailed", 1, {"language": "go"})
    metrics.milliseconds("CompileDuration", 1250.0, {"language": "go"})
    metrics.count("CompileFailures", 1)
    # When flushed: one EMF line per set of dimensions, each with the defaults service and stage
    blobs = [json.loads(line) for line in written] if metrics.flush() else []
    by_dims = {tuple(b["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]): b for b in blobs}
    assert set(by_dims) == {("service", "stage", "language"), ("service", "stage")}
    go = by_dims[("service", "stage", "language")]
    assert go["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "SpokeTest"
    assert (go["language"], go["CompileFailed"], go["CompileDuration"]) == ("go", [1.0], [1250.0])
    alarm = by_dims[("service", "stage")]
    assert (alarm["service"], alarm["stage"], alarm["CompileFailures"]) == ("spoke", "prod", [1.0])
    # And a second flush writes nothing new
    assert metrics.flush() == [] and len(written) == 2


def test_the_spoke_logger_is_set_up_once_whoever_configured_it_before(capsys):
    Chalice(app_name="spoke")  # Chalice's default: ERROR, its own plain handler
    telemetry.configure_logging("WARNING")
    telemetry.configure_logging("INFO")
    Chalice(app_name="spoke")
    logger = telemetry.configure_logging("INFO")
    assert len(logger.handlers) == 1 and logger.level == logging.INFO and logger.propagate  # Chalice stops it
    logging.getLogger("spoke.audit").debug("not shown at INFO")
    logging.getLogger("spoke.audit").info("shown", extra={"audit": {"action": "POST /modules"}})
    [line] = json_lines(capsys.readouterr().out)
    assert (line["message"], line["audit"], line["logger"]) == ("shown", {"action": "POST /modules"}, "spoke.audit")


def test_tracing_off_never_imports_the_xray_sdk() -> None:
    code = ("import sys\nfrom chalicelib.adapters import telemetry\n"
            "telemetry.configure_logging('INFO'); assert telemetry.configure_tracing(False) is None\n"
            "telemetry.EmfMetrics('x', write=lambda line: None).count('A'); print('aws_xray_sdk' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_tracing_on_gives_powertools_tracer() -> None:
    # In a child process: the Tracer patches botocore for the whole process
    code = ("import sys\nfrom chalicelib.adapters import telemetry\n"
            "tracer = telemetry.configure_tracing(True)\n"
            "with tracer.provider.in_subsegment('## GET /health') as segment:\n"
            "    segment.put_annotation('route', '/health')\n"
            "print(type(tracer).__name__, telemetry.configure_tracing(True) is tracer, 'aws_xray_sdk' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "Tracer True True"


def test_tracing_asked_for_without_the_xray_sdk_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "aws_xray_sdk", None)  # as if not installed
    monkeypatch.setitem(telemetry._state, "tracer", None)
    with pytest.raises(RuntimeError, match="SPOKE_TRACING is true but aws-xray-sdk is not installed"):
        telemetry.configure_tracing(True)


@pytest.mark.parametrize("variable, value, message", [
    ("SPOKE_LOG_LEVEL", "LOUD", "SPOKE_LOG_LEVEL must be one of"),
    ("SPOKE_TRACING", "maybe", "SPOKE_TRACING must be true or false"),
    ("SPOKE_AUDIT_RETENTION_DAYS", "0", "SPOKE_AUDIT_RETENTION_DAYS")])
def test_bad_observability_settings_are_refused_at_startup(settings_env, monkeypatch, variable, value, message):
    from chalicelib.config import get_settings

    monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    with pytest.raises(ValueError, match=message):
        get_settings()
    get_settings.cache_clear()


def test_observability_settings_default_to_info_no_tracing_and_90_days(settings_env):
    from chalicelib.config import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    assert (settings.log_level, settings.tracing, settings.audit_retention_days) == ("INFO", False, 90)


def test_make_runs_quiet_console_leaves_out_info_lines_and_metrics(monkeypatch):
    from localdev.run import stack_environment

    monkeypatch.delenv("SPOKE_LOG_LEVEL", raising=False)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    # Given make run without VERBOSE: the API's INFO lines and EMF lines are off; with VERBOSE=1 they are on
    quiet, loud = stack_environment(False), stack_environment(True)
    assert (quiet["SPOKE_LOG_LEVEL"], quiet["POWERTOOLS_METRICS_DISABLED"]) == ("WARNING", "true")
    assert "SPOKE_LOG_LEVEL" not in loud and "POWERTOOLS_METRICS_DISABLED" not in loud
    # When metrics are flushed in a quiet process: nothing is written
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", quiet["POWERTOOLS_METRICS_DISABLED"])
    written: list[str] = []
    metrics = EmfMetrics("local", write=written.append)
    metrics.count("Requests")
    assert metrics.flush() == [] and written == []
