"""boto3 clients, created lazily so that moto (or a test's endpoint) is in place first.

On Lambda and under `chalice local` the same code runs; locally `AWS_ENDPOINT_URL` points every
client at the embedded AWS.
"""
from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()
_session: boto3.session.Session | None = None
_clients: dict[str, Any] = {}
_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30)


def session() -> boto3.session.Session:
    global _session
    with _lock:
        if _session is None:
            _session = boto3.session.Session()
        return _session


def client(service: str) -> Any:
    existing = _clients.get(service)
    if existing is not None:
        return existing
    created = session().client(service, config=_CONFIG)
    with _lock:
        return _clients.setdefault(service, created)


def reset_clients() -> None:
    """Forget every client and the session (tests call this when moto starts or stops)."""
    global _session
    with _lock:
        _session = None
        _clients.clear()
