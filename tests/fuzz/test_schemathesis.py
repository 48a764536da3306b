"""schemathesis against the registry as `make run` starts it (`make fuzz-api`; minutes, so not in `make test`).

Every operation of /openapi.json gets a bounded number of generated requests (valid and invalid ones),
then the stateful phase follows the document's links (create module -> publish -> read the version,
its dependencies, its sources; create webhook -> read it ...). Three checks, none turned off:
- not_a_server_error: no 5xx;
- status_code_conformance: every status is one the document lists for that operation;
- response_schema_conformance: every JSON body matches the document (an error's code included).

The fuzzer registers (/auth/register), signs in (/auth/login), creates an organization and an admin API
token of it; hooks.py sends a session to the routes only a person may call and that token to the rest
(a fuzzed logout ends the session: the next 401 signs in again). The organization routes get its id
(schemathesis.toml).
"""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from localdev.stack import Stack, free_port, running_stack
from tests.plans import GENEROUS_PLANS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PASSWORD = "correct-horse-battery-staple"
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
# Bounded: examples per operation and a time budget for the phases that repeat (fuzzing, stateful).
MAX_EXAMPLES = os.environ.get("SPOKE_FUZZ_EXAMPLES", "15")
MAX_TIME = os.environ.get("SPOKE_FUZZ_SECONDS", "240")
SEED = os.environ.get("SPOKE_FUZZ_SEED", "20261130")
# A file's route exists once per directory depth (12): the first depth stands for the other eleven.
EXCLUDED_PATHS = r"/files/\{p0\}/"
REPORT_DIR = ROOT / "build" / "fuzz-api"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """The registry as `make run` runs it, on free ports; plans and login throttling out of reach (the
    fuzzer sends thousands of requests from one address)."""
    environment = {"SPOKE_PLANS": GENEROUS_PLANS, "SPOKE_LOGIN_MAX_FAILURES": "1000", "SPOKE_LOG_LEVEL": "ERROR",
                   "POWERTOOLS_METRICS_DISABLED": "true"}
    with running_stack(api_port=free_port(), aws_port=free_port(), quiet=True, environment=environment) as running:
        yield running


def fuzzer_account(api_url: str) -> dict[str, str]:
    """A registered user owning an organization, and an admin API token of that organization."""
    email = f"fuzz-{uuid.uuid4().hex[:12]}@example.com"
    registered = requests.post(f"{api_url}/auth/register", json={"email": email, "password": PASSWORD}, timeout=30)
    assert registered.status_code == 201, registered.text
    login = requests.post(f"{api_url}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
    assert login.status_code == 200, login.text
    session = {"Authorization": f"Bearer {login.json()['data']['token']}"}
    slug = f"fuzz-{uuid.uuid4().hex[:8]}"
    org = requests.post(f"{api_url}/organizations", headers=session, timeout=30, json={"name": "Fuzz", "slug": slug})
    assert org.status_code == 201, org.text
    created = requests.post(f"{api_url}/auth/tokens", headers=session, timeout=30, json={
        "name": "schemathesis", "organization": slug, "scopes": ["read", "write", "admin"]})
    assert created.status_code == 201, created.text
    token = created.json()["data"]["token"]
    return {"SPOKE_FUZZ_API_URL": api_url, "SPOKE_FUZZ_EMAIL": email, "SPOKE_FUZZ_PASSWORD": PASSWORD,
            "SPOKE_FUZZ_API_TOKEN": token, "SPOKE_FUZZ_ORG_ID": org.json()["data"]["id"],
            "SPOKE_FUZZ_USER_ID": login.json()["data"]["user"]["id"], **existing_resources(api_url, token)}


def existing_resources(api_url: str, token: str) -> dict[str, str]:
    """A published module and a webhook with a delivery, in the fuzzer's organization: the routes that read
    them reach their logic (schemathesis.toml names them) instead of answering 404 to random names."""
    auth = {"Authorization": f"Bearer {token}"}
    module = requests.post(f"{api_url}/modules", headers=auth, timeout=30, json={"name": "fuzzed"})
    assert module.status_code == 201, module.text
    published = requests.post(f"{api_url}/modules/fuzzed/versions", headers=auth, timeout=60, json={
        "version": "v1.0.0", "files": {"user.proto": 'syntax = "proto3";\npackage user.v1;\n'
                                                     'message User { string id = 1; }\n'}})
    assert published.status_code == 201, published.text
    webhook = requests.post(f"{api_url}/webhooks", headers=auth, timeout=30, json={
        "url": "http://127.0.0.1:9/fuzzed", "events": ["version.published"], "secret": "fuzzing-shared-secret"})
    assert webhook.status_code == 201, webhook.text
    webhook_id = webhook.json()["data"]["id"]
    ping = requests.post(f"{api_url}/webhooks/{webhook_id}/ping", headers=auth, timeout=30)
    assert ping.status_code == 202, ping.text
    return {"SPOKE_FUZZ_MODULE": "fuzzed", "SPOKE_FUZZ_VERSION": "v1.0.0", "SPOKE_FUZZ_FILE": "user.proto",
            "SPOKE_FUZZ_WEBHOOK_ID": webhook_id, "SPOKE_FUZZ_DELIVERY_ID": ping.json()["data"]["id"]}


def test_the_api_holds_to_its_openapi_document(stack: Stack) -> None:
    # Given the running registry and a registered user who owns an organization
    account = fuzzer_account(stack.api_url)
    # When schemathesis fuzzes every operation of the document, then follows its links
    command = [str(Path(sys.executable).with_name("st")), "--config-file", str(HERE / "schemathesis.toml"),
               "--no-color", "run", f"{stack.api_url}/openapi.json",
               "--checks", CHECKS, "--max-examples", MAX_EXAMPLES, "--max-time", MAX_TIME, "--seed", SEED,
               "--workers", "2",
               "--exclude-path-regex", EXCLUDED_PATHS, "--request-timeout", "30",
               "--generation-codec", "ascii", "--suppress-health-check", "all",
               "--generation-database", "none", "--report", "junit,har", "--report-dir", str(REPORT_DIR)]
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, **account, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(command, cwd=REPORT_DIR, env=environment, capture_output=True, text=True, timeout=900)
    (REPORT_DIR / "schemathesis.txt").write_text(result.stdout + result.stderr)
    # Then no check failed: no 5xx, no undocumented status, no body the document does not describe
    assert result.returncode == 0, f"see {REPORT_DIR / 'schemathesis.txt'}\n" + result.stdout[-20000:]
