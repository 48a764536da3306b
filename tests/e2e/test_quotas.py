"""Quotas over real HTTP on a stack of their own (small free plan), and the operator's `spoke-admin` run
as the operator runs it: a separate process with the stage's environment and credentials."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
import requests

from localdev.stack import ROOT, Stack, free_port, running_stack
from tests.e2e.conftest import NOT_ABOUT_PLANS, PASSWORD
from tests.plans import UNLIMITED

FREE = {"requests_per_hour": UNLIMITED, "modules": 1, "versions_per_module": UNLIMITED, "stored_bytes": UNLIMITED,
        "members": UNLIMITED, "webhooks": UNLIMITED, "compiles_per_day": UNLIMITED}


@pytest.fixture(scope="module")
def small_plan_stack() -> Iterator[Stack]:
    """Given a registry whose free plan holds one module, whose professional plan is unbounded, and which
    caches no organization (so an operator's change is seen by the next request)."""
    generous = json.loads(NOT_ABOUT_PLANS["SPOKE_PLANS"])
    environment = {**NOT_ABOUT_PLANS, "SPOKE_PLANS": json.dumps({**generous, "free": FREE}),
                   "SPOKE_CACHE_SECONDS": "0"}
    with running_stack(api_port=free_port(), aws_port=free_port(), quiet=True, environment=environment) as running:
        yield running


def signed_in(url: str) -> str:
    email = f"e2e-{uuid.uuid4().hex[:12]}@example.com"
    assert requests.post(f"{url}/auth/register", json={"email": email, "password": PASSWORD}, timeout=30).ok
    login = requests.post(f"{url}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
    return login.json()["data"]["token"]


def create_module(url: str, token: str, slug: str, name: str) -> requests.Response:
    return requests.post(f"{url}/modules", json={"name": name}, timeout=30,
                         headers={"Authorization": f"Bearer {token}", "X-Organization-ID": slug})


def test_a_quota_refuses_until_the_operator_changes_the_plan(small_plan_stack: Stack) -> None:
    url = small_plan_stack.api_url
    token = signed_in(url)
    slug = f"q-{uuid.uuid4().hex[:8]}"
    headers = {"Authorization": f"Bearer {token}"}
    created = requests.post(f"{url}/organizations", json={"name": "Quota", "slug": slug}, headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    assert create_module(url, token, slug, "one").status_code == 201
    # When the free plan's one module is used, the second is refused with the quota's figures
    refused = create_module(url, token, slug, "two")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "QUOTA_EXCEEDED"
    assert refused.json()["error"]["details"] | {"plan": None} == {"quota": "modules", "usage": 1, "limit": 1,
                                                                    "plan": None}
    # When the operator moves the organization to professional with the deployment's credentials
    admin = subprocess.run([sys.executable, "-m", "chalicelib.cli.operator", "set-plan", slug, "professional"],
                           cwd=ROOT, env=small_plan_stack.environment, capture_output=True, text=True, timeout=120)
    assert admin.returncode == 0, admin.stderr
    assert admin.stdout.strip().endswith(": free -> professional")
    # Then the next module is accepted, and members see the new plan and its usage
    assert create_module(url, token, slug, "two").status_code == 201
    usage = requests.get(f"{url}/organizations/{slug}/usage", headers=headers, timeout=30).json()["data"]
    assert (usage["plan"], usage["usage"]["modules"]) == ("professional", 2)
