"""`make run`'s console: the API's requests and the worker's jobs, not the embedded AWS's access log.

A developer watching `make run` wants to see what their calls did (a line per compile job and per event,
failures with their retry) without moto's `POST / 200` for every AWS call; `make run VERBOSE=1` brings
those back. The console of a whole stack is checked by tests/e2e/test_readme_walkthrough.py and
tests/e2e/test_local_logs.py; these tests pin the pieces.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from chalice import Chalice

from localdev import worker
from localdev.console import verbose_from_env
from localdev.run import parse_args, stack_environment
from localdev.worker import QueuePoller, job_line

COMPILE_JOB = json.dumps({"org_id": "default", "module": "user", "version": "v1.0.0", "sort_key": "k",
                          "languages": ["go", "python"], "job": "j1"})


def _event(name: str, org: str = "default", **data: Any) -> str:
    return json.dumps({"id": "evt-1", "event": name, "created_at": "2026-01-01T00:00:00Z", "organization": org,
                       "data": data})


@pytest.mark.parametrize("value, verbose", [("1", True), ("true", True), ("YES", True), ("on", True),
                                            ("", False), ("0", False), ("no", False), (None, False)])
def test_spoke_verbose_turns_the_full_log_on(value: str | None, verbose: bool) -> None:
    # Given SPOKE_VERBOSE as `make run VERBOSE=1` (or a developer's shell) sets it
    env = {} if value is None else {"SPOKE_VERBOSE": value}
    # Then the stack's processes read the choice from it
    assert verbose_from_env(env) is verbose


def test_make_run_hands_verbose_to_every_process_of_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no SPOKE_VERBOSE in the developer's shell
    monkeypatch.delenv("SPOKE_VERBOSE", raising=False)
    # When make run starts plain, or with --verbose (make run VERBOSE=1)
    quiet, loud = parse_args([]), parse_args(["--verbose"])
    # Then the stack's environment says so to the embedded AWS and the worker
    assert verbose_from_env(stack_environment(quiet.verbose)) is False
    assert verbose_from_env(stack_environment(loud.verbose)) is True


@pytest.fixture
def werkzeug_level() -> Iterator[logging.Logger]:
    access = logging.getLogger("werkzeug")
    before = access.level
    yield access
    access.setLevel(before)


def test_the_embedded_aws_access_log_is_off_unless_verbose(werkzeug_level: logging.Logger) -> None:
    from localdev.embedded_aws import configure_logging

    # When the embedded AWS starts as make run starts it
    configure_logging(verbose=False)
    # Then werkzeug's per-request lines (INFO) are dropped, its errors are not
    assert not werkzeug_level.isEnabledFor(logging.INFO)
    assert werkzeug_level.isEnabledFor(logging.ERROR)

    # When it starts with --verbose
    configure_logging(verbose=True)
    # Then every request is logged again
    assert werkzeug_level.isEnabledFor(logging.INFO)


@pytest.fixture
def sdk_levels() -> Iterator[list[logging.Logger]]:
    loggers = [logging.getLogger(name) for name in worker.SDK_LOGGERS]
    before = [sdk.level for sdk in loggers]
    yield loggers
    for sdk, level in zip(loggers, before, strict=True):
        sdk.setLevel(level)


def test_the_worker_keeps_the_aws_sdk_quiet_unless_verbose(sdk_levels: list[logging.Logger]) -> None:
    # When the worker starts as make run starts it: botocore's "Found credentials ..." lines are dropped
    worker.configure_logging(verbose=False)
    assert not any(sdk.isEnabledFor(logging.INFO) for sdk in sdk_levels)
    assert all(sdk.isEnabledFor(logging.WARNING) for sdk in sdk_levels)
    # When it starts verbose: they are back
    worker.configure_logging(verbose=True)
    assert all(sdk.isEnabledFor(logging.INFO) for sdk in sdk_levels)


def test_a_compile_job_is_one_line_with_its_module_version_and_time() -> None:
    assert job_line(COMPILE_JOB, 1.234, failed=False) == "compile job user@v1.0.0 (2 languages) ran in 1.2 s"


def test_a_failed_job_says_it_comes_back() -> None:
    body = json.dumps({**json.loads(COMPILE_JOB), "org_id": "org-42", "languages": ["go"]})
    assert job_line(body, 0.5, failed=True) == (
        "compile job org-42/user@v1.0.0 (1 language) failed after 0.5 s; retried in 2 s")


def test_a_compilation_event_names_what_failed_and_why() -> None:
    # Given the event a compile job ends with, Go having failed
    body = _event("version.compilation_failed", module="user", version="v1.0.0", job="j1",
                  succeeded=["cpp", "python"], failed={"go": "protoc-gen-go: unable to determine import path\n..."})
    # Then its line says how many languages succeeded, which failed and protoc's first line
    assert job_line(body, 0.01, failed=False) == (
        "event version.compilation_failed: user@v1.0.0, 2 languages succeeded; "
        "failed: go (protoc-gen-go: unable to determine import path)")


def test_events_and_deliveries_have_lines_of_their_own() -> None:
    assert job_line(_event("version.compiled", module="user", version="v1.0.0", succeeded=["go"], failed={}),
                    0.01, False) == "event version.compiled: user@v1.0.0, 1 language succeeded"
    assert job_line(_event("module.created", org="org-9", module="user"), 0.01, False) == \
        "event module.created: org-9/user"
    assert job_line(_event("version.published", module="user", version="v1.1.0"), 2.0, True) == \
        "event version.published: user@v1.1.0: handling failed after 2.0 s; retried in 2 s"
    delivery = json.dumps({"type": "delivery", "org": "org-9", "webhook": "wh-1", "delivery": "d-1", "attempt": 3})
    assert job_line(delivery, 0.25, False) == "webhook delivery d-1 attempt 3 (webhook wh-1) ran in 0.2 s"
    assert job_line("not json", 0.1, False) == "queue message (not JSON) ran in 0.1 s"


class FakeSqs:
    """Records what the poller does with each message after the handler ran."""

    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.returned: list[str] = []

    def get_queue_url(self, QueueName: str) -> dict[str, str]:
        return {"QueueUrl": f"http://sqs/{QueueName}"}

    def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        return {"Attributes": {"QueueArn": "arn:aws:sqs:us-east-1:123456789012:compile"}}

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:
        self.deleted.append(ReceiptHandle)

    def change_message_visibility(self, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: int) -> None:
        self.returned.append(ReceiptHandle)


def test_the_worker_prints_a_line_per_job_even_inside_the_chalice_app(caplog: pytest.LogCaptureFixture) -> None:
    # Given the Chalice app loaded in the worker (Chalice sets its "spoke" logger to ERROR, unpropagated)
    Chalice(app_name="spoke")
    sqs = FakeSqs()
    second = json.dumps({**json.loads(COMPILE_JOB), "version": "v1.1.0"})
    handler = lambda event, context: {"batchItemFailures": [{"itemIdentifier": "m2"}]}  # noqa: E731
    poller = QueuePoller("compile", handler, 5, threading.Event(), sqs=sqs)
    caplog.set_level(logging.INFO)

    # When a batch of two compile jobs is handled and the second fails
    poller._invoke([{"MessageId": "m1", "ReceiptHandle": "r1", "Body": COMPILE_JOB},
                    {"MessageId": "m2", "ReceiptHandle": "r2", "Body": second}])

    # Then the console has one line for each, the failure with its retry
    lines = [r.getMessage() for r in caplog.records if r.name == worker.logger.name]
    assert lines[0].startswith("compile job user@v1.0.0 (2 languages) ran in ")
    assert lines[1].startswith("compile job user@v1.1.0 (2 languages) failed after ")
    # And the queue contract is untouched: the done job deleted, the failed one back for a retry
    assert sqs.deleted == ["r1"] and sqs.returned == ["r2"]


def test_an_odd_message_is_still_settled_with_a_plain_line(caplog: pytest.LogCaptureFixture) -> None:
    # Given a message the summary cannot read (languages is not a list)
    sqs = FakeSqs()
    poller = QueuePoller("compile", lambda event, context: {"batchItemFailures": []}, 5, threading.Event(), sqs=sqs)
    caplog.set_level(logging.INFO)
    odd = json.dumps({"module": "user", "languages": 5})

    # When it is handled
    poller._invoke([{"MessageId": "m1", "ReceiptHandle": "r1", "Body": odd}])

    # Then the console says so plainly and the message is deleted as the handler asked
    assert any("m1 handled" in r.getMessage() for r in caplog.records if r.name == worker.logger.name)
    assert sqs.deleted == ["r1"]
