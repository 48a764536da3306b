"""End-to-end fixtures: the whole registry as `make run` starts it, on free ports of 127.0.0.1.

The stack (embedded AWS in a subprocess, resources provisioned from infra/template.yaml,
`chalice local`) is started once per session; every test talks to it over real HTTP.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import requests

from localdev.stack import Stack, free_port, running_stack
from tests.plans import GENEROUS_PLANS

# The shared stacks are not about plans: their limits are out of reach (test_tenancy starts its own).
# Nor about login throttling: every test signs in from 127.0.0.1 (test_api_tokens starts its own).
NOT_ABOUT_PLANS = {"SPOKE_PLANS": GENEROUS_PLANS, "SPOKE_LOGIN_MAX_FAILURES": "1000"}

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """Given the registry running locally exactly as a developer runs it."""
    with running_stack(api_port=free_port(), aws_port=free_port(), quiet=True, environment=NOT_ABOUT_PLANS) as running:
        yield running


@pytest.fixture(scope="session")
def api_url(stack: Stack) -> str:
    return stack.api_url


@pytest.fixture
def unique() -> Callable[[str], str]:
    """A name no other test (nor an earlier run against the same stack) has used."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def register_user(api_url: str) -> Callable[[], str]:
    """Registers a fresh user (unique email), logs in, and returns the bearer token."""

    def register() -> str:
        email = f"e2e-{uuid.uuid4().hex[:12]}@example.com"
        created = requests.post(f"{api_url}/auth/register", json={
            "email": email, "password": PASSWORD, "first_name": "End", "last_name": "ToEnd"}, timeout=30)
        assert created.status_code == 201, created.text
        login = requests.post(f"{api_url}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
        assert login.status_code == 200, login.text
        token = login.json()["data"]["token"]
        assert token
        return token

    return register


@pytest.fixture
def token(register_user: Callable[[], str]) -> str:
    """Given a freshly registered, signed-in user: their bearer token."""
    return register_user()


@pytest.fixture(scope="module")
def isolated_stack() -> Iterator[Stack]:
    """Given a registry of its own (started for one test module): its table and bucket hold only what that
    module stores, and no other test's compile jobs or webhook retries write to them meanwhile."""
    with running_stack(api_port=free_port(), aws_port=free_port(), quiet=True, environment=NOT_ABOUT_PLANS) as running:
        yield running
