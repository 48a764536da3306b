"""Compile statuses under at-least-once delivery: leases on `running`, and the merge guard.

A receive claims its languages with a lease. A receive cut off by the function's timeout leaves its
claim behind; once the lease has expired (SQS hands the message out again only after its
visibility timeout, which outlasts the lease) the next receive resumes, and the last receive marks
the language failed. Results of a job never replace what that job has already finished.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from chalicelib import wiring
from chalicelib.services.compilation import CUT_OFF
from tests.integration.api import Api
from tests.integration.outbox import relay_outbox

T0 = datetime(2030, 1, 1, tzinfo=UTC)


class Killed(BaseException):
    """What the runtime does at the function's timeout: the code stops, no `except Exception` runs."""


def ok(languages: list[str]) -> Any:
    return SimpleNamespace(outputs={lang: SimpleNamespace(ok=True, zip_bytes=f"zip of {lang}".encode(), error=None)
                                    for lang in languages})


def broken(languages: list[str]) -> Any:
    return SimpleNamespace(outputs={lang: SimpleNamespace(ok=False, zip_bytes=b"", error="protoc said no")
                                    for lang in languages})


class ScriptedGenerator:
    """Answers the n-th generate() with the n-th step (a function of the languages asked for)."""

    def __init__(self, *steps: Callable[[list[str]], Any]) -> None:
        self.steps = list(steps)
        self.calls = 0

    def generate(self, files: Any, dependency_files: Any, languages: list[str], **_: Any) -> Any:
        self.calls += 1
        return self.steps[self.calls - 1](languages)

    def versions(self) -> dict[str, str]:
        return {}


@pytest.fixture
def clock(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """Given the compile service's clock in the test's hands (leases are 900 s, the default)."""
    now = [T0]
    monkeypatch.setattr(wiring.services().compilation, "_clock", lambda: now[0])
    return now


@pytest.fixture
def owner(api: Api) -> str:
    """Given the signed-in developer who owns `user` (in the default organization only they may recompile it)."""
    return api.signed_up()[0]


@pytest.fixture
def job(api: Api, aws_env: dict[str, str], owner: str) -> dict[str, Any]:
    """Given a published version and a python-only compile job for it, as the compile queue holds it."""
    token = owner
    api.module(token, "user")
    assert api.publish(token, "user", "v1.0.0").status == 201
    assert api.post("/modules/user/versions/v1.0.0/compile", {"languages": ["python"]}, token=token).status == 202
    relay_outbox()
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=aws_env["SPOKE_COMPILE_QUEUE_NAME"])["QueueUrl"]
    jobs = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    sqs.purge_queue(QueueUrl=url)
    return next(j for j in jobs if j["languages"] == ["python"])


def python_status(api: Api) -> dict[str, Any]:
    return api.get("/modules/user/versions/v1.0.0").data["compilation"]["python"]


def announced(aws_env: dict[str, str]) -> list[dict[str, Any]]:
    """The compile events the relay has put on the events queue so far."""
    relay_outbox()
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=aws_env["SPOKE_EVENTS_QUEUE_NAME"])["QueueUrl"]
    found = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return [b for b in found if b["event"].startswith("version.compil")]
        found += [json.loads(m["Body"]) for m in messages]


def use(generator: ScriptedGenerator, monkeypatch: pytest.MonkeyPatch) -> ScriptedGenerator:
    monkeypatch.setattr(wiring.services().compilation, "_generator", generator)
    return generator


def test_a_running_compile_holds_a_lease_that_a_duplicate_receive_respects(
        api: Api, job: dict[str, Any], clock: list[datetime], monkeypatch: pytest.MonkeyPatch) -> None:
    compilation = wiring.services().compilation
    # Given a receive that the function's timeout cuts off mid-compile
    generator = use(ScriptedGenerator(lambda _: (_ for _ in ()).throw(Killed())), monkeypatch)
    with pytest.raises(Killed):
        compilation.run_job(job, final_attempt=False)
    # Then the language is running under a lease of SPOKE_COMPILE_LEASE_SECONDS
    status = python_status(api)
    assert status["status"] == "running" and status["lease_expires_at"] == "2030-01-01T00:15:00Z"
    # When another copy of the message arrives while the lease holds
    clock[0] = T0 + timedelta(seconds=899)
    compilation.run_job(job, final_attempt=False)
    # Then it leaves the claim alone: nothing compiled twice
    assert generator.calls == 1 and python_status(api)["status"] == "running"


def test_a_compile_cut_off_by_the_timeout_is_resumed_by_the_next_receive(
        api: Api, job: dict[str, Any], clock: list[datetime], aws_env: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    compilation = wiring.services().compilation
    # Given a receive cut off by the timeout
    generator = use(ScriptedGenerator(lambda _: (_ for _ in ()).throw(Killed()), ok), monkeypatch)
    with pytest.raises(Killed):
        compilation.run_job(job, final_attempt=False)
    # When SQS hands the message out again after its visibility timeout (960 s: the lease has expired)
    clock[0] = T0 + timedelta(seconds=960)
    compilation.run_job(job, final_attempt=False)
    # Then that receive resumed the compile and finished it, and announced it once
    assert generator.calls == 2
    status = python_status(api)
    assert status["status"] == "succeeded" and "lease_expires_at" not in status
    assert [e["event"] for e in announced(aws_env)] == ["version.compiled"]


def test_the_last_receive_marks_a_compile_cut_off_before_as_failed(
        api: Api, client: Any, job: dict[str, Any], clock: list[datetime], aws_env: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    compilation = wiring.services().compilation
    kill = lambda _: (_ for _ in ()).throw(Killed())  # noqa: E731
    generator = use(ScriptedGenerator(kill, kill), monkeypatch)
    # Given the first two receives were both cut off by the timeout
    for receive in range(2):
        clock[0] = T0 + timedelta(seconds=960 * receive)
        with pytest.raises(Killed):
            compilation.run_job(job, final_attempt=False)
    # When the compile function gets the message for the last time (the queue's maxReceiveCount)
    clock[0] = T0 + timedelta(seconds=960 * 2)
    record = {"messageId": "m-3", "receiptHandle": "r", "body": json.dumps(job), "md5OfBody": "",
              "attributes": {"ApproximateReceiveCount": "3"}, "messageAttributes": {}, "eventSource": "aws:sqs",
              "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:compile", "awsRegion": "us-east-1"}
    payload = client.lambda_.invoke("compile_versions", {"Records": [record]}).payload
    # Then it does not start a compile that would be cut off again with nobody left to record it:
    # the language is failed, saying why, the message is done, and the job's end is announced once
    assert payload == {"batchItemFailures": []} and generator.calls == 2
    status = python_status(api)
    assert status["status"] == "failed" and status["error"] == CUT_OFF
    download = api.get("/modules/user/versions/v1.0.0/download/python")
    assert (download.status, download.code) == (422, "COMPILATION_FAILED")
    [event] = announced(aws_env)
    assert event["event"] == "version.compilation_failed" and event["data"]["failed"] == {"python": CUT_OFF}


def test_results_of_a_job_never_replace_what_that_job_already_finished(
        api: Api, job: dict[str, Any], clock: list[datetime], aws_env: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The compile-status merge guard (`unless_job_finished`): this test fails without it."""
    compilation = wiring.services().compilation

    def slow_then_wrong(languages: list[str]) -> Any:
        # While this receive compiles, its lease runs out and SQS hands the message out again: that
        # receive resumes, succeeds and records it. Only then does this one come back, with a failure.
        clock[0] = T0 + timedelta(seconds=960)
        compilation.run_job(job, final_attempt=False)
        return broken(languages)

    # Given a slow receive whose lease expires mid-compile, and a second receive that finishes first
    generator = use(ScriptedGenerator(slow_then_wrong, ok), monkeypatch)
    compilation.run_job(job, final_attempt=False)
    # Then the finished result stands: the late failure of the same job does not overwrite it
    assert generator.calls == 2
    status = python_status(api)
    assert status["status"] == "succeeded", status
    assert "python" in api.get("/modules/user/versions/v1.0.0").data["compiled_languages"]
    # And the job was announced once, as compiled
    assert [e["event"] for e in announced(aws_env)] == ["version.compiled"]


def test_a_recompile_takes_over_and_the_old_jobs_results_are_dropped(
        api: Api, job: dict[str, Any], owner: str, clock: list[datetime], monkeypatch: pytest.MonkeyPatch) -> None:
    compilation = wiring.services().compilation
    developer = owner

    def superseded(languages: list[str]) -> Any:
        # While it compiles, someone asks for python again: a new job owns the language now
        reply = api.post("/modules/user/versions/v1.0.0/compile", {"languages": ["python"]}, token=developer)
        assert reply.status == 202
        return broken(languages)

    # Given a receive whose language is taken over by a new job while it compiles
    use(ScriptedGenerator(superseded), monkeypatch)
    compilation.run_job(job, final_attempt=False)
    # Then the new job's pending status stands; the old job's late failure did not replace it
    status = python_status(api)
    assert status["status"] == "pending" and status["job"] != job["job"]


def test_the_lease_follows_the_setting(api: Api, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOKE_COMPILE_LEASE_SECONDS", "120")
    wiring.reset()
    compilation = wiring.services().compilation
    monkeypatch.setattr(compilation, "_clock", lambda: T0)
    token, _ = api.signed_up()
    api.module(token, "user")
    assert api.publish(token, "user", "v1.0.0").status == 201
    relay_outbox()
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=aws_env["SPOKE_COMPILE_QUEUE_NAME"])["QueueUrl"]
    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    use(ScriptedGenerator(lambda _: (_ for _ in ()).throw(Killed())), monkeypatch)
    with pytest.raises(Killed):
        compilation.run_job(json.loads(message["Body"]), final_attempt=False)
    assert python_status(api)["lease_expires_at"] == "2030-01-01T00:02:00Z"


def test_a_compile_whose_last_receive_was_cut_off_reads_as_failed_not_running_forever(
        api: Api, job: dict[str, Any], clock: list[datetime], monkeypatch: pytest.MonkeyPatch) -> None:
    compilation = wiring.services().compilation
    # Given the last receive of a job, itself cut off by the timeout: nobody is left to record it
    use(ScriptedGenerator(lambda _: (_ for _ in ()).throw(Killed())), monkeypatch)
    with pytest.raises(Killed):
        compilation.run_job(job, final_attempt=False)
    # While a retry may still come (the lease, then the visibility timeout), it reads as running
    clock[0] = T0 + timedelta(seconds=900 + 60)
    assert python_status(api)["status"] == "running"
    # When the lease ran out long enough ago that any retry would have claimed it
    clock[0] = T0 + timedelta(seconds=900 + 301)
    # Then readers see it failed with the reason, and the download says so instead of 202 forever
    status = python_status(api)
    assert status["status"] == "failed" and "cut off" in status["error"]
    download = api.get("/modules/user/versions/v1.0.0/download/python")
    assert (download.status, download.code) == (422, "COMPILATION_FAILED")
