"""The embedded AWS's console, as `make run` and `make run VERBOSE=1` start it.

Idle, the local worker alone makes several AWS calls a second (queue long-polls, stream reads): printed,
they were three quarters of `make run`'s console. By default they are not; with --verbose they are.
(The API's request lines and the worker's job lines on the same console: test_readme_walkthrough.py.)
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests

from localdev.stack import LOCAL_CREDENTIALS, free_port

ROOT = Path(__file__).resolve().parents[2]
ACCESS_LINE = '"POST / HTTP/1.1" 200'


def _console_of_embedded_aws(tmp_path: Path, *arguments: str, env: dict[str, str] | None = None) -> str:
    """Start `python -m localdev.embedded_aws`, make three SQS calls (each a `POST /`), stop it: its console."""
    port = free_port()
    log_path = tmp_path / f"aws-{port}.log"
    environment = {**{k: v for k, v in os.environ.items() if k != "SPOKE_VERBOSE"}, **(env or {}),
                   "PYTHONUNBUFFERED": "1"}
    with log_path.open("wb") as log:
        aws = subprocess.Popen([sys.executable, "-m", "localdev.embedded_aws", "--port", str(port), *arguments],
                               cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                assert aws.poll() is None, log_path.read_text()
                try:
                    requests.get(url, timeout=2)
                    break
                except requests.RequestException:
                    assert time.monotonic() < deadline, log_path.read_text()
                    time.sleep(0.2)
            sqs = boto3.client("sqs", endpoint_url=url, region_name="us-east-1",
                               aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                               aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
            queue = sqs.create_queue(QueueName="console-check")["QueueUrl"]
            sqs.send_message(QueueUrl=queue, MessageBody="hello")
            assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "hello"
            time.sleep(0.5)  # werkzeug logs after answering
        finally:
            aws.terminate()
            aws.wait(timeout=10)
    return log_path.read_text()


def test_the_access_log_is_off_by_default(tmp_path: Path) -> None:
    # Given the embedded AWS as `make run` starts it, serving AWS calls
    console = _console_of_embedded_aws(tmp_path)
    # Then its console says where it listens and nothing per call
    assert "embedded AWS (moto) listening on" in console
    assert ACCESS_LINE not in console, console


@pytest.mark.parametrize("how", ["--verbose", "SPOKE_VERBOSE=1"])
def test_verbose_brings_the_access_log_back(tmp_path: Path, how: str) -> None:
    # Given the embedded AWS started verbose (make run VERBOSE=1 passes SPOKE_VERBOSE to every process)
    arguments, env = (["--verbose"], None) if how == "--verbose" else ([], {"SPOKE_VERBOSE": "1"})
    console = _console_of_embedded_aws(tmp_path, *arguments, env=env)
    # Then each AWS call has its line again
    assert console.count(ACCESS_LINE) >= 3, console
