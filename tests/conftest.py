"""Fixtures shared by every layer: the embedded AWS built from infra/template.yaml."""
from __future__ import annotations

import os
import secrets

import pytest

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture
def jwt_secret() -> str:
    return secrets.token_urlsafe(48)
