"""Start the whole registry on one machine: embedded AWS, provisioned resources, `chalice local`.

`make run` and the end-to-end tests both use `running_stack`, so the tests exercise exactly
what a developer runs.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import requests

from infra.provision import provision
from layers.protoc.build import build_layer, unpack_layer

ROOT = Path(__file__).resolve().parent.parent
LAYER_DIR = ROOT / "build" / "layers"
# The local stage: webhook receivers on 127.0.0.1 are allowed, and retries come within seconds.
LOCAL_STAGE_ENVIRONMENT = {"SPOKE_WEBHOOK_ALLOW_LOOPBACK": "true", "SPOKE_WEBHOOK_RETRY_DELAYS": "1,2,4",
                           "SPOKE_WEBHOOK_TIMEOUT_SECONDS": "3",
                           # OIDC issuers over http on 127.0.0.1 (a local identity provider, the tests' issuer)
                           "SPOKE_OIDC_ALLOW_HTTP": "true",
                           # The developer is the operator: /metrics and /health's detail from this machine.
                           "SPOKE_METRICS_ALLOWED_CIDRS": "127.0.0.1/32,::1/128",
                           # A web UI's dev server on port 3000 may call the API from the browser.
                           "SPOKE_CORS_ALLOWED_ORIGINS": "http://localhost:3000,http://127.0.0.1:3000"}


def local_protoc() -> str:
    """protoc and its plugins from the same layer Lambda runs, built from the registries and unpacked."""
    zip_path = build_layer(LAYER_DIR / "protoc.zip", LAYER_DIR / "cache")
    root = LAYER_DIR / "opt"
    marker = root / ".from"
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    if not marker.exists() or marker.read_text() != digest:
        unpack_layer(zip_path, root)
        marker.write_text(digest)
    return str(root / "bin" / "protoc")
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                     "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass
class Stack:
    api_url: str
    aws_url: str
    environment: dict[str, str]
    processes: list[subprocess.Popen]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode} before {url} answered")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds}s")


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in reversed(processes):
        if process.poll() is None:
            process.terminate()
    for process in reversed(processes):
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def running_stack(api_port: int = 8080, aws_port: int = 4566, stage: str = "local",
                  quiet: bool = False, environment: dict[str, str] | None = None) -> Iterator[Stack]:
    """`environment`: settings of this stack on top of the local stage's and the caller's own."""
    aws_url = f"http://127.0.0.1:{aws_port}"
    output = subprocess.DEVNULL if quiet else None
    env = {**LOCAL_STAGE_ENVIRONMENT, **os.environ, **(environment or {}), **LOCAL_CREDENTIALS,
           "AWS_ENDPOINT_URL": aws_url, "PYTHONUNBUFFERED": "1", "SPOKE_PROTOC_PATH": local_protoc()}
    processes: list[subprocess.Popen] = []
    try:
        aws = subprocess.Popen([sys.executable, "-m", "localdev.embedded_aws", "--port", str(aws_port)],
                               cwd=ROOT, env=env, stdout=output, stderr=output)
        processes.append(aws)
        _wait_for(aws_url, aws)
        session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                        region_name="us-east-1")
        settings_env = provision(stage, session, endpoint_url=aws_url)
        env.update(settings_env)
        env.setdefault("SPOKE_JWT_SECRET", secrets.token_urlsafe(48))
        api = subprocess.Popen([sys.executable, "-m", "localdev.chalice_local", "--host", "127.0.0.1",
                                "--port", str(api_port), "--stage", stage, "--no-autoreload"], cwd=ROOT, env=env,
                               stdout=output, stderr=output)
        processes.append(api)
        worker = subprocess.Popen([sys.executable, "-m", "localdev.worker"], cwd=ROOT, env=env,
                                  stdout=output, stderr=output)
        processes.append(worker)
        api_url = f"http://127.0.0.1:{api_port}"
        _wait_for(f"{api_url}/health", api)
        yield Stack(api_url=api_url, aws_url=aws_url, environment=env, processes=processes)
    finally:
        _stop(processes)
